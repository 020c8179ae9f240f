import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventType } from '@ferry/contracts';
import { createMetricsRegistry } from '@ferry/runtime';
import { kubectlPath, waitUntil } from '@ferry/testing';
import { start, type ApplierService } from '../../src/index.js';
import { configMap, Harness, logger, revision } from './harness.js';

describe(
  'sync retry with backoff (real nats-server, sandbox cluster)',
  { skip: kubectlPath() ? false : 'kubectl not found at /usr/bin/kubectl or on PATH' },
  () => {
    const h = new Harness();
    let applier: ApplierService;

    before(async () => {
      await h.start();
      applier = await start(h.config(), { logger, registry: createMetricsRegistry({ service: 'applier' }), tracing: h.tracing });
    });

    after(async () => {
      await applier?.close();
      await h.stop();
    });

    async function putApp(name: string, limit: number): Promise<void> {
      await h.appsKv.put(name, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name },
        spec: {
          source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: name },
          // No CreateNamespace: applying into the missing namespace fails until someone creates it.
          destination: { server: 'https://kubernetes.default.svc', namespace: `${name}-ns` },
          syncPolicy: { automated: {}, retry: { limit, backoff: { duration: '200ms', factor: 2, maxDuration: '3m' } } },
        },
      });
    }

    /** Polls the record every 5 ms and notes when each retryCount first shows (the retry is recorded before its backoff). */
    function watchRetries(app: string): { seen: Map<number, number>; stop: () => void } {
      const seen = new Map<number, number>();
      let stopped = false;
      void (async () => {
        while (!stopped) {
          const count = (await h.operationKv.get(app))?.value.operationState?.retryCount;
          if (count !== undefined && !seen.has(count)) seen.set(count, performance.now());
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      return { seen, stop: () => void (stopped = true) };
    }

    it('retries a failed sync inside one operation after 200, 400 and 800 ms (factor 2), then fails once with retryCount 3', async () => {
      await putApp('flaky', 3);
      const rev = revision(1);
      const key = await h.putArtifact('flaky', rev, [configMap('settings')]);
      const watch = watchRetries('flaky');
      await h.publishDiff('flaky', key, rev);
      const failed = await waitUntil(() => h.eventsOf('flaky', EventType.SyncFailed)[0], { timeoutMs: 15_000, message: 'sync.failed' });
      const failedAt = performance.now();
      watch.stop();

      const record = (await h.operationKv.get('flaky'))?.value;
      assert.equal(record?.operationState?.phase, 'Failed');
      assert.equal(record?.operationState?.retryCount, 3);
      assert.deepEqual(
        record?.history.map((e) => [e.phase, e.retryCount]),
        [['Failed', 3]],
        'one history entry for the whole operation',
      );
      assert.equal(h.eventsOf('flaky', EventType.SyncStarted).length, 1, 'one started event');
      assert.equal(h.eventsOf('flaky', EventType.SyncFailed).length, 1, 'one completion event');
      assert.equal(failed.data.syncId, h.eventsOf('flaky', EventType.SyncStarted)[0]?.data.syncId);

      const t = [1, 2, 3].map((n) => watch.seen.get(n));
      assert.ok(
        t.every((x) => x !== undefined),
        `every retry was recorded: ${[...watch.seen.keys()].join(', ')}`,
      );
      const [t1, t2, t3] = t as [number, number, number];
      // Between two recorded retries: the backoff, then one attempt (a few API calls to the sandbox).
      const gaps = [t2 - t1, t3 - t2, failedAt - t3];
      for (const [i, expected] of [200, 400, 800].entries()) {
        const gap = gaps[i] ?? 0;
        assert.ok(
          gap >= expected - 15 && gap < expected + 400,
          `gap before attempt ${i + 2} was ${gap.toFixed(0)} ms, expected ${expected} ms plus one attempt`,
        );
      }
    });

    it('succeeds on a retry once the cause is gone, keeping the retry count on the operation', async () => {
      await putApp('healing', 5);
      const rev = revision(2);
      const key = await h.putArtifact('healing', rev, [configMap('settings')]);
      await h.publishDiff('healing', key, rev);
      await waitUntil(async () => ((await h.operationKv.get('healing'))?.value.operationState?.retryCount ?? 0) >= 1, {
        message: 'first retry recorded',
      });
      const running = (await h.operationKv.get('healing'))?.value.operationState;
      assert.equal(running?.phase, 'Running', 'the operation stays Running between attempts');
      assert.match(running?.message ?? '', /^Retrying attempt #1 at \d\d:\d\d:\d\d\./);
      await h.kubectl('create', 'namespace', 'healing-ns');
      const record = await h.completed('healing', rev, 15_000);
      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
      assert.ok((record.operationState?.retryCount ?? 0) >= 1);
      assert.ok(await h.kubectlGet('configmap', 'settings', 'healing-ns'));
      assert.equal(h.eventsOf('healing', EventType.SyncFailed).length, 0);
    });
  },
);
