/**
 * The controllers behind the real API server, driven with the real kubectl: what a user or Ferry sees.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startSandbox, type Sandbox } from '../../src/index.js';

const KUBECTL = '/usr/bin/kubectl';
const run = promisify(execFile);
const haveKubectl = existsSync(KUBECTL);
let sandbox: Sandbox | undefined;

async function kubectl(args: string[], input?: string): Promise<string> {
  const child = run(KUBECTL, ['--kubeconfig', sandbox!.kubeconfigPath, ...args], { timeout: 20_000 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  const { stdout } = await child;
  return stdout;
}

async function getJson(resource: string, namespace = 'default'): Promise<Record<string, any>> {
  return JSON.parse(await kubectl(['get', resource, '-n', namespace, '-o', 'json', '--show-managed-fields'])) as Record<string, any>;
}

async function poll<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const deployment = (name: string, image: string, replicas: number | undefined, extra = ''): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: default }
spec:
  ${replicas !== undefined ? `replicas: ${replicas}` : ''}
  ${extra}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers: [{ name: main, image: "${image}" }]
`;

before(async () => {
  if (haveKubectl) sandbox = await startSandbox({ rolloutMs: 50, progressDeadlineScaleMs: 5 });
});
after(async () => {
  await sandbox?.close();
});

test('kubectl wait and rollout status see a Deployment become Available', async (t) => {
  if (!haveKubectl) return t.skip(`kubectl not found at ${KUBECTL}`);
  await kubectl(['apply', '--server-side', '-f', '-'], deployment('web', 'nginx:1.25', 2));
  await kubectl(['wait', '--for=condition=Available', 'deployment/web', '--timeout=15s']);
  const out = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=15s']);
  assert.match(out, /successfully rolled out/);
  const d = await getJson('deployment/web');
  assert.equal(d['status']['availableReplicas'], 2);
  assert.equal(d['metadata']['annotations']['deployment.kubernetes.io/revision'], '1');
  const pods = await getJson('pods');
  assert.equal(pods['items'].filter((p: any) => p['metadata']['labels']['app'] === 'web' && p['status']['phase'] === 'Running').length, 2);
});

test('a Deployment of nginx:crashloop reaches ProgressDeadlineExceeded and its pod reports CrashLoopBackOff', async (t) => {
  if (!haveKubectl) return t.skip(`kubectl not found at ${KUBECTL}`);
  await kubectl(['apply', '--server-side', '-f', '-'], deployment('crash', 'nginx:crashloop', 1, 'progressDeadlineSeconds: 60'));
  const d = await poll('ProgressDeadlineExceeded', async () => {
    const d = await getJson('deployment/crash');
    const progressing = (d['status']?.['conditions'] ?? []).find((c: any) => c['type'] === 'Progressing');
    return progressing?.['reason'] === 'ProgressDeadlineExceeded' ? d : undefined;
  });
  assert.equal(d['status']['conditions'].find((c: any) => c['type'] === 'Available')['status'], 'False');
  const pods = await getJson('pods');
  const pod = pods['items'].find((p: any) => p['metadata']['labels']['app'] === 'crash');
  assert.equal(pod['status']['containerStatuses'][0]['state']['waiting']['reason'], 'CrashLoopBackOff');
  await assert.rejects(kubectl(['rollout', 'status', 'deployment/crash', '--timeout=5s']), /exceeded its progress deadline/);
});

test('kubectl wait sees a Job complete', async (t) => {
  if (!haveKubectl) return t.skip(`kubectl not found at ${KUBECTL}`);
  await kubectl(
    ['apply', '--server-side', '-f', '-'],
    `
apiVersion: batch/v1
kind: Job
metadata: { name: migrate, namespace: default }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: main, image: "migrate:1" }]
`,
  );
  await kubectl(['wait', '--for=condition=complete', 'job/migrate', '--timeout=15s']);
  const job = await getJson('job/migrate');
  assert.equal(job['status']['succeeded'], 1);
  const uid = job['metadata']['uid'];
  assert.deepEqual(job['spec']['selector'], { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
});

test('an HPA owns the replicas of its target in managedFields', async (t) => {
  if (!haveKubectl) return t.skip(`kubectl not found at ${KUBECTL}`);
  await kubectl(['apply', '--server-side', '--field-manager=ferry', '-f', '-'], deployment('scaled', 'nginx:1.25', 1));
  await kubectl(
    ['apply', '--server-side', '-f', '-'],
    `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: scaled, namespace: default }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: scaled }
  minReplicas: 3
  maxReplicas: 5
`,
  );
  const d = await poll('3 available', async () => {
    const d = await getJson('deployment/scaled');
    return d['status']?.['availableReplicas'] === 3 ? d : undefined;
  });
  assert.equal(d['spec']['replicas'], 3);
  const managed = d['metadata']['managedFields'] as any[];
  const hpaEntry = managed.find((m) => m['manager'] === 'horizontal-pod-autoscaler');
  assert.ok(hpaEntry, `managers: ${managed.map((m) => m['manager']).join(', ')}`);
  assert.equal(hpaEntry['operation'], 'Update');
  assert.ok(hpaEntry['fieldsV1']?.['f:spec']?.['f:replicas'] !== undefined, 'the HPA owns spec.replicas');
  const hpa = await getJson('hpa/scaled');
  const conditions = Object.fromEntries((hpa['status']['conditions'] as any[]).map((c) => [c['type'], c['status']]));
  assert.deepEqual(conditions, { AbleToScale: 'True', ScalingActive: 'True', ScalingLimited: conditions['ScalingLimited'] });
});

test('kubectl scale, rollout restart and rollout undo drive the Deployment controller', async (t) => {
  if (!haveKubectl) return t.skip(`kubectl not found at ${KUBECTL}`);
  await kubectl(['apply', '--server-side', '-f', '-'], deployment('ops', 'nginx:1.25', 1));
  await kubectl(['rollout', 'status', 'deployment/ops', '--timeout=15s']);
  await kubectl(['scale', 'deployment/ops', '--replicas=3']);
  await poll('3 available', async () => (await getJson('deployment/ops'))['status']?.['availableReplicas'] === 3);
  await kubectl(['rollout', 'restart', 'deployment/ops']);
  await kubectl(['rollout', 'status', 'deployment/ops', '--timeout=15s']);
  const restarted = await getJson('deployment/ops');
  assert.equal(restarted['metadata']['annotations']['deployment.kubernetes.io/revision'], '2');
  await kubectl(['rollout', 'undo', 'deployment/ops']);
  await kubectl(['rollout', 'status', 'deployment/ops', '--timeout=15s']);
  const undone = await getJson('deployment/ops');
  assert.equal(undone['metadata']['annotations']['deployment.kubernetes.io/revision'], '3');
  assert.equal(undone['spec']['template']['metadata']['annotations']?.['kubectl.kubernetes.io/restartedAt'], undefined);
  const sets = (await getJson('replicasets'))['items'].filter((rs: any) => rs['metadata']['ownerReferences']?.[0]?.['name'] === 'ops');
  assert.equal(sets.length, 2, 'the undo reused the first ReplicaSet');
});
