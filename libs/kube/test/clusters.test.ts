import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@ferry/contracts';
import { tempDir, type TempDir } from '@ferry/testing';
import { resolveClusters } from '../src/clusters.js';
import { KubeError } from '../src/errors.js';

function kubeconfig(server: string, context = 'main', extraContexts: Array<{ name: string; server: string }> = []): string {
  const all = [{ name: context, server }, ...extraContexts];
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': context,
    clusters: all.map((c) => ({ name: c.name, cluster: { server: c.server, 'insecure-skip-tls-verify': true } })),
    users: [{ name: 'u', user: { token: 'secret-token' } }],
    contexts: all.map((c) => ({ name: c.name, context: { cluster: c.name, user: 'u' } })),
  });
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof KubeError, `expected a KubeError, got ${String(error)}`);
    return error.code;
  }
  return undefined;
}

describe('resolveClusters', () => {
  let dir: TempDir;
  let defaultPath: string;
  let stagingPath: string;

  before(async () => {
    dir = await tempDir('ferry-kube-clusters');
    defaultPath = join(dir.path, 'default.yaml');
    stagingPath = join(dir.path, 'staging.yaml');
    await writeFile(defaultPath, kubeconfig('http://127.0.0.1:6443'));
    await writeFile(
      stagingPath,
      kubeconfig('https://staging.example:6443/', 'staging', [{ name: 'prod', server: 'https://prod.example:6443' }]),
    );
  });
  after(async () => {
    await dir.cleanup();
  });

  it('maps kubernetes.default.svc and in-cluster to the default cluster, one client reused', async () => {
    const registry = resolveClusters({ kubeconfigPath: defaultPath, env: {} });
    const a = registry.forDestination({ server: 'https://kubernetes.default.svc' });
    const b = registry.forDestination({ name: 'in-cluster' });
    const c = registry.forDestination({ server: 'https://kubernetes.default.svc/' });
    assert.equal(a, b);
    assert.equal(a, c);
    assert.equal(a, registry.defaultClient());
    assert.equal(a.name, 'in-cluster');
    assert.equal(a.server, 'http://127.0.0.1:6443');
    await registry.close();
  });

  it('finds named clusters by name and by their server URL, with the chosen context', async () => {
    const registry = resolveClusters({
      kubeconfigPath: defaultPath,
      env: {},
      clusters: { staging: { kubeconfigPath: stagingPath }, prod: { kubeconfigPath: stagingPath, context: 'prod' } },
    });
    const staging = registry.forDestination({ name: 'staging' });
    assert.equal(staging.name, 'staging');
    assert.equal(registry.forDestination({ server: 'https://STAGING.example:6443' }), staging);
    const prod = registry.forDestination({ server: 'https://prod.example:6443/' });
    assert.equal(prod.name, 'prod');
    assert.equal(registry.forDestination({ name: 'prod', server: 'https://prod.example:6443' }), prod);
    assert.deepEqual(
      registry.clusters().map((c) => [c.name, c.isDefault]),
      [
        ['in-cluster', true],
        ['staging', false],
        ['prod', false],
      ],
    );
    await registry.close();
  });

  it('rejects an unknown name or server with FERRY_ERR_KUBE_CLUSTER_UNKNOWN naming it', () => {
    const registry = resolveClusters({ kubeconfigPath: defaultPath, env: {} });
    assert.equal(
      codeOf(() => registry.forDestination({ name: 'nowhere' })),
      ErrorCode.KubeClusterUnknown,
    );
    assert.equal(
      codeOf(() => registry.forDestination({ server: 'https://nowhere.example' })),
      ErrorCode.KubeClusterUnknown,
    );
    assert.equal(
      codeOf(() => registry.forDestination({})),
      ErrorCode.KubeClusterUnknown,
    );
    assert.throws(() => registry.forDestination({ name: 'nowhere' }), /nowhere/);
  });

  it('rejects a name and a server that point at different clusters', () => {
    const registry = resolveClusters({ kubeconfigPath: defaultPath, env: {}, clusters: { staging: { kubeconfigPath: stagingPath } } });
    assert.equal(
      codeOf(() => registry.forDestination({ name: 'staging', server: 'https://kubernetes.default.svc' })),
      ErrorCode.KubeClusterUnknown,
    );
  });

  it('reads KUBECONFIG when no path is given', () => {
    const registry = resolveClusters({ env: { KUBECONFIG: `/does/not/exist:${defaultPath}` } });
    assert.equal(registry.defaultClient().server, 'http://127.0.0.1:6443');
  });

  it('reports a missing default kubeconfig when the default cluster is used, not before', () => {
    const registry = resolveClusters({
      kubeconfigPath: join(dir.path, 'missing.yaml'),
      env: {},
      clusters: { staging: { kubeconfigPath: stagingPath } },
    });
    assert.equal(registry.forDestination({ name: 'staging' }).name, 'staging');
    assert.equal(
      codeOf(() => registry.forDestination({ name: 'in-cluster' })),
      ErrorCode.KubeConfigInvalid,
    );
  });

  it('fails at once, listing every problem, when a named cluster cannot be loaded', () => {
    assert.throws(
      () =>
        resolveClusters({
          kubeconfigPath: defaultPath,
          env: {},
          clusters: { a: { kubeconfigPath: join(dir.path, 'nope.yaml') }, b: { kubeconfigPath: stagingPath, context: 'absent' } },
        }),
      (error: unknown) =>
        error instanceof KubeError && error.code === ErrorCode.KubeConfigInvalid && /"a"/.test(error.message) && /"b"/.test(error.message),
    );
  });

  it('uses in-cluster credentials inside a pod: service host and port, the mounted token', async () => {
    const sa = join(dir.path, 'sa');
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), 'pod-token');
    await writeFile(join(sa, 'namespace'), 'ferry');
    const registry = resolveClusters({
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      serviceAccountDir: sa,
    });
    assert.equal(registry.defaultClient().server, 'https://10.0.0.1:443');
    assert.equal(registry.clusters()[0]?.source, 'in-cluster');
    // An explicit kubeconfig wins over detection.
    const explicit = resolveClusters({ kubeconfigPath: defaultPath, env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, serviceAccountDir: sa });
    assert.equal(explicit.defaultClient().server, 'http://127.0.0.1:6443');
    await registry.close();
    await explicit.close();
  });

  it('closes once for every caller, after which clients and the registry refuse work', async () => {
    const registry = resolveClusters({ kubeconfigPath: defaultPath, env: {} });
    const client = registry.defaultClient();
    const first = registry.close();
    assert.equal(registry.close(), first);
    await first;
    assert.equal(client.close(), client.close());
    await assert.rejects(
      client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'x' }),
      (e: unknown) => e instanceof KubeError && e.code === ErrorCode.KubeRequest,
    );
    assert.equal(
      codeOf(() => registry.forDestination({ name: 'in-cluster' })),
      ErrorCode.KubeRequest,
    );
  });
});
