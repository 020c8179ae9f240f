import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Application, DiffComputed, OperationStatusRecord } from '@ferry/contracts';
import { decideSync } from '../../src/domain/decide.js';

const rev = 'a'.repeat(40);
const app = (automated?: { selfHeal?: boolean }): Application => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'web' },
  spec: {
    source: { repoURL: 'r' },
    destination: { server: 'https://kubernetes.default.svc', namespace: 'web' },
    ...(automated ? { syncPolicy: { automated } } : {}),
  },
});
const diff = (over: Partial<DiffComputed> = {}): DiffComputed => ({
  app: 'web',
  revision: rev,
  artifactKey: 'k',
  syncStatus: 'OutOfSync',
  reason: 'revision',
  resources: [],
  comparedAt: '2026-01-01T00:00:00Z',
  ...over,
});
const synced = (finishedAt: string): OperationStatusRecord => ({
  app: 'web',
  history: [],
  conditions: [],
  operationState: {
    operation: { sync: { revision: rev, prune: false }, initiatedBy: { automated: true } },
    phase: 'Succeeded',
    message: '',
    startedAt: finishedAt,
    finishedAt,
    syncId: 's',
    trigger: 'automated',
  },
});
const now = new Date('2026-01-01T00:01:00Z');
const opts = { selfHealIntervalMs: 5000, now };

test('a manual request syncs even when automated sync is off', () => {
  assert.equal(
    decideSync(app(), diff({ sync: { requestId: 'r', prune: false, initiatedBy: 'admin' } }), undefined, opts).decision,
    'manual',
  );
});

test('without an automated policy nothing syncs by itself', () => {
  assert.equal(decideSync(app(), diff(), undefined, opts).decision, 'none');
});

test('an automated app syncs a new OutOfSync revision once', () => {
  assert.equal(decideSync(app({}), diff(), undefined, opts).decision, 'automated');
  assert.equal(decideSync(app({}), diff({ reason: 'drift' }), synced('2026-01-01T00:00:00Z'), opts).decision, 'none');
});

test('drift of a synced revision is re-applied only with selfHeal, and not within the self-heal interval', () => {
  assert.equal(decideSync(app({ selfHeal: true }), diff({ reason: 'drift' }), synced('2026-01-01T00:00:00Z'), opts).decision, 'self-heal');
  assert.equal(decideSync(app({ selfHeal: true }), diff({ reason: 'drift' }), synced('2026-01-01T00:00:58Z'), opts).decision, 'none');
});

test('a Synced app is left alone', () => {
  assert.equal(decideSync(app({ selfHeal: true }), diff({ syncStatus: 'Synced' }), undefined, opts).decision, 'none');
});

test('a dry run of a revision is no attempt: the automated sync of that revision still happens', () => {
  const dryRun = synced('2026-01-01T00:00:00Z');
  dryRun.operationState!.operation.sync.dryRun = true;
  dryRun.operationState!.trigger = 'manual';
  assert.equal(decideSync(app({}), diff(), dryRun, opts).decision, 'automated');
});

test('after a dry run, the history entry stands for the last real attempt', () => {
  const record = synced('2026-01-01T00:00:00Z');
  record.operationState!.operation.sync.dryRun = true;
  record.history = [
    {
      id: 0, revision: rev, deployStartedAt: '2026-01-01T00:00:00Z', deployedAt: '2026-01-01T00:00:00Z', source: { repoURL: 'r' },
      initiatedBy: { automated: true }, syncId: 's0', phase: 'Succeeded', resources: [],
    },
  ];
  assert.equal(decideSync(app({}), diff({ reason: 'drift' }), record, opts).decision, 'none');
  assert.equal(decideSync(app({ selfHeal: true }), diff({ reason: 'drift' }), record, opts).decision, 'self-heal');
});
