import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControllers } from '../../src/controllers/index.js';
import { createFakeApi, waitFor, type FakeApi } from './fake-api.js';

const OPTIONS = { rolloutMs: 20, progressDeadlineScaleMs: 5 };

function setup(t: { after: (fn: () => void) => void }): FakeApi {
  const api = createFakeApi();
  const controllers = startControllers(api, OPTIONS);
  t.after(() => controllers.close());
  return api;
}

const events = (api: FakeApi, kind: string, name: string): Record<string, any>[] =>
  api
    .findAll('v1', 'Event', 'default')
    .filter((e) => (e['involvedObject'] as Record<string, unknown>)['kind'] === kind && String((e['involvedObject'] as Record<string, unknown>)['name']).startsWith(name));

test('a Deployment rollout records ScalingReplicaSet, SuccessfulCreate, Scheduled, Pulled, Created and Started events', async (t) => {
  const api = setup(t);
  api.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx:1.25' }] } } },
  });
  await waitFor('Started event', () => events(api, 'Pod', 'web').some((e) => e['reason'] === 'Started'));
  const [scaling] = events(api, 'Deployment', 'web');
  assert.equal(scaling?.['reason'], 'ScalingReplicaSet');
  assert.match(String(scaling?.['message']), /^Scaled up replica set web-[a-z0-9]+ from 0 to 1$/);
  assert.deepEqual(scaling?.['source'], { component: 'deployment-controller' });
  assert.equal(scaling?.['count'], 1);
  assert.equal(scaling?.['type'], 'Normal');
  assert.match(String(events(api, 'ReplicaSet', 'web')[0]?.['message']), /^Created pod: web-/);
  const podReasons = events(api, 'Pod', 'web').map((e) => e['reason']);
  assert.deepEqual(podReasons, ['Scheduled', 'Pulled', 'Created', 'Started']);
  assert.equal(events(api, 'Pod', 'web')[2]?.['message'], 'Created container main');
});

test('a crash-looping pod records a BackOff warning whose count grows', async (t) => {
  const api = setup(t);
  api.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crash', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'nginx:crashloop' }] } });
  const backoff = await waitFor('BackOff count 2', () => events(api, 'Pod', 'crash').find((e) => e['reason'] === 'BackOff' && e['count'] >= 2));
  assert.equal(backoff['type'], 'Warning');
  assert.match(String(backoff['message']), /^Back-off restarting failed container main in pod crash_default\(/);
  assert.equal(events(api, 'Pod', 'crash').filter((e) => e['reason'] === 'BackOff').length, 1, 'repeats bump count');
});

test('an image that cannot be pulled records Failed warnings', async (t) => {
  const api = setup(t);
  api.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pull', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'nginx:imagepullbackoff' }] } });
  await waitFor('Error: ImagePullBackOff', () => events(api, 'Pod', 'pull').some((e) => e['message'] === 'Error: ImagePullBackOff'));
  const messages = events(api, 'Pod', 'pull').map((e) => e['message']);
  assert.ok(messages.includes('Error: ErrImagePull'));
  assert.ok(messages.includes('Back-off pulling image "nginx:imagepullbackoff"'));
});
