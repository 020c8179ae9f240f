import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { EventType } from '@ferry/contracts';
import { TRACKING_ANNOTATION } from '@ferry/kube';
import { createMetricsRegistry, withSpan, type Registry } from '@ferry/runtime';
import { kubectlPath, waitUntil } from '@ferry/testing';
import { start, type ApplierService } from '../../src/index.js';
import { application, configMap, Harness, logger, namespaceObject, revision } from './harness.js';

describe(
  'applier service (real nats-server, sandbox cluster, kubectl)',
  { skip: kubectlPath() ? false : 'kubectl not found at /usr/bin/kubectl or on PATH' },
  () => {
    const h = new Harness();
    let applier: ApplierService;
    let registry: Registry;

    before(async () => {
      await h.start();
      registry = createMetricsRegistry({ service: 'applier' });
      applier = await start(h.config(), { logger, registry, tracing: h.tracing });
    });

    after(async () => {
      await applier?.close();
      await h.stop();
    });

    it('syncs an automated OutOfSync app: objects applied by field manager ferry with the tracking annotation, events, history', async () => {
      await h.putApp('web', { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const rev = revision(1);
      const key = await h.putArtifact('web', rev, [configMap('settings', { color: 'blue' }), configMap('extra')]);
      await h.publishDiff('web', key, rev);
      const record = await h.completed('web', rev);

      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
      assert.equal(record.lastSyncedRevision, rev);
      assert.deepEqual(
        record.history.map((e) => [e.id, e.revision, e.phase]),
        [[0, rev, 'Succeeded']],
      );
      assert.deepEqual(
        record.operationState?.syncResult?.resources.map((r) => [r.kind, r.name, r.status]),
        [
          ['ConfigMap', 'extra', 'Synced'],
          ['ConfigMap', 'settings', 'Synced'],
        ],
      );

      assert.ok(await h.kubectlGet('namespace', 'web'), 'CreateNamespace=true created the destination namespace');
      const live = await h.kubectlGet('configmap', 'settings', 'web');
      assert.equal(live?.metadata.annotations?.[TRACKING_ANNOTATION], 'web:/ConfigMap:web/settings');
      assert.deepEqual(live?.['data'], { color: 'blue' });
      const managers = (live?.metadata.managedFields as Array<{ manager: string; operation: string }>).map(
        (m) => `${m.manager}/${m.operation}`,
      );
      assert.ok(managers.includes('ferry/Apply'), `managedFields: ${managers.join(', ')}`);

      await waitUntil(() => h.eventsOf('web', EventType.SyncSucceeded).length === 1, { message: 'sync.succeeded' });
      const [started] = h.eventsOf('web', EventType.SyncStarted);
      const [succeeded] = h.eventsOf('web', EventType.SyncSucceeded);
      assert.ok(started && succeeded);
      assert.equal(started.data.syncId, succeeded.data.syncId);
      assert.equal(started.id, `sync.started:web:${started.data.syncId}`);
      assert.equal(succeeded.id, `sync.succeeded:web:${succeeded.data.syncId}`);
      assert.equal(succeeded.data.revision, rev);
      assert.equal(succeeded.data.trigger, 'automated');
      assert.equal(record.history[0]?.syncId, succeeded.data.syncId);

      const text = await registry.metrics();
      assert.match(text, /ferry_applier_syncs_total\{trigger="automated",result="succeeded",service="applier"\} 1/);
      assert.match(text, /ferry_applier_applies_total\{result="applied",service="applier"\} 2/);
      assert.match(text, /ferry_applier_sync_duration_seconds_count\{service="applier"\} 1/);
    });

    it('prunes a tracked object that left Git when prune is on, and keeps it (PruneSkipped) when prune is off', async () => {
      await h.putApp('prune-on', { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] });
      await h.putApp('prune-off', { automated: {}, syncOptions: ['CreateNamespace=true'] });
      for (const app of ['prune-on', 'prune-off']) {
        const key1 = await h.putArtifact(app, revision(1), [configMap('keep'), configMap('old')]);
        await h.publishDiff(app, key1, revision(1));
        await h.completed(app, revision(1));
        assert.ok(await h.kubectlGet('configmap', 'old', app));
        const key2 = await h.putArtifact(app, revision(2), [configMap('keep', { key: 'v2' })]);
        await h.publishDiff(app, key2, revision(2), {
          resources: [
            { group: '', version: 'v1', kind: 'ConfigMap', namespace: app, name: 'old', status: 'OutOfSync', requiresPruning: true },
          ],
        });
      }
      const on = await h.completed('prune-on', revision(2));
      assert.equal(on.operationState?.phase, 'Succeeded', on.operationState?.message);
      assert.deepEqual(
        on.operationState?.syncResult?.resources.map((r) => [r.name, r.status]),
        [
          ['old', 'Pruned'],
          ['keep', 'Synced'],
        ],
        'inside a wave, prunes run before applies (Argo CD)',
      );
      await waitUntil(async () => (await h.kubectlGet('configmap', 'old', 'prune-on')) === undefined, { message: 'old pruned' });

      const off = await h.completed('prune-off', revision(2));
      assert.equal(off.operationState?.phase, 'Succeeded');
      assert.deepEqual(
        off.operationState?.syncResult?.resources.map((r) => [r.name, r.status]),
        [
          ['keep', 'Synced'],
          ['old', 'PruneSkipped'],
        ],
      );
      assert.ok(await h.kubectlGet('configmap', 'old', 'prune-off'), 'the object stays without prune');
      assert.deepEqual((await h.kubectlGet('configmap', 'keep', 'prune-off'))?.['data'], { key: 'v2' });
    });

    it('refuses a prune that would empty the app without allowEmpty: sync.failed, SyncError condition, nothing deleted', async () => {
      await h.putApp('empty', { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] });
      const key1 = await h.putArtifact('empty', revision(1), [configMap('only')]);
      await h.publishDiff('empty', key1, revision(1));
      await h.completed('empty', revision(1));
      const key2 = await h.putArtifact('empty', revision(2), []);
      await h.publishDiff('empty', key2, revision(2));
      const record = await h.completed('empty', revision(2));
      assert.equal(record.operationState?.phase, 'Failed');
      assert.match(record.operationState?.message ?? '', /allowEmpty/);
      assert.equal(record.lastSyncedRevision, revision(1));
      assert.deepEqual(
        record.conditions.map((c) => c.type),
        ['SyncError'],
      );
      assert.ok(await h.kubectlGet('configmap', 'only', 'empty'), 'nothing was deleted');
      await waitUntil(() => h.eventsOf('empty', EventType.SyncFailed).length === 1, { message: 'sync.failed' });
      assert.equal(h.eventsOf('empty', EventType.SyncFailed)[0]?.data.error?.code, 'FERRY_ERR_SYNC_PRUNE_REFUSED');
    });

    it('fails the sync before writing anything when the dry run of an object fails (unknown kind): server message, nothing applied or pruned', async () => {
      const broken = application('broken', { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] }) as {
        spec: { syncPolicy: Record<string, unknown> };
      };
      broken.spec.syncPolicy['retry'] = { limit: 0 }; // no retries: the failure is final at once
      await h.appsKv.put('broken', broken);
      const key1 = await h.putArtifact('broken', revision(1), [configMap('a'), configMap('gone')]);
      await h.publishDiff('broken', key1, revision(1));
      await h.completed('broken', revision(1));
      const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: {} };
      const key2 = await h.putArtifact('broken', revision(2), [configMap('a', { v: '2' }), widget, configMap('z')]);
      await h.publishDiff('broken', key2, revision(2));
      const record = await h.completed('broken', revision(2));
      assert.equal(record.operationState?.phase, 'Failed');
      const results = record.operationState?.syncResult?.resources ?? [];
      assert.deepEqual(
        results.map((r) => [r.kind, r.name, r.status]),
        [['Widget', 'w', 'SyncFailed']],
      );
      assert.match(results[0]?.message ?? '', /Widget/);
      assert.equal(await h.kubectlGet('configmap', 'z', 'broken'), undefined, 'nothing applied');
      assert.deepEqual((await h.kubectlGet('configmap', 'a', 'broken'))?.['data'], { key: 'a' }, 'a kept its old data');
      assert.ok(await h.kubectlGet('configmap', 'gone', 'broken'), 'nothing pruned');
      await waitUntil(() => h.eventsOf('broken', EventType.SyncFailed).length === 1, { message: 'sync.failed' });
      assert.equal(h.eventsOf('broken', EventType.SyncFailed)[0]?.data.error?.code, 'FERRY_ERR_SYNC_RESOURCE_FAILED');
    });

    it('applies Namespaces before the objects that live in them', async () => {
      await h.putApp('ordered', { automated: {}, namespace: 'ordered-ns' });
      const key = await h.putArtifact('ordered', revision(1), [configMap('c'), namespaceObject('ordered-ns')]);
      await h.publishDiff('ordered', key, revision(1));
      const record = await h.completed('ordered', revision(1));
      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
      assert.deepEqual(
        record.operationState?.syncResult?.resources.map((r) => r.kind),
        ['Namespace', 'ConfigMap'],
      );
    });

    it('leaves a non-automated app alone on OutOfSync, and a Synced automated app too', async () => {
      await h.putApp('manual-only', { syncOptions: ['CreateNamespace=true'] });
      await h.putApp('in-sync', { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const key = await h.putArtifact('manual-only', revision(1), [configMap('x')]);
      await h.publishDiff('manual-only', key, revision(1));
      const key2 = await h.putArtifact('in-sync', revision(1), [configMap('x')]);
      await h.publishDiff('in-sync', key2, revision(1), { syncStatus: 'Synced' });
      // A later app's sync proves the consumer got past both diffs.
      await h.putApp('marker', { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const key3 = await h.putArtifact('marker', revision(1), [configMap('x')]);
      await h.publishDiff('marker', key3, revision(1));
      await h.completed('marker', revision(1));
      await sleep(200);
      assert.equal(await h.operationKv.get('manual-only'), undefined);
      assert.equal(await h.operationKv.get('in-sync'), undefined);
      assert.deepEqual([...h.eventsOf('manual-only'), ...h.eventsOf('in-sync')], []);
      assert.equal(await h.kubectlGet('configmap', 'x', 'manual-only'), undefined);
    });

    it('turns sync.requested into pendingSync and a refresh with the intent, then syncs the intent even when Synced and not automated', async () => {
      await h.putApp('on-demand', { syncOptions: ['CreateNamespace=true'] });
      await h.publishSyncRequest('on-demand', 'req-1', true);
      const refresh = await waitUntil(() => h.refreshEvents.find((r) => r.event.subject === 'on-demand'), { message: 'refresh.requested' });
      assert.equal(refresh.event.id, 'refresh.requested:on-demand:req-1');
      assert.deepEqual(refresh.event.data, {
        app: 'on-demand',
        reason: 'sync',
        requestId: 'req-1',
        sync: { requestId: 'req-1', prune: true, initiatedBy: 'alice' },
      });
      const pending = await waitUntil(async () => (await h.operationKv.get('on-demand'))?.value.pendingSync);
      assert.equal(pending.requestId, 'req-1');

      const key = await h.putArtifact('on-demand', revision(7), [configMap('m')]);
      await h.publishDiff('on-demand', key, revision(7), { syncStatus: 'Synced', sync: refresh.event.data.sync });
      const record = await h.completed('on-demand', revision(7));
      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
      assert.equal(record.operationState?.trigger, 'manual');
      assert.deepEqual(record.operationState?.operation.initiatedBy, { username: 'alice' });
      assert.equal(record.operationState?.operation.sync.prune, true);
      assert.equal(record.pendingSync, undefined, 'pendingSync cleared by the sync that served it');
      assert.ok(await h.kubectlGet('configmap', 'm', 'on-demand'));

      // The same request delivered again (a replay) is not queued a second time.
      await h.bus.publish(
        EventType.SyncRequested,
        'on-demand',
        { app: 'on-demand', requestId: 'req-1', prune: true, initiatedBy: 'alice' },
        { msgId: 'sync.requested:on-demand:req-1:replay' },
      );
      await h.publishSyncRequest('on-demand', 'req-2');
      await waitUntil(async () => (await h.operationKv.get('on-demand'))?.value.pendingSync?.requestId === 'req-2', {
        message: 'req-2 pending',
      });
      assert.equal(h.refreshEvents.filter((r) => r.event.data.requestId === 'req-1').length, 1);
    });

    it('re-applies drift with selfHeal after the self-heal interval, and ignores drift without selfHeal', async () => {
      for (const [app, selfHeal] of [
        ['healing', true],
        ['drifting', false],
      ] as const) {
        await h.putApp(app, { automated: { selfHeal }, syncOptions: ['CreateNamespace=true'] });
        const key = await h.putArtifact(app, revision(1), [configMap('cfg', { mode: 'git' })]);
        await h.publishDiff(app, key, revision(1));
        await h.completed(app, revision(1));
        await h.kubectl('patch', 'configmap', 'cfg', '-n', app, '--type', 'merge', '-p', '{"data":{"mode":"manual"}}');
        await h.publishDiff(app, key, revision(1), { reason: 'drift' });
      }
      await waitUntil(
        async () => ((await h.kubectlGet('configmap', 'cfg', 'healing'))?.['data'] as { mode?: string } | undefined)?.mode === 'git',
        {
          timeoutMs: 5_000,
          message: 'drift reverted',
        },
      );
      const healed = await h.completed('healing', revision(1));
      assert.equal(healed.history.length, 2, 'the self-heal sync is in history');
      await sleep(600);
      const drifting = await h.kubectlGet('configmap', 'cfg', 'drifting');
      assert.equal((drifting?.['data'] as { mode: string }).mode, 'manual', 'no selfHeal: the drift stays');
      assert.equal((await h.operationKv.get('drifting'))?.value.history.length, 1);
    });

    it('traces a sync as applier.sync with one applier.apply child per resource, inside the trace of the consumed diff', async () => {
      await h.putApp('traced', { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const key = await h.putArtifact('traced', revision(1), [configMap('one'), configMap('two')]);
      const traceId = await withSpan(h.tracing.tracer, 'differ.compare', {}, async (span) => {
        await h.publishDiff('traced', key, revision(1));
        return span.spanContext().traceId;
      });
      await h.completed('traced', revision(1));
      const spans = await waitUntil(
        () => {
          const found = h.spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
          return found.some((s) => s.name === 'applier.sync') ? found : undefined;
        },
        { message: 'applier.sync span' },
      );
      const sync = spans.find((s) => s.name === 'applier.sync');
      assert.equal(sync?.attributes['ferry.app'], 'traced');
      assert.equal(sync?.attributes['ferry.revision'], revision(1));
      const applies = spans.filter((s) => s.name === 'applier.apply');
      assert.deepEqual(applies.map((s) => s.attributes['ferry.resource']).sort(), ['ConfigMap/traced/one', 'ConfigMap/traced/two']);
      for (const apply of applies) assert.equal(apply.parentSpanContext?.spanId, sync?.spanContext().spanId);
    });

    it('trims history to revisionHistoryLimit', async () => {
      await h.putApp('short', { automated: {}, syncOptions: ['CreateNamespace=true'], revisionHistoryLimit: 2 });
      for (let i = 1; i <= 3; i++) {
        const key = await h.putArtifact('short', revision(i), [configMap('c', { i: String(i) })]);
        await h.publishDiff('short', key, revision(i));
        await h.completed('short', revision(i));
      }
      const record = await h.completed('short', revision(3));
      assert.deepEqual(
        record.history.map((e) => [e.id, e.revision]),
        [
          [1, revision(2)],
          [2, revision(3)],
        ],
      );
    });
  },
);
