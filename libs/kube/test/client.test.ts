import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@ferry/contracts';
import { startSandbox } from '@ferry/kube-sandbox';
import { resolveClusters, type ClusterRegistry } from '../src/clusters.js';
import type { ClusterClient } from '../src/client.js';
import { discoverScopes } from '../src/client.js';
import { KubeError } from '../src/errors.js';
import type { KubeObject } from '../src/types.js';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

function configMap(namespace: string, name: string, data: Record<string, string>, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...(labels ? { labels } : {}) }, data };
}

function deployment(namespace: string, name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  };
}

function crd(plural: string, kind: string, scope: 'Namespaced' | 'Cluster' = 'Namespaced'): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.example.com` },
    spec: {
      group: 'example.com',
      scope,
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<KubeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KubeError, `expected a KubeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a rejection with ${code}`);
}

describe('ClusterClient against the sandbox cluster', () => {
  let sandbox: Sandbox;
  let registry: ClusterRegistry;
  let client: ClusterClient;

  before(async () => {
    sandbox = await startSandbox();
    registry = resolveClusters({ kubeconfigPath: sandbox.kubeconfigPath, env: {} });
    client = registry.forDestination({ server: 'https://kubernetes.default.svc' });
  });
  after(async () => {
    await registry?.close();
    await sandbox?.close();
  });

  it('discovers built-in kinds with their plural and scope', async () => {
    assert.deepEqual(
      { ...(await client.resourceFor('apps/v1', 'Deployment')), verbs: [] },
      { group: 'apps', version: 'v1', apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true, verbs: [] },
    );
    const ns = await client.resourceFor('v1', 'Namespace');
    assert.equal(ns.plural, 'namespaces');
    assert.equal(ns.namespaced, false);
  });

  it('rejects a kind the cluster does not serve with FERRY_ERR_KUBE_KIND_UNKNOWN', async () => {
    await rejectsWith(client.resourceFor('apps/v1', 'Nonsense'), ErrorCode.KubeKindUnknown);
    await rejectsWith(client.resourceFor('nothing.example.com/v1', 'Thing'), ErrorCode.KubeKindUnknown);
  });

  it('applies an object that does not exist, then updates it on a second apply with a changed field', async () => {
    await client.ensureNamespace('apply-twice');
    const created = await client.apply(deployment('apply-twice', 'web', 1));
    assert.equal((created.spec as { replicas: number }).replicas, 1);
    assert.ok(created.metadata.uid);
    const managers = (created.metadata.managedFields as Array<{ manager: string; operation: string }>).map(
      (m) => `${m.manager}/${m.operation}`,
    );
    assert.ok(managers.includes('ferry/Apply'), managers.join(','));

    const updated = await client.apply(deployment('apply-twice', 'web', 3));
    assert.equal((updated.spec as { replicas: number }).replicas, 3);
    assert.equal(updated.metadata.uid, created.metadata.uid);
    assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion);
    const live = await client.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'apply-twice', name: 'web' });
    assert.equal((live?.spec as { replicas: number }).replicas, 3);
  });

  it('re-applies a live object read back from the server (status and server metadata are stripped)', async () => {
    await client.ensureNamespace('reapply');
    await client.apply(configMap('reapply', 'cm', { a: '1' }));
    const live = await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'reapply', name: 'cm' });
    assert.ok(live?.metadata.resourceVersion && live.metadata.managedFields);
    const again = await client.apply({ ...live, data: { a: '2' }, status: { bogus: true } });
    assert.deepEqual(again.data, { a: '2' });
  });

  it('takes over fields another manager owns (force is the default)', async () => {
    await client.ensureNamespace('force');
    await client.apply(configMap('force', 'cm', { a: 'mine' }), { fieldManager: 'someone-else' });
    const taken = await client.apply(configMap('force', 'cm', { a: 'ferry' }));
    assert.deepEqual(taken.data, { a: 'ferry' });
    await rejectsWith(
      client.apply(configMap('force', 'cm', { a: 'theirs' }), { fieldManager: 'someone-else', force: false }),
      ErrorCode.KubeConflict,
    );
  });

  it('changes nothing on a dry-run apply, for a new object and for an existing one', async () => {
    await client.ensureNamespace('dry-run');
    const planned = await client.apply(configMap('dry-run', 'new', { a: '1' }), { dryRun: true });
    assert.deepEqual(planned.data, { a: '1' });
    assert.equal(await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'dry-run', name: 'new' }), undefined);

    const stored = await client.apply(configMap('dry-run', 'old', { a: '1' }));
    const preview = await client.apply(configMap('dry-run', 'old', { a: '2' }), { dryRun: true });
    assert.deepEqual(preview.data, { a: '2' });
    const live = await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'dry-run', name: 'old' });
    assert.deepEqual(live?.data, { a: '1' });
    assert.equal(live?.metadata.resourceVersion, stored.metadata.resourceVersion);
  });

  it('fails with FERRY_ERR_KUBE_NOT_FOUND into a missing namespace, and ensureNamespace fixes it', async () => {
    const error = await rejectsWith(client.apply(configMap('not-yet', 'cm', { a: '1' })), ErrorCode.KubeNotFound);
    assert.equal(error.status, 404);
    assert.equal(error.operation, 'apply');
    assert.equal(error.resource, 'ConfigMap not-yet/cm');
    assert.match(error.message, /^failed to apply ConfigMap not-yet\/cm: .*not-yet/);
    assert.equal(await client.ensureNamespace('not-yet'), true);
    assert.equal(await client.ensureNamespace('not-yet'), false);
    const applied = await client.apply(configMap('not-yet', 'cm', { a: '1' }));
    assert.equal(applied.metadata.namespace, 'not-yet');
  });

  it('refuses a namespaced object without a namespace before sending it', async () => {
    await rejectsWith(client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), ErrorCode.KubeInvalid);
  });

  it('finds a custom kind right after its CRD is applied (discovery refreshed on a miss)', async () => {
    await client.apply(crd('widgets', 'Widget'));
    await client.ensureNamespace('crds');
    const widget = await client.apply({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'crds' },
      spec: { size: 1 },
    });
    assert.equal(widget.kind, 'Widget');
    // example.com/v1 is now cached with Widget only; a second CRD in the same group-version must still be found.
    await client.apply(crd('gadgets', 'Gadget', 'Cluster'));
    const gadgets = await client.resourceFor('example.com/v1', 'Gadget');
    assert.equal(gadgets.namespaced, false);
    const gadget = await client.apply({
      apiVersion: 'example.com/v1',
      kind: 'Gadget',
      metadata: { name: 'g', namespace: 'ignored' },
      spec: {},
    });
    assert.equal(gadget.metadata.namespace, undefined);
    const lookup = await discoverScopes(client, [
      gadget,
      widget,
      { apiVersion: 'example.com/v1', kind: 'Unknown', metadata: { name: 'u' } },
    ]);
    assert.equal(lookup('example.com/v1', 'Gadget'), false);
    assert.equal(lookup('example.com/v1', 'Widget'), true);
    assert.equal(lookup('example.com/v1', 'Unknown'), undefined);
  });

  it('lists by namespace and label selector, items carrying apiVersion and kind', async () => {
    await client.ensureNamespace('list-a');
    await client.ensureNamespace('list-b');
    await client.apply(configMap('list-a', 'one', {}, { tier: 'web' }));
    await client.apply(configMap('list-a', 'two', {}, { tier: 'db' }));
    await client.apply(configMap('list-b', 'three', {}, { tier: 'web' }));
    const inA = await client.list('v1', 'ConfigMap', { namespace: 'list-a' });
    assert.deepEqual(
      inA
        .map((o) => o.metadata.name)
        .filter((n) => n !== 'kube-root-ca.crt')
        .sort(),
      ['one', 'two'],
    );
    const web = await client.list('v1', 'ConfigMap', { labelSelector: 'tier=web' });
    assert.deepEqual(web.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort(), ['list-a/one', 'list-b/three']);
    assert.ok(web.every((o) => o.apiVersion === 'v1' && o.kind === 'ConfigMap'));
    const { resourceVersion } = await client.listWithVersion('v1', 'ConfigMap');
    assert.match(resourceVersion, /^\d+$/);
  });

  it('creates objects, generated names included, and reports AlreadyExists as a conflict', async () => {
    await client.ensureNamespace('create');
    const hook = await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { generateName: 'hook-', namespace: 'create' },
      data: { a: '1' },
    });
    assert.match(hook.metadata.name ?? '', /^hook-.+/);
    const named = await client.create(configMap('create', 'named', { a: '1' }));
    assert.equal(named.metadata.name, 'named');
    await rejectsWith(client.create(configMap('create', 'named', { a: '2' })), ErrorCode.KubeConflict);
    const dry = await client.create(configMap('create', 'dry', {}), { dryRun: true });
    assert.equal(dry.metadata.name, 'dry');
    assert.equal(await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'create', name: 'dry' }), undefined);
  });

  it('replaces an object whole, removing fields the new body lacks, and refuses a stale resourceVersion', async () => {
    await client.ensureNamespace('replace');
    // Written by another manager: an apply by Ferry would leave `b` alone, a replace removes it.
    const first = await client.apply(configMap('replace', 'cm', { a: '1', b: '2' }), { fieldManager: 'someone-else' });
    const replaced = await client.replace(configMap('replace', 'cm', { a: '3' }));
    assert.deepEqual(replaced.data, { a: '3' });
    const stale = configMap('replace', 'cm', { a: '4' });
    stale.metadata.resourceVersion = first.metadata.resourceVersion;
    await rejectsWith(client.replace(stale), ErrorCode.KubeConflict);
    await rejectsWith(client.replace(configMap('replace', 'absent', {})), ErrorCode.KubeNotFound);
  });

  it('deletes an object, and treats deleting a missing one as success', async () => {
    await client.ensureNamespace('delete');
    await client.apply(configMap('delete', 'cm', {}));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'delete', name: 'cm' };
    assert.equal(await client.delete(ref, { dryRun: true }), true);
    assert.ok(await client.get(ref), 'a dry-run delete keeps the object');
    assert.equal(await client.delete(ref, { propagationPolicy: 'Background' }), true);
    assert.equal(await client.get(ref), undefined);
    assert.equal(await client.delete(ref), false);
  });

  it('reports a 401 as FERRY_ERR_KUBE_UNAUTHORIZED when the token is wrong', async (t) => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const { tempDir } = await import('@ferry/testing');
    const original = await readFile(sandbox.kubeconfigPath, 'utf8');
    if (!original.includes(sandbox.token)) {
      t.skip('the sandbox kubeconfig does not carry its token inline');
      return;
    }
    const dir = await tempDir('ferry-kube-badtoken');
    try {
      const path = `${dir.path}/kubeconfig`;
      await writeFile(path, original.split(sandbox.token).join('wrong-token'));
      const bad = resolveClusters({ kubeconfigPath: path, env: {} });
      await rejectsWith(bad.defaultClient().get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }), ErrorCode.KubeUnauthorized);
      await bad.close();
    } finally {
      await dir.cleanup();
    }
  });

  it('fails fast and transiently when the server is unreachable', async () => {
    const { isTransient } = await import('../src/errors.js');
    const { writeFile } = await import('node:fs/promises');
    const { tempDir, freePort } = await import('@ferry/testing');
    const dir = await tempDir('ferry-kube-down');
    try {
      const path = `${dir.path}/kubeconfig`;
      const port = await freePort();
      await writeFile(
        path,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'down',
          clusters: [{ name: 'down', cluster: { server: `http://127.0.0.1:${port}` } }],
          users: [{ name: 'u', user: { token: 't' } }],
          contexts: [{ name: 'down', context: { cluster: 'down', user: 'u' } }],
        }),
      );
      const down = resolveClusters({ kubeconfigPath: path, env: {} });
      const error = await rejectsWith(down.defaultClient().resourceFor('v1', 'ConfigMap'), ErrorCode.KubeRequest);
      assert.equal(isTransient(error), true);
      await down.close();
    } finally {
      await dir.cleanup();
    }
  });
});
