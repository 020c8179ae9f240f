import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { EventType } from '@ferry/contracts';
import { TRACKING_ANNOTATION, type KubeObject } from '@ferry/kube';
import { FixtureStartError, kubectlPath, startServiceProcess, waitUntil, type ServiceProcess } from '@ferry/testing';
import { configMap, Harness, revision } from './harness.js';

const mainTs = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('applier as a process', { skip: kubectlPath() ? false : 'kubectl not found at /usr/bin/kubectl or on PATH' }, () => {
  const h = new Harness();
  const procs: ServiceProcess[] = [];

  const startApplier = async (): Promise<ServiceProcess> => {
    const proc = await startServiceProcess({
      name: 'applier',
      entry: mainTs,
      env: h.env({
        FERRY_LOG_LEVEL: 'info',
        FERRY_SYNC_LEASE_TTL_MS: '1500',
        FERRY_APPLIER_ACK_WAIT_MS: '1500',
        FERRY_APPLIER_CONCURRENCY: '2',
      }),
    });
    procs.push(proc);
    return proc;
  };

  before(async () => {
    await h.start();
  });

  after(async () => {
    await Promise.allSettled(procs.filter((p) => p.running).map((p) => p.kill()));
    await h.stop();
  });

  it('runs as its own process: ready line, /readyz, clean exit on SIGTERM', async () => {
    const proc = await startApplier();
    const line = await proc.waitForLog(/"msg":"http server listening"/);
    const url = (JSON.parse(line) as { url: string }).url;
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /ferry_applier_lease_conflicts_total/);
    const exit = await proc.stop('SIGTERM');
    assert.equal(exit.code, 0);
  });

  it('exits 1 naming FERRY_ERR_CONFIG_INVALID and the variable when the configuration is invalid', async () => {
    await assert.rejects(
      startServiceProcess({
        name: 'applier-bad',
        entry: mainTs,
        env: { FERRY_SYNC_LEASE_TTL_MS: 'long', FERRY_FIELD_MANAGER: 'no spaces please' },
        timeoutMs: 5_000,
      }),
      (error: FixtureStartError) =>
        error instanceof FixtureStartError &&
        /FERRY_ERR_CONFIG_INVALID/.test(error.output) &&
        /FERRY_SYNC_LEASE_TTL_MS/.test(error.output) &&
        /FERRY_FIELD_MANAGER/.test(error.output),
    );
  });

  it('killed with SIGKILL mid-way and restarted: every app ends synced, with exactly one sync per diff and one stored completion each', async (t) => {
    const apps = Array.from({ length: 8 }, (_, i) => `kill-${i}`);
    const rev = revision(9);
    const diffs = new Map<string, string>();
    for (const app of apps) {
      await h.putApp(app, { automated: {}, syncOptions: ['CreateNamespace=true'] });
      const key = await h.putArtifact(
        app,
        rev,
        Array.from({ length: 50 }, (_, i) => configMap(`cm-${i}`)),
      );
      diffs.set(app, key);
    }
    const first = await startApplier();
    for (const app of apps) await h.publishDiff(app, diffs.get(app) ?? '', rev);
    // Kill while a sync is Running (record written, objects half applied) and after at least one completed.
    await waitUntil(
      async () => {
        if (!h.syncEvents.some((r) => apps.includes(r.event.subject) && r.event.type === EventType.SyncSucceeded)) return false;
        const phases = await Promise.all(apps.map(async (app) => (await h.operationKv.get(app))?.value.operationState?.phase));
        return phases.includes('Running');
      },
      { intervalMs: 2, timeoutMs: 10_000, message: 'a sync Running after a first sync.succeeded' },
    );
    await first.kill();
    const doneAtKill = new Set(h.syncEvents.filter((r) => r.event.type === EventType.SyncSucceeded).map((r) => r.event.subject));
    const runningAtKill = (await Promise.all(apps.map(async (app) => (await h.operationKv.get(app))?.value.operationState?.phase))).filter(
      (p) => p === 'Running',
    ).length;
    t.diagnostic(`at the kill: ${doneAtKill.size} apps synced, ${runningAtKill} Running`);
    // Usually a sync is caught Running (the diagnostic says); at the least some apps were left for the restart.
    assert.ok(
      doneAtKill.size < apps.length,
      `the kill came before every app was synced (${doneAtKill.size} done, ${runningAtKill} running)`,
    );

    await startApplier();
    for (const app of apps) {
      const record = await h.completed(app, rev, 20_000);
      assert.equal(record.operationState?.phase, 'Succeeded', `${app}: ${record.operationState?.message}`);
      assert.equal(record.history.length, 1, `${app}: one history entry`);
    }
    for (const app of apps) {
      await waitUntil(() => h.eventsOf(app, EventType.SyncSucceeded).length > 0, { message: `${app} sync.succeeded` });
      const ids = new Set(h.eventsOf(app, EventType.SyncSucceeded).map((e) => e.id));
      assert.equal(ids.size, 1, `${app}: one sync.succeeded id, got ${[...ids].join(', ')}`);
    }
    const succeeded = await h.storedCount('gitops.sync.succeeded.*');
    const started = await h.storedCount('gitops.sync.started.*');
    for (const app of apps) {
      assert.equal(succeeded[`gitops.sync.succeeded.${app}`], 1, `${app}: one stored sync.succeeded`);
      assert.equal(started[`gitops.sync.started.${app}`], 1, `${app}: one stored sync.started`);
    }
    for (const app of apps) {
      const list = JSON.parse(await h.kubectl('get', 'configmaps', '-n', app, '-o', 'json')) as { items: KubeObject[] };
      const tracked = list.items.filter((o) => o.metadata.annotations?.[TRACKING_ANNOTATION]?.startsWith(`${app}:`));
      assert.equal(tracked.length, 50, `${app}: every object present`);
    }
  });
});
