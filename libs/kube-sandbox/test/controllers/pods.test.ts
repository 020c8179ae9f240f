import { test } from 'node:test';
import assert from 'node:assert/strict';
import { behaviorOf, startControllers } from '../../src/controllers/index.js';
import type { KubeObject } from '../../src/types.js';
import { condition, createFakeApi, specOf, statusOf, waitFor, type FakeApi } from './fake-api.js';

const OPTIONS = { rolloutMs: 20, progressDeadlineScaleMs: 5 };

function pod(name: string, containers: Record<string, unknown>[], extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers, ...extra } };
}

function setup(t: { after: (fn: () => void) => void }): FakeApi {
  const api = createFakeApi();
  const controllers = startControllers(api, OPTIONS);
  t.after(() => controllers.close());
  return api;
}

type Cs = Record<string, unknown> & { state: Record<string, Record<string, unknown>>; lastState: Record<string, Record<string, unknown>> };
const containerStatus = (p: KubeObject | undefined, i = 0): Cs | undefined => (statusOf(p)['containerStatuses'] as Cs[] | undefined)?.[i];
const get = (api: FakeApi, name: string): KubeObject | undefined => api.find('v1', 'Pod', 'default', name);

test('image tags choose the container behaviour', () => {
  assert.equal(behaviorOf('nginx:crashloop'), 'crashloop');
  assert.equal(behaviorOf('registry:5000/team/app:imagepullbackoff'), 'imagepullbackoff');
  assert.equal(behaviorOf('busybox:fail'), 'fail');
  assert.equal(behaviorOf('registry:5000/fail'), 'ok');
  assert.equal(behaviorOf('nginx'), 'ok');
});

test('a pod is scheduled, starts Pending with ContainerCreating, then runs and becomes Ready', async (t) => {
  const api = setup(t);
  api.apply(pod('p', [{ name: 'app', image: 'nginx:1.25', resources: { limits: { cpu: '1', memory: '1Gi' } } }]));
  const pending = await waitFor('pending status', () => (statusOf(get(api, 'p'))['phase'] ? get(api, 'p') : undefined));
  assert.equal(containerStatus(pending)?.['name'], 'app');
  assert.equal(statusOf(pending)['phase'], 'Pending');
  assert.equal(specOf(pending)['nodeName'], 'sandbox-node');
  assert.equal(containerStatus(pending)?.state['waiting']?.['reason'], 'ContainerCreating');
  assert.equal(condition(pending, 'PodScheduled')?.['status'], 'True');
  assert.equal(condition(pending, 'Ready')?.['reason'], 'ContainersNotReady');
  assert.equal(condition(pending, 'Ready')?.['message'], 'containers with unready status: [app]');
  const running = await waitFor('running', () => (statusOf(get(api, 'p'))['phase'] === 'Running' ? get(api, 'p') : undefined));
  const s = statusOf(running);
  assert.equal(s['hostIP'], '172.18.0.2');
  assert.equal(s['qosClass'], 'Guaranteed');
  assert.ok(s['startTime']);
  assert.deepEqual(
    (s['conditions'] as Record<string, unknown>[]).map((c) => [c['type'], c['status']]),
    [
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ],
  );
  assert.equal(containerStatus(running)?.['name'], 'app');
  assert.equal(containerStatus(running)?.['image'], 'docker.io/library/nginx:1.25');
  assert.match(String(containerStatus(running)?.['containerID']), /^containerd:\/\/[0-9a-f]{64}$/);
});

test('a crashloop container waits in CrashLoopBackOff with a growing restart count and exit code 1', async (t) => {
  const api = setup(t);
  api.apply(pod('crash', [{ name: 'main', image: 'nginx:crashloop' }]));
  const first = await waitFor('crash loop', () => (containerStatus(get(api, 'crash'))?.state['waiting']?.['reason'] === 'CrashLoopBackOff' ? get(api, 'crash') : undefined));
  const cs = containerStatus(first)!;
  assert.equal(cs['name'], 'main');
  assert.equal(statusOf(first)['phase'], 'Running');
  assert.equal(cs['ready'], false);
  assert.equal(cs.lastState['terminated']?.['exitCode'], 1);
  assert.equal(cs.lastState['terminated']?.['reason'], 'Error');
  assert.match(String(cs.state['waiting']?.['message']), /^back-off 10s restarting failed container=main pod=crash_default\(.+\)$/);
  assert.equal(condition(first, 'Ready')?.['status'], 'False');
  const count = Number(cs['restartCount']);
  await waitFor('restart count grows', () => Number(containerStatus(get(api, 'crash'))?.['restartCount']) >= count + 2);
});

test('an imagepullbackoff container reports ErrImagePull, then ImagePullBackOff, and the pod stays Pending', async (t) => {
  const api = setup(t);
  api.apply(pod('pull', [{ name: 'main', image: 'nginx:imagepullbackoff' }]));
  const errPull = await waitFor('ErrImagePull', () => (containerStatus(get(api, 'pull'))?.state['waiting']?.['reason'] === 'ErrImagePull' ? get(api, 'pull') : undefined));
  assert.match(String(containerStatus(errPull)?.state['waiting']?.['message']), /failed to pull and unpack image "docker\.io\/library\/nginx:imagepullbackoff"/);
  const backoff = await waitFor('ImagePullBackOff', () => (containerStatus(get(api, 'pull'))?.state['waiting']?.['reason'] === 'ImagePullBackOff' ? get(api, 'pull') : undefined));
  assert.equal(containerStatus(backoff)?.state['waiting']?.['message'], 'Back-off pulling image "nginx:imagepullbackoff"');
  assert.equal(statusOf(backoff)['phase'], 'Pending');
  assert.equal(containerStatus(backoff)?.['imageID'], '');
});

test('a fail container with restartPolicy Never terminates with exit code 1 and the pod Fails', async (t) => {
  const api = setup(t);
  api.apply(pod('once', [{ name: 'main', image: 'busybox:fail' }], { restartPolicy: 'Never' }));
  const failed = await waitFor('Failed', () => (statusOf(get(api, 'once'))['phase'] === 'Failed' ? get(api, 'once') : undefined));
  const terminated = containerStatus(failed)?.state['terminated'];
  assert.equal(containerStatus(failed)?.['name'], 'main');
  assert.equal(terminated?.['exitCode'], 1);
  assert.equal(terminated?.['reason'], 'Error');
  assert.equal(condition(failed, 'Ready')?.['reason'], 'PodCompleted');
});

test('a fail container with restartPolicy Always crash loops instead', async (t) => {
  const api = setup(t);
  api.apply(pod('always', [{ name: 'main', image: 'busybox:fail' }]));
  await waitFor('CrashLoopBackOff', () => containerStatus(get(api, 'always'))?.state['waiting']?.['reason'] === 'CrashLoopBackOff');
  assert.equal(statusOf(get(api, 'always'))['phase'], 'Running');
});

test('a run-to-completion pod (restartPolicy Never) succeeds with reason Completed', async (t) => {
  const api = setup(t);
  api.apply(pod('hook', [{ name: 'main', image: 'alpine:3.20' }], { restartPolicy: 'Never' }));
  const done = await waitFor('Succeeded', () => (statusOf(get(api, 'hook'))['phase'] === 'Succeeded' ? get(api, 'hook') : undefined));
  const terminated = containerStatus(done)?.state['terminated'];
  assert.equal(terminated?.['exitCode'], 0);
  assert.equal(terminated?.['reason'], 'Completed');
});

test('a failing init container blocks the pod with Initialized False', async (t) => {
  const api = setup(t);
  api.apply(pod('init', [{ name: 'main', image: 'nginx:1.25' }], { initContainers: [{ name: 'setup', image: 'busybox:crashloop' }] }));
  const blocked = await waitFor('init crash loop', () => {
    const p = get(api, 'init');
    const init = (statusOf(p)['initContainerStatuses'] as Cs[] | undefined)?.[0];
    return init?.state['waiting']?.['reason'] === 'CrashLoopBackOff' ? p : undefined;
  });
  assert.equal(statusOf(blocked)['phase'], 'Pending');
  assert.equal(condition(blocked, 'Initialized')?.['status'], 'False');
  assert.equal(condition(blocked, 'Initialized')?.['message'], 'containers with incomplete status: [setup]');
  assert.equal(containerStatus(blocked)?.state['waiting']?.['reason'], 'PodInitializing');
});

test('successful init containers are reported terminated Completed and the pod runs', async (t) => {
  const api = setup(t);
  api.apply(pod('init-ok', [{ name: 'main', image: 'nginx:1.25' }], { initContainers: [{ name: 'setup', image: 'busybox:1' }] }));
  const running = await waitFor('running', () => (statusOf(get(api, 'init-ok'))['phase'] === 'Running' ? get(api, 'init-ok') : undefined));
  const init = (statusOf(running)['initContainerStatuses'] as Cs[])[0];
  assert.equal(init?.state['terminated']?.['reason'], 'Completed');
  assert.equal(init?.['ready'], true);
});
