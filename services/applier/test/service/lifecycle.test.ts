import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventType } from '@ferry/contracts';
import { createMetricsRegistry, type Registry } from '@ferry/runtime';
import { kubectlPath, waitUntil } from '@ferry/testing';
import { start, type ApplierService } from '../../src/index.js';
import { configMap, Harness, logger, revision } from './harness.js';

describe(
  'applier lifecycle and serialisation',
  { skip: kubectlPath() ? false : 'kubectl not found at /usr/bin/kubectl or on PATH' },
  () => {
    const h = new Harness();
    const services: ApplierService[] = [];
    const registries: Registry[] = [];

    const startApplier = async (env: Record<string, string> = {}): Promise<ApplierService> => {
      const registry = createMetricsRegistry({ service: 'applier' });
      registries.push(registry);
      const s = await start(h.config(env), { logger, registry, tracing: h.tracing });
      services.push(s);
      return s;
    };

    before(async () => {
      await h.start();
    });

    after(async () => {
      await Promise.allSettled(services.map((s) => s.close()));
      await h.stop();
    });

    it('gives every caller of close() the same promise, turns readiness off and stops serving HTTP', async () => {
      const s = await startApplier();
      assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
      const first = s.close();
      const second = s.close();
      assert.equal(first, second);
      assert.equal(s.isReady(), false);
      await first;
      await assert.rejects(fetch(`${s.url}/healthz`));
    });

    it('never runs two syncs of one app at once, with two appliers sharing the durable and concurrent triggers', async () => {
      const a = await startApplier();
      const b = await startApplier();
      await h.putApp('busy', { syncOptions: ['CreateNamespace=true'] });
      const key = await h.putArtifact(
        'busy',
        revision(1),
        Array.from({ length: 15 }, (_, i) => configMap(`c${i}`)),
      );
      const requests = Array.from({ length: 8 }, (_, i) => `req-${i}`);
      await Promise.all(
        requests.map((requestId) =>
          h.publishDiff('busy', key, revision(1), { syncStatus: 'Synced', sync: { requestId, prune: false, initiatedBy: 'ci' } }),
        ),
      );
      await waitUntil(() => h.eventsOf('busy', EventType.SyncSucceeded).length >= requests.length, {
        timeoutMs: 20_000,
        message: '8 manual syncs',
      });
      const done = h.eventsOf('busy', EventType.SyncSucceeded).map((e) => e.data);
      assert.equal(new Set(done.map((e) => e.syncId)).size, requests.length, 'one sync per request');
      const intervals = done.map((e) => [Date.parse(e.startedAt), Date.parse(e.finishedAt ?? '')] as const).sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < intervals.length; i++) {
        const [prevStart, prevEnd] = intervals[i - 1] as readonly [number, number];
        const [nextStart] = intervals[i] as readonly [number, number];
        assert.ok(nextStart >= prevEnd, `sync ${i} started at ${nextStart} before sync ${i - 1} (${prevStart}–${prevEnd}) ended`);
      }
      const conflicts = await Promise.all(
        registries
          .slice(-2)
          .map(async (r) => (await r.getSingleMetricAsString('ferry_applier_lease_conflicts_total')).match(/ (\d+)$/m)?.[1]),
      );
      assert.ok(
        conflicts.some((c) => Number(c) > 0),
        `lease conflicts were counted: ${conflicts.join(', ')}`,
      );
      assert.equal((await h.operationKv.get('busy'))?.value.history.length, requests.length);
      await Promise.all([a.close(), b.close()]);
    });

    it('lets an in-flight sync finish when closed within the grace period', async () => {
      const s = await startApplier();
      await h.putApp('graceful', { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const key = await h.putArtifact(
        'graceful',
        revision(1),
        Array.from({ length: 80 }, (_, i) => configMap(`c${i}`)),
      );
      await h.publishDiff('graceful', key, revision(1));
      await waitUntil(() => s.running() > 0, { intervalMs: 2, message: 'sync running' });
      await s.close();
      const record = await h.completed('graceful', revision(1), 1_000);
      assert.equal(record.operationState?.phase, 'Succeeded');
      assert.equal(record.operationState?.syncResult?.resources.length, 80);
      await waitUntil(() => h.eventsOf('graceful', EventType.SyncSucceeded).length === 1, { message: 'sync.succeeded' });
    });

    it('stops a sync that outlasts the grace period at its next step and resumes the same operation on the next start', async () => {
      const first = await startApplier({ FERRY_SHUTDOWN_GRACE_MS: '0' });
      await h.putApp('interrupted', { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const key = await h.putArtifact(
        'interrupted',
        revision(1),
        Array.from({ length: 80 }, (_, i) => configMap(`c${i}`)),
      );
      await h.publishDiff('interrupted', key, revision(1));
      await waitUntil(async () => (await h.operationKv.get('interrupted'))?.value.operationState?.phase === 'Running', {
        intervalMs: 2,
        message: 'sync Running',
      });
      await first.close();
      const stopped = (await h.operationKv.get('interrupted'))?.value.operationState;
      assert.equal(stopped?.phase, 'Running', 'left Running for the next replica');
      assert.deepEqual(h.eventsOf('interrupted', EventType.SyncSucceeded), []);

      await startApplier();
      const record = await h.completed('interrupted', revision(1));
      assert.equal(record.operationState?.phase, 'Succeeded');
      assert.equal(record.operationState?.syncId, stopped?.syncId, 'the same operation resumed');
      assert.equal(record.operationState?.startedAt, stopped?.startedAt);
      assert.equal(record.history.length, 1);
      await waitUntil(() => h.eventsOf('interrupted', EventType.SyncSucceeded).length === 1, { message: 'sync.succeeded' });
      const stored = await h.storedCount('gitops.sync.*.interrupted');
      assert.deepEqual(stored, { 'gitops.sync.started.interrupted': 1, 'gitops.sync.succeeded.interrupted': 1 });
    });
  },
);
