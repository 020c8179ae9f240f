import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Application, DiffComputed, OperationStatusRecord } from '@ferry/contracts';
import { decideSync, pauseOf } from '../../src/domain/decide.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const app: Application = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'web', annotations: { 'ferry.dev/auto-rollback': 'true' } },
  spec: {
    source: { repoURL: 'r' },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'web' },
    syncPolicy: { automated: { selfHeal: true } },
  },
};
const diff = (revision: string, over: Partial<DiffComputed> = {}): DiffComputed => ({
  app: 'web',
  revision,
  artifactKey: 'k',
  syncStatus: 'OutOfSync',
  reason: 'revision',
  resources: [],
  comparedAt: '2026-01-01T00:00:00Z',
  ...over,
});
/** After an automatic rollback from B to A: the last operation is the rollback sync of A. */
const rolledBack: OperationStatusRecord = {
  app: 'web',
  history: [],
  conditions: [],
  lastSyncedRevision: A,
  automationPaused: { revision: B, reason: 'Degraded', pausedAt: '2026-01-01T00:00:00Z' },
  operationState: {
    operation: { sync: { revision: A, prune: true }, initiatedBy: { username: 'ferry/auto-rollback' } },
    phase: 'Succeeded',
    message: '',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:00Z',
    syncId: 's',
    trigger: 'manual',
  },
};
const options = { selfHealIntervalMs: 0, now: new Date('2026-01-02T00:00:00Z') };

describe('automated sync paused by an automatic rollback', () => {
  it('skips automated sync of the revision that was rolled back, for a new detection and for drift alike', () => {
    for (const reason of ['revision', 'drift'] as const) {
      const decision = decideSync(app, diff(B, { reason }), rolledBack, options);
      assert.equal(decision.decision, 'none');
      assert.match(decision.reason, /paused/);
      assert.equal(decision.clearPause, undefined);
    }
  });

  it('syncs a new revision of the target and says the pause is lifted', () => {
    const decision = decideSync(app, diff(C), rolledBack, options);
    assert.equal(decision.decision, 'automated');
    assert.equal(decision.clearPause, true);
    assert.deepEqual(pauseOf(diff(C), rolledBack), { paused: false, clear: true });
  });

  it('does not lift the pause on drift of another revision (drift is no new commit)', () => {
    assert.deepEqual(pauseOf(diff(A, { reason: 'drift' }), rolledBack), { paused: false, clear: false });
  });

  it('never stands in the way of a manual sync, even of the paused revision', () => {
    const sync = { requestId: 'r1', prune: false, initiatedBy: 'alice' };
    assert.equal(decideSync(app, diff(B, { sync }), rolledBack, options).decision, 'manual');
    assert.deepEqual(pauseOf(diff(B, { sync }), rolledBack), { paused: false, clear: false });
  });
});
