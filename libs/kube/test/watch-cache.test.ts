import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@ferry/contracts';
import { startSandbox } from '@ferry/kube-sandbox';
import { kubectlPath, waitUntil } from '@ferry/testing';
import type { ClusterClient } from '../src/client.js';
import { resolveClusters, type ClusterRegistry } from '../src/clusters.js';
import { withTracking } from '../src/domain/tracking.js';
import { KubeError } from '../src/errors.js';
import type { KubeObject, WatchEvent } from '../src/types.js';
import { startWatchCache, type WatchCache } from '../src/watch-cache.js';

const run = promisify(execFile);
type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

function configMap(namespace: string, name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

describe('watch cache against the sandbox cluster', () => {
  let sandbox: Sandbox;
  let registry: ClusterRegistry;
  let client: ClusterClient;
  let cache: WatchCache;
  const events: WatchEvent[] = [];
  const orderProblems: string[] = [];

  before(async () => {
    // The server ends every watch after 700 ms on its own: the tests below run across resumed watches.
    sandbox = await startSandbox({ watchTimeoutMs: 700 });
    registry = resolveClusters({ kubeconfigPath: sandbox.kubeconfigPath, env: {} });
    client = registry.defaultClient();
    await client.ensureNamespace('watched');
    await client.apply(configMap('watched', 'before-start', { a: '1' }));
    cache = startWatchCache(client, {
      onEvent: (event) => {
        events.push(event);
        const cached = cache.get({
          ...event.object,
          namespace: event.object.metadata.namespace ?? '',
          name: event.object.metadata.name ?? '',
        });
        if (event.type === 'DELETED' ? cached !== undefined : cached !== event.object) {
          orderProblems.push(`${event.type} ${event.object.metadata.name} emitted before the cache was updated`);
        }
      },
    });
    await cache.ensureWatched('v1', 'ConfigMap');
  });
  after(async () => {
    await cache?.close();
    await registry?.close();
    await sandbox?.close();
  });

  const ref = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'watched', name });

  it('holds what existed before the watch started once ensureWatched resolves', () => {
    assert.deepEqual(cache.get(ref('before-start'))?.data, { a: '1' });
    assert.equal(cache.isWatched('v1', 'ConfigMap'), true);
    assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'before-start'));
  });

  it('sees an object created, changed and deleted with the client, each within 1 s', async () => {
    let started = Date.now();
    await client.apply(configMap('watched', 'by-client', { v: '1' }));
    await waitUntil(() => cache.get(ref('by-client')), { timeoutMs: 1000, intervalMs: 10 });
    assert.ok(Date.now() - started <= 1000);

    started = Date.now();
    await client.apply(configMap('watched', 'by-client', { v: '2' }));
    await waitUntil(() => (cache.get(ref('by-client'))?.data as Record<string, string> | undefined)?.v === '2', {
      timeoutMs: 1000,
      intervalMs: 10,
    });
    assert.ok(events.some((e) => e.type === 'MODIFIED' && e.object.metadata.name === 'by-client'));

    started = Date.now();
    await client.delete(ref('by-client'));
    await waitUntil(() => cache.get(ref('by-client')) === undefined, { timeoutMs: 1000, intervalMs: 10 });
    assert.ok(Date.now() - started <= 1000);
    assert.ok(events.some((e) => e.type === 'DELETED' && e.object.metadata.name === 'by-client'));
  });

  it('sees a change made by kubectl within 1 s', async (t) => {
    const kubectl = kubectlPath();
    if (!kubectl) {
      t.skip('kubectl not found at /usr/bin/kubectl or on PATH');
      return;
    }
    await client.apply(configMap('watched', 'by-kubectl', { v: '1' }));
    await waitUntil(() => cache.get(ref('by-kubectl')), { timeoutMs: 1000, intervalMs: 10 });
    const args = ['--kubeconfig', sandbox.kubeconfigPath, '-n', 'watched'];
    await run(kubectl, [...args, 'label', 'configmap', 'by-kubectl', 'changed=yes']);
    const labelled = Date.now();
    await waitUntil(() => cache.get(ref('by-kubectl'))?.metadata.labels?.changed === 'yes', { timeoutMs: 1000, intervalMs: 10 });
    assert.ok(Date.now() - labelled <= 1000);
    await run(kubectl, [...args, 'delete', 'configmap', 'by-kubectl']);
    await waitUntil(() => cache.get(ref('by-kubectl')) === undefined, { timeoutMs: 1000, intervalMs: 10 });
  });

  it('resumes after the server ends the watch, missing nothing', async () => {
    // The sandbox ends each watch after 700 ms: by now it has ended several.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const started = Date.now();
    await client.apply(configMap('watched', 'after-close', { v: '1' }));
    await waitUntil(() => cache.get(ref('after-close')), { timeoutMs: 1000, intervalMs: 10 });
    assert.ok(Date.now() - started <= 1000);
  });

  it('lists the objects an app tracks, across watched kinds, and not copies of them', async () => {
    await cache.ensureWatched('apps/v1', 'Deployment');
    const tracked = withTracking('shop', configMap('watched', 'shop-config', { a: '1' }));
    await client.apply(tracked);
    await client.apply(
      withTracking('shop', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'shop-web', namespace: 'watched' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'shop-web' } },
          template: { metadata: { labels: { app: 'shop-web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
        },
      }),
    );
    // A copy carrying the same annotation under another name is not the app's.
    await client.apply({ ...tracked, metadata: { ...tracked.metadata, name: 'copied' } });
    await client.apply(withTracking('blog', configMap('watched', 'blog-config', {})));
    const names = await waitUntil(
      () => {
        const found = cache
          .listTracked('shop')
          .map((o) => `${o.kind}/${o.metadata.name}`)
          .sort();
        return found.length === 2 && cache.get(ref('copied')) && cache.get(ref('blog-config')) ? found : undefined;
      },
      { timeoutMs: 2000, intervalMs: 10 },
    );
    assert.deepEqual(names, ['ConfigMap/shop-config', 'Deployment/shop-web']);
    assert.deepEqual(
      cache.listTracked('blog').map((o) => o.metadata.name),
      ['blog-config'],
    );
    assert.deepEqual(cache.listTracked('nobody'), []);

    await client.delete(ref('shop-config'));
    await waitUntil(() => cache.listTracked('shop').length === 1 || undefined, { timeoutMs: 1000, intervalMs: 10 });
  });

  it('lists cached objects of a kind, by namespace', async () => {
    await client.ensureNamespace('elsewhere');
    await client.apply(configMap('elsewhere', 'other', {}));
    await waitUntil(() => cache.list('v1', 'ConfigMap', { namespace: 'elsewhere' }).some((o) => o.metadata.name === 'other') || undefined, {
      timeoutMs: 1000,
      intervalMs: 10,
    });
    assert.ok(cache.list('v1', 'ConfigMap', { namespace: 'elsewhere' }).every((o) => o.metadata.namespace === 'elsewhere'));
    assert.deepEqual(cache.list('v1', 'Secret'), [], 'kinds not watched list nothing');
  });

  it('emits every event after the cache has applied it', () => {
    assert.deepEqual(orderProblems, []);
  });

  it('rejects a kind the cluster does not serve, and can try again later', async () => {
    await assert.rejects(
      cache.ensureWatched('example.com/v1', 'Nothing'),
      (error: unknown) => error instanceof KubeError && error.code === ErrorCode.KubeKindUnknown,
    );
    assert.equal(cache.isWatched('example.com/v1', 'Nothing'), false);
  });

  it('closes idempotently and refuses new kinds afterwards', async () => {
    const second = startWatchCache(client);
    await second.ensureWatched('v1', 'Namespace');
    const a = second.close();
    const b = second.close();
    assert.equal(a, b);
    await a;
    await assert.rejects(second.ensureWatched('v1', 'Secret'), KubeError);
  });
});

describe('watch cache recovery', () => {
  it('relists after its resourceVersion expired (410) and emits what changed while it was away', async () => {
    const sandbox = await startSandbox({ watchHistorySize: 16, watchTimeoutMs: 300 });
    const registry = resolveClusters({ kubeconfigPath: sandbox.kubeconfigPath, env: {} });
    const client = registry.defaultClient();
    // A client whose watch requests can be held back: the cache is "away" while the gate is closed.
    let gate: Promise<void> | undefined;
    let open: (() => void) | undefined;
    let watchCalls = 0;
    const held: ClusterClient = {
      name: client.name,
      server: client.server,
      resourceFor: (a, k) => client.resourceFor(a, k),
      get: (r) => client.get(r),
      list: (a, k, o) => client.list(a, k, o),
      listWithVersion: (a, k, o) => client.listWithVersion(a, k, o),
      apply: (o, opts) => client.apply(o, opts),
      create: (o, opts) => client.create(o, opts),
      replace: (o, opts) => client.replace(o, opts),
      delete: (r, o) => client.delete(r, o),
      ensureNamespace: (n) => client.ensureNamespace(n),
      close: () => client.close(),
      watch: async (resource, options, onEvent, signal) => {
        watchCalls++;
        if (gate) await gate;
        return client.watch(resource, options, onEvent, signal);
      },
    };
    const events: WatchEvent[] = [];
    const cache = startWatchCache(held, { onEvent: (e) => events.push(e), minBackoffMs: 10 });
    try {
      await client.ensureNamespace('gap');
      await client.apply(configMap('gap', 'keep', { v: '1' }));
      await client.apply(configMap('gap', 'doomed', {}));
      await cache.ensureWatched('v1', 'ConfigMap');
      assert.ok(cache.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'gap', name: 'doomed' }));

      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const calls = watchCalls;
      await waitUntil(() => watchCalls > calls || undefined, { timeoutMs: 3000, intervalMs: 10, message: 'the server to end the watch' });

      // While the cache is away: a delete, a change, a create, and enough writes to expire its resourceVersion.
      await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'gap', name: 'doomed' });
      await client.apply(configMap('gap', 'keep', { v: '2' }));
      await client.apply(configMap('gap', 'born', {}));
      for (let i = 0; i < 20; i++) await client.apply(configMap('gap', 'churn', { i: String(i) }));
      events.length = 0;
      open?.();
      gate = undefined;

      await waitUntil(
        () => {
          const keep = cache.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'gap', name: 'keep' });
          const doomed = cache.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'gap', name: 'doomed' });
          const born = cache.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'gap', name: 'born' });
          return (keep?.data as Record<string, string> | undefined)?.v === '2' && doomed === undefined && born !== undefined;
        },
        { timeoutMs: 2000, intervalMs: 10, message: 'the cache to catch up after the gap' },
      );
      const seen = events.map((e) => `${e.type} ${e.object.metadata.name}`);
      assert.ok(seen.includes('DELETED doomed'), seen.join(', '));
      assert.ok(seen.includes('MODIFIED keep'), seen.join(', '));
      assert.ok(seen.includes('ADDED born'), seen.join(', '));
    } finally {
      open?.();
      await cache.close();
      await registry.close();
      await sandbox.close();
    }
  });

  it('rejects ensureWatched when the initial list fails, forgets the kind, and tries again on the next call', async () => {
    const { freePort, tempDir } = await import('@ferry/testing');
    const { writeFile } = await import('node:fs/promises');
    const dir = await tempDir('ferry-kube-watch-down');
    const port = await freePort();
    const path = `${dir.path}/kubeconfig`;
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
    const registry = resolveClusters({ kubeconfigPath: path, env: {} });
    const client = registry.defaultClient();
    let attempts = 0;
    const counting: ClusterClient = Object.assign(Object.create(client) as ClusterClient, {
      resourceFor: (apiVersion: string, kind: string) => {
        attempts++;
        return client.resourceFor(apiVersion, kind);
      },
    });
    const cache = startWatchCache(counting);
    try {
      const both = [cache.ensureWatched('v1', 'ConfigMap'), cache.ensureWatched('v1', 'ConfigMap')];
      for (const p of both) await assert.rejects(p, (e: unknown) => e instanceof KubeError && e.code === ErrorCode.KubeRequest);
      assert.equal(attempts, 1, 'concurrent calls share one attempt');
      assert.equal(cache.isWatched('v1', 'ConfigMap'), false);
      await assert.rejects(cache.ensureWatched('v1', 'ConfigMap'), KubeError);
      assert.equal(attempts, 2, 'a later call tries again');
    } finally {
      await cache.close();
      await registry.close();
      await dir.cleanup();
    }
  });
});
