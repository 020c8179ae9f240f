import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseApplication, type Application } from '@ferry/contracts';
import { resourceKey, withTracking, type KubeObject } from '@ferry/kube';
import { hookPhaseOf } from '../../src/domain/hooks.js';
import { operationOptions, resourceOptions } from '../../src/domain/sync-options.js';
import { planSyncTasks, waveOf, type SyncTaskInput, type SyncTaskPlan } from '../../src/domain/sync-tasks.js';

const app: Application = parseApplication({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'shop' },
  spec: { source: { repoURL: 'https://x.invalid/r.git' }, destination: { name: 'in-cluster', namespace: 'shop' } },
});

function cm(name: string, annotations: Record<string, string> = {}): KubeObject {
  return withTracking('shop', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop', annotations } });
}

function obj(apiVersion: string, kind: string, name: string, annotations: Record<string, string> = {}): KubeObject {
  return withTracking('shop', { apiVersion, kind, metadata: { name, namespace: 'shop', annotations } });
}

function plan(input: Partial<SyncTaskInput>): SyncTaskPlan {
  return planSyncTasks({
    app,
    operation: new Map(),
    desired: [],
    tracked: [],
    live: new Map(),
    comparisons: [],
    prune: true,
    unservedKinds: new Set(),
    missingNamespaces: new Set(),
    keyOf: resourceKey,
    ...input,
  });
}

const steps = (p: SyncTaskPlan): string[][] =>
  p.steps.map((s) => [
    `${s.phase}/${s.wave}`,
    ...s.prunes.map((t) => `-${t.object.metadata.name ?? ''}`),
    ...s.creates.map((t) => t.object.metadata.name ?? ''),
  ]);

describe('planSyncTasks', () => {
  it('orders phases PreSync, Sync, PostSync, waves ascending inside each, kind order then name inside a wave', () => {
    const p = plan({
      desired: [
        obj('apps/v1', 'Deployment', 'web', { 'argocd.argoproj.io/sync-wave': '1' }),
        obj('v1', 'Service', 'web', { 'argocd.argoproj.io/sync-wave': '1' }),
        cm('b'),
        cm('a'),
        cm('early', { 'argocd.argoproj.io/sync-wave': '-2' }),
        obj('batch/v1', 'Job', 'migrate', { 'argocd.argoproj.io/hook': 'PreSync' }),
        obj('batch/v1', 'Job', 'check', { 'argocd.argoproj.io/hook': 'PreSync,PostSync' }),
        obj('batch/v1', 'Job', 'cleanup', { 'argocd.argoproj.io/hook': 'SyncFail' }),
      ],
    });
    assert.deepEqual(p.problems, []);
    assert.deepEqual(steps(p), [
      ['PreSync/0', 'check', 'migrate'],
      ['Sync/-2', 'early'],
      ['Sync/0', 'a', 'b'],
      ['Sync/1', 'web', 'web'],
      ['PostSync/0', 'check'],
    ]);
    assert.equal(p.steps[3]?.creates[0]?.object.kind, 'Service', 'Service before Deployment (kind order)');
    assert.deepEqual(
      p.syncFail.map((s) => s.creates.map((t) => t.object.metadata.name)),
      [['cleanup']],
    );
  });

  it('mirrors prune waves (highest pruned first) and puts PruneLast prunes after the last Sync wave', () => {
    const p = plan({
      desired: [cm('keep'), cm('late', { 'argocd.argoproj.io/sync-wave': '3' })],
      tracked: [
        cm('p0'),
        cm('p1', { 'argocd.argoproj.io/sync-wave': '1' }),
        cm('p2', { 'argocd.argoproj.io/sync-wave': '2' }),
        cm('last', { 'argocd.argoproj.io/sync-options': 'PruneLast=true' }),
      ],
    });
    assert.deepEqual(steps(p), [
      ['Sync/0', '-p2', 'keep'],
      ['Sync/1', '-p1'],
      ['Sync/2', '-p0'],
      ['Sync/3', 'late'],
      ['Sync/4', '-last'],
    ]);
  });

  it('keeps Prune=false / Prune=confirm objects and everything when prune is off (PruneSkipped), and never prunes Skip objects', () => {
    const tracked = [
      cm('no', { 'argocd.argoproj.io/sync-options': 'Prune=false' }),
      cm('ask', { 'argocd.argoproj.io/sync-options': 'Prune=confirm' }),
      cm('skipped'),
    ];
    const p = plan({ desired: [cm('skipped', { 'argocd.argoproj.io/hook': 'Skip' })], tracked });
    assert.deepEqual(steps(p), []);
    assert.deepEqual(
      p.pruneSkipped.map((s) => [s.object.metadata.name, s.message.split(':')[0]]),
      [
        ['no', 'ignored (Prune=false)'],
        ['ask', 'not pruned'],
      ],
    );
    const off = plan({ desired: [cm('x')], tracked, prune: false });
    assert.deepEqual(
      off.pruneSkipped.map((s) => s.message),
      ['ignored (requires pruning)', 'ignored (requires pruning)', 'ignored (requires pruning)'],
    );
  });

  it('refuses to prune every resource of the app unless allowEmpty', () => {
    assert.match(plan({ desired: [], tracked: [cm('a')] }).refusal ?? '', /allowEmpty/);
    assert.equal(plan({ desired: [], tracked: [cm('a')], prune: false }).refusal, undefined);
  });

  it('a selective sync applies and prunes only the selected resources and runs no hooks', () => {
    const p = plan({
      desired: [cm('a'), cm('b'), obj('batch/v1', 'Job', 'pre', { 'argocd.argoproj.io/hook': 'PreSync' })],
      tracked: [cm('x'), cm('y')],
      selection: [
        { group: '', kind: 'ConfigMap', name: 'b' },
        { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'y' },
      ],
    });
    assert.deepEqual(steps(p), [['Sync/0', '-y', 'b']]);
  });

  it('ApplyOutOfSyncOnly skips resources the comparison says are Synced; a resource annotation overrides the app option', () => {
    const comparisons = ['a', 'b'].map((name) => ({
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      namespace: 'shop',
      name,
      status: 'Synced' as const,
    }));
    const p = plan({
      operation: new Map([['ApplyOutOfSyncOnly', 'true']]),
      desired: [cm('a'), cm('b', { 'argocd.argoproj.io/sync-options': 'ApplyOutOfSyncOnly=false' }), cm('c')],
      comparisons,
    });
    assert.deepEqual(steps(p), [['Sync/0', 'b', 'c']]);
    assert.equal(p.skippedInSync, 1);
  });

  it('marks a custom resource whose CRD is in the set to skip the dry run, and refuses an unserved kind without one', () => {
    const crd = withTracking('shop', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: { group: 'example.com', names: { kind: 'Widget', plural: 'widgets' } },
    });
    const p = plan({
      desired: [crd, obj('example.com/v1', 'Widget', 'w'), obj('other.io/v1', 'Gizmo', 'g')],
      unservedKinds: new Set(['example.com/Widget', 'other.io/Gizmo']),
    });
    const widget = p.steps.flatMap((s) => s.creates).find((t) => t.object.kind === 'Widget');
    assert.match(widget?.skipDryRun ?? '', /CRD is in this sync/);
    assert.deepEqual(
      p.invalid.map((i) => i.task.object.kind),
      ['Gizmo'],
    );
  });

  it('refuses a resource tracked by another app with FailOnSharedResource', () => {
    const live = withTracking('other', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: 'shop' } });
    const p = plan({
      operation: new Map([['FailOnSharedResource', 'true']]),
      desired: [cm('shared')],
      live: new Map([[resourceKey(live), live]]),
    });
    assert.match(p.invalid[0]?.message ?? '', /already part of application other/);
  });

  it('names the resource and the option of a bad annotation; waves must be integers', () => {
    const p = plan({
      desired: [
        cm('opt', { 'argocd.argoproj.io/sync-options': 'Replace=maybe,Nope=1' }),
        cm('wave', { 'argocd.argoproj.io/sync-wave': '1.5' }),
        obj('batch/v1', 'Job', 'j', { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'Never' }),
      ],
    });
    assert.equal(p.problems.length, 4, p.problems.join('\n'));
    assert.match(p.problems.join('\n'), /ConfigMap\/shop\/opt: .*Replace must be one of true, false/);
    assert.match(p.problems.join('\n'), /ConfigMap\/shop\/opt: .*sync option Nope is not supported/);
    assert.match(p.problems.join('\n'), /ConfigMap\/shop\/wave: .*"1.5" is not an integer/);
    assert.match(p.problems.join('\n'), /Job\/shop\/j: .*policy Never is not supported/);
    assert.deepEqual(waveOf(cm('n', { 'argocd.argoproj.io/sync-wave': '-3' })), { wave: -3 });
  });
});

describe('sync options and hooks', () => {
  it('request options override the app, resource annotations override both; defaults are Argo CD’s', () => {
    const withOptions = parseApplication({
      ...app,
      spec: { ...app.spec, syncPolicy: { syncOptions: ['Validate=false', 'PrunePropagationPolicy=background'] } },
    });
    const op = operationOptions(withOptions, ['PrunePropagationPolicy=orphan']);
    assert.deepEqual(op.problems, []);
    const plain = resourceOptions(op.options, cm('x')).options;
    assert.equal(plain.validate, false);
    assert.equal(plain.propagationPolicy, 'Orphan');
    const annotated = resourceOptions(
      op.options,
      cm('y', { 'argocd.argoproj.io/sync-options': 'Validate=true, PrunePropagationPolicy=foreground' }),
    ).options;
    assert.equal(annotated.validate, true);
    assert.equal(annotated.propagationPolicy, 'Foreground');
    const defaults = resourceOptions(new Map(), cm('z')).options;
    assert.deepEqual(
      [defaults.prune, defaults.propagationPolicy, defaults.validate, defaults.replace, defaults.serverSideApply],
      ['true', 'Foreground', true, false, true],
    );
  });

  it('reads a hook’s phase from Job conditions, Pod phase, or health', () => {
    const job = (conditions: unknown[]): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      status: { conditions },
    });
    assert.equal(hookPhaseOf(job([])).phase, 'Running');
    assert.equal(hookPhaseOf(job([{ type: 'Complete', status: 'True' }])).phase, 'Succeeded');
    assert.deepEqual(
      hookPhaseOf(
        job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]),
      ),
      {
        phase: 'Failed',
        message: 'BackoffLimitExceeded: Job has reached the specified backoff limit',
      },
    );
    const pod = (phase: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase } });
    assert.equal(hookPhaseOf(pod('Running')).phase, 'Running');
    assert.equal(hookPhaseOf(pod('Succeeded')).phase, 'Succeeded');
    assert.equal(hookPhaseOf(pod('Failed')).phase, 'Failed');
    assert.equal(hookPhaseOf(cm('plain')).phase, 'Succeeded', 'a kind without health is done once created');
  });
});
