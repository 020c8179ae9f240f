import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { appsToRefresh, detectProvider, normalizeRepoURL, readWebhookPush, verifyWebhook, type WebhookPush } from '../../src/index.js';

const secret = 'webhook-secret-1';
const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main' }));
const hmac = (key: string, data: Buffer): string => createHmac('sha256', key).update(data).digest('hex');

describe('webhook verification', () => {
  it("accepts each provider's signature made with the secret", () => {
    const sig = hmac(secret, body);
    const cases: Array<Record<string, string>> = [
      { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sig}` },
      { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': secret },
      { 'x-gitea-signature': sig },
      { 'x-gogs-signature': sig },
      { 'x-event-key': 'repo:refs_changed', 'x-hub-signature': `sha256=${sig}` },
      { 'x-ferry-signature': `sha256=${sig}` },
    ];
    for (const headers of cases) {
      const provider = detectProvider(headers);
      assert.ok(provider, JSON.stringify(headers));
      assert.equal(verifyWebhook(provider, headers, body, secret), true, provider);
    }
  });

  it('refuses a wrong secret, a tampered body, a missing or malformed signature', () => {
    const good = { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmac(secret, body)}` };
    assert.equal(verifyWebhook('github', good, Buffer.from('{"ref":"refs/heads/evil"}'), secret), false);
    assert.equal(verifyWebhook('github', { ...good, 'x-hub-signature-256': `sha256=${hmac('other-secret', body)}` }, body, secret), false);
    assert.equal(verifyWebhook('github', { 'x-github-event': 'push' }, body, secret), false);
    assert.equal(verifyWebhook('github', { ...good, 'x-hub-signature-256': 'sha256=zz' }, body, secret), false);
    assert.equal(verifyWebhook('gitlab', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'webhook-secret-2' }, body, secret), false);
    assert.equal(detectProvider({ 'content-type': 'application/json' }), undefined);
  });
});

describe('webhook payloads', () => {
  it('reads a GitHub push: repository URLs, branch and whether it is the default branch', () => {
    const reading = readWebhookPush(
      'github',
      { 'x-github-event': 'push' },
      {
        ref: 'refs/heads/main',
        repository: { clone_url: 'https://github.com/org/apps.git', html_url: 'https://github.com/org/apps', default_branch: 'main' },
      },
    );
    assert.deepEqual(reading, {
      kind: 'push',
      push: { repoURLs: ['https://github.com/org/apps.git', 'https://github.com/org/apps'], revision: 'main', touchedHead: true },
    });
  });

  it('ignores GitHub pings and GitLab merge request events', () => {
    assert.equal(readWebhookPush('github', { 'x-github-event': 'ping' }, { zen: 'hi' }).kind, 'ignored');
    assert.equal(readWebhookPush('gitlab', { 'x-gitlab-event': 'Merge Request Hook' }, {}).kind, 'ignored');
  });

  it('reads GitLab tag pushes and Bitbucket Server ref changes', () => {
    const gitlab = readWebhookPush(
      'gitlab',
      { 'x-gitlab-event': 'Tag Push Hook' },
      {
        ref: 'refs/tags/v1.2.0',
        project: { git_http_url: 'https://gitlab.example/org/apps.git', default_branch: 'main' },
      },
    );
    assert.deepEqual(gitlab, {
      kind: 'push',
      push: { repoURLs: ['https://gitlab.example/org/apps.git'], revision: 'v1.2.0', touchedHead: false },
    });
    const bitbucket = readWebhookPush(
      'bitbucket-server',
      { 'x-event-key': 'repo:refs_changed' },
      {
        repository: { links: { clone: [{ href: 'https://bb.example/scm/org/apps.git', name: 'http' }] } },
        changes: [{ ref: { id: 'refs/heads/release' } }],
      },
    );
    assert.deepEqual(bitbucket, {
      kind: 'push',
      push: { repoURLs: ['https://bb.example/scm/org/apps.git'], revision: 'release', touchedHead: true },
    });
  });

  it('says what is missing in a payload without a repository', () => {
    assert.deepEqual(readWebhookPush('generic', {}, { ref: 'main' }), { kind: 'invalid', problem: 'the payload names no repository URL' });
    assert.equal(readWebhookPush('generic', {}, 'text').kind, 'invalid');
  });
});

describe('apps a push refreshes', () => {
  it('normalises repository URLs (scheme, credentials, .git, case, scp form)', () => {
    const same = [
      'https://GitHub.com/org/apps.git',
      'http://user:pw@github.com/org/apps/',
      'git@github.com:org/apps.git',
      'ssh://git@github.com/org/apps',
      'https://github.com:443/org/apps',
    ];
    assert.deepEqual(new Set(same.map(normalizeRepoURL)), new Set(['github.com/org/apps']));
    assert.notEqual(normalizeRepoURL('https://github.com/org/apps2'), normalizeRepoURL('https://github.com/org/apps'));
  });

  const apps = [
    { name: 'main-app', repoURL: 'https://github.com/org/apps.git', targetRevision: 'main' },
    { name: 'head-app', repoURL: 'https://github.com/org/apps' },
    { name: 'empty-rev', repoURL: 'https://github.com/org/apps', targetRevision: '' },
    { name: 'release-app', repoURL: 'https://github.com/org/apps', targetRevision: 'release' },
    { name: 'tag-app', repoURL: 'https://github.com/org/apps', targetRevision: 'v1.2.0' },
    { name: 'pinned', repoURL: 'https://github.com/org/apps', targetRevision: 'a'.repeat(40) },
    { name: 'other-repo', repoURL: 'https://github.com/org/other', targetRevision: 'main' },
  ];
  const push = (p: Partial<WebhookPush>): WebhookPush => ({ repoURLs: ['https://github.com/org/apps.git'], touchedHead: false, ...p });

  it('refreshes apps on the pushed branch and, for the default branch, apps tracking HEAD', () => {
    assert.deepEqual(appsToRefresh(push({ revision: 'main', touchedHead: true }), apps), ['empty-rev', 'head-app', 'main-app']);
  });

  it('refreshes only the apps on a non-default branch or tag', () => {
    assert.deepEqual(appsToRefresh(push({ revision: 'release' }), apps), ['release-app']);
    assert.deepEqual(appsToRefresh(push({ revision: 'v1.2.0' }), apps), ['tag-app']);
  });

  it("refreshes every app of the repository when the ref is unknown, and never another repository's", () => {
    assert.deepEqual(appsToRefresh(push({ touchedHead: true }), apps), [
      'empty-rev',
      'head-app',
      'main-app',
      'pinned',
      'release-app',
      'tag-app',
    ]);
  });
});
