/** Sync options, rollback, cascading delete and the per-resource diff over HTTP (inject) against a real nats-server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppDeleted, HistoryEntry, SyncRequested } from '@ferry/contracts';
import { natsNames, openArtifactStore, openJsonKv, type ArtifactStore, type JsonKv } from '@ferry/runtime';
import { CI, application, auth, startApiFixture, type ApiFixture } from './helpers.js';

const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);

function entry(id: number, revision: string): HistoryEntry {
  return {
    id,
    revision,
    deployStartedAt: '2025-01-01T00:00:00.000Z',
    deployedAt: '2025-01-01T00:00:01.000Z',
    source: { repoURL: 'https://git.example.invalid/apps.git', targetRevision: 'main', path: 'x' },
    initiatedBy: { username: 'ci' },
    syncId: `s-${id}`,
    phase: 'Succeeded',
    resources: [],
  };
}

function manual(name: string): Record<string, unknown> {
  const app = application(name) as { spec: Record<string, unknown> };
  app.spec = { ...app.spec, syncPolicy: { syncOptions: ['CreateNamespace=true'] } };
  return app;
}

describe('api: sync options, rollback, delete cascade and diff (inject, real nats-server)', () => {
  let f: ApiFixture;
  let appsKv: JsonKv<unknown>;
  let operationKv: JsonKv<unknown>;
  let artifacts: ArtifactStore;

  before(async () => {
    f = await startApiFixture({ FERRY_API_MAX_BODY_BYTES: '65536' });
    const names = natsNames(f.config);
    appsKv = await openJsonKv(f.nc, names.buckets.apps);
    operationKv = await openJsonKv(f.nc, names.buckets.operation);
    artifacts = await openArtifactStore(f.nc, names.objectStore);
  });
  after(async () => f.close());

  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = auth()) =>
    f.service.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as Record<string, unknown> }) });
  const syncRequested = async (app: string, requestId: string) =>
    (await f.waitForEvent((e) => e.subject === `gitops.sync.requested.${app}` && (e.event.data as SyncRequested).requestId === requestId))
      .event.data as SyncRequested;

  describe('sync', () => {
    before(async () => {
      await inject('POST', '/api/v1/applications', manual('opts'));
      await inject('POST', '/api/v1/applications', application('auto'));
    });

    it("publishes Argo CD's sync options: revision, dryRun, prune, resources and syncOptions { items }", async () => {
      const resources = [{ group: 'apps', kind: 'Deployment', namespace: 'opts', name: 'web' }];
      const res = await inject(
        'POST',
        '/api/v1/applications/opts/sync',
        { revision: 'v1.0.0', prune: true, dryRun: true, resources, syncOptions: { items: ['PruneLast=true'] } },
        auth(CI),
      );
      assert.equal(res.statusCode, 202, res.body);
      const { requestId } = res.json() as { requestId: string };
      assert.deepEqual(await syncRequested('opts', requestId), {
        app: 'opts',
        requestId,
        prune: true,
        initiatedBy: 'ci',
        kind: 'sync',
        revision: 'v1.0.0',
        dryRun: true,
        resources,
        syncOptions: ['PruneLast=true'],
      });
    });

    it('accepts syncOptions as a plain list', async () => {
      const res = await inject('POST', '/api/v1/applications/opts/sync', { syncOptions: ['Replace=true', 'Force=true'] });
      assert.equal(res.statusCode, 202, res.body);
      const data = await syncRequested('opts', (res.json() as { requestId: string }).requestId);
      assert.deepEqual(data.syncOptions, ['Replace=true', 'Force=true']);
      assert.equal(data.dryRun, undefined);
      assert.equal(data.revision, undefined);
    });

    it('answers 400 naming an unsupported sync option and an incomplete resource', async () => {
      const res = await inject('POST', '/api/v1/applications/opts/sync', {
        syncOptions: ['Frobnicate=true'],
        resources: [{ group: 'apps', kind: 'Deployment' }],
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'FERRY_ERR_API_BAD_REQUEST');
      assert.deepEqual(
        (res.json().details as Array<{ path: string }>).map((d) => d.path),
        ['resources[0].name', 'syncOptions[0]'],
      );
    });

    it('refuses a revision other than the target while automated sync is on (409), allows it as a dry run or equal to the target', async () => {
      const res = await inject('POST', '/api/v1/applications/auto/sync', { revision: OLD });
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().code, 'FERRY_ERR_API_SYNC_AUTOSYNC');
      assert.equal((await inject('POST', '/api/v1/applications/auto/sync', { revision: OLD, dryRun: true })).statusCode, 202);
      assert.equal((await inject('POST', '/api/v1/applications/auto/sync', { revision: 'main' })).statusCode, 202);
    });
  });

  describe('rollback', () => {
    before(async () => {
      await inject('POST', '/api/v1/applications', manual('rb'));
      await inject('POST', '/api/v1/applications', application('rb-auto'));
      for (const app of ['rb', 'rb-auto']) {
        await operationKv.put(app, { app, history: [entry(0, OLD), entry(1, NEW)], conditions: [] });
      }
    });

    it("publishes sync.requested kind rollback with the history entry's revision and id", async () => {
      const res = await inject('POST', '/api/v1/applications/rb/rollback', { id: 0, prune: true }, auth(CI));
      assert.equal(res.statusCode, 202, res.body);
      const body = res.json() as { requestId: string; id: number; revision: string };
      assert.deepEqual({ id: body.id, revision: body.revision }, { id: 0, revision: OLD });
      const got = await f.waitForEvent(
        (e) => e.subject === 'gitops.sync.requested.rb' && (e.event.data as SyncRequested).requestId === body.requestId,
      );
      assert.deepEqual(got.event.data, {
        app: 'rb',
        requestId: body.requestId,
        prune: true,
        initiatedBy: 'ci',
        kind: 'rollback',
        revision: OLD,
        historyId: 0,
      });
      assert.equal(got.event.id, `sync.requested:rb:${body.requestId}`);
      assert.ok(f.spans.getFinishedSpans().some((s) => s.name === 'api.rollback' && s.attributes['ferry.app'] === 'rb'));
    });

    it('answers 404 FERRY_ERR_API_HISTORY_NOT_FOUND for an id the history does not hold, 400 without an id', async () => {
      const res = await inject('POST', '/api/v1/applications/rb/rollback', { id: 7 });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'FERRY_ERR_API_HISTORY_NOT_FOUND');
      const bad = await inject('POST', '/api/v1/applications/rb/rollback', {});
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().details[0].path, 'id');
      assert.equal((await inject('POST', '/api/v1/applications/nope/rollback', { id: 0 })).json().code, 'FERRY_ERR_APP_NOT_FOUND');
    });

    it('answers 409 FERRY_ERR_API_ROLLBACK_AUTOSYNC while automated sync is on, and publishes nothing', async () => {
      const before = f.events.filter((e) => e.subject === 'gitops.sync.requested.rb-auto').length;
      const res = await inject('POST', '/api/v1/applications/rb-auto/rollback', { id: 0 });
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().code, 'FERRY_ERR_API_ROLLBACK_AUTOSYNC');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(f.events.filter((e) => e.subject === 'gitops.sync.requested.rb-auto').length, before);
      const stored = (await appsKv.get('rb-auto'))?.value as { spec: { syncPolicy?: { automated?: unknown } } };
      assert.ok(stored.spec.syncPolicy?.automated, 'the spec is left as it was');
    });

    it('with disableAutoSync removes spec.syncPolicy.automated from the stored app first, then rolls back', async () => {
      const res = await inject('POST', '/api/v1/applications/rb-auto/rollback', { id: 1, disableAutoSync: true });
      assert.equal(res.statusCode, 202, res.body);
      const stored = (await appsKv.get('rb-auto'))?.value as { spec: { syncPolicy?: unknown; source: unknown } };
      assert.equal(stored.spec.syncPolicy, undefined, 'syncPolicy held only automated: removed entirely');
      assert.deepEqual(stored.spec.source, (application('rb-auto') as { spec: { source: unknown } }).spec.source);
      const data = await syncRequested('rb-auto', (res.json() as { requestId: string }).requestId);
      assert.equal(data.kind, 'rollback');
      assert.equal(data.revision, NEW);
      assert.equal(data.historyId, 1);
      const got = await inject('GET', '/api/v1/applications/rb-auto');
      assert.equal(got.json().spec.syncPolicy, undefined);
    });
  });

  describe('delete', () => {
    const deleted = async (app: string) =>
      (await f.waitForEvent((e) => e.subject === `gitops.app.deleted.${app}`)).event.data as AppDeleted;

    it('cascades in the foreground by default, as Argo CD', async () => {
      await inject('POST', '/api/v1/applications', application('del-a'));
      assert.equal((await inject('DELETE', '/api/v1/applications/del-a')).statusCode, 200);
      const event = await deleted('del-a');
      assert.equal(event.cascade, 'foreground');
      assert.deepEqual(event.destination, (application('del-a') as { spec: { destination: unknown } }).spec.destination, 'the event names the cluster to clean up');
    });

    it('cascade=false orphans the resources; propagationPolicy=background is passed on', async () => {
      await inject('POST', '/api/v1/applications', application('del-b'));
      await inject('POST', '/api/v1/applications', application('del-c'));
      assert.equal((await inject('DELETE', '/api/v1/applications/del-b?cascade=false')).statusCode, 200);
      assert.equal((await inject('DELETE', '/api/v1/applications/del-c?propagationPolicy=background')).statusCode, 200);
      assert.equal((await deleted('del-b')).cascade, 'orphan');
      assert.equal((await deleted('del-c')).cascade, 'background');
    });

    it('answers 400 for a bad query and keeps the app', async () => {
      await inject('POST', '/api/v1/applications', application('del-d'));
      const res = await inject('DELETE', '/api/v1/applications/del-d?cascade=false&propagationPolicy=foreground');
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().details[0].path, 'query.propagationPolicy');
      assert.ok(await appsKv.get('del-d'));
    });
  });

  describe('diff', () => {
    it('answers 404 FERRY_ERR_API_DIFF_NOT_FOUND until the differ stored one, then serves diffs.<app> as stored', async () => {
      await inject('POST', '/api/v1/applications', application('differs'));
      const none = await inject('GET', '/api/v1/applications/differs/diff');
      assert.equal(none.statusCode, 404);
      assert.equal(none.json().code, 'FERRY_ERR_API_DIFF_NOT_FOUND');
      const stored = {
        app: 'differs',
        revision: NEW,
        comparedAt: '2025-01-01T00:00:02.000Z',
        resources: [
          {
            group: 'apps',
            version: 'v1',
            kind: 'Deployment',
            namespace: 'differs',
            name: 'web',
            status: 'OutOfSync',
            diffState: 'OutOfSync',
            diff: '--- live\n+++ desired\n@@ -1 +1 @@\n-replicas: 1\n+replicas: 2\n',
            patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
          },
        ],
      };
      await artifacts.putJson('diffs.differs', stored);
      const res = await inject('GET', '/api/v1/applications/differs/diff');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), stored);
      assert.equal((await inject('GET', '/api/v1/applications/ghost/diff')).json().code, 'FERRY_ERR_APP_NOT_FOUND');
      assert.equal((await inject('GET', '/api/v1/applications/differs/diff', undefined, {})).statusCode, 401);
    });
  });
});
