import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Application, DiffComputed } from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';
import { decideSync } from '../../src/domain/decide.js';
import {
  completeOperation,
  completedSyncEvent,
  diffAction,
  isRequestServed,
  operationFor,
  startOperation,
  withPendingSync,
  type SyncOutcome,
} from '../../src/domain/operation.js';
import { parseArtifact } from '../../src/domain/artifact.js';
import { syncIdOf } from '../../src/domain/sync-id.js';
import { trackedKinds } from '../../src/domain/tracked-kinds.js';

const rev = 'a'.repeat(40);
const rev2 = 'b'.repeat(40);
const app = (over: Partial<Application['spec']> = {}): Application => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'web' },
  spec: {
    source: { repoURL: 'r' },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'web' },
    syncPolicy: { automated: { prune: true } },
    ...over,
  },
});
const diff = (over: Partial<DiffComputed> = {}): DiffComputed => ({
  app: 'web',
  revision: rev,
  artifactKey: 'k1',
  syncStatus: 'OutOfSync',
  reason: 'revision',
  resources: [],
  comparedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
const t0 = new Date('2026-01-01T00:00:01Z');
const t1 = new Date('2026-01-01T00:00:02Z');
const opts = { selfHealIntervalMs: 5000, now: t1 };
const succeeded = (finishedAt = t1): SyncOutcome => ({
  phase: 'Succeeded',
  message: 'ok',
  resources: [],
  finishedAt: finishedAt.toISOString(),
});

test('a sync id is the same for the same diff event and differs for another event, artifact or trigger', () => {
  const base = { app: 'web', artifactKey: 'k1', trigger: 'automated' as const, diffEventId: 'e1' };
  assert.equal(syncIdOf(base), syncIdOf({ ...base }));
  assert.match(syncIdOf(base), /^[0-9a-f]{20}$/);
  assert.notEqual(syncIdOf(base), syncIdOf({ ...base, diffEventId: 'e2' }));
  assert.notEqual(syncIdOf(base), syncIdOf({ ...base, artifactKey: 'k2' }));
  assert.notEqual(syncIdOf(base), syncIdOf({ ...base, trigger: 'manual' }));
});

test('an automated operation prunes by policy; a manual one by its request and names its requester', () => {
  const automated = operationFor(app(), diff(), 's1');
  assert.deepEqual([automated.trigger, automated.prune, automated.initiatedBy], ['automated', true, { automated: true }]);
  const manual = operationFor(app(), diff({ sync: { requestId: 'r1', prune: false, initiatedBy: 'alice' } }), 's2');
  assert.deepEqual([manual.trigger, manual.prune, manual.initiatedBy, manual.requestId], ['manual', false, { username: 'alice' }, 'r1']);
});

test('a completed sync writes history, lastSyncedRevision and clears the pendingSync it served; a resumed start keeps startedAt', () => {
  const op = operationFor(app(), diff({ sync: { requestId: 'r1', prune: true, initiatedBy: 'alice' } }), 's1');
  let record = withPendingSync(undefined, 'web', { requestId: 'r1', prune: true, initiatedBy: 'alice' }, t0);
  record = startOperation(record, op, t0);
  assert.equal(record.operationState?.phase, 'Running');
  record = startOperation(record, op, t1);
  assert.equal(record.operationState?.startedAt, t0.toISOString(), 'resuming keeps the start time');
  record = completeOperation(record, op, succeeded(), app(), t1);
  assert.equal(record.operationState?.phase, 'Succeeded');
  assert.equal(record.lastSyncedRevision, rev);
  assert.equal(record.pendingSync, undefined);
  assert.ok(isRequestServed(record, 'r1'));
  assert.deepEqual(
    record.history.map((h) => [h.id, h.syncId, h.deployStartedAt]),
    [[0, 's1', t0.toISOString()]],
  );
  // Completing the same sync again (a crash between write and publish) adds no second entry.
  assert.equal(completeOperation(record, op, succeeded(), app(), t1).history.length, 1);
});

test('a failed sync sets a SyncError condition, keeps lastSyncedRevision, and a later success removes the condition', () => {
  const ok = operationFor(app(), diff(), 's1');
  let record = completeOperation(startOperation(undefined, ok, t0), ok, succeeded(), app(), t1);
  const bad = operationFor(app(), diff({ revision: rev2, artifactKey: 'k2' }), 's2');
  const failure: SyncOutcome = {
    phase: 'Failed',
    message: 'refusing',
    resources: [],
    finishedAt: t1.toISOString(),
    error: { code: 'FERRY_ERR_SYNC_PRUNE_REFUSED', message: 'refusing' },
  };
  record = completeOperation(startOperation(record, bad, t1), bad, failure, app(), t1);
  assert.deepEqual(
    record.conditions.map((c) => [c.type, c.message]),
    [['SyncError', 'refusing']],
  );
  assert.equal(record.lastSyncedRevision, rev);
  assert.equal(completedSyncEvent(record, 's2')?.error?.code, 'FERRY_ERR_SYNC_PRUNE_REFUSED');
  const again = operationFor(app(), diff({ revision: rev2, artifactKey: 'k2' }), 's3');
  record = completeOperation(startOperation(record, again, t1), again, succeeded(), app(), t1);
  assert.deepEqual(record.conditions, []);
  assert.equal(completedSyncEvent(record, 's1')?.phase, 'Succeeded', 'an older sync is re-reported from history');
});

test('a redelivered diff re-reports its completed sync and resumes its Running sync instead of deciding again', () => {
  const d = diff();
  const op = operationFor(app(), d, 's1');
  const running = startOperation(undefined, op, t0);
  assert.deepEqual(diffAction(app(), d, running, 's1', opts), {
    kind: 'sync',
    decision: 'automated',
    reason: 'resuming an interrupted sync',
    resume: true,
  });
  // Without the syncId match, decideSync alone would not sync (a sync of this revision is running).
  assert.equal(decideSync(app(), d, running, opts).decision, 'none');
  const done = completeOperation(running, op, succeeded(), app(), t1);
  const action = diffAction(app(), d, done, 's1', opts);
  assert.equal(action.kind, 'republish');
  assert.equal(action.kind === 'republish' && action.event.syncId, 's1');
});

test('an automated diff compared before the one that started the latest sync is stale; a manual one is not', () => {
  const newer = diff({ revision: rev2, comparedAt: '2026-01-01T00:00:05.000Z' });
  const record = startOperation(undefined, operationFor(app(), newer, 's-new'), t0);
  const older = diff({ comparedAt: '2026-01-01T00:00:04.000Z' });
  assert.equal(diffAction(app(), older, record, 's-old', opts).kind, 'ignore');
  assert.equal(diffAction(app(), { ...older, sync: { requestId: 'r', prune: false, initiatedBy: 'a' } }, record, 's-m', opts).kind, 'sync');
});

test('a second diff carrying an already served manual request does not sync again', () => {
  const intent = { requestId: 'r1', prune: false, initiatedBy: 'alice' };
  const first = diff({ sync: intent });
  const op = operationFor(app(), first, 's1');
  const record = completeOperation(startOperation(undefined, op, t0), op, succeeded(), app(), t1);
  const second = diff({ sync: intent, reason: 'drift', comparedAt: '2026-01-01T00:00:09.000Z' });
  assert.equal(diffAction(app(), second, record, 's2', opts).kind, 'ignore');
});

test('drift inside the self-heal interval is asked about again when the interval ends', () => {
  const healing = app({ syncPolicy: { automated: { selfHeal: true } } });
  const op = operationFor(healing, diff(), 's1');
  const record = completeOperation(startOperation(undefined, op, t0), op, succeeded(new Date('2026-01-01T00:00:01Z')), healing, t1);
  const action = diffAction(healing, diff({ reason: 'drift', comparedAt: '2026-01-01T00:00:03.000Z' }), record, 's2', opts);
  assert.deepEqual(action, { kind: 'later', reason: 'self-heal is waiting for its interval', delayMs: 4000 });
});

test('an artifact must hold Kubernetes objects with apiVersion, kind and a name', () => {
  const ok = parseArtifact({
    objects: [{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }, source: { file: 'a.yaml' } }],
  });
  assert.equal(ok.ok && ok.objects[0]?.metadata.name, 'a');
  assert.equal(parseArtifact({}).ok, false);
  const bad = parseArtifact({ objects: [{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } }] });
  assert.match(bad.ok ? '' : bad.problem, /objects\[0\]/);
});

test('live objects are looked for in the desired kinds, the kinds marked for pruning and the kinds the last sync touched', () => {
  const desired: KubeObject[] = [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } }];
  const d = diff({
    resources: [{ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'web', name: 'old', status: 'OutOfSync', requiresPruning: true }],
  });
  const op = operationFor(app(), d, 's1');
  const record = completeOperation(
    startOperation(undefined, op, t0),
    op,
    {
      ...succeeded(),
      resources: [
        { group: 'batch', version: 'v1', kind: 'Job', namespace: 'web', name: 'j', status: 'Synced', message: '' },
        { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'web', name: 'd', status: 'Synced', message: '' },
      ],
    },
    app(),
    t1,
  );
  assert.deepEqual(trackedKinds(desired, d, record), [
    { apiVersion: 'apps/v1', kind: 'Deployment' },
    { apiVersion: 'v1', kind: 'ConfigMap' },
    { apiVersion: 'batch/v1', kind: 'Job' },
  ]);
});
