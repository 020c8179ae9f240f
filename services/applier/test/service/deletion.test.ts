import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventType, type AppDeleted } from '@ferry/contracts';
import { TRACKING_ANNOTATION } from '@ferry/kube';
import { createMetricsRegistry } from '@ferry/runtime';
import { kubectlPath, waitUntil } from '@ferry/testing';
import { start, type ApplierService } from '../../src/index.js';
import { configMap, Harness, logger, revision } from './harness.js';

describe(
  'app deletion (real nats-server, sandbox cluster, kubectl)',
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

    const keep = (name: string) => {
      const object = configMap(name);
      object.metadata.annotations = { 'argocd.argoproj.io/sync-options': 'Delete=false' };
      return object;
    };

    async function deployed(app: string): Promise<void> {
      await h.putApp(app, { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const rev = revision(1);
      const key = await h.putArtifact(app, rev, [configMap('settings'), configMap('extra'), keep('kept')]);
      await h.publishDiff(app, key, rev);
      const record = await h.completed(app, rev);
      assert.equal(record.operationState?.phase, 'Succeeded', record.operationState?.message);
    }

    async function deleteApp(app: string, cascade?: AppDeleted['cascade']): Promise<void> {
      await h.appsKv.delete(app);
      const data: AppDeleted = { app, deletedAt: new Date().toISOString(), ...(cascade ? { cascade } : {}) };
      await h.bus.publish(EventType.AppDeleted, app, data, { msgId: `app.deleted:${app}:${data.deletedAt}` });
      await waitUntil(async () => (await h.operationKv.get(app)) === undefined, {
        timeoutMs: 10_000,
        message: `operation record of ${app} deleted`,
      });
    }

    it('deletes every tracked object of a deleted app (foreground by default), keeps Delete=false objects, and removes its record', async () => {
      await deployed('doomed');
      await deleteApp('doomed');
      assert.equal(await h.kubectlGet('configmap', 'settings', 'doomed'), undefined);
      assert.equal(await h.kubectlGet('configmap', 'extra', 'doomed'), undefined);
      const kept = await h.kubectlGet('configmap', 'kept', 'doomed');
      assert.ok(kept, 'Delete=false kept the object');
      assert.equal(
        kept.metadata.annotations?.[TRACKING_ANNOTATION],
        'doomed:/ConfigMap:doomed/kept',
        'a kept object keeps its tracking annotation (as Argo CD)',
      );
    });

    it('deletes with background propagation too', async () => {
      await deployed('bg');
      await deleteApp('bg', 'background');
      await waitUntil(async () => (await h.kubectlGet('configmap', 'settings', 'bg')) === undefined, { message: 'settings deleted' });
      assert.equal(await h.kubectlGet('configmap', 'extra', 'bg'), undefined);
    });

    it('orphans the objects when asked: they stay, with their tracking annotation; only the record goes', async () => {
      await deployed('orphaned');
      await deleteApp('orphaned', 'orphan');
      const settings = await h.kubectlGet('configmap', 'settings', 'orphaned');
      assert.ok(settings, 'orphaned objects stay');
      assert.equal(settings.metadata.annotations?.[TRACKING_ANNOTATION], 'orphaned:/ConfigMap:orphaned/settings');
      assert.ok(await h.kubectlGet('configmap', 'extra', 'orphaned'));
    });

    it('is idempotent: a second app.deleted for the same app finds nothing to do and acknowledges', async () => {
      await deployed('twice');
      await deleteApp('twice');
      const acks = async (): Promise<number> => {
        const text = await fetch(`${applier.url}/metrics`).then((r) => r.text());
        const line = text
          .split('\n')
          .find(
            (l) => l.startsWith('ferry_events_handled_total{') && l.includes('durable="applier-app-deleted"') && l.includes('result="ack"'),
          );
        return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
      };
      const before = await acks();
      const data: AppDeleted = { app: 'twice', deletedAt: new Date(Date.now() + 1).toISOString() };
      await h.bus.publish(EventType.AppDeleted, 'twice', data, { msgId: `app.deleted:twice:again` });
      await waitUntil(async () => (await acks()) === before + 1, { message: 'second app.deleted acknowledged' });
      assert.equal(await h.operationKv.get('twice'), undefined);
      assert.ok(await h.kubectlGet('configmap', 'kept', 'twice'));
    });

    it('leaves the objects of an app that was re-created before its deletion was handled', async () => {
      await deployed('phoenix');
      const data: AppDeleted = { app: 'phoenix', deletedAt: new Date().toISOString() };
      // The app is still (again) in ferry-apps when the event is handled.
      await h.bus.publish(EventType.AppDeleted, 'phoenix', data, { msgId: 'app.deleted:phoenix:1' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(await h.kubectlGet('configmap', 'settings', 'phoenix'));
      assert.ok(await h.operationKv.get('phoenix'));
    });
  },
);
