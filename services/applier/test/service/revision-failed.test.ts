import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Subscription } from '@nats-io/transport-node';
import {
  EventType,
  decodeEvent,
  type CloudEvent,
  type HealthChanged,
  type RevisionFailed,
  type RollbackCompleted,
  type SyncIntent,
  type SyncRequested,
} from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';
import { createMetricsRegistry } from '@ferry/runtime';
import { kubectlPath, waitUntil } from '@ferry/testing';
import { revisionFailureSyncId, start, type ApplierService } from '../../src/index.js';
import { configMap, Harness, logger, revision } from './harness.js';

describe(
  'a manual operation whose revision fails, and failures an automatic rollback remedies (real nats-server, sandbox cluster)',
  { skip: kubectlPath() ? false : 'kubectl not found at /usr/bin/kubectl or on PATH' },
  () => {
    const h = new Harness();
    let applier: ApplierService;
    const requests: Array<CloudEvent<SyncRequested>> = [];
    const completions: Array<CloudEvent<RollbackCompleted>> = [];
    const subs: Subscription[] = [];
    let seq = 0;

    before(async () => {
      await h.start();
      subs.push(
        h.nc.subscribe('gitops.sync.requested.*', {
          callback: (_e, msg) => void requests.push(decodeEvent(msg.data) as CloudEvent<SyncRequested>),
        }),
        h.nc.subscribe('gitops.rollback.completed.*', {
          callback: (_e, msg) => void completions.push(decodeEvent(msg.data) as CloudEvent<RollbackCompleted>),
        }),
      );
      applier = await start(h.config(), { logger, registry: createMetricsRegistry({ service: 'applier' }), tracing: h.tracing });
    });

    after(async () => {
      for (const sub of subs) sub.unsubscribe();
      await applier?.close();
      await h.stop();
    });

    /** The refresh.requested the applier published for `requestId` (it carries the intent the poller passes on). */
    async function refreshIntent(app: string, requestId: string): Promise<SyncIntent> {
      const refresh = await waitUntil(() => h.refreshEvents.find((e) => e.event.subject === app && e.event.data.requestId === requestId), {
        message: `refresh.requested for ${requestId}`,
      });
      assert.ok(refresh.event.data.sync, 'the refresh carries the sync intent');
      return refresh.event.data.sync;
    }

    /** Publishes revision.failed as the poller does (msgId `revision.failed:<app>:<rev>:<code>:<requestId>`), `n` distinguishing re-announcements. */
    async function publishFailure(app: string, rev: string | undefined, intent: SyncIntent, n = 0): Promise<RevisionFailed> {
      const data: RevisionFailed = {
        app,
        ...(rev === undefined ? {} : { revision: rev }),
        error: { code: 'FERRY_ERR_RENDER_PARSE', message: '1 manifest problem' },
        problems: [{ file: `${app}/deploy.yaml`, line: 12, message: 'bad indentation of a mapping entry' }],
        failedAt: new Date().toISOString(),
        sync: intent,
      };
      await h.bus.publish(EventType.RevisionFailed, app, data, {
        msgId: `revision.failed:${app}:${rev ?? 'unresolved'}:FERRY_ERR_RENDER_PARSE:${intent.requestId}${n ? `:${n}` : ''}`,
      });
      return data;
    }

    it('ends a manual sync whose revision does not render: operationState Error naming file:line, one sync.failed, pendingSync cleared; a redelivery adds nothing', async () => {
      const app = 'broken';
      await h.putApp(app);
      await h.publishSyncRequest(app, 'req1');
      const intent = await refreshIntent(app, 'req1');
      assert.equal((await h.operationKv.get(app))?.value.pendingSync?.requestId, 'req1');

      await publishFailure(app, revision(0xbad), intent);
      const failed = await waitUntil(() => h.eventsOf(app, EventType.SyncFailed)[0], { message: 'sync.failed' });
      const syncId = revisionFailureSyncId(app, 'req1');
      assert.equal(failed.id, `sync.failed:${app}:${syncId}`);
      assert.equal(failed.data.syncId, syncId);
      assert.equal(failed.data.phase, 'Error');
      assert.equal(failed.data.trigger, 'manual');
      assert.equal(failed.data.revision, revision(0xbad));
      assert.deepEqual(failed.data.error, { code: 'FERRY_ERR_RENDER_PARSE', message: '1 manifest problem' });
      assert.match(failed.data.message, /broken\/deploy\.yaml:12: bad indentation/);

      const record = await waitUntil(
        async () => {
          const r = (await h.operationKv.get(app))?.value;
          return r?.operationState?.syncId === syncId ? r : undefined;
        },
        { message: 'the Error operation recorded' },
      );
      assert.equal(record.pendingSync, undefined, 'pendingSync cleared');
      assert.equal(record.operationState?.phase, 'Error');
      assert.match(record.operationState?.message ?? '', /broken\/deploy\.yaml:12/);
      assert.deepEqual(record.servedRequests, ['req1']);
      assert.deepEqual(record.history, [], 'nothing was deployed: no history entry');
      assert.equal(h.eventsOf(app, EventType.SyncStarted).length, 0, 'no sync started');

      // The poller announces the same failure again (another msgId reaches the consumer), and the request is redelivered.
      const refreshes = h.refreshEvents.filter((e) => e.event.subject === app).length;
      await publishFailure(app, revision(0xbad), intent, 1);
      await h.publishSyncRequest(app, 'req1');
      await sleep(500);
      assert.deepEqual(
        await h.storedCount(`gitops.sync.*.${app}`),
        { [`gitops.sync.failed.${app}`]: 1, [`gitops.sync.requested.${app}`]: 1 },
        'one sync.failed in the stream: the re-publish carries the same message id',
      );
      assert.equal(h.refreshEvents.filter((e) => e.event.subject === app).length, refreshes, 'a served request is not refreshed again');
      assert.deepEqual((await h.operationKv.get(app))?.value, record, 'the record is unchanged');
    });

    it("ends a user's rollback whose revision cannot be resolved: rollback.completed failed at once, the rollback no longer waits", async () => {
      const app = 'rb-broken';
      await h.putApp(app);
      const A = revision(0xa1);
      const request: SyncRequested = {
        app,
        requestId: 'rb1',
        prune: false,
        initiatedBy: 'alice',
        kind: 'rollback',
        revision: A,
        historyId: 0,
      };
      await h.bus.publish(EventType.SyncRequested, app, request, { msgId: `sync.requested:${app}:rb1` });
      const intent = await refreshIntent(app, 'rb1');
      await waitUntil(async () => (await h.operationKv.get(app))?.value.rollback?.requestId === 'rb1', { message: 'rollback recorded' });

      await publishFailure(app, undefined, intent);
      const completion = await waitUntil(() => completions.find((e) => e.subject === app), { message: 'rollback.completed' });
      assert.equal(completion.data.result, 'failed');
      assert.equal(completion.data.automatic, false);
      assert.equal(completion.data.toRevision, A);
      assert.match(completion.data.reason, /the rollback sync failed: 1 manifest problem/);
      const failed = h.eventsOf(app, EventType.SyncFailed)[0];
      assert.equal(failed?.data.kind, 'rollback');
      assert.equal(failed?.data.phase, 'Error');
      const record = await waitUntil(
        async () => {
          const r = (await h.operationKv.get(app))?.value;
          return r?.rollback === undefined ? r : undefined;
        },
        { message: 'rollback cleared' },
      );
      assert.equal(record.pendingSync, undefined);
      assert.equal(record.operationState?.kind, 'rollback');
    });

    it('ends an automatic rollback whose revision fails, so it does not block the next automatic rollback for 10 minutes', async () => {
      const app = 'auto-broken';
      const [A, B] = [revision(0xa2), revision(0xb2)];
      await h.putApp(app);
      const requestId = `auto-rollback-${B.slice(0, 12)}`;
      // The record as the rollback controller leaves it once it decided to roll B back to A.
      await h.operationKv.put(app, {
        app,
        history: [],
        conditions: [],
        lastSyncedRevision: B,
        autoRollbacks: [B],
        automationPaused: { revision: B, reason: 'Degraded', pausedAt: new Date().toISOString() },
        rollback: {
          kind: 'auto-rollback',
          fromRevision: B,
          toRevision: A,
          historyId: 0,
          requestId,
          reason: 'Degraded',
          requestedAt: new Date().toISOString(),
        },
      });
      const request: SyncRequested = {
        app,
        requestId,
        prune: true,
        initiatedBy: 'ferry/auto-rollback',
        kind: 'auto-rollback',
        revision: A,
        historyId: 0,
      };
      await h.bus.publish(EventType.SyncRequested, app, request, { msgId: `sync.requested:${app}:${requestId}` });
      const intent = await refreshIntent(app, requestId);

      await publishFailure(app, A, intent);
      const completion = await waitUntil(() => completions.find((e) => e.subject === app), { message: 'rollback.completed' });
      assert.deepEqual(
        {
          automatic: completion.data.automatic,
          result: completion.data.result,
          from: completion.data.fromRevision,
          to: completion.data.toRevision,
        },
        { automatic: true, result: 'failed', from: B, to: A },
      );
      const record = await waitUntil(
        async () => {
          const r = (await h.operationKv.get(app))?.value;
          return r?.rollback === undefined ? r : undefined;
        },
        { message: 'the waiting rollback cleared' },
      );
      assert.equal(record.automationPaused?.revision, B, 'automated sync stays paused for B');
      assert.equal(h.eventsOf(app, EventType.SyncFailed)[0]?.data.kind, 'auto-rollback');
    });

    it('does not retry a sync whose PostSync hook failed when an automatic rollback follows: the rollback is requested at once', async () => {
      const app = 'hooked';
      await h.appsKv.put(app, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: app, annotations: { 'ferry.dev/auto-rollback': 'true' } },
        spec: {
          source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: app },
          destination: { server: 'https://kubernetes.default.svc', namespace: app },
          // No retry block: an automated sync gets Argo CD's default, 5 retries from 5 s.
          syncPolicy: { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] },
        },
      });
      const [A, B] = [revision(0xa3), revision(0xb3)];
      await h.publishDiff(app, await h.putArtifact(app, A, [configMap('settings', { v: '1' })]), A);
      assert.equal((await h.completed(app, A)).operationState?.phase, 'Succeeded');
      const healthy: HealthChanged = { app, revision: A, status: 'Healthy', resources: [], changedAt: new Date().toISOString() };
      await h.bus.publish(EventType.HealthChanged, app, healthy, { msgId: `health.changed:${app}:${A}:Healthy:${seq++}` });
      await waitUntil(async () => (await h.operationKv.get(app))?.value.healthyRevisions?.includes(A), { message: 'A recorded healthy' });

      const smoke: KubeObject = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'smoke', annotations: { 'argocd.argoproj.io/hook': 'PostSync' } },
        spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'run', image: 'busybox:fail' }] } } },
      };
      await h.publishDiff(app, await h.putArtifact(app, B, [configMap('settings', { v: '2' }), smoke]), B);
      const failed = await waitUntil(() => h.eventsOf(app, EventType.SyncFailed)[0], {
        timeoutMs: 4_500,
        message: 'sync.failed before any retry',
      });
      assert.equal(failed.data.error?.code, 'FERRY_ERR_SYNC_HOOK_FAILED');
      const record = (await h.operationKv.get(app))?.value;
      assert.equal(record?.operationState?.retryCount, undefined, 'no retry ran');
      const rollback = await waitUntil(() => requests.find((e) => e.subject === app && e.data.kind === 'auto-rollback'), {
        message: 'automatic rollback requested',
      });
      assert.equal(rollback.data.revision, A);
    });
  },
);
