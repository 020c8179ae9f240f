import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControllers } from '../../src/controllers/index.js';
import type { KubeObject } from '../../src/types.js';
import { condition, createFakeApi, specOf, statusOf, waitFor, type FakeApi } from './fake-api.js';

const OPTIONS = { rolloutMs: 20, progressDeadlineScaleMs: 5 };

function deployment(name: string, image: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
      ...extra,
    },
  };
}

function setup(t: { after: (fn: () => void) => void }): FakeApi {
  const api = createFakeApi();
  const controllers = startControllers(api, OPTIONS);
  t.after(() => controllers.close());
  return api;
}

const replicaSets = (api: FakeApi, name: string): KubeObject[] =>
  api.findAll('apps/v1', 'ReplicaSet', 'default').filter((rs) => rs.metadata.ownerReferences?.[0]?.name === name);

test('a Deployment gets a ReplicaSet and running pods and becomes Available with NewReplicaSetAvailable', async (t) => {
  const api = setup(t);
  api.apply(deployment('web', 'nginx:1.25'));
  const done = await waitFor('Deployment web complete', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 'web');
    return condition(d, 'Progressing')?.['reason'] === 'NewReplicaSetAvailable' ? d : undefined;
  });
  const status = statusOf(done);
  assert.equal(status['observedGeneration'], 1);
  assert.equal(status['replicas'], 2);
  assert.equal(status['updatedReplicas'], 2);
  assert.equal(status['readyReplicas'], 2);
  assert.equal(status['availableReplicas'], 2);
  assert.equal(status['unavailableReplicas'], undefined);
  const available = condition(done, 'Available');
  assert.equal(available?.['status'], 'True');
  assert.equal(available?.['reason'], 'MinimumReplicasAvailable');
  assert.equal(available?.['message'], 'Deployment has minimum availability.');
  assert.match(String(available?.['lastUpdateTime']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const [rs, ...others] = replicaSets(api, 'web');
  assert.ok(rs);
  assert.equal(others.length, 0);
  const hash = rs.metadata.labels?.['pod-template-hash'];
  assert.match(String(hash), /^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
  assert.equal(rs.metadata.name, `web-${hash}`);
  assert.equal(condition(done, 'Progressing')?.['message'], `ReplicaSet "web-${hash}" has successfully progressed.`);
  assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
  assert.equal(done.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
  assert.deepEqual(rs.metadata.ownerReferences, [
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: done.metadata.uid, controller: true, blockOwnerDeletion: true },
  ]);
  assert.deepEqual((specOf(rs)['selector'] as Record<string, unknown>)['matchLabels'], { app: 'web', 'pod-template-hash': hash });
  assert.equal(statusOf(rs)['readyReplicas'], 2);
  assert.equal(statusOf(rs)['availableReplicas'], 2);
  assert.equal(statusOf(rs)['fullyLabeledReplicas'], 2);

  const pods = api.findAll('v1', 'Pod', 'default');
  assert.equal(pods.length, 2);
  for (const pod of pods) {
    assert.equal(pod.metadata.ownerReferences?.[0]?.uid, rs.metadata.uid);
    assert.equal(pod.metadata.labels?.['pod-template-hash'], hash);
    assert.equal(specOf(pod)['nodeName'], 'sandbox-node');
    const s = statusOf(pod);
    assert.equal(s['phase'], 'Running');
    assert.match(String(s['podIP']), /^10\.244\.\d+\.\d+$/);
    assert.equal(s['qosClass'], 'BestEffort');
    const [cs] = s['containerStatuses'] as Record<string, unknown>[];
    assert.equal(cs?.['ready'], true);
    assert.equal(cs?.['started'], true);
    assert.equal(cs?.['restartCount'], 0);
    assert.ok((cs?.['state'] as Record<string, Record<string, unknown>>)['running']?.['startedAt']);
    assert.match(String(cs?.['imageID']), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.equal(condition(pod, 'Ready')?.['status'], 'True');
  }
});

test('changing the pod template rolls out a new ReplicaSet and scales the old one to zero', async (t) => {
  const api = setup(t);
  api.apply(deployment('roll', 'nginx:1.25'));
  await waitFor('first rollout', () => condition(api.find('apps/v1', 'Deployment', 'default', 'roll'), 'Progressing')?.['reason'] === 'NewReplicaSetAvailable');
  api.apply(deployment('roll', 'nginx:1.26'));
  const d = await waitFor('second rollout', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 'roll');
    const sets = replicaSets(api, 'roll');
    const old = sets.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
    return d?.metadata.generation === 2 &&
      statusOf(d)['observedGeneration'] === 2 &&
      condition(d, 'Progressing')?.['reason'] === 'NewReplicaSetAvailable' &&
      specOf(old)['replicas'] === 0 &&
      statusOf(d)['replicas'] === 2
      ? d
      : undefined;
  });
  assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  const sets = replicaSets(api, 'roll');
  assert.equal(sets.length, 2);
  const newest = sets.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2');
  assert.equal(specOf(newest)['replicas'], 2);
  await waitFor('old pods gone', () => api.findAll('v1', 'Pod', 'default').every((p) => p.metadata.ownerReferences?.[0]?.uid === newest?.metadata.uid));
  const images = api.findAll('v1', 'Pod', 'default').map((p) => ((specOf(p)['containers'] as Record<string, unknown>[])[0]?.['image']));
  assert.deepEqual(images, ['nginx:1.26', 'nginx:1.26']);
});

test('a Deployment whose pods crash loops reaches ProgressDeadlineExceeded after the scaled deadline', async (t) => {
  const api = setup(t);
  const started = Date.now();
  api.apply(deployment('crash', 'nginx:crashloop', { replicas: 1, progressDeadlineSeconds: 20 }));
  const d = await waitFor('deadline exceeded', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 'crash');
    return condition(d, 'Progressing')?.['reason'] === 'ProgressDeadlineExceeded' ? d : undefined;
  });
  assert.ok(Date.now() - started >= 100, 'not before 20 s * 5 ms');
  const progressing = condition(d, 'Progressing');
  assert.equal(progressing?.['status'], 'False');
  const rsName = replicaSets(api, 'crash')[0]?.metadata.name;
  assert.equal(progressing?.['message'], `ReplicaSet "${rsName}" has timed out progressing.`);
  assert.equal(condition(d, 'Available')?.['status'], 'False');
  assert.equal(condition(d, 'Available')?.['reason'], 'MinimumReplicasUnavailable');
  assert.equal(statusOf(d)['unavailableReplicas'], 1);
  assert.equal(statusOf(d)['availableReplicas'], undefined);
});

test('a rollout to a failing image keeps the old pods and times out', async (t) => {
  const api = setup(t);
  api.apply(deployment('keep', 'nginx:1.25', { replicas: 1, progressDeadlineSeconds: 20 }));
  await waitFor('first rollout', () => condition(api.find('apps/v1', 'Deployment', 'default', 'keep'), 'Progressing')?.['reason'] === 'NewReplicaSetAvailable');
  api.apply(deployment('keep', 'nginx:imagepullbackoff', { replicas: 1, progressDeadlineSeconds: 20 }));
  const d = await waitFor('deadline exceeded', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 'keep');
    return condition(d, 'Progressing')?.['reason'] === 'ProgressDeadlineExceeded' ? d : undefined;
  });
  const old = replicaSets(api, 'keep').find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
  assert.equal(specOf(old)['replicas'], 1, 'maxUnavailable 25% of 1 rounds down to 0: the old pod stays');
  assert.equal(condition(d, 'Available')?.['status'], 'True');
  assert.equal(statusOf(d)['replicas'], 2);
  assert.equal(statusOf(d)['updatedReplicas'], 1);
  assert.equal(statusOf(d)['unavailableReplicas'], 1);
});

test('scaling a Deployment up and down changes its ReplicaSet and pods', async (t) => {
  const api = setup(t);
  api.apply(deployment('scale', 'nginx:1.25', { replicas: 1 }));
  await waitFor('1 available', () => statusOf(api.find('apps/v1', 'Deployment', 'default', 'scale'))['availableReplicas'] === 1);
  api.apply(deployment('scale', 'nginx:1.25', { replicas: 3 }));
  await waitFor('3 available', () => statusOf(api.find('apps/v1', 'Deployment', 'default', 'scale'))['availableReplicas'] === 3);
  assert.equal(api.findAll('v1', 'Pod', 'default').length, 3);
  api.apply(deployment('scale', 'nginx:1.25', { replicas: 0 }));
  const d = await waitFor('0 pods', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 'scale');
    return api.findAll('v1', 'Pod', 'default').length === 0 && statusOf(d)['replicas'] === undefined ? d : undefined;
  });
  assert.equal(replicaSets(api, 'scale').length, 1);
  assert.equal(condition(d, 'Progressing')?.['reason'], 'NewReplicaSetAvailable');
});

test('a paused Deployment reports Progressing Unknown with reason DeploymentPaused and does not roll out', async (t) => {
  const api = setup(t);
  api.apply(deployment('paused', 'nginx:1.25', { paused: true }));
  const d = await waitFor('paused condition', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 'paused');
    return condition(d, 'Progressing') ? d : undefined;
  });
  assert.equal(condition(d, 'Progressing')?.['status'], 'Unknown');
  assert.equal(condition(d, 'Progressing')?.['reason'], 'DeploymentPaused');
  assert.equal(replicaSets(api, 'paused').length, 0);
  api.apply(deployment('paused', 'nginx:1.25', { paused: false }));
  await waitFor('resumed and complete', () => condition(api.find('apps/v1', 'Deployment', 'default', 'paused'), 'Progressing')?.['reason'] === 'NewReplicaSetAvailable');
});

test('a Recreate Deployment removes the old pods before starting new ones', async (t) => {
  const api = setup(t);
  api.apply(deployment('re', 'nginx:1.25', { strategy: { type: 'Recreate' } }));
  await waitFor('first rollout', () => condition(api.find('apps/v1', 'Deployment', 'default', 're'), 'Progressing')?.['reason'] === 'NewReplicaSetAvailable');
  let sawMixed = false;
  const unsubscribe = api.onChange(() => {
    const images = new Set(api.findAll('v1', 'Pod', 'default').map((p) => (specOf(p)['containers'] as Record<string, unknown>[])[0]?.['image']));
    if (images.size > 1) sawMixed = true;
  });
  t.after(unsubscribe);
  api.apply(deployment('re', 'nginx:1.26', { strategy: { type: 'Recreate' } }));
  await waitFor('second rollout', () => {
    const d = api.find('apps/v1', 'Deployment', 'default', 're');
    return d?.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2' && statusOf(d)['availableReplicas'] === 2 && statusOf(d)['replicas'] === 2;
  });
  assert.equal(sawMixed, false);
});
