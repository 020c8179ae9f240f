import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RefreshRequested, SyncRequested } from '@ferry/contracts';
import { natsNames, openJsonKv, type JsonKv } from '@ferry/runtime';
import { ALICE, CI, application, auth, startApiFixture, type ApiFixture } from './helpers.js';

describe('api over HTTP (inject) against a real nats-server', () => {
  let f: ApiFixture;
  let appsKv: JsonKv<unknown>;
  const kv: Record<'source' | 'comparison' | 'operation' | 'health', JsonKv<unknown>> = {} as never;

  before(async () => {
    f = await startApiFixture();
    const names = natsNames(f.config);
    appsKv = await openJsonKv(f.nc, names.buckets.apps);
    for (const part of ['source', 'comparison', 'operation', 'health'] as const) kv[part] = await openJsonKv(f.nc, names.buckets[part]);
  });
  after(async () => f.close());

  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers: Record<string, string> = auth()) =>
    f.service.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as Record<string, unknown> }) });

  describe('authentication', () => {
    it('answers 401 with FERRY_ERR_API_UNAUTHENTICATED without a token', async () => {
      const res = await inject('GET', '/api/v1/applications', undefined, {});
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, 'FERRY_ERR_API_UNAUTHENTICATED');
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    });

    it('answers 401 for a wrong token and never echoes it', async () => {
      const res = await inject('GET', '/api/v1/applications', undefined, auth('not-a-token-xyz'));
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, 'FERRY_ERR_API_UNAUTHENTICATED');
      assert.doesNotMatch(res.body, /not-a-token-xyz/);
    });

    it('answers 401 for an unknown route without a token (routes are not revealed)', async () => {
      const res = await inject('GET', '/api/v1/secrets', undefined, {});
      assert.equal(res.statusCode, 401);
    });

    it('accepts every configured token', async () => {
      for (const token of [ALICE, CI]) assert.equal((await inject('GET', '/api/v1/applications', undefined, auth(token))).statusCode, 200);
    });

    it('leaves /healthz, /readyz, /metrics and /api/version open', async () => {
      for (const url of ['/healthz', '/readyz', '/metrics', '/api/version']) {
        assert.equal((await inject('GET', url, undefined, {})).statusCode, 200, url);
      }
      assert.deepEqual((await inject('GET', '/api/version', undefined, {})).json(), { version: '0.1.0' });
    });

    it('answers an unknown route with a token as 404 FERRY_ERR_API_ROUTE_NOT_FOUND', async () => {
      const res = await inject('GET', '/api/v1/nope');
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'FERRY_ERR_API_ROUTE_NOT_FOUND');
    });
  });

  describe('applications', () => {
    it('creates an app: 201, the KV holds it, and refresh.requested (created) was published from an api.refresh span', async () => {
      const res = await inject('POST', '/api/v1/applications', application('web'));
      assert.equal(res.statusCode, 201);
      assert.equal(res.json().metadata.name, 'web');
      const stored = await appsKv.get('web');
      assert.deepEqual(stored?.value, application('web'));
      const got = await f.waitForEvent((e) => e.subject === 'gitops.refresh.requested.web');
      const data = got.event.data as RefreshRequested;
      assert.equal(data.reason, 'created');
      assert.equal(got.event.id, `refresh.requested:web:${data.requestId}`);
      const span = f.spans.getFinishedSpans().find((s) => s.name === 'api.refresh' && s.attributes['ferry.app'] === 'web');
      assert.ok(span, 'an api.refresh span with ferry.app=web');
      assert.equal(got.traceparent?.split('-')[1], span.spanContext().traceId, 'the event continues the api.refresh trace');
    });

    it('answers 409 FERRY_ERR_APP_EXISTS when creating an app twice', async () => {
      await inject('POST', '/api/v1/applications', application('twice'));
      const res = await inject('POST', '/api/v1/applications', application('twice'));
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().code, 'FERRY_ERR_APP_EXISTS');
    });

    it('replaces an existing app with ?upsert=true (200) and publishes refresh.requested (updated)', async () => {
      await inject('POST', '/api/v1/applications', application('upserted'));
      const res = await inject('POST', '/api/v1/applications?upsert=true', application('upserted', { path: 'other' }));
      assert.equal(res.statusCode, 200);
      assert.equal(((await appsKv.get('upserted'))?.value as { spec: { source: { path: string } } }).spec.source.path, 'other');
      await f.waitForEvent(
        (e) => e.subject === 'gitops.refresh.requested.upserted' && (e.event.data as RefreshRequested).reason === 'updated',
      );
    });

    it('creates and then updates with PUT (200 both times)', async () => {
      assert.equal((await inject('PUT', '/api/v1/applications/put-me', application('put-me'))).statusCode, 200);
      await f.waitForEvent(
        (e) => e.subject === 'gitops.refresh.requested.put-me' && (e.event.data as RefreshRequested).reason === 'created',
      );
      assert.equal((await inject('PUT', '/api/v1/applications/put-me', application('put-me', { path: 'p2' }))).statusCode, 200);
      await f.waitForEvent(
        (e) => e.subject === 'gitops.refresh.requested.put-me' && (e.event.data as RefreshRequested).reason === 'updated',
      );
    });

    it('answers 400 when the PUT name does not match the manifest', async () => {
      const res = await inject('PUT', '/api/v1/applications/one', application('two'));
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'FERRY_ERR_APP_INVALID');
      assert.equal(res.json().details[0].path, 'metadata.name');
      assert.equal(await appsKv.get('one'), undefined);
    });

    it('answers 400 FERRY_ERR_APP_INVALID listing every problem by path, the unsupported field named', async () => {
      const manifest = application('bad');
      (manifest['spec'] as Record<string, unknown>)['source'] = {
        repoURL: 'https://git.example.invalid/x.git',
        helm: { releaseName: 'x' },
      };
      (manifest['spec'] as Record<string, unknown>)['revisionHistoryLimit'] = 'ten';
      const res = await inject('POST', '/api/v1/applications', manifest);
      assert.equal(res.statusCode, 400);
      const body = res.json() as { code: string; details: Array<{ path: string; message: string }> };
      assert.equal(body.code, 'FERRY_ERR_APP_INVALID');
      const paths = body.details.map((d) => d.path);
      assert.ok(paths.includes('spec.source.helm'), paths.join(', '));
      assert.ok(paths.includes('spec.revisionHistoryLimit'), paths.join(', '));
      assert.equal(await appsKv.get('bad'), undefined);
    });

    it('accepts a manifest sent as YAML', async () => {
      const yaml = [
        'apiVersion: argoproj.io/v1alpha1',
        'kind: Application',
        'metadata: { name: from-yaml }',
        'spec:',
        '  source: { repoURL: "https://git.example.invalid/apps.git", path: y }',
        '  destination: { name: in-cluster, namespace: y }',
      ].join('\n');
      const res = await f.service.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: { ...auth(), 'content-type': 'application/yaml' },
        payload: yaml,
      });
      assert.equal(res.statusCode, 201);
    });

    it('answers 400 FERRY_ERR_API_BAD_REQUEST for a body that is not JSON', async () => {
      const res = await f.service.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '{"apiVersion":',
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'FERRY_ERR_API_BAD_REQUEST');
    });

    it('answers 415 for a body that is neither JSON nor YAML', async () => {
      const res = await f.service.app.inject({
        method: 'POST',
        url: '/api/v1/applications',
        headers: { ...auth(), 'content-type': 'text/plain' },
        payload: 'hello',
      });
      assert.equal(res.statusCode, 415);
      assert.equal(res.json().code, 'FERRY_ERR_API_UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 413 FERRY_ERR_API_BODY_TOO_LARGE for a body over the limit', async () => {
      const manifest = application('big');
      (manifest['metadata'] as Record<string, unknown>)['annotations'] = { filler: 'x'.repeat(8000) };
      const res = await inject('POST', '/api/v1/applications', manifest);
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().code, 'FERRY_ERR_API_BODY_TOO_LARGE');
      assert.equal(await appsKv.get('big'), undefined);
    });

    it('gets an app with the status composed from the four status records', async () => {
      await inject('POST', '/api/v1/applications', application('composed'));
      const revision = 'a'.repeat(40);
      const deploy = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'composed', name: 'web' };
      await kv.source.put('composed', {
        app: 'composed',
        repoURL: 'https://git.example.invalid/apps.git',
        targetRevision: 'main',
        revision,
        sourceType: 'Directory',
        resolvedAt: '2025-01-01T00:00:00.000Z',
        conditions: [],
      });
      await kv.comparison.put('composed', {
        app: 'composed',
        revision,
        artifactKey: 'k',
        status: 'Synced',
        resources: [{ ...deploy, status: 'Synced' }],
        comparedAt: '2025-01-01T00:00:01.000Z',
        conditions: [],
      });
      const history = [
        {
          id: 0,
          revision,
          deployStartedAt: '2025-01-01T00:00:02.000Z',
          deployedAt: '2025-01-01T00:00:03.000Z',
          source: { repoURL: 'https://git.example.invalid/apps.git' },
          initiatedBy: { automated: true },
          syncId: 's1',
          phase: 'Succeeded',
          resources: [],
        },
      ];
      await kv.operation.put('composed', { app: 'composed', history, conditions: [] });
      await kv.health.put('composed', {
        app: 'composed',
        status: 'Healthy',
        resources: [{ ...deploy, status: 'Healthy' }],
        changedAt: '2025-01-01T00:00:04.000Z',
        assessedAt: '2025-01-01T00:00:05.000Z',
      });
      const res = await inject('GET', '/api/v1/applications/composed');
      assert.equal(res.statusCode, 200);
      const status = res.json().status;
      assert.equal(status.sync.status, 'Synced');
      assert.equal(status.sync.revision, revision);
      assert.deepEqual(status.sync.comparedTo.destination, { server: 'https://kubernetes.default.svc', namespace: 'composed' });
      assert.equal(status.health.status, 'Healthy');
      assert.deepEqual(status.resources, [{ ...deploy, status: 'Synced', health: { status: 'Healthy' } }]);
      assert.deepEqual(status.history, history);
      assert.equal(status.reconciledAt, '2025-01-01T00:00:05.000Z');
      assert.equal(status.sourceType, 'Directory');
    });

    it('gets a new app with sync Unknown and health Unknown before any writer ran', async () => {
      await inject('POST', '/api/v1/applications', application('fresh'));
      const status = (await inject('GET', '/api/v1/applications/fresh')).json().status;
      assert.equal(status.sync.status, 'Unknown');
      assert.equal(status.health.status, 'Unknown');
      assert.deepEqual(status.resources, []);
    });

    it('requests a refresh with ?refresh=hard on get, and rejects other values', async () => {
      await inject('POST', '/api/v1/applications', application('get-refresh'));
      const before = f.events.filter((e) => e.subject === 'gitops.refresh.requested.get-refresh').length;
      assert.equal((await inject('GET', '/api/v1/applications/get-refresh?refresh=hard')).statusCode, 200);
      await f.waitForEvent(
        (e) => e.subject === 'gitops.refresh.requested.get-refresh' && (e.event.data as RefreshRequested).reason === 'manual',
      );
      assert.ok(f.events.filter((e) => e.subject === 'gitops.refresh.requested.get-refresh').length > before);
      assert.equal((await inject('GET', '/api/v1/applications/get-refresh?refresh=soft')).json().code, 'FERRY_ERR_API_BAD_REQUEST');
    });

    it('lists apps sorted by name with their status, filtered by ?project=', async () => {
      await inject('POST', '/api/v1/applications', application('list-b', { project: 'team' }));
      await inject('POST', '/api/v1/applications', application('list-a', { project: 'team' }));
      const all = (await inject('GET', '/api/v1/applications')).json().items as Array<{ metadata: { name: string }; status: unknown }>;
      const names = all.map((a) => a.metadata.name);
      assert.deepEqual(names, [...names].sort());
      assert.ok(names.includes('web') && names.includes('list-a'));
      assert.ok(all.every((a) => a.status !== undefined));
      const team = (await inject('GET', '/api/v1/applications?project=team')).json().items as Array<{ metadata: { name: string } }>;
      assert.deepEqual(
        team.map((a) => a.metadata.name),
        ['list-a', 'list-b'],
      );
    });

    it('deletes an app (200, app.deleted published) and answers 404 FERRY_ERR_APP_NOT_FOUND after', async () => {
      await inject('POST', '/api/v1/applications', application('doomed'));
      assert.equal((await inject('DELETE', '/api/v1/applications/doomed')).statusCode, 200);
      await f.waitForEvent((e) => e.subject === 'gitops.app.deleted.doomed');
      assert.equal(await appsKv.get('doomed'), undefined);
      for (const [method, url] of [
        ['GET', '/api/v1/applications/doomed'],
        ['DELETE', '/api/v1/applications/doomed'],
        ['POST', '/api/v1/applications/doomed/refresh'],
        ['POST', '/api/v1/applications/doomed/sync'],
        ['GET', '/api/v1/applications/doomed/history'],
      ] as const) {
        const res = await inject(method, url);
        assert.equal(res.statusCode, 404, `${method} ${url}`);
        assert.equal(res.json().code, 'FERRY_ERR_APP_NOT_FOUND');
      }
    });
    it('answers 404 for names that cannot be apps (KV wildcards, dots), never a 5xx', async () => {
      for (const name of ['%3E', '*', 'a.b', 'UPPER', 'x'.repeat(64)]) {
        for (const [method, suffix] of [
          ['GET', ''],
          ['DELETE', ''],
          ['POST', '/refresh'],
          ['POST', '/sync'],
          ['GET', '/history'],
        ] as const) {
          const res = await inject(method, `/api/v1/applications/${name}${suffix}`);
          assert.equal(res.statusCode, 404, `${method} ${name}${suffix}`);
          assert.equal(res.json().code, 'FERRY_ERR_APP_NOT_FOUND');
        }
      }
    });
  });

  describe('actions and history', () => {
    before(async () => {
      await inject('POST', '/api/v1/applications', application('acted'));
    });

    it('refresh answers 202 with a requestId and publishes refresh.requested (manual)', async () => {
      const res = await inject('POST', '/api/v1/applications/acted/refresh');
      assert.equal(res.statusCode, 202);
      const { requestId } = res.json() as { requestId: string };
      const got = await f.waitForEvent(
        (e) => e.subject === 'gitops.refresh.requested.acted' && (e.event.data as RefreshRequested).requestId === requestId,
      );
      assert.equal((got.event.data as RefreshRequested).reason, 'manual');
    });

    it('sync answers 202 and publishes sync.requested with initiatedBy = the token name, from an api.sync span', async () => {
      const res = await inject('POST', '/api/v1/applications/acted/sync', { prune: true }, auth(CI));
      assert.equal(res.statusCode, 202);
      const { requestId } = res.json() as { requestId: string };
      const got = await f.waitForEvent((e) => e.subject === 'gitops.sync.requested.acted');
      assert.deepEqual(got.event.data as SyncRequested, { app: 'acted', requestId, prune: true, initiatedBy: 'ci', kind: 'sync' });
      assert.equal(got.event.id, `sync.requested:acted:${requestId}`);
      const span = f.spans.getFinishedSpans().find((s) => s.name === 'api.sync' && s.attributes['ferry.app'] === 'acted');
      assert.ok(span);
      assert.equal(got.traceparent?.split('-')[1], span.spanContext().traceId);
    });

    it('sync with a JSON content type and no body means prune=false', async () => {
      const res = await f.service.app.inject({
        method: 'POST',
        url: '/api/v1/applications/acted/sync',
        headers: { ...auth(), 'content-type': 'application/json' },
      });
      assert.equal(res.statusCode, 202);
      const { requestId } = res.json() as { requestId: string };
      const got = await f.waitForEvent((e) => (e.event.data as SyncRequested).requestId === requestId);
      assert.equal((got.event.data as SyncRequested).prune, false);
      assert.equal((got.event.data as SyncRequested).initiatedBy, 'alice');
    });

    it('sync answers 400 naming an unsupported field', async () => {
      const res = await inject('POST', '/api/v1/applications/acted/sync', { strategy: { apply: {} } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'FERRY_ERR_API_BAD_REQUEST');
      assert.deepEqual(res.json().details, [
        { path: 'strategy', message: 'is not supported (supported: revision, prune, dryRun, resources, syncOptions)' },
      ]);
    });

    it("continues the caller's trace when the request carries traceparent", async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const res = await f.service.app.inject({
        method: 'POST',
        url: '/api/v1/applications/acted/refresh',
        headers: { ...auth(), traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      const { requestId } = res.json() as { requestId: string };
      const got = await f.waitForEvent((e) => (e.event.data as RefreshRequested).requestId === requestId);
      assert.equal(got.traceparent?.split('-')[1], traceId);
    });

    it("history lists the operation record's entries (empty before any sync)", async () => {
      assert.deepEqual((await inject('GET', '/api/v1/applications/acted/history')).json(), { items: [] });
      const entry = {
        id: 0,
        revision: 'b'.repeat(40),
        deployStartedAt: '2025-01-01T00:00:00.000Z',
        deployedAt: '2025-01-01T00:00:01.000Z',
        source: { repoURL: 'https://git.example.invalid/apps.git' },
        initiatedBy: { username: 'ci' },
        syncId: 'x',
        phase: 'Succeeded',
        resources: [],
      };
      await kv.operation.put('acted', { app: 'acted', history: [entry], conditions: [] });
      assert.deepEqual((await inject('GET', '/api/v1/applications/acted/history')).json(), { items: [entry] });
    });
  });

  describe('metrics', () => {
    it('passes promtool check metrics', async (t) => {
      const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
      if (!promtool) {
        t.skip('promtool not found (apt-get install -y prometheus)');
        return;
      }
      await inject('GET', '/api/v1/applications');
      const text = await f.registry.metrics();
      assert.match(text, /ferry_api_requests_total\{/);
      const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    });

    it('counts requests by route template, never by raw URL', async () => {
      await inject('PUT', '/api/v1/applications/measured', application('measured'));
      await inject('GET', '/api/v1/applications/measured');
      await inject('GET', '/api/v1/does-not-exist');
      const text = await f.registry.metrics();
      assert.match(text, /ferry_api_requests_total\{route="\/api\/v1\/applications\/:name",method="GET",code="200"/);
      assert.match(text, /ferry_api_requests_total\{route="unmatched",method="GET",code="404"/);
      assert.match(text, /ferry_api_request_duration_seconds_count\{[^}]*route="\/api\/v1\/applications\/:name",method="GET"\}/);
      assert.doesNotMatch(text, /applications\/measured"/);
      assert.doesNotMatch(text, /does-not-exist/);
    });
  });
});
