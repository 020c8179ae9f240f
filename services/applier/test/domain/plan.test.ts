import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Application, HistoryEntry } from '@ferry/contracts';
import { resourceKey, type KubeObject } from '@ferry/kube';
import { planSync } from '../../src/domain/plan.js';
import { appendHistory } from '../../src/domain/history.js';

const app = (over: Partial<Application['spec']> = {}): Application => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'web' },
  spec: { source: { repoURL: 'r' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'web' }, ...over },
});
const obj = (kind: string, name: string, apiVersion = 'v1'): KubeObject => ({ apiVersion, kind, metadata: { name, namespace: 'web' } });

test('objects are applied in Argo CD kind order: Namespace and CRDs before the rest', () => {
  const desired = [
    obj('Deployment', 'd', 'apps/v1'),
    obj('Service', 's'),
    obj('CustomResourceDefinition', 'c', 'apiextensions.k8s.io/v1'),
    obj('Namespace', 'n'),
  ];
  const plan = planSync({ app: app(), desired, tracked: [], prune: false, keyOf: resourceKey });
  assert.deepEqual(
    plan.applies.map((o) => o.kind),
    ['Namespace', 'CustomResourceDefinition', 'Service', 'Deployment'],
  );
});

test('tracked objects no longer in Git are pruned only when prune is set', () => {
  const keep = obj('ConfigMap', 'keep');
  const old = obj('ConfigMap', 'old');
  const withPrune = planSync({ app: app(), desired: [keep], tracked: [keep, old], prune: true, keyOf: resourceKey });
  assert.deepEqual(
    withPrune.prunes.map((o) => o.metadata.name),
    ['old'],
  );
  const without = planSync({ app: app(), desired: [keep], tracked: [keep, old], prune: false, keyOf: resourceKey });
  assert.deepEqual(without.prunes, []);
  assert.deepEqual(
    without.pruneSkipped.map((o) => o.metadata.name),
    ['old'],
  );
});

test('pruning every resource is refused unless allowEmpty is set', () => {
  const old = obj('ConfigMap', 'old');
  assert.match(planSync({ app: app(), desired: [], tracked: [old], prune: true, keyOf: resourceKey }).refusal ?? '', /allowEmpty is false/);
  const allowing = app({ syncPolicy: { automated: { prune: true, allowEmpty: true } } });
  assert.equal(planSync({ app: allowing, desired: [], tracked: [old], prune: true, keyOf: resourceKey }).refusal, undefined);
});

test('CreateNamespace=true creates the destination namespace', () => {
  const plan = planSync({
    app: app({ syncPolicy: { syncOptions: ['CreateNamespace=true'] } }),
    desired: [],
    tracked: [],
    prune: false,
    keyOf: resourceKey,
  });
  assert.equal(plan.createNamespace, 'web');
});

test('history keeps the newest revisionHistoryLimit entries with increasing ids', () => {
  let history: HistoryEntry[] = [];
  const limited = app({ revisionHistoryLimit: 2 });
  for (let i = 0; i < 4; i++) {
    history = appendHistory(
      history,
      {
        revision: String(i),
        deployStartedAt: '',
        deployedAt: '',
        source: { repoURL: 'r' },
        initiatedBy: { automated: true },
        syncId: `s${i}`,
        phase: 'Succeeded',
        resources: [],
      },
      limited,
    );
  }
  assert.deepEqual(
    history.map((h) => [h.id, h.revision]),
    [
      [2, '2'],
      [3, '3'],
    ],
  );
});
