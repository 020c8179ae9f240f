import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventType } from '@ferry/contracts';
import { createMetricsRegistry } from '@ferry/runtime';
import { kubectlPath, waitUntil } from '@ferry/testing';
import { start, type ApplierService } from '../../src/index.js';
import { application, configMap, Harness, logger, revision } from '../service/harness.js';

describe(
  'syncer: dry runs, request options, rollback intents and retries (real nats-server, sandbox cluster)',
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

    it('a dry run publishes sync events with dryRun, writes operationState only (no history), and changes nothing', async () => {
      await h.putApp('dry', { syncOptions: ['CreateNamespace=true'] });
      const key1 = await h.putArtifact('dry', revision(1), [configMap('cfg', { v: '1' })]);
      await h.publishDiff('dry', key1, revision(1), { sync: { requestId: 'first', prune: false, initiatedBy: 'alice' } });
      await h.completed('dry', revision(1));
      const key2 = await h.putArtifact('dry', revision(2), [configMap('cfg', { v: '2' }), configMap('more')]);
      await h.publishDiff('dry', key2, revision(2), { sync: { requestId: 'dry-1', prune: true, initiatedBy: 'alice', dryRun: true } });
      const record = await h.completed('dry', revision(2));
      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
      assert.match(record.operationState?.message ?? '', /dry run succeeded, nothing was changed: 1 to create, 1 to change/);
      assert.equal((record.operationState?.operation.sync as { dryRun?: boolean }).dryRun, true);
      assert.deepEqual(
        record.history.map((e) => e.revision),
        [revision(1)],
        'no history entry for a dry run',
      );
      assert.equal(record.lastSyncedRevision, revision(1));
      assert.deepEqual((await h.kubectlGet('configmap', 'cfg', 'dry'))?.['data'], { v: '1' });
      assert.equal(await h.kubectlGet('configmap', 'more', 'dry'), undefined);
      await waitUntil(() => h.eventsOf('dry', EventType.SyncSucceeded).length === 2, { message: 'two sync.succeeded' });
      const started = h.eventsOf('dry', EventType.SyncStarted).filter((e) => e.data.revision === revision(2));
      const succeeded = h.eventsOf('dry', EventType.SyncSucceeded).filter((e) => e.data.revision === revision(2));
      assert.equal(started[0]?.data.dryRun, true);
      assert.equal(succeeded[0]?.data.dryRun, true);
      assert.equal(h.eventsOf('dry', EventType.SyncSucceeded).find((e) => e.data.revision === revision(1))?.data.dryRun, undefined);
    });

    it('a sync request carries its whole intent (revision, dry run, resources, options, kind) into pendingSync and the refresh', async () => {
      await h.putApp('intent', { syncOptions: ['CreateNamespace=true'] });
      const request = {
        app: 'intent',
        requestId: 'req-x',
        prune: true,
        initiatedBy: 'bob',
        revision: 'v1.2.0',
        dryRun: true,
        resources: [{ group: 'apps', kind: 'Deployment', name: 'web' }],
        syncOptions: ['ApplyOutOfSyncOnly=true'],
        kind: 'rollback' as const,
        historyId: 3,
      };
      await h.bus.publish(EventType.SyncRequested, 'intent', request, { msgId: 'sync.requested:intent:req-x' });
      const refresh = await waitUntil(() => h.refreshEvents.find((r) => r.event.subject === 'intent'), { message: 'refresh.requested' });
      const { app: _app, ...intent } = request;
      assert.deepEqual(refresh.event.data.sync, intent);
      const pending = await waitUntil(async () => (await h.operationKv.get('intent'))?.value.pendingSync);
      assert.equal(pending.revision, 'v1.2.0');
      assert.equal(pending.kind, 'rollback');
    });

    it('a rollback intent naming a revision runs as a manual sync of that revision, marked with its kind in state, history and events', async () => {
      await h.putApp('rolled', { syncOptions: ['CreateNamespace=true'] });
      const key = await h.putArtifact('rolled', revision(5), [configMap('cfg', { v: 'old' })]);
      await h.publishDiff('rolled', key, revision(5), {
        syncStatus: 'OutOfSync',
        sync: { requestId: 'rb-1', prune: false, initiatedBy: 'carol', revision: revision(5), kind: 'rollback', historyId: 0 },
      });
      const record = await h.completed('rolled', revision(5));
      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
      assert.equal(record.operationState?.trigger, 'manual');
      assert.equal(record.operationState?.kind, 'rollback');
      assert.equal(record.history.at(-1)?.kind, 'rollback');
      await waitUntil(() => h.eventsOf('rolled', EventType.SyncSucceeded).length === 1, { message: 'sync.succeeded' });
      assert.equal(h.eventsOf('rolled', EventType.SyncSucceeded)[0]?.data.kind, 'rollback');
      assert.deepEqual((await h.kubectlGet('configmap', 'cfg', 'rolled'))?.['data'], { v: 'old' });
    });

    it('retries a failed automated sync with backoff inside one operation (syncPolicy.retry): one history entry, retryCount recorded', async () => {
      const app = application('retrying', { automated: {}, namespace: 'retrying' }) as { spec: { syncPolicy: Record<string, unknown> } };
      app.spec.syncPolicy['retry'] = { limit: 3, backoff: { duration: '300ms', factor: 1 } };
      await h.appsKv.put('retrying', app);
      // No CreateNamespace and no namespace yet: the first attempt fails its dry run.
      const key = await h.putArtifact('retrying', revision(1), [configMap('cfg')]);
      await h.publishDiff('retrying', key, revision(1));
      await waitUntil(async () => /Retrying attempt #1/.test((await h.operationKv.get('retrying'))?.value.operationState?.message ?? ''), {
        message: 'the operation waits for its first retry',
      });
      await h.kubectl('create', 'namespace', 'retrying');
      const record = await h.completed('retrying', revision(1));
      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
      assert.ok((record.operationState?.retryCount ?? 0) >= 1);
      assert.equal(record.history.length, 1);
      assert.equal(record.history[0]?.retryCount, record.operationState?.retryCount);
      await waitUntil(() => h.eventsOf('retrying', EventType.SyncSucceeded).length === 1, { message: 'sync.succeeded' });
      assert.equal(h.eventsOf('retrying', EventType.SyncStarted).length, 1);
      assert.equal(h.eventsOf('retrying', EventType.SyncFailed).length, 0);
    });
  },
);
