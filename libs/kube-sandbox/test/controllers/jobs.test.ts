import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startControllers } from '../../src/controllers/index.js';
import type { KubeObject } from '../../src/types.js';
import { condition, createFakeApi, specOf, statusOf, waitFor, type FakeApi } from './fake-api.js';

const OPTIONS = { rolloutMs: 20, progressDeadlineScaleMs: 5 };

function job(name: string, image: string, extra: Record<string, unknown> = {}, restartPolicy = 'Never'): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { template: { spec: { restartPolicy, containers: [{ name: 'main', image }] } }, ...extra },
  };
}

function setup(t: { after: (fn: () => void) => void }): FakeApi {
  const api = createFakeApi();
  const controllers = startControllers(api, OPTIONS);
  t.after(() => controllers.close());
  return api;
}

const getJob = (api: FakeApi, name: string): KubeObject | undefined => api.find('batch/v1', 'Job', 'default', name);

test('a Job runs a pod to completion and reports SuccessCriteriaMet and Complete', async (t) => {
  const api = setup(t);
  api.apply(job('migrate', 'migrate:1'));
  const done = await waitFor('Complete', () => (condition(getJob(api, 'migrate'), 'Complete')?.['status'] === 'True' ? getJob(api, 'migrate') : undefined));
  const s = statusOf(done);
  assert.equal(s['succeeded'], 1);
  assert.equal(s['active'], undefined);
  assert.ok(s['startTime']);
  assert.ok(s['completionTime']);
  assert.equal(condition(done, 'Complete')?.['reason'], 'CompletionsReached');
  assert.equal(condition(done, 'SuccessCriteriaMet')?.['status'], 'True');
  assert.equal(condition(done, 'SuccessCriteriaMet')?.['message'], 'Reached expected number of succeeded pods');
  const uid = done.metadata.uid ?? '';
  assert.deepEqual(specOf(done)['selector'], { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  const [pod] = api.findAll('v1', 'Pod', 'default');
  assert.equal(statusOf(pod)['phase'], 'Succeeded');
  assert.equal(pod?.metadata.labels?.['batch.kubernetes.io/job-name'], 'migrate');
  assert.equal(pod?.metadata.labels?.['controller-uid'], uid);
  assert.equal(pod?.metadata.ownerReferences?.[0]?.kind, 'Job');
});

test('a Job of failing pods fails with BackoffLimitExceeded after backoffLimit + 1 pods', async (t) => {
  const api = setup(t);
  api.apply(job('broken', 'busybox:fail', { backoffLimit: 2 }));
  const failed = await waitFor('Failed', () => (condition(getJob(api, 'broken'), 'Failed')?.['status'] === 'True' ? getJob(api, 'broken') : undefined));
  assert.equal(condition(failed, 'Failed')?.['reason'], 'BackoffLimitExceeded');
  assert.equal(condition(failed, 'Failed')?.['message'], 'Job has reached the specified backoff limit');
  assert.equal(condition(failed, 'FailureTarget')?.['status'], 'True');
  assert.equal(condition(failed, 'Complete'), undefined);
  assert.equal(statusOf(failed)['failed'], 3);
  assert.equal(statusOf(failed)['completionTime'], undefined);
  assert.equal(api.findAll('v1', 'Pod', 'default').filter((p) => statusOf(p)['phase'] === 'Failed').length, 3);
});

test('a Job with restartPolicy OnFailure and a crash-looping container fails once restarts exceed the limit', async (t) => {
  const api = setup(t);
  api.apply(job('restarts', 'busybox:crashloop', { backoffLimit: 1 }, 'OnFailure'));
  const failed = await waitFor('Failed', () => (condition(getJob(api, 'restarts'), 'Failed')?.['status'] === 'True' ? getJob(api, 'restarts') : undefined));
  assert.equal(condition(failed, 'Failed')?.['reason'], 'BackoffLimitExceeded');
});

test('a Job with completions 3 and parallelism 2 completes three pods', async (t) => {
  const api = setup(t);
  api.apply(job('batch', 'work:1', { completions: 3, parallelism: 2 }));
  const done = await waitFor('Complete', () => (condition(getJob(api, 'batch'), 'Complete') ? getJob(api, 'batch') : undefined));
  assert.equal(statusOf(done)['succeeded'], 3);
  assert.equal(api.findAll('v1', 'Pod', 'default').length, 3);
});

test('an Indexed Job gives each pod its completion index', async (t) => {
  const api = setup(t);
  api.apply(job('indexed', 'work:1', { completions: 2, parallelism: 2, completionMode: 'Indexed' }));
  const done = await waitFor('Complete', () => (condition(getJob(api, 'indexed'), 'Complete') ? getJob(api, 'indexed') : undefined));
  assert.equal(statusOf(done)['completedIndexes'], '0,1');
  const indexes = api.findAll('v1', 'Pod', 'default').map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
  assert.deepEqual(indexes, ['0', '1']);
});

test('a suspended Job runs no pods and reports Suspended', async (t) => {
  const api = setup(t);
  api.apply(job('later', 'work:1', { suspend: true }));
  const suspended = await waitFor('Suspended', () => (condition(getJob(api, 'later'), 'Suspended') ? getJob(api, 'later') : undefined));
  assert.equal(condition(suspended, 'Suspended')?.['reason'], 'JobSuspended');
  assert.equal(api.findAll('v1', 'Pod', 'default').length, 0);
  api.apply(job('later', 'work:1', { suspend: false }));
  await waitFor('Complete after resume', () => condition(getJob(api, 'later'), 'Complete')?.['status'] === 'True');
  assert.equal(condition(getJob(api, 'later'), 'Suspended')?.['status'], 'False');
});

test('activeDeadlineSeconds fails a Job with DeadlineExceeded (scaled)', async (t) => {
  const api = setup(t);
  api.apply(job('slow', 'busybox:crashloop', { activeDeadlineSeconds: 20, backoffLimit: 100 }, 'OnFailure'));
  const failed = await waitFor('Failed', () => (condition(getJob(api, 'slow'), 'Failed') ? getJob(api, 'slow') : undefined));
  assert.equal(condition(failed, 'Failed')?.['reason'], 'DeadlineExceeded');
  assert.equal(api.findAll('v1', 'Pod', 'default').filter((p) => statusOf(p)['phase'] !== 'Failed').length, 0);
});

test('ttlSecondsAfterFinished deletes a finished Job', async (t) => {
  const api = setup(t);
  api.apply(job('ttl', 'work:1', { ttlSecondsAfterFinished: 0 }));
  await waitFor('Job deleted', () => api.all().length > 0 && getJob(api, 'ttl') === undefined);
  assert.equal(api.findAll('v1', 'Pod', 'default').length, 0, 'its pods are garbage-collected');
});
