import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Application, DiffComputed, RevisionFailed, SyncIntent } from '@ferry/contracts';
import { decideSync } from '../../src/domain/decide.js';
import { completeOperation, emptyRecord, withPendingSync, type StoredOperationRecord } from '../../src/domain/operation.js';
import {
  revisionFailureAction,
  revisionFailureMessage,
  revisionFailureSyncId,
  withRevisionFailure,
} from '../../src/domain/revision-failure.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T00:00:05Z');

const app: Application = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'web' },
  spec: {
    source: { repoURL: 'r', targetRevision: 'main' },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'web' },
    syncPolicy: { automated: {} },
  },
};

const intent = (over: Partial<SyncIntent> = {}): SyncIntent => ({ requestId: 'r1', prune: true, initiatedBy: 'alice', ...over });

function failure(over: Partial<RevisionFailed> = {}): RevisionFailed {
  return {
    app: 'web',
    revision: B,
    error: { code: 'FERRY_ERR_RENDER_PARSE', message: 'manifests do not parse' },
    problems: [
      { file: 'web/deploy.yaml', line: 7, message: 'bad indentation of a mapping entry' },
      { file: 'web/extra.yaml', message: 'not a Kubernetes object' },
    ],
    failedAt: t1.toISOString(),
    sync: intent(),
    ...over,
  };
}

/** A record with A synced and a manual request r1 waiting. */
function pendingRecord(requestId = 'r1'): StoredOperationRecord {
  const synced = completeOperation(
    undefined,
    {
      syncId: 's0',
      app: 'web',
      revision: A,
      artifactKey: 'k',
      trigger: 'automated',
      prune: false,
      initiatedBy: { automated: true },
      diffComparedAt: t0.toISOString(),
    },
    { phase: 'Succeeded', message: 'ok', resources: [], finishedAt: t0.toISOString() },
    app,
    t0,
  );
  return withPendingSync(synced, 'web', intent({ requestId }), t0);
}

describe('a manual operation whose revision failed (revision.failed with a sync intent)', () => {
  it('gets one deterministic syncId per app and request', () => {
    assert.match(revisionFailureSyncId('web', 'r1'), /^[0-9a-f]{20}$/);
    assert.equal(revisionFailureSyncId('web', 'r1'), revisionFailureSyncId('web', 'r1'));
    assert.notEqual(revisionFailureSyncId('web', 'r1'), revisionFailureSyncId('web', 'r2'));
    assert.notEqual(revisionFailureSyncId('web', 'r1'), revisionFailureSyncId('api', 'r1'));
  });

  it('names every render problem as file:line in the message, and the error message when there is none', () => {
    const message = revisionFailureMessage(failure(), 'main');
    assert.match(message, /web\/deploy\.yaml:7: bad indentation/);
    assert.match(message, /web\/extra\.yaml: not a Kubernetes object/);
    assert.match(message, /revision main \(bbbbbbb\)/);
    const unresolved = revisionFailureMessage(
      failure({ problems: [], error: { code: 'FERRY_ERR_GIT_REVISION_NOT_FOUND', message: 'no ref v9' } }),
      'v9',
    );
    assert.match(unresolved, /no ref v9$/);
  });

  it('ends the pending operation with phase Error: message, error, request served, pendingSync cleared, no history entry', () => {
    const before = pendingRecord();
    const action = revisionFailureAction(failure(), before);
    assert.equal(action.kind, 'fail');
    if (action.kind !== 'fail') return;
    assert.equal(action.syncId, revisionFailureSyncId('web', 'r1'));
    const next = withRevisionFailure(before, failure(), action.intent, action.syncId, 'main', t1);
    const state = next.operationState;
    assert.equal(state?.phase, 'Error');
    assert.equal(state?.syncId, action.syncId);
    assert.equal(state?.trigger, 'manual');
    assert.deepEqual(state?.operation, { sync: { revision: B, prune: true }, initiatedBy: { username: 'alice' } });
    assert.equal(state?.startedAt, t0.toISOString(), 'the operation started when it was requested');
    assert.equal(state?.finishedAt, t1.toISOString());
    assert.match(state?.message ?? '', /web\/deploy\.yaml:7/);
    assert.equal(state?.syncResult, undefined, 'nothing was synced');
    assert.deepEqual(next.operationError, { code: 'FERRY_ERR_RENDER_PARSE', message: 'manifests do not parse', syncId: action.syncId });
    assert.equal(next.pendingSync, undefined);
    assert.deepEqual(next.servedRequests, ['r1']);
    assert.deepEqual(next.history, before.history, 'no history entry: nothing was deployed');
    assert.equal(next.lastSyncedRevision, A);
    assert.deepEqual(next.conditions, before.conditions);
  });

  it('records the requested revision (else targetRevision) when resolution failed, and the request kind, dry run and options', () => {
    const rollback = intent({
      requestId: 'rb',
      kind: 'rollback',
      revision: A,
      historyId: 0,
      dryRun: true,
      syncOptions: ['Validate=false'],
    });
    const f = failure({ sync: rollback, problems: [], error: { code: 'FERRY_ERR_GIT_REVISION_NOT_FOUND', message: 'gone' } });
    delete f.revision;
    const next = withRevisionFailure(emptyRecord('web'), f, rollback, 'x', 'main', t1);
    assert.deepEqual(next.operationState?.operation.sync, { revision: A, prune: true, dryRun: true, syncOptions: ['Validate=false'] });
    assert.equal(next.operationState?.kind, 'rollback');
    const target = withRevisionFailure(emptyRecord('web'), { ...f, sync: intent() }, intent(), 'y', 'main', t1);
    assert.equal(target.operationState?.operation.sync.revision, 'main');
  });

  it('ends an older request a newer one replaced, leaving the newer pendingSync waiting', () => {
    const before = pendingRecord('r2');
    const action = revisionFailureAction(failure(), before);
    assert.equal(action.kind, 'fail');
    if (action.kind !== 'fail') return;
    const next = withRevisionFailure(before, failure(), action.intent, action.syncId, 'main', t1);
    assert.equal(next.pendingSync?.requestId, 'r2');
    assert.deepEqual(next.servedRequests, ['r1']);
  });

  it('re-reports an operation it already ended, ignores a request served otherwise or no intent, and waits for a running sync', () => {
    const before = pendingRecord();
    const action = revisionFailureAction(failure(), before);
    if (action.kind !== 'fail') throw new Error('expected fail');
    const ended = withRevisionFailure(before, failure(), action.intent, action.syncId, 'main', t1);
    const again = revisionFailureAction(failure(), ended);
    assert.equal(again.kind, 'republish');
    if (again.kind === 'republish') {
      assert.equal(again.event.syncId, action.syncId);
      assert.equal(again.event.phase, 'Error');
      assert.deepEqual(again.event.error, { code: 'FERRY_ERR_RENDER_PARSE', message: 'manifests do not parse' });
    }

    const servedBySync: StoredOperationRecord = { ...before, servedRequests: ['r1'] };
    assert.equal(revisionFailureAction(failure(), servedBySync).kind, 'ignore');
    const noIntent = failure();
    delete noIntent.sync;
    assert.equal(revisionFailureAction(noIntent, before).kind, 'ignore');

    const running: StoredOperationRecord = {
      ...before,
      operationState: { ...before.operationState!, phase: 'Running', syncId: 'other' },
    };
    assert.equal(revisionFailureAction(failure(), running).kind, 'later');
  });

  it('is no attempt of a revision for automated sync: drift of the synced revision is still not re-applied without selfHeal', () => {
    const before = pendingRecord();
    const ended = withRevisionFailure(before, failure(), intent(), revisionFailureSyncId('web', 'r1'), 'main', t1);
    const drift: DiffComputed = {
      app: 'web',
      revision: A,
      artifactKey: 'k',
      syncStatus: 'OutOfSync',
      reason: 'drift',
      resources: [],
      comparedAt: t1.toISOString(),
    };
    assert.equal(decideSync(app, drift, ended, { selfHealIntervalMs: 0, now: t1 }).decision, 'none');
    assert.equal(
      decideSync(app, { ...drift, revision: B, reason: 'revision' }, ended, { selfHealIntervalMs: 0, now: t1 }).decision,
      'automated',
    );
  });
});
