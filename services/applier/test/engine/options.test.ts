import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@ferry/kube';
import { EngineHarness, SYNC_OPTIONS, WAVE, app, configMap, deployment, hookJob, summary } from './fixtures.js';

function crd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } },
          },
        },
      ],
    },
  };
}

function gadget(name: string, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name, annotations }, spec: { size: 2, colour: 'red' } };
}

describe('sync engine: sync options (sandbox cluster)', () => {
  const h = new EngineHarness();
  before(() => h.start());
  after(() => h.stop());

  it('prunes in reverse wave order, and PruneLast prunes after every other wave', async () => {
    const first = await h.sync('prune-order', [
      configMap('a', {}, { [WAVE]: '0', [SYNC_OPTIONS]: 'PruneLast=true' }),
      configMap('b', {}, { [WAVE]: '1' }),
      configMap('c', {}, { [WAVE]: '2' }),
      configMap('keep'),
    ]);
    assert.equal(first.phase, 'Succeeded', first.message);
    const outcome = await h.sync('prune-order', [configMap('keep'), configMap('new', {}, { [WAVE]: '5' })], { prune: true });
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.deepEqual(
      outcome.resources.map((r) => [r.name, r.status, r.wave]),
      [
        ['c', 'Pruned', 0],
        ['keep', 'Synced', 0],
        ['b', 'Pruned', 1],
        ['new', 'Synced', 5],
        ['a', 'Pruned', 6],
      ],
    );
    const at = outcome.resources.map((r) => Date.parse(r.appliedAt ?? ''));
    assert.deepEqual(
      [...at].sort((x, y) => x - y),
      at,
      'executed in that order',
    );
    for (const name of ['a', 'b', 'c']) assert.equal(await h.get('v1', 'ConfigMap', name, 'prune-order'), undefined);
  });

  it('never prunes a Prune=false resource (PruneSkipped), nor a Prune=confirm one (no confirmation flow)', async () => {
    await h.sync('no-prune', [
      configMap('precious', {}, { [SYNC_OPTIONS]: 'Prune=false' }),
      configMap('asked', {}, { [SYNC_OPTIONS]: 'Prune=confirm' }),
      configMap('x'),
    ]);
    const outcome = await h.sync('no-prune', [configMap('x')], { prune: true });
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    const byName = new Map(outcome.resources.map((r) => [r.name, r]));
    assert.equal(byName.get('precious')?.status, 'PruneSkipped');
    assert.match(byName.get('precious')?.message ?? '', /Prune=false/);
    assert.equal(byName.get('asked')?.status, 'PruneSkipped');
    assert.match(byName.get('asked')?.message ?? '', /Prune=confirm/);
    assert.ok(await h.get('v1', 'ConfigMap', 'precious', 'no-prune'));
    assert.ok(await h.get('v1', 'ConfigMap', 'asked', 'no-prune'));
  });

  it('ApplyOutOfSyncOnly applies only what the comparison says is not Synced: untouched objects keep their resourceVersion', async () => {
    await h.sync('oos', [configMap('same', { v: '1' }), configMap('changed', { v: '1' })]);
    const before = await h.get('v1', 'ConfigMap', 'same', 'oos');
    const comparisons = [
      {
        group: '',
        version: 'v1',
        kind: 'ConfigMap',
        namespace: 'oos',
        name: 'same',
        status: 'Synced' as const,
        diffState: 'Synced' as const,
      },
      {
        group: '',
        version: 'v1',
        kind: 'ConfigMap',
        namespace: 'oos',
        name: 'changed',
        status: 'OutOfSync' as const,
        diffState: 'OutOfSync' as const,
      },
    ];
    const outcome = await h.sync('oos', [configMap('same', { v: '1' }), configMap('changed', { v: '2' })], {
      syncOptions: ['ApplyOutOfSyncOnly=true'],
      comparisons,
    });
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.deepEqual(summary(outcome), [['changed', 'Synced']]);
    assert.equal((await h.get('v1', 'ConfigMap', 'same', 'oos'))?.metadata.resourceVersion, before?.metadata.resourceVersion);
    assert.deepEqual((await h.get('v1', 'ConfigMap', 'changed', 'oos'))?.['data'], { v: '2' });
  });

  it('Replace=true replaces the object (fields Git does not declare are gone, same uid); with Force=true it is deleted and recreated', async () => {
    await h.sync('replace', [configMap('r', { a: '1' }), configMap('f', { a: '1' })]);
    for (const name of ['r', 'f']) {
      await h.client.apply(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'replace' }, data: { extra: 'x' } },
        { fieldManager: 'someone-else' },
      );
    }
    const beforeR = await h.get('v1', 'ConfigMap', 'r', 'replace');
    const beforeF = await h.get('v1', 'ConfigMap', 'f', 'replace');
    assert.deepEqual(beforeR?.['data'], { a: '1', extra: 'x' }, 'server-side apply kept the other manager field');
    const outcome = await h.sync('replace', [
      configMap('r', { a: '2' }, { [SYNC_OPTIONS]: 'Replace=true' }),
      configMap('f', { a: '2' }, { [SYNC_OPTIONS]: 'Replace=true,Force=true' }),
    ]);
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.deepEqual(
      outcome.resources.map((r) => [r.name, r.message]),
      [
        ['f', 'configmap/f recreated'],
        ['r', 'configmap/r replaced'],
      ],
    );
    const r = await h.get('v1', 'ConfigMap', 'r', 'replace');
    const f = await h.get('v1', 'ConfigMap', 'f', 'replace');
    assert.deepEqual(r?.['data'], { a: '2' });
    assert.equal(r?.metadata.uid, beforeR?.metadata.uid, 'Replace keeps the object');
    assert.deepEqual(f?.['data'], { a: '2' });
    assert.notEqual(f?.metadata.uid, beforeF?.metadata.uid, 'Force recreates it');
  });

  it('creates a CRD and its custom resource in one sync; Validate=false lets an unknown field through (pruned by the schema) where validation rejects it', async () => {
    const strict = await h.sync('validate', [crd(), gadget('g1')]);
    assert.equal(strict.phase, 'Failed', 'strict field validation rejects the unknown field');
    assert.match(strict.message, /colour/);
    const lenient = await h.sync('validate', [crd(), gadget('g1', { [SYNC_OPTIONS]: 'Validate=false' })]);
    assert.equal(lenient.phase, 'Succeeded', lenient.message);
    const live = await h.get('example.com/v1', 'Gadget', 'g1', 'validate');
    assert.deepEqual(live?.['spec'], { size: 2 });
  });

  it('SkipDryRunOnMissingResource=true skips the dry run of a kind the cluster does not serve; without it the sync is refused before anything is applied', async () => {
    const refused = await h.sync('missing-kind', [
      configMap('c'),
      { apiVersion: 'other.example.com/v1', kind: 'Thing', metadata: { name: 't' } },
    ]);
    assert.equal(refused.phase, 'Failed');
    assert.deepEqual(summary(refused), [['t', 'SyncFailed']]);
    assert.equal(await h.get('v1', 'ConfigMap', 'c', 'missing-kind'), undefined);
    const skipped = await h.sync('missing-kind', [
      configMap('c'),
      {
        apiVersion: 'other.example.com/v1',
        kind: 'Thing',
        metadata: { name: 't', annotations: { [SYNC_OPTIONS]: 'SkipDryRunOnMissingResource=true' } },
      },
    ]);
    assert.equal(skipped.phase, 'Failed', 'the apply itself still fails: the kind does not exist');
    assert.ok(await h.get('v1', 'ConfigMap', 'c', 'missing-kind'), 'the dry run passed, so the rest was applied');
  });

  it('FailOnSharedResource=true fails the sync when a resource is tracked by another app', async () => {
    const owner = await h.sync('owner', [configMap('shared')]);
    assert.equal(owner.phase, 'Succeeded', owner.message);
    const shared = { ...configMap('shared', { stolen: 'yes' }), metadata: { name: 'shared', namespace: 'owner' } };
    const outcome = await h.sync('thief', [shared], { syncOptions: ['FailOnSharedResource=true'] });
    assert.equal(outcome.phase, 'Failed');
    assert.equal(outcome.error?.code, 'FERRY_ERR_SYNC_SHARED_RESOURCE');
    assert.match(outcome.message, /owner/);
    const live = await h.get('v1', 'ConfigMap', 'shared', 'owner');
    assert.equal(live?.metadata.annotations?.['ferry.dev/tracking-id'], 'owner:/ConfigMap:owner/shared');
    assert.deepEqual(live?.['data'], { key: 'shared' });
  });

  it('RespectIgnoreDifferences=true keeps the live value of an ignored field (replicas scaled by someone else)', async () => {
    const ignoreDifferences = [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }];
    await h.sync('respect', [deployment('web', { replicas: 2 })]);
    const scale = async (): Promise<void> => {
      await h.client.apply(
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'respect' }, spec: { replicas: 3 } },
        { fieldManager: 'horizontal-pod-autoscaler', validate: false },
      );
    };
    await scale();
    const respected = await h.sync('respect', [deployment('web', { replicas: 2, image: 'nginx:1.26' })], {
      app: app('respect', { syncOptions: ['RespectIgnoreDifferences=true'], ignoreDifferences }),
    });
    assert.equal(respected.phase, 'Succeeded', respected.message);
    let live = await h.get('apps/v1', 'Deployment', 'web', 'respect');
    assert.equal((live?.['spec'] as { replicas: number }).replicas, 3, 'replicas kept from live');
    assert.equal(
      (live?.['spec'] as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image,
      'nginx:1.26',
    );

    const plain = await h.sync('respect', [deployment('web', { replicas: 2, image: 'nginx:1.26' })], {
      app: app('respect', { ignoreDifferences }),
    });
    assert.equal(plain.phase, 'Succeeded', plain.message);
    live = await h.get('apps/v1', 'Deployment', 'web', 'respect');
    assert.equal((live?.['spec'] as { replicas: number }).replicas, 2, 'without the option Git wins');
  });

  it('a dry run reports what would change and changes nothing', async () => {
    await h.sync('dry', [configMap('same', { v: '1' }), configMap('edit', { v: '1' }), configMap('old')]);
    const before = await h.get('v1', 'ConfigMap', 'edit', 'dry');
    const outcome = await h.sync(
      'dry',
      [configMap('same', { v: '1' }), configMap('edit', { v: '2' }), configMap('add'), hookJob('pre', 'PreSync')],
      {
        prune: true,
        intent: { dryRun: true },
      },
    );
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.match(outcome.message, /dry run/);
    assert.match(outcome.message, /1 to create, 1 to change, 1 unchanged, 1 to prune, 1 hook/);
    const byName = new Map(outcome.resources.map((r) => [r.name, r.message]));
    assert.match(byName.get('edit') ?? '', /configured \(dry run\)/);
    assert.match(byName.get('same') ?? '', /unchanged \(dry run\)/);
    assert.match(byName.get('add') ?? '', /created \(dry run\)/);
    assert.match(byName.get('old') ?? '', /pruned \(dry run\)/);
    assert.equal((await h.get('v1', 'ConfigMap', 'edit', 'dry'))?.metadata.resourceVersion, before?.metadata.resourceVersion);
    assert.equal(await h.get('v1', 'ConfigMap', 'add', 'dry'), undefined);
    assert.ok(await h.get('v1', 'ConfigMap', 'old', 'dry'));
    assert.equal(await h.get('batch/v1', 'Job', 'pre', 'dry'), undefined, 'no hook ran');
  });

  it('a selective sync applies only the named resources, prunes only among them and runs no hooks', async () => {
    await h.sync('subset', [configMap('a', { v: '1' }), configMap('b', { v: '1' }), configMap('gone1'), configMap('gone2')]);
    const outcome = await h.sync('subset', [configMap('a', { v: '2' }), configMap('b', { v: '2' }), hookJob('pre', 'PreSync')], {
      prune: true,
      intent: {
        resources: [
          { group: '', kind: 'ConfigMap', name: 'a' },
          { group: '', kind: 'ConfigMap', namespace: 'subset', name: 'gone1' },
        ],
      },
    });
    assert.equal(outcome.phase, 'Succeeded', outcome.message);
    assert.deepEqual(summary(outcome), [
      ['gone1', 'Pruned'],
      ['a', 'Synced'],
    ]);
    assert.deepEqual((await h.get('v1', 'ConfigMap', 'b', 'subset'))?.['data'], { v: '1' });
    assert.ok(await h.get('v1', 'ConfigMap', 'gone2', 'subset'));
    assert.equal(await h.get('batch/v1', 'Job', 'pre', 'subset'), undefined);
  });

  it('extra sync options of a request apply to that operation, and an unknown one fails it by name', async () => {
    const outcome = await h.sync('extra', [configMap('x')], { intent: { syncOptions: ['Frobnicate=true'] } });
    assert.equal(outcome.error?.code, 'FERRY_ERR_SYNC_OPTION_INVALID');
    assert.match(outcome.message, /Frobnicate/);
    await h.sync('extra', [configMap('x'), configMap('y')]);
    const pruneOff = await h.sync('extra', [configMap('x')], { prune: true, intent: { syncOptions: ['Prune=false'] } });
    assert.deepEqual(summary(pruneOff), [
      ['x', 'Synced'],
      ['y', 'PruneSkipped'],
    ]);
  });
});
