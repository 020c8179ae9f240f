import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { ApiServer, PatchType } from '../src/api.js';
import { StatusError } from '../src/status-error.js';
import type { KubeObject, ResourceType } from '../src/types.js';

function server(): ApiServer {
  const api = new ApiServer({ historySize: 1000 });
  const ns = api.namespaceResource();
  for (const name of ['default', 'team'])
    api.create(ns, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'test' });
  return api;
}

function status(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  assert.fail('expected a StatusError');
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick();
}

function deployment(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 80 }] }] },
      },
      ...extra,
    },
  };
}

function managers(obj: KubeObject): string[] {
  return ((obj.metadata.managedFields ?? []) as { manager: string; operation: string }[]).map((m) => `${m.manager}/${m.operation}`);
}

describe('server-side apply', () => {
  let api: ApiServer;
  let deployments: ResourceType;
  let configmaps: ResourceType;
  beforeEach(() => {
    api = server();
    deployments = api.registry.byApiVersionKind('apps/v1', 'Deployment')!;
    configmaps = api.registry.byApiVersionKind('v1', 'ConfigMap')!;
  });

  it('creates the object, defaults it and records the applied fields for the manager', () => {
    const { object, created } = api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' });
    assert.equal(created, true);
    assert.equal(object.metadata.generation, 1);
    assert.equal((object.spec as any).revisionHistoryLimit, 10);
    const entry = (object.metadata.managedFields as any[])[0];
    assert.equal(entry.manager, 'ferry');
    assert.equal(entry.operation, 'Apply');
    assert.ok(entry.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"app"}']['f:image']);
    assert.equal(entry.fieldsV1['f:spec']['f:revisionHistoryLimit'], undefined, 'defaulted fields are not owned');
  });

  it('does not bump resourceVersion or generation for an apply that changes nothing', () => {
    const first = api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' }).object;
    const again = api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' }).object;
    assert.equal(again.metadata.resourceVersion, first.metadata.resourceVersion);
  });

  it('bumps generation on spec changes only', () => {
    api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' });
    const labelled = api.apply(
      deployments,
      'default',
      'web',
      { ...deployment(), metadata: { name: 'web', namespace: 'default', labels: { a: 'b' } } },
      '',
      { fieldManager: 'ferry' },
    ).object;
    assert.equal(labelled.metadata.generation, 1);
    const scaled = api.apply(deployments, 'default', 'web', deployment({ replicas: 3 }), '', { fieldManager: 'ferry' }).object;
    assert.equal(scaled.metadata.generation, 2);
  });

  it('removes fields the manager stops applying, unless another manager owns them', () => {
    const cm = (data: Record<string, string>): Record<string, unknown> => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'default' },
      data,
    });
    api.apply(configmaps, 'default', 'c', cm({ a: '1', b: '2', shared: 's' }), '', { fieldManager: 'one' });
    api.apply(configmaps, 'default', 'c', cm({ shared: 's' }), '', { fieldManager: 'two' });
    const after = api.apply(configmaps, 'default', 'c', cm({ a: '1' }), '', { fieldManager: 'one' }).object;
    assert.deepEqual(after.data, { a: '1', shared: 's' });
  });

  it('removes a container the manager stops applying, even with defaulted fields in it', () => {
    const two = deployment();
    (two.spec as any).template.spec.containers.push({ name: 'side', image: 'side:1' });
    api.apply(deployments, 'default', 'web', two, '', { fieldManager: 'ferry' });
    const after = api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' }).object;
    assert.deepEqual(
      (after.spec as any).template.spec.containers.map((c: any) => c.name),
      ['app'],
    );
  });

  it('reports conflicts with another manager as 409 with causes, and takes ownership with force', () => {
    api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' });
    const err = status(() => api.apply(deployments, 'default', 'web', deployment({ replicas: 5 }), '', { fieldManager: 'hpa' }));
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'Conflict');
    assert.deepEqual(
      err.details?.causes?.map((c) => c.field),
      ['.spec.replicas'],
    );
    assert.match(err.message, /conflict with "ferry"/);
    const forced = api.apply(deployments, 'default', 'web', deployment({ replicas: 5 }), '', { fieldManager: 'hpa', force: true }).object;
    assert.equal((forced.spec as any).replicas, 5);
    const fields = (forced.metadata.managedFields as any[]).find((m) => m.manager === 'ferry').fieldsV1;
    assert.equal(fields['f:spec']['f:replicas'], undefined, 'the old owner lost the field');
  });

  it('lets two managers share a field applied with the same value', () => {
    api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' });
    const shared = api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'other' }).object;
    assert.deepEqual(managers(shared), ['ferry/Apply', 'other/Apply']);
  });

  it('conflicts with fields an Update manager changed, naming its API version', () => {
    api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' });
    api.writeScale(
      deployments,
      'default',
      'web',
      { patchType: PatchType.Merge, patch: { spec: { replicas: 4 } } },
      { fieldManager: 'kubectl-scale' },
    );
    const err = status(() => api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry' }));
    assert.match(err.message, /conflict with "kubectl-scale" using apps\/v1/);
    // applying without the field leaves the scaled value alone
    const spec = deployment();
    delete (spec.spec as any).replicas;
    const after = api.apply(deployments, 'default', 'web', spec, '', { fieldManager: 'ferry' }).object;
    assert.equal((after.spec as any).replicas, 4);
  });

  it('ignores status in a main-resource apply and rejects managedFields in the body', () => {
    const body = { ...deployment(), status: { replicas: 99 } };
    const obj = api.apply(deployments, 'default', 'web', body, '', { fieldManager: 'ferry' }).object;
    assert.equal(obj.status, undefined);
    const err = status(() =>
      api.apply(deployments, 'default', 'web', { ...deployment(), metadata: { name: 'web', managedFields: [{ manager: 'x' }] } }, '', {
        fieldManager: 'ferry',
      }),
    );
    assert.equal(err.code, 400);
  });

  it('changes nothing on dry run', () => {
    const res = api.apply(deployments, 'default', 'web', deployment(), '', { fieldManager: 'ferry', dryRun: true });
    assert.equal(res.created, true);
    assert.equal(api.store.get(deployments, 'default', 'web'), undefined);
  });

  it('rejects an apply into a missing namespace as NotFound naming the namespace', () => {
    const err = status(() =>
      api.apply(configmaps, 'nowhere', 'c', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, '', { fieldManager: 'x' }),
    );
    assert.equal(err.code, 404);
    assert.equal(err.message, 'namespaces "nowhere" not found');
  });
});

describe('writes', () => {
  let api: ApiServer;
  let configmaps: ResourceType;
  let deployments: ResourceType;
  beforeEach(() => {
    api = server();
    configmaps = api.registry.byApiVersionKind('v1', 'ConfigMap')!;
    deployments = api.registry.byApiVersionKind('apps/v1', 'Deployment')!;
  });

  it('generates names, rejects duplicates and missing names with the real reasons', () => {
    const made = api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } }, {});
    assert.match(made.metadata.name!, /^gen-[a-z0-9]{5}$/);
    api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, {});
    assert.equal(
      status(() => api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, {})).reason,
      'AlreadyExists',
    );
    const missing = status(() => api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, {}));
    assert.equal(missing.reason, 'Invalid');
    assert.equal(missing.details?.causes?.[0]?.field, 'metadata.name');
    assert.equal(
      status(() => api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'y' } }, {})).code,
      400,
    );
  });

  it('validates workloads with field causes', () => {
    const bad = deployment();
    (bad.spec as any).template.metadata.labels = { app: 'other' };
    delete (bad.spec as any).template.spec.containers[0].image;
    const err = status(() => api.create(deployments, 'default', bad, {}));
    assert.equal(err.code, 422);
    assert.deepEqual(err.details?.causes?.map((c) => c.field).sort(), [
      'spec.template.metadata.labels',
      'spec.template.spec.containers[0].image',
    ]);
  });

  it('rejects an update with a stale resourceVersion as Conflict', () => {
    const made = api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } }, {});
    api.update(configmaps, 'default', 'x', { ...made, data: { a: '2' } }, '', {});
    const err = status(() => api.update(configmaps, 'default', 'x', { ...made, data: { a: '3' } }, '', {}));
    assert.equal(err.code, 409);
    assert.equal((api.get(configmaps, 'default', 'x').data as any).a, '2');
  });

  it('leaves stored state untouched when a patch fails', () => {
    api.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: '1' } }, {});
    const before = JSON.stringify(api.get(configmaps, 'default', 'x'));
    const err = status(() =>
      api.patch(
        configmaps,
        'default',
        'x',
        PatchType.Json,
        [
          { op: 'add', path: '/data/b', value: '2' },
          { op: 'test', path: '/data/a', value: 'nope' },
        ],
        '',
        {},
      ),
    );
    assert.equal(err.code, 422);
    assert.equal(status(() => api.patch(configmaps, 'default', 'x', PatchType.Merge, { data: { a: 5 } }, '', {})).code, 422);
    assert.equal(JSON.stringify(api.get(configmaps, 'default', 'x')), before);
  });

  it('keeps status out of main writes and spec out of status writes', () => {
    const made = api.create(deployments, 'default', { ...deployment(), status: { replicas: 7 } }, {});
    assert.equal(made.status, undefined);
    const withStatus = api.update(
      deployments,
      'default',
      'web',
      { ...made, spec: { ...(made.spec as object), replicas: 9 }, status: { replicas: 1 } },
      'status',
      {},
    );
    assert.equal((withStatus.spec as any).replicas, 2);
    assert.equal((withStatus.status as any).replicas, 1);
    assert.equal(withStatus.metadata.generation, 1);
  });

  it('refuses strategic merge patches for custom resources with 415', () => {
    const crds = api.registry.byApiVersionKind('apiextensions.k8s.io/v1', 'CustomResourceDefinition')!;
    api.create(crds, undefined, crd(), {});
    const widgets = api.registry.byApiVersionKind('example.com/v1', 'Widget')!;
    api.create(widgets, 'default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { a: 1 } }, {});
    assert.equal(status(() => api.patch(widgets, 'default', 'w', PatchType.Strategic, { spec: { a: 2 } }, '', {})).code, 415);
    const merged = api.patch(widgets, 'default', 'w', PatchType.Merge, { spec: { a: 2 } }, '', {});
    assert.equal(merged.metadata.generation, 2);
  });
});

function crd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
        },
      ],
    },
  };
}

describe('deletion', () => {
  let api: ApiServer;
  let configmaps: ResourceType;
  beforeEach(() => {
    api = server();
    configmaps = api.registry.byApiVersionKind('v1', 'ConfigMap')!;
  });

  function cm(name: string, namespace = 'default', meta: Record<string, unknown> = {}): KubeObject {
    return api.create(configmaps, namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...meta } }, {});
  }

  it('keeps an object with finalizers until the last one is removed', () => {
    cm('f', 'default', { finalizers: ['example.com/hold'] });
    const res = api.delete(configmaps, 'default', 'f', {});
    assert.equal(res.pending, true);
    assert.ok(res.object.metadata.deletionTimestamp);
    const live = api.get(configmaps, 'default', 'f');
    api.update(configmaps, 'default', 'f', { ...live, metadata: { ...live.metadata, finalizers: [] } }, '', {});
    assert.equal(api.store.get(configmaps, 'default', 'f'), undefined);
  });

  it('collects dependents in the background and orphans them on request', async () => {
    const owner = cm('owner');
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! };
    cm('child', 'default', { ownerReferences: [ref] });
    api.delete(configmaps, 'default', 'owner', { propagationPolicy: 'Background' });
    await settle();
    assert.equal(api.store.get(configmaps, 'default', 'child'), undefined);

    const owner2 = cm('owner2');
    cm('child2', 'default', { ownerReferences: [{ ...ref, name: 'owner2', uid: owner2.metadata.uid! }] });
    api.delete(configmaps, 'default', 'owner2', { propagationPolicy: 'Orphan' });
    await settle();
    assert.equal(api.store.get(configmaps, 'default', 'owner2'), undefined);
    assert.equal(api.get(configmaps, 'default', 'child2').metadata.ownerReferences, undefined);
  });

  it('deletes dependents first with Foreground propagation', async () => {
    const owner = cm('owner');
    cm('child', 'default', {
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid!, blockOwnerDeletion: true }],
    });
    const res = api.delete(configmaps, 'default', 'owner', { propagationPolicy: 'Foreground' });
    assert.equal(res.pending, true);
    assert.deepEqual(res.object.metadata.finalizers, ['foregroundDeletion']);
    await settle();
    assert.equal(api.store.get(configmaps, 'default', 'child'), undefined);
    assert.equal(api.store.get(configmaps, 'default', 'owner'), undefined);
  });

  it('empties a deleted namespace, then removes it, and refuses new objects meanwhile', async () => {
    cm('a', 'team');
    cm('held', 'team', { finalizers: ['example.com/hold'] });
    const ns = api.namespaceResource();
    api.delete(ns, undefined, 'team', {});
    assert.equal((api.get(ns, undefined, 'team').status as any).phase, 'Terminating');
    assert.equal(status(() => cm('late', 'team')).code, 403);
    await settle();
    assert.equal(api.store.get(configmaps, 'team', 'a'), undefined);
    assert.ok(api.store.get(ns, undefined, 'team'), 'waits for the finalizer');
    const held = api.get(configmaps, 'team', 'held');
    api.update(configmaps, 'team', 'held', { ...held, metadata: { ...held.metadata, finalizers: [] } }, '', {});
    await settle();
    assert.equal(api.store.get(ns, undefined, 'team'), undefined);
  });

  it('removes a CRD and all its objects, and stops serving the resource', async () => {
    const crds = api.registry.byApiVersionKind('apiextensions.k8s.io/v1', 'CustomResourceDefinition')!;
    api.create(crds, undefined, crd(), {});
    await settle();
    const established = api.get(crds, undefined, 'widgets.example.com');
    assert.ok((established.status as any).conditions.some((c: any) => c.type === 'Established' && c.status === 'True'));
    const widgets = api.registry.byApiVersionKind('example.com/v1', 'Widget')!;
    api.create(widgets, 'default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, {});
    const scaled = api.writeScale(widgets, 'default', 'w', { patchType: PatchType.Merge, patch: { spec: { replicas: 3 } } }, {});
    assert.equal((scaled.spec as any).replicas, 3);
    api.delete(crds, undefined, 'widgets.example.com', {});
    assert.equal(api.registry.byApiVersionKind('example.com/v1', 'Widget'), undefined);
    assert.equal(api.store.list(widgets).length, 0);
  });
});

describe('custom resources with a structural schema', () => {
  let api: ApiServer;
  let things: ResourceType;
  beforeEach(async () => {
    api = server();
    const crds = api.registry.byApiVersionKind('apiextensions.k8s.io/v1', 'CustomResourceDefinition')!;
    api.create(
      crds,
      undefined,
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'things.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'things', kind: 'Thing' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      required: ['size'],
                      properties: {
                        size: { type: 'integer', minimum: 1 },
                        mode: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
                        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                        ports: {
                          type: 'array',
                          'x-kubernetes-list-type': 'map',
                          'x-kubernetes-list-map-keys': ['name'],
                          items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } },
                        },
                      },
                    },
                  },
                },
              },
            },
          ],
        },
      },
      {},
    );
    await settle();
    things = api.registry.byApiVersionKind('example.com/v1', 'Thing')!;
  });

  const thing = (spec: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: 'example.com/v1',
    kind: 'Thing',
    metadata: { name: 't' },
    spec,
  });

  it('prunes undeclared fields, keeps preserved ones and applies schema defaults', () => {
    const made = api.create(things, 'default', thing({ size: 2, typo: 1, extra: { anything: true } }), {});
    assert.deepEqual(made.spec, { size: 2, mode: 'fast', extra: { anything: true } });
  });

  it('rejects undeclared fields with fieldValidation=Strict', () => {
    const err = status(() => api.create(things, 'default', thing({ size: 2, typo: 1 }), { fieldValidation: 'Strict' }));
    assert.equal(err.code, 400);
    assert.match(err.message, /unknown field "spec\.typo"/);
  });

  it('reports schema violations as Invalid with field causes', () => {
    const err = status(() => api.create(things, 'default', thing({ size: 0, mode: 'medium' }), {}));
    assert.equal(err.code, 422);
    assert.deepEqual(err.details?.causes?.map((c) => c.field).sort(), ['spec.mode', 'spec.size']);
    const missing = status(() => api.create(things, 'default', thing({}), {}));
    assert.equal(missing.details?.causes?.[0]?.field, 'spec.size');
  });

  it('merges lists the schema declares as maps by their keys in server-side apply', () => {
    api.apply(things, 'default', 't', thing({ size: 1, ports: [{ name: 'a', port: 1 }] }), '', { fieldManager: 'one' });
    const both = api.apply(things, 'default', 't', thing({ size: 1, ports: [{ name: 'b', port: 2 }] }), '', { fieldManager: 'two' }).object;
    assert.deepEqual(
      (both.spec as any).ports.map((p: any) => p.name),
      ['a', 'b'],
    );
  });
});
