import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceId } from '@ferry/contracts';
import { assessApp, LiveState, type AppHealthInput, type LiveObject } from '../src/index.js';

const id = (kind: string, name: string, group = kind === 'Deployment' ? 'apps' : ''): ResourceId => ({ group, version: 'v1', kind, namespace: 'default', name });

function deployment(name: string, ready: boolean, annotations: Record<string, string> = {}): LiveObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', generation: 1, annotations },
    spec: { replicas: 1 },
    status: {
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      availableReplicas: ready ? 1 : 0,
      conditions: [{ type: 'Progressing', status: 'True', reason: ready ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' }],
    },
  };
}

const configMap = (name: string): LiveObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: {} });

function input(desired: ResourceId[], live: LiveObject[], extra: Partial<AppHealthInput> = {}): AppHealthInput {
  const key = (r: ResourceId) => `${r.kind}/${r.name}`;
  const byKey = new Map(live.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  return { desired, tracked: live, live: (r) => byKey.get(key(r)), liveState: () => LiveState.Watched, ...extra };
}

describe('assessApp', () => {
  it('is Healthy with every resource healthy, and lists kinds without health not at all', () => {
    const health = assessApp(input([id('Deployment', 'web'), id('ConfigMap', 'cfg')], [deployment('web', true), configMap('cfg')]));
    assert.equal(health.status, 'Healthy');
    assert.equal(health.message, undefined);
    assert.deepEqual(health.resources, [{ ...id('Deployment', 'web'), status: 'Healthy' }]);
  });

  it('is as healthy as its worst resource and names it in the message', () => {
    const health = assessApp(input([id('Deployment', 'a'), id('Deployment', 'b')], [deployment('a', true), deployment('b', false)]));
    assert.equal(health.status, 'Progressing');
    assert.match(health.message ?? '', /^apps\/Deployment default\/b: /);
  });

  it('marks a declared object absent from a watched kind Missing', () => {
    const health = assessApp(input([id('Deployment', 'web')], []));
    assert.equal(health.status, 'Missing');
    assert.deepEqual(health.resources.map((r) => r.status), ['Missing']);
  });

  it('marks a declared object Unknown while its kind is not watched, and Missing when the cluster has no such kind', () => {
    assert.equal(assessApp(input([id('Deployment', 'web')], [], { liveState: () => LiveState.Unavailable })).status, 'Unknown');
    assert.equal(assessApp(input([id('Deployment', 'web')], [], { liveState: () => LiveState.KindUnknown })).status, 'Missing');
  });

  it('counts tracked objects that Git no longer declares', () => {
    const health = assessApp(input([id('Deployment', 'a')], [deployment('a', true), deployment('old', false)]));
    assert.equal(health.status, 'Progressing');
    assert.deepEqual(health.resources.map((r) => r.name), ['a', 'old']);
  });

  it('leaves hooks out and keeps ignored resources listed but not counted', () => {
    const hook = deployment('migrate', false, { 'argocd.argoproj.io/hook': 'PreSync' });
    const ignored = deployment('canary', false, { 'argocd.argoproj.io/ignore-healthcheck': 'true' });
    const health = assessApp(input([id('Deployment', 'web')], [deployment('web', true), hook, ignored]));
    assert.equal(health.status, 'Healthy');
    assert.deepEqual(health.resources.map((r) => [r.name, r.status]), [['canary', 'Progressing'], ['web', 'Healthy']]);
  });

  it('is Unknown, with the reason, when the app\'s cluster cannot be used', () => {
    const health = assessApp(input([id('Deployment', 'web')], [], { clusterError: 'cluster name "prod" is not configured' }));
    assert.equal(health.status, 'Unknown');
    assert.match(health.message ?? '', /prod/);
  });

  it('is Healthy for an app with no resources', () => {
    assert.deepEqual(assessApp(input([], [])), { status: 'Healthy', resources: [] });
  });
});
