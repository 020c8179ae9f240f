import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Subscription } from '@nats-io/transport-node';
import { EventType, decodeEvent, type CloudEvent, type HealthChanged, type RollbackCompleted, type SyncRequested } from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';
import { createMetricsRegistry } from '@ferry/runtime';
import { kubectlPath, waitUntil } from '@ferry/testing';
import { start, type ApplierService } from '../../src/index.js';
import { Harness, logger, revision } from './harness.js';

function deployment(image: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 1,
      progressDeadlineSeconds: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

describe(
  'automatic rollback in the applier (real nats-server, sandbox cluster)',
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

    async function health(app: string, rev: string, status: HealthChanged['status'], message?: string): Promise<void> {
      const data: HealthChanged = {
        app,
        revision: rev,
        status,
        resources: [],
        changedAt: new Date().toISOString(),
        ...(message ? { message } : {}),
      };
      await h.bus.publish(EventType.HealthChanged, app, data, { msgId: `health.changed:${app}:${rev}:${status}:${seq++}` });
    }

    it('rolls a Degraded revision back to the last Synced and Healthy one, pauses automated sync for it, and resumes with a new revision', async () => {
      const app = 'shop';
      await h.appsKv.put(app, {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: app, namespace: 'argocd', annotations: { 'ferry.dev/auto-rollback': 'true' } },
        spec: {
          source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: app },
          destination: { server: 'https://kubernetes.default.svc', namespace: app },
          syncPolicy: { automated: { prune: true }, syncOptions: ['CreateNamespace=true'] },
        },
      });
      const [A, B, C] = [revision(0xa), revision(0xb), revision(0xc)];

      // A: synced and Healthy.
      const keyA = await h.putArtifact(app, A, [deployment('nginx:1.27')]);
      await h.publishDiff(app, keyA, A);
      assert.equal((await h.completed(app, A)).operationState?.phase, 'Succeeded');
      await health(app, A, 'Healthy');
      await waitUntil(async () => (await h.operationKv.get(app))?.value.healthyRevisions?.includes(A), { message: 'A recorded healthy' });

      // B: synced, then Degraded before it was ever Healthy.
      const keyB = await h.putArtifact(app, B, [deployment('nginx:crashloop')]);
      await h.publishDiff(app, keyB, B);
      const syncedB = await h.completed(app, B);
      assert.equal(syncedB.operationState?.phase, 'Succeeded', syncedB.operationState?.message);
      await health(app, B, 'Progressing');
      await health(app, B, 'Degraded', 'Deployment "web" exceeded its progress deadline');

      const request = await waitUntil(() => requests.find((e) => e.subject === app), { message: 'sync.requested auto-rollback' });
      assert.equal(request.id, `sync.requested:${app}:${request.data.requestId}`);
      assert.equal(request.data.kind, 'auto-rollback');
      assert.equal(request.data.revision, A);
      assert.equal(request.data.historyId, syncedB.history.find((e) => e.revision === A)?.id);
      assert.equal(request.data.prune, true);
      const paused = (await h.operationKv.get(app))?.value;
      assert.equal(paused?.automationPaused?.revision, B);
      assert.deepEqual(paused?.autoRollbacks, [B]);
      assert.equal(paused?.rollback?.toRevision, A);

      // A second Degraded of B (redelivery, flapping) starts no second rollback.
      await health(app, B, 'Progressing');
      await health(app, B, 'Degraded');
      await sleep(300);
      assert.equal(new Set(requests.filter((e) => e.subject === app).map((e) => e.id)).size, 1, 'one automatic rollback per revision');
      assert.deepEqual(
        await h.storedCount(`gitops.sync.requested.${app}`),
        { [`gitops.sync.requested.${app}`]: 1 },
        're-publishes are de-duplicated',
      );

      // The rollback sync, as it arrives from the poller and the differ: A's artifact with the intent.
      const intent = {
        requestId: request.data.requestId,
        prune: true,
        initiatedBy: request.data.initiatedBy,
        revision: A,
        kind: 'auto-rollback' as const,
        ...(request.data.historyId === undefined ? {} : { historyId: request.data.historyId }),
      };
      await h.publishDiff(app, keyA, A, { sync: intent });
      const rolledBack = await h.completed(app, A);
      assert.equal(rolledBack.operationState?.phase, 'Succeeded', rolledBack.operationState?.message);
      const completion = await waitUntil(() => completions.find((e) => e.subject === app), { message: 'rollback.completed' });
      const rollbackSync = h.eventsOf(app, EventType.SyncSucceeded).at(-1);
      assert.equal(completion.id, `rollback.completed:${app}:${rollbackSync?.data.syncId}`);
      assert.deepEqual(
        {
          from: completion.data.fromRevision,
          to: completion.data.toRevision,
          automatic: completion.data.automatic,
          result: completion.data.result,
        },
        { from: B, to: A, automatic: true, result: 'succeeded' },
      );
      assert.match(completion.data.reason, /Degraded/);
      const live = await h.kubectlGet('deployment', 'web', app);
      assert.equal(
        (live?.['spec'] as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image,
        'nginx:1.27',
      );
      const done = await waitUntil(
        async () => {
          const record = (await h.operationKv.get(app))?.value;
          return record?.rollback === undefined ? record : undefined;
        },
        { message: 'rollback cleared from the record' },
      );
      assert.equal(done.history.at(-1)?.kind, 'auto-rollback', 'the history entry of the rollback says so');
      assert.equal(done.automationPaused?.revision, B, 'automation stays paused after the rollback');

      // The target still points at B: its diff does not sync automatically.
      const syncsBefore = h.eventsOf(app, EventType.SyncStarted).length;
      await h.publishDiff(app, keyB, B);
      await sleep(500);
      assert.equal(h.eventsOf(app, EventType.SyncStarted).length, syncsBefore, 'B is not synced again while paused');
      assert.equal((await h.operationKv.get(app))?.value.automationPaused?.revision, B);

      // A new commit C lifts the pause and syncs.
      const keyC = await h.putArtifact(app, C, [deployment('nginx:1.28')]);
      await h.publishDiff(app, keyC, C);
      const syncedC = await h.completed(app, C);
      assert.equal(syncedC.operationState?.phase, 'Succeeded');
      assert.equal(syncedC.automationPaused, undefined);
    });

    it("carries a user's rollback through the manual path: intent on the refresh, history kind, rollback.completed from the previous revision", async () => {
      const app = 'manual-rb';
      await h.putApp(app, { syncOptions: ['CreateNamespace=true'] });
      const [A, B] = [revision(0x2a), revision(0x2b)];
      const keyA = await h.putArtifact(app, A, [deployment('nginx:1.27')]);
      const keyB = await h.putArtifact(app, B, [deployment('nginx:1.28')]);
      await h.publishDiff(app, keyA, A, { sync: { requestId: 'u1', prune: false, initiatedBy: 'alice' } });
      await h.completed(app, A);
      await h.publishDiff(app, keyB, B, { sync: { requestId: 'u2', prune: false, initiatedBy: 'alice' } });
      const atB = await h.completed(app, B);
      const historyId = atB.history.find((e) => e.revision === A)?.id;
      assert.equal(historyId, 0);

      // The api's request (ferry app rollback manual-rb 0).
      const request: SyncRequested = {
        app,
        requestId: 'rb1',
        prune: false,
        initiatedBy: 'alice',
        kind: 'rollback',
        revision: A,
        historyId,
      };
      await h.bus.publish(EventType.SyncRequested, app, request, { msgId: `sync.requested:${app}:rb1` });
      const refresh = await waitUntil(() => h.refreshEvents.find((e) => e.event.subject === app && e.event.data.requestId === 'rb1'), {
        message: 'refresh.requested with the rollback intent',
      });
      assert.equal(refresh.event.data.sync?.kind, 'rollback');
      assert.equal(refresh.event.data.sync?.revision, A);
      assert.equal(refresh.event.data.sync?.historyId, 0);
      await waitUntil(async () => (await h.operationKv.get(app))?.value.rollback?.requestId === 'rb1', { message: 'rollback recorded' });

      // The poller resolves A, the differ compares it: the diff carries the intent.
      await h.publishDiff(app, keyA, A, { sync: refresh.event.data.sync! });
      const completion = await waitUntil(() => completions.find((e) => e.subject === app), { message: 'rollback.completed' });
      assert.deepEqual(
        {
          from: completion.data.fromRevision,
          to: completion.data.toRevision,
          automatic: completion.data.automatic,
          historyId: completion.data.historyId,
          result: completion.data.result,
        },
        { from: B, to: A, automatic: false, historyId: 0, result: 'succeeded' },
      );
      const succeeded = h.eventsOf(app, EventType.SyncSucceeded).at(-1);
      assert.equal(succeeded?.data.kind, 'rollback', 'the completion event carries the kind');
      const record = await waitUntil(
        async () => {
          const r = (await h.operationKv.get(app))?.value;
          return r?.rollback === undefined ? r : undefined;
        },
        { message: 'rollback cleared' },
      );
      assert.deepEqual(
        record.history.map((e) => [e.revision, e.kind ?? 'sync']),
        [
          [A, 'sync'],
          [B, 'sync'],
          [A, 'rollback'],
        ],
      );
      assert.equal(record.automationPaused, undefined, 'a manual rollback pauses nothing');
    });

    it('does not roll back an app without the annotation', async () => {
      const app = 'plain';
      await h.putApp(app, { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const [A, B] = [revision(0x1a), revision(0x1b)];
      await h.publishDiff(app, await h.putArtifact(app, A, [deployment('nginx:1.27')]), A);
      await h.completed(app, A);
      await health(app, A, 'Healthy');
      await h.publishDiff(app, await h.putArtifact(app, B, [deployment('nginx:crashloop')]), B);
      await h.completed(app, B);
      await health(app, B, 'Degraded');
      await waitUntil(async () => (await h.operationKv.get(app))?.value.healthyRevisions?.includes(A), { message: 'A healthy' });
      await sleep(300);
      assert.equal(requests.filter((e) => e.subject === app).length, 0);
      assert.equal((await h.operationKv.get(app))?.value.automationPaused, undefined);
    });
  },
);
