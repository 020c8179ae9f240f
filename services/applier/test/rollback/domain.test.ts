import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Application, HistoryEntry, OperationStatusRecord, SyncEvent } from '@ferry/contracts';
import {
  AUTO_ROLLBACK_INITIATOR,
  ROLLBACK_ABANDONED_MS,
  decideAutoRollback,
  hasFailedPostSyncHook,
  rollbackCompletion,
  rollbackFollowsFailure,
  rollbackWorthyFailure,
  wasDeployed,
  withAutoRollback,
  withHealthyRevision,
  withManualRollback,
  withRollbackDone,
} from '../../src/rollback/domain.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const now = new Date('2026-01-01T00:00:00Z');

function app(autoRollback = true): Application {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'web', ...(autoRollback ? { annotations: { 'ferry.dev/auto-rollback': 'true' } } : {}) },
    spec: { source: { repoURL: 'r' }, destination: { server: 'https://kubernetes.default.svc' }, syncPolicy: { automated: {} } },
  };
}

function entry(id: number, revision: string, phase: 'Succeeded' | 'Failed' = 'Succeeded'): HistoryEntry {
  return {
    id,
    revision,
    deployStartedAt: 't',
    deployedAt: 't',
    source: { repoURL: 'r' },
    initiatedBy: { automated: true },
    syncId: `s${id}`,
    phase,
    resources: [],
  };
}

/** C synced (healthy), then A (healthy), then B synced last. */
function record(over: Partial<OperationStatusRecord> = {}): OperationStatusRecord {
  return {
    app: 'web',
    conditions: [],
    history: [entry(0, C), entry(1, A), entry(2, B)],
    lastSyncedRevision: B,
    healthyRevisions: [C, A],
    operationState: {
      operation: { sync: { revision: B, prune: false }, initiatedBy: { automated: true } },
      phase: 'Succeeded',
      message: '',
      startedAt: 't',
      finishedAt: 't',
      syncId: 's2',
      trigger: 'automated',
    },
    ...over,
  };
}

describe('automatic rollback decision', () => {
  it('rolls a Degraded last sync back to the newest Synced and Healthy revision, pausing automation for it', () => {
    const d = decideAutoRollback(app(), record(), { kind: 'degraded', revision: B, message: 'ProgressDeadlineExceeded' }, now);
    assert.equal(d.kind, 'rollback');
    if (d.kind !== 'rollback') return;
    assert.deepEqual(d.request, {
      app: 'web',
      requestId: `auto-rollback-${B.slice(0, 12)}`,
      prune: true,
      initiatedBy: AUTO_ROLLBACK_INITIATOR,
      revision: A,
      kind: 'auto-rollback',
      historyId: 1,
    });
    assert.equal(d.pause.revision, B);
    const next = withAutoRollback(record(), d);
    assert.deepEqual(next.autoRollbacks, [B]);
    assert.equal(next.automationPaused?.revision, B);
    assert.equal(next.rollback?.fromRevision, B);
    assert.equal(next.rollback?.toRevision, A);
  });

  it('does nothing for an app without the annotation, for a revision that was Healthy once, or for a revision that is not the last sync', () => {
    const degraded = { kind: 'degraded', revision: B } as const;
    assert.equal(decideAutoRollback(app(false), record(), degraded, now).kind, 'skip');
    assert.equal(decideAutoRollback(app(), record({ healthyRevisions: [C, A, B] }), degraded, now).kind, 'skip');
    assert.equal(decideAutoRollback(app(), record(), { kind: 'degraded', revision: A }, now).kind, 'skip');
  });

  it('never rolls back twice from one revision, and re-publishes the same request on a redelivery', () => {
    const d = decideAutoRollback(app(), record(), { kind: 'degraded', revision: B }, now);
    assert.equal(d.kind, 'rollback');
    if (d.kind !== 'rollback') return;
    const waiting = withAutoRollback(record(), d);
    const again = decideAutoRollback(app(), waiting, { kind: 'degraded', revision: B }, now);
    assert.deepEqual(again, { kind: 'republish', request: d.request });
    const done = withRollbackDone(waiting, d.rollback.requestId, 'rollback-sync');
    const third = decideAutoRollback(app(), done, { kind: 'degraded', revision: B }, now);
    assert.equal(third.kind, 'skip');
    assert.match(third.kind === 'skip' ? third.reason : '', /already rolled back/);
  });

  it('waits for a pending rollback, unless it was requested so long ago that it is abandoned', () => {
    const pending = {
      kind: 'rollback' as const,
      fromRevision: C,
      toRevision: A,
      requestId: 'u1',
      reason: 'user',
      requestedAt: new Date(now.getTime() - 60_000).toISOString(),
    };
    assert.equal(decideAutoRollback(app(), record({ rollback: pending }), { kind: 'degraded', revision: B }, now).kind, 'skip');
    const abandoned = { ...pending, requestedAt: new Date(now.getTime() - ROLLBACK_ABANDONED_MS).toISOString() };
    assert.equal(decideAutoRollback(app(), record({ rollback: abandoned }), { kind: 'degraded', revision: B }, now).kind, 'rollback');
  });

  it('has nothing to roll back to when no other revision was Synced and Healthy', () => {
    const d = decideAutoRollback(
      app(),
      record({ healthyRevisions: [], history: [entry(0, A, 'Failed'), entry(1, B)] }),
      { kind: 'degraded', revision: B },
      now,
    );
    assert.equal(d.kind, 'skip');
  });

  it('rolls back a sync that failed because a PostSync hook failed', () => {
    const failed = record({
      lastSyncedRevision: A,
      operationState: { ...record().operationState!, phase: 'Failed', syncId: 'hooked' },
    });
    const d = decideAutoRollback(app(), failed, { kind: 'hook-failed', revision: B, syncId: 'hooked', message: 'Job smoke failed' }, now);
    assert.equal(d.kind, 'rollback');
    assert.equal(decideAutoRollback(app(), failed, { kind: 'hook-failed', revision: B, syncId: 'older', message: '' }, now).kind, 'skip');
    assert.equal(
      hasFailedPostSyncHook([
        {
          group: 'batch',
          version: 'v1',
          kind: 'Job',
          namespace: 'web',
          name: 'smoke',
          status: 'SyncFailed',
          message: '',
          syncPhase: 'PostSync',
          hookType: 'PostSync',
          hookPhase: 'Failed',
        },
      ]),
      true,
    );
    assert.equal(
      hasFailedPostSyncHook([
        {
          group: 'batch',
          version: 'v1',
          kind: 'Job',
          namespace: 'web',
          name: 'migrate',
          status: 'SyncFailed',
          message: '',
          syncPhase: 'PreSync',
          hookType: 'PreSync',
          hookPhase: 'Failed',
        },
      ]),
      false,
    );
  });

  it('treats a sync failed with Degraded resources like a Degraded revision, and ignores other failures', () => {
    assert.equal(
      rollbackWorthyFailure({
        phase: 'Failed',
        resources: [],
        error: { code: 'FERRY_ERR_SYNC_RESOURCE_DEGRADED', message: 'Deployment web Degraded' },
      }),
      'degraded-sync',
    );
    assert.equal(
      rollbackWorthyFailure({ phase: 'Failed', resources: [], error: { code: 'FERRY_ERR_SYNC_RESOURCE_FAILED', message: 'bad' } }),
      undefined,
    );
    assert.equal(rollbackWorthyFailure({ phase: 'Succeeded', resources: [] }), undefined);
    const failed = record({ lastSyncedRevision: A, operationState: { ...record().operationState!, phase: 'Failed', syncId: 'deg' } });
    const d = decideAutoRollback(
      app(),
      failed,
      { kind: 'degraded-sync', revision: B, syncId: 'deg', message: 'Deployment web Degraded' },
      now,
    );
    assert.equal(d.kind, 'rollback');
    assert.match(d.kind === 'rollback' ? d.rollback.reason : '', /failed with Degraded resources/);
  });

  it('marks a revision healthy once, newest last', () => {
    const r = record();
    const next = withHealthyRevision(r, B);
    assert.deepEqual(next.healthyRevisions, [C, A, B]);
    assert.equal(withHealthyRevision(next, B), next);
    assert.deepEqual(withHealthyRevision(next, A).healthyRevisions, [C, B, A]);
  });

  it('does not mark healthy a revision that was never deployed (an Error operation reports it; health describes older objects)', () => {
    const D = 'd'.repeat(40);
    const r = record({ history: [entry(0, C), entry(1, A), entry(2, D, 'Failed')] });
    assert.equal(wasDeployed(r, B), true, 'the last successful sync');
    assert.equal(wasDeployed(r, A), true, 'a succeeded history entry');
    assert.equal(wasDeployed(r, D), false, 'only a failed entry');
    assert.equal(withHealthyRevision(r, D), r);
    assert.equal(withHealthyRevision(r, 'e'.repeat(40)), r);
  });
});

describe('rollback completion', () => {
  const event = (over: Partial<SyncEvent> = {}): SyncEvent => ({
    app: 'web',
    syncId: 'rb',
    revision: A,
    trigger: 'manual',
    phase: 'Succeeded',
    message: 'ok',
    startedAt: 't',
    finishedAt: '2026-01-01T00:01:00.000Z',
    resources: [],
    ...over,
  });

  it('completes the waiting rollback when its request was served by a manual sync at its revision', () => {
    const d = decideAutoRollback(app(), record(), { kind: 'degraded', revision: B }, now);
    if (d.kind !== 'rollback') throw new Error('expected a rollback');
    const waiting = { ...withAutoRollback(record(), d), servedRequests: [d.rollback.requestId] };
    assert.deepEqual(rollbackCompletion(waiting, event(), now), {
      app: 'web',
      fromRevision: B,
      toRevision: A,
      historyId: 1,
      automatic: true,
      result: 'succeeded',
      reason: d.rollback.reason,
      completedAt: '2026-01-01T00:01:00.000Z',
    });
    assert.equal(rollbackCompletion({ ...waiting, servedRequests: [] }, event(), now), undefined, 'request not served yet');
    assert.equal(rollbackCompletion(waiting, event({ revision: C }), now), undefined, 'another revision');
    assert.equal(rollbackCompletion(waiting, event({ trigger: 'automated' }), now), undefined, 'an automated sync');
    assert.equal(rollbackCompletion(waiting, event({ phase: 'Failed', error: { code: 'X', message: 'boom' } }), now)?.result, 'failed');
  });

  it('records a user rollback with where it came from, and marks the rollback sync in history when done', () => {
    const requested = withManualRollback(
      record(),
      { app: 'web', requestId: 'u1', prune: false, initiatedBy: 'alice', kind: 'rollback', revision: A, historyId: 1 },
      now,
    );
    assert.equal(requested.rollback?.fromRevision, B);
    assert.equal(requested.rollback?.kind, 'rollback');
    const synced = { ...requested, history: [...requested.history, { ...entry(3, A), syncId: 'rb' }], servedRequests: ['u1'] };
    assert.equal(rollbackCompletion(synced, event(), now)?.automatic, false);
    const done = withRollbackDone(synced, 'u1', 'rb');
    assert.equal(done.rollback, undefined);
    assert.equal(done.history.find((h) => h.syncId === 'rb')?.kind, 'rollback');
    assert.equal(withManualRollback(record(), { app: 'web', requestId: 'u2', prune: false, initiatedBy: 'a' }, now).rollback, undefined);
  });
});

describe('whether an automatic rollback follows a failed sync (then it is not retried)', () => {
  const hookFailed = {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    namespace: 'web',
    name: 'smoke',
    status: 'SyncFailed' as const,
    message: 'Job failed',
    syncPhase: 'PostSync' as const,
    hookType: 'PostSync',
    hookPhase: 'Failed' as const,
  };
  /** B's sync `run` is the latest operation, Running between attempts. */
  const running = (over: Partial<OperationStatusRecord> = {}): OperationStatusRecord =>
    record({
      history: [entry(0, C), entry(1, A)],
      lastSyncedRevision: A,
      operationState: { ...record().operationState!, phase: 'Running', syncId: 'run' },
      ...over,
    });
  const failure = (over: Partial<SyncEvent> = {}): SyncEvent => ({
    app: 'web',
    syncId: 'run',
    revision: B,
    trigger: 'automated',
    phase: 'Failed',
    message: 'a PostSync hook failed',
    startedAt: 't',
    resources: [hookFailed],
    error: { code: 'FERRY_ERR_SYNC_HOOK_FAILED', message: 'Job smoke failed' },
    ...over,
  });

  it('is true for a failed PostSync hook or Degraded resources of an annotated app with a Synced and Healthy revision to go back to', () => {
    assert.equal(rollbackFollowsFailure(app(), running(), failure(), now), true);
    const degraded = failure({ resources: [], error: { code: 'FERRY_ERR_SYNC_RESOURCE_DEGRADED', message: 'Deployment web Degraded' } });
    assert.equal(rollbackFollowsFailure(app(), running(), degraded, now), true);
  });

  it('is false without the annotation, for other failures, for rollbacks and dry runs, and when no rollback can happen', () => {
    assert.equal(rollbackFollowsFailure(app(false), running(), failure(), now), false, 'not annotated');
    const preSync = { ...hookFailed, syncPhase: 'PreSync' as const, hookType: 'PreSync' };
    assert.equal(rollbackFollowsFailure(app(), running(), failure({ resources: [preSync] }), now), false, 'a PreSync hook');
    assert.equal(
      rollbackFollowsFailure(
        app(),
        running(),
        failure({ resources: [], error: { code: 'FERRY_ERR_SYNC_RESOURCE_FAILED', message: 'x' } }),
        now,
      ),
      false,
      'an apply failure',
    );
    assert.equal(rollbackFollowsFailure(app(), running(), failure({ kind: 'auto-rollback' }), now), false, 'a rollback');
    assert.equal(rollbackFollowsFailure(app(), running(), failure({ dryRun: true }), now), false, 'a dry run');
    assert.equal(rollbackFollowsFailure(app(), running({ healthyRevisions: [] }), failure(), now), false, 'no healthy target');
    assert.equal(rollbackFollowsFailure(app(), running({ autoRollbacks: [B] }), failure(), now), false, 'B was rolled back once already');
  });
});
