import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RefreshRequested } from '@ferry/contracts';
import { application, auth, startApiFixture, type ApiFixture } from './helpers.js';

const SECRET = 'hook-secret-0123';

function githubPush(repo: string, ref: string): { payload: string; headers: Record<string, string> } {
  const payload = JSON.stringify({
    ref,
    after: 'b'.repeat(40),
    repository: { clone_url: `${repo}.git`, html_url: repo, default_branch: 'main' },
  });
  const sig = createHmac('sha256', SECRET).update(payload).digest('hex');
  return { payload, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sig}` } };
}

describe('Git webhook (POST /api/webhook)', () => {
  let f: ApiFixture;
  before(async () => {
    f = await startApiFixture({ FERRY_API_WEBHOOK_SECRET: SECRET });
    const withRevision = (name: string, repoURL: string, targetRevision: string) => {
      const a = application(name) as { spec: { source: Record<string, unknown> } };
      a.spec.source['repoURL'] = repoURL;
      a.spec.source['targetRevision'] = targetRevision;
      return a;
    };
    for (const a of [
      withRevision('hook-main', 'https://git.example.invalid/org/apps.git', 'main'),
      withRevision('hook-head', 'https://git.example.invalid/org/apps', 'HEAD'),
      withRevision('hook-release', 'https://git.example.invalid/org/apps.git', 'release'),
      withRevision('hook-other', 'https://git.example.invalid/org/other.git', 'main'),
    ]) {
      const res = await f.service.app.inject({ method: 'POST', url: '/api/v1/applications', headers: auth(), payload: a });
      assert.equal(res.statusCode, 201);
    }
  });
  after(async () => f.close());

  it('refreshes the apps a signed GitHub push touched (reason webhook), without a bearer token', async () => {
    const { payload, headers } = githubPush('https://github.com/ignored', 'refs/heads/main');
    const hook = githubPush('https://git.example.invalid/org/apps', 'refs/heads/main');
    const res = await f.service.app.inject({ method: 'POST', url: '/api/webhook', headers: hook.headers, payload: hook.payload });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { provider: 'github', refreshed: ['hook-head', 'hook-main'] });
    for (const app of ['hook-head', 'hook-main']) {
      await f.waitForEvent(
        (e) => e.subject === `gitops.refresh.requested.${app}` && (e.event.data as RefreshRequested).reason === 'webhook',
      );
    }
    assert.equal(
      f.events.some((e) => e.subject.endsWith('.hook-release') && (e.event.data as RefreshRequested).reason === 'webhook'),
      false,
    );
    assert.equal(
      f.events.some((e) => e.subject.endsWith('.hook-other') && (e.event.data as RefreshRequested).reason === 'webhook'),
      false,
    );
    // a push to a repository no app uses refreshes nothing
    const none = await f.service.app.inject({ method: 'POST', url: '/api/webhook', headers, payload });
    assert.deepEqual(none.json(), { provider: 'github', refreshed: [] });
  });

  it('answers 401 FERRY_ERR_API_WEBHOOK_SIGNATURE for a wrong signature or a tampered body, refreshing nothing', async () => {
    const hook = githubPush('https://git.example.invalid/org/apps', 'refs/heads/release');
    const before = f.events.length;
    const tampered = await f.service.app.inject({
      method: 'POST',
      url: '/api/webhook',
      headers: hook.headers,
      payload: hook.payload.replace('release', 'main'),
    });
    assert.equal(tampered.statusCode, 401);
    assert.equal(tampered.json().code, 'FERRY_ERR_API_WEBHOOK_SIGNATURE');
    const unsigned = await f.service.app.inject({
      method: 'POST',
      url: '/api/webhook',
      headers: { ...hook.headers, 'x-hub-signature-256': '' },
      payload: hook.payload,
    });
    assert.equal(unsigned.statusCode, 401);
    await f.nc.flush();
    assert.equal(f.events.length, before);
  });

  it('answers 400 FERRY_ERR_API_WEBHOOK_INVALID for a request from no known provider', async () => {
    const res = await f.service.app.inject({
      method: 'POST',
      url: '/api/webhook',
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'FERRY_ERR_API_WEBHOOK_INVALID');
  });

  it('acknowledges a GitHub ping without refreshing', async () => {
    const payload = JSON.stringify({ zen: 'Keep it logically awesome.' });
    const sig = createHmac('sha256', SECRET).update(payload).digest('hex');
    const res = await f.service.app.inject({
      method: 'POST',
      url: '/api/webhook',
      headers: { 'content-type': 'application/json', 'x-github-event': 'ping', 'x-hub-signature-256': `sha256=${sig}` },
      payload,
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().refreshed, []);
  });
});

describe('Git webhook without a configured secret', () => {
  it('is disabled: an unsigned push is refused and refreshes nothing', async () => {
    const f = await startApiFixture();
    try {
      const hook = githubPush('https://git.example.invalid/org/apps', 'refs/heads/main');
      const res = await f.service.app.inject({ method: 'POST', url: '/api/webhook', headers: hook.headers, payload: hook.payload });
      assert.ok(res.statusCode === 401 || res.statusCode === 404, String(res.statusCode));
      const withToken = await f.service.app.inject({
        method: 'POST',
        url: '/api/webhook',
        headers: { ...hook.headers, ...auth() },
        payload: hook.payload,
      });
      assert.equal(withToken.statusCode, 404);
      assert.equal(withToken.json().code, 'FERRY_ERR_API_ROUTE_NOT_FOUND');
    } finally {
      await f.close();
    }
  });
});
