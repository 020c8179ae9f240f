import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '@ferry/kube';
import { isDeleteDisabled, planDeletion, recordedKinds } from '../src/deleter.js';

const obj = (kind: string, name: string, namespace?: string, syncOptions?: string): KubeObject => ({
  apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
  kind,
  metadata: {
    name,
    ...(namespace ? { namespace } : {}),
    ...(syncOptions ? { annotations: { 'argocd.argoproj.io/sync-options': syncOptions } } : {}),
  },
});

describe('deletion plan of a deleted app', () => {
  it('deletes in reverse kind order (workloads before their namespace) and keeps Delete=false objects', () => {
    const tracked = [
      obj('Namespace', 'web'),
      obj('ConfigMap', 'cfg', 'web'),
      obj('Deployment', 'api', 'web'),
      obj('Secret', 'keep', 'web', 'Prune=false,Delete=false'),
    ];
    const plan = planDeletion(tracked, 'foreground');
    assert.deepEqual(
      plan.deletes.map((o) => o.kind),
      ['Deployment', 'ConfigMap'],
    );
    assert.deepEqual(
      plan.kept.map((o) => `${o.kind}/${o.metadata.name}`),
      ['Secret/keep', 'Namespace/web'],
    );
  });

  it('deletes the namespace last when nothing in it is kept', () => {
    const plan = planDeletion([obj('Namespace', 'web'), obj('ConfigMap', 'cfg', 'web'), obj('Deployment', 'api', 'web')], 'background');
    assert.deepEqual(
      plan.deletes.map((o) => o.kind),
      ['Deployment', 'ConfigMap', 'Namespace'],
    );
  });

  it('deletes nothing when orphaning', () => {
    const plan = planDeletion([obj('ConfigMap', 'cfg', 'web')], 'orphan');
    assert.deepEqual(plan.deletes, []);
    assert.equal(plan.kept.length, 1);
  });

  it('reads Delete=false from the sync-options annotation only', () => {
    assert.equal(isDeleteDisabled(obj('ConfigMap', 'a', 'x', 'Delete=false')), true);
    assert.equal(isDeleteDisabled(obj('ConfigMap', 'a', 'x', 'Prune=false')), false);
    assert.equal(isDeleteDisabled(obj('ConfigMap', 'a', 'x')), false);
  });

  it('keeps Delete=confirm objects too: Ferry has no confirmation flow, so it never deletes them unasked', () => {
    assert.equal(isDeleteDisabled(obj('ConfigMap', 'a', 'x', 'Delete=confirm')), true);
    assert.equal(isDeleteDisabled(obj('ConfigMap', 'a', 'x', 'Delete=true')), false);
  });

  it('lists every kind the app synced, from the latest operation and the history', () => {
    const resource = (group: string, kind: string) => ({
      group,
      version: 'v1',
      kind,
      namespace: 'web',
      name: 'x',
      status: 'Synced' as const,
      message: '',
    });
    const kinds = recordedKinds({
      app: 'web',
      conditions: [],
      history: [
        {
          id: 0,
          revision: 'a',
          deployStartedAt: 't',
          deployedAt: 't',
          source: { repoURL: 'r' },
          initiatedBy: {},
          syncId: 's',
          phase: 'Succeeded',
          resources: [resource('', 'ConfigMap'), resource('apps', 'Deployment')],
        },
      ],
      operationState: {
        operation: { sync: { revision: 'a', prune: false }, initiatedBy: {} },
        phase: 'Succeeded',
        message: '',
        startedAt: 't',
        syncId: 's2',
        trigger: 'manual',
        syncResult: { revision: 'a', resources: [resource('', 'ConfigMap'), resource('', 'Secret')] },
      },
    });
    assert.deepEqual(kinds, [
      { apiVersion: 'v1', kind: 'ConfigMap' },
      { apiVersion: 'v1', kind: 'Secret' },
      { apiVersion: 'apps/v1', kind: 'Deployment' },
    ]);
  });
});
