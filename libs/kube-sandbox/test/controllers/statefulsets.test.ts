import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControllers } from '../../src/controllers/index.js';
import type { KubeObject } from '../../src/types.js';
import { createFakeApi, specOf, statusOf, waitFor, type FakeApi } from './fake-api.js';

const OPTIONS = { rolloutMs: 20, progressDeadlineScaleMs: 5 };

function setup(t: { after: (fn: () => void) => void }): FakeApi {
  const api = createFakeApi();
  const controllers = startControllers(api, OPTIONS);
  t.after(() => controllers.close());
  return api;
}

function statefulSet(image: string, replicas = 2, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...extra,
    },
  };
}

test('a StatefulSet creates ordered pods with claims and reports matching revisions when ready', async (t) => {
  const api = setup(t);
  const order: string[] = [];
  t.after(
    api.onChange((e) => {
      if (e.type === 'ADDED' && e.resource.kind === 'Pod') order.push(e.object.metadata.name ?? '');
    }),
  );
  api.apply(statefulSet('postgres:16'));
  const sts = await waitFor('ready', () => {
    const s = api.find('apps/v1', 'StatefulSet', 'default', 'db');
    return statusOf(s)['readyReplicas'] === 2 && statusOf(s)['currentRevision'] === statusOf(s)['updateRevision'] ? s : undefined;
  });
  assert.deepEqual(order, ['db-0', 'db-1']);
  const s = statusOf(sts);
  assert.equal(s['replicas'], 2);
  assert.equal(s['currentReplicas'], 2);
  assert.equal(s['updatedReplicas'], 2);
  assert.equal(s['availableReplicas'], 2);
  assert.equal(s['collisionCount'], 0);
  assert.equal(s['observedGeneration'], 1);
  assert.match(String(s['updateRevision']), /^db-[a-z0-9]+$/);
  const pod = api.find('v1', 'Pod', 'default', 'db-0');
  assert.equal(pod?.metadata.labels?.['statefulset.kubernetes.io/pod-name'], 'db-0');
  assert.equal(pod?.metadata.labels?.['controller-revision-hash'], s['updateRevision']);
  assert.equal(specOf(pod)['hostname'], 'db-0');
  assert.equal(specOf(pod)['subdomain'], 'db');
  assert.deepEqual((specOf(pod)['volumes'] as unknown[])[0], { name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } });
  await waitFor('claims bound', () => ['data-db-0', 'data-db-1'].every((n) => statusOf(api.find('v1', 'PersistentVolumeClaim', 'default', n))['phase'] === 'Bound'));
});

test('a StatefulSet rolling update replaces pods and moves currentRevision to the update revision', async (t) => {
  const api = setup(t);
  api.apply(statefulSet('postgres:16'));
  const first = await waitFor('ready', () => {
    const s = api.find('apps/v1', 'StatefulSet', 'default', 'db');
    return statusOf(s)['readyReplicas'] === 2 ? s : undefined;
  });
  api.apply(statefulSet('postgres:17'));
  const updated = await waitFor('updated', () => {
    const s = api.find('apps/v1', 'StatefulSet', 'default', 'db');
    return statusOf(s)['currentRevision'] === statusOf(s)['updateRevision'] && statusOf(s)['updateRevision'] !== statusOf(first)['updateRevision'] && statusOf(s)['readyReplicas'] === 2 ? s : undefined;
  });
  assert.equal(statusOf(updated)['updatedReplicas'], 2);
  const images = api.findAll('v1', 'Pod', 'default').map((p) => (specOf(p)['containers'] as Record<string, unknown>[])[0]?.['image']);
  assert.deepEqual(images, ['postgres:17', 'postgres:17']);
});

test('a StatefulSet scaled down removes the highest ordinals', async (t) => {
  const api = setup(t);
  api.apply(statefulSet('postgres:16', 3, { podManagementPolicy: 'Parallel' }));
  await waitFor('3 ready', () => statusOf(api.find('apps/v1', 'StatefulSet', 'default', 'db'))['readyReplicas'] === 3);
  api.apply(statefulSet('postgres:16', 1, { podManagementPolicy: 'Parallel' }));
  await waitFor('1 pod', () => api.findAll('v1', 'Pod', 'default').length === 1);
  assert.ok(api.find('v1', 'Pod', 'default', 'db-0'));
});

test('a DaemonSet runs one pod on the sandbox node and reports it scheduled, ready and updated', async (t) => {
  const api = setup(t);
  const ds: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }] } },
    },
  };
  api.apply(ds);
  const ready = await waitFor('ready', () => {
    const d = api.find('apps/v1', 'DaemonSet', 'default', 'agent');
    return statusOf(d)['numberReady'] === 1 ? d : undefined;
  });
  assert.deepEqual(statusOf(ready), {
    currentNumberScheduled: 1,
    desiredNumberScheduled: 1,
    numberMisscheduled: 0,
    numberReady: 1,
    numberAvailable: 1,
    updatedNumberScheduled: 1,
    observedGeneration: 1,
  });
  const [pod] = api.findAll('v1', 'Pod', 'default');
  assert.equal(specOf(pod)['nodeName'], 'sandbox-node');
  assert.ok(pod?.metadata.labels?.['controller-revision-hash']);
});
