import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControllers } from '../../src/controllers/index.js';
import type { KubeObject } from '../../src/types.js';
import { condition, createFakeApi, specOf, statusOf, waitFor, type FakeApi } from './fake-api.js';

const OPTIONS = { rolloutMs: 20, progressDeadlineScaleMs: 5 };

function setup(t: { after: (fn: () => void) => void }): FakeApi {
  const api = createFakeApi();
  const controllers = startControllers(api, OPTIONS);
  t.after(() => controllers.close());
  return api;
}

function webDeployment(replicas?: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

test('a LoadBalancer Service gets an ingress IP after the rollout time; a ClusterIP one an empty loadBalancer', async (t) => {
  const api = setup(t);
  api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
  api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'internal', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  const lb = await waitFor('ingress', () => {
    const s = api.find('v1', 'Service', 'default', 'edge');
    return ((statusOf(s)['loadBalancer'] as Record<string, unknown[]> | undefined)?.['ingress'] ?? []).length > 0 ? s : undefined;
  });
  const [ingress] = (statusOf(lb)['loadBalancer'] as Record<string, Record<string, unknown>[]>)['ingress']!;
  assert.match(String(ingress?.['ip']), /^172\.18\.255\.\d+$/);
  assert.equal(ingress?.['ipMode'], 'VIP');
  await waitFor('empty loadBalancer', () => statusOf(api.find('v1', 'Service', 'default', 'internal'))['loadBalancer']);
  assert.deepEqual(statusOf(api.find('v1', 'Service', 'default', 'internal')), { loadBalancer: {} });
});

test('a Service with a selector gets Endpoints listing ready pods with the resolved target port', async (t) => {
  const api = setup(t);
  api.apply(webDeployment(2));
  api.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
  const ep = await waitFor('2 ready addresses', () => {
    const e = api.find('v1', 'Endpoints', 'default', 'web');
    const subsets = (e?.['subsets'] ?? []) as Record<string, unknown[]>[];
    return subsets[0]?.['addresses']?.length === 2 ? e : undefined;
  });
  const [subset] = ep['subsets'] as Record<string, Record<string, unknown>[]>[];
  assert.deepEqual(subset?.['ports'], [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(subset?.['addresses']?.[0]?.['nodeName'], 'sandbox-node');
  assert.equal((subset?.['addresses']?.[0]?.['targetRef'] as Record<string, unknown>)['kind'], 'Pod');
  api.delete(api.resourceFor('v1', 'Service')!, 'default', 'web');
  await waitFor('endpoints removed with the service', () => api.find('v1', 'Endpoints', 'default', 'web') === undefined);
});

test('a PVC becomes Bound with its capacity and a pvc-<uid> volume', async (t) => {
  const api = setup(t);
  const created = api.apply({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } },
  });
  const bound = await waitFor('Bound', () => {
    const p = api.find('v1', 'PersistentVolumeClaim', 'default', 'data');
    return statusOf(p)['phase'] === 'Bound' ? p : undefined;
  });
  assert.deepEqual(statusOf(bound), { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } });
  assert.equal(specOf(bound)['volumeName'], `pvc-${created.metadata.uid}`);
  assert.equal(specOf(bound)['volumeMode'], 'Filesystem');
  assert.equal(bound.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
});

test('an Ingress gets a load-balancer address after the rollout time', async (t) => {
  const api = setup(t);
  api.apply({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'default' },
    spec: { rules: [{ host: 'web.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  });
  const ing = await waitFor('address', () => {
    const i = api.find('networking.k8s.io/v1', 'Ingress', 'default', 'web');
    return ((statusOf(i)['loadBalancer'] as Record<string, unknown[]> | undefined)?.['ingress'] ?? []).length > 0 ? i : undefined;
  });
  assert.deepEqual(statusOf(ing), { loadBalancer: { ingress: [{ ip: '172.18.255.254' }] } });
});

test('an HPA raises its target to minReplicas with its own field manager and reports healthy conditions', async (t) => {
  const api = setup(t);
  api.apply(webDeployment(1));
  api.apply({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 5 },
  });
  const d = await waitFor('3 available', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 'web');
    return statusOf(d)['availableReplicas'] === 3 ? d : undefined;
  });
  assert.equal(specOf(d)['replicas'], 3);
  assert.ok(
    (d.metadata.managedFields as { manager: string }[]).some((f) => f.manager === 'horizontal-pod-autoscaler'),
    'the write is attributed to horizontal-pod-autoscaler',
  );
  const hpa = await waitFor('settled HPA', () => {
    const h = api.find('autoscaling/v2', 'HorizontalPodAutoscaler', 'default', 'web');
    return condition(h, 'ScalingLimited')?.['reason'] === 'DesiredWithinRange' && statusOf(h)['currentReplicas'] === 3 ? h : undefined;
  });
  assert.equal(statusOf(hpa)['desiredReplicas'], 3);
  assert.ok(statusOf(hpa)['lastScaleTime']);
  assert.equal(condition(hpa, 'AbleToScale')?.['status'], 'True');
  assert.equal(condition(hpa, 'AbleToScale')?.['reason'], 'ReadyForNewScale');
  assert.equal(condition(hpa, 'ScalingActive')?.['reason'], 'ValidMetricFound');
  assert.equal(
    condition(hpa, 'ScalingActive')?.['message'],
    'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
  );
  assert.deepEqual(statusOf(hpa)['currentMetrics'], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 80 } } }]);
});

test('an HPA whose target is missing reports AbleToScale False with FailedGetScale', async (t) => {
  const api = setup(t);
  api.apply({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'ghost', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ghost' }, maxReplicas: 2 },
  });
  const hpa = await waitFor('condition', () => condition(api.find('autoscaling/v2', 'HorizontalPodAutoscaler', 'default', 'ghost'), 'AbleToScale'));
  assert.equal(hpa['status'], 'False');
  assert.equal(hpa['reason'], 'FailedGetScale');
  assert.equal(hpa['message'], `the HPA controller was unable to get the target's current scale: deployments.apps "ghost" not found`);
});

test('the controllers create the sandbox node, Ready', async (t) => {
  const api = setup(t);
  const node = await waitFor('node', () => api.find('v1', 'Node', undefined, 'sandbox-node'));
  await waitFor('ready', () => condition(api.find('v1', 'Node', undefined, 'sandbox-node'), 'Ready')?.['status'] === 'True');
  assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'sandbox-node');
});

test('after close, no controller reacts and the listener is gone; close twice is fine', async () => {
  const api = createFakeApi();
  const controllers = startControllers(api, OPTIONS);
  controllers.close();
  controllers.close();
  assert.equal(api.listenerCount(), 0);
  api.apply(webDeployment(1));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(api.findAll('apps/v1', 'ReplicaSet').length, 0);
  assert.equal(statusOf(api.find('apps/v1', 'Deployment', 'default', 'web'))['observedGeneration'], undefined);
});

test('controllers pick up objects that exist before they start', async (t) => {
  const api = createFakeApi();
  api.apply(webDeployment(1));
  const controllers = startControllers(api, OPTIONS);
  t.after(() => controllers.close());
  await waitFor('available', () => statusOf(api.find('apps/v1', 'Deployment', 'default', 'web'))['availableReplicas'] === 1);
});

test('invalid options are rejected together', () => {
  assert.throws(() => startControllers(createFakeApi(), { rolloutMs: -1, progressDeadlineScaleMs: Number.NaN }), /rolloutMs.*progressDeadlineScaleMs/);
});
