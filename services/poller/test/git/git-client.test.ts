import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLocalRepo, startGitServer, tempDir } from '@ferry/testing';
import type { GitServerHandle, LocalRepoHandle, TempDir } from '@ferry/testing';
import { createGitClient } from '../../src/git/git-client.js';
import type { GitClientOptions, GitRequestKind } from '../../src/git/git-client.js';
import { resolveRevision } from '../../src/domain/refs.js';
import { GitError } from '../../src/domain/errors.js';

interface RequestRecord {
  kind: GitRequestKind;
  url: string;
  ok: boolean;
}

function recordingClient(cacheDir: string, extra: Partial<GitClientOptions> = {}) {
  const requests: RequestRecord[] = [];
  const client = createGitClient({
    cacheDir,
    onRequest: (kind, url, durationMs, ok) => {
      assert.ok(durationMs >= 0);
      requests.push({ kind, url, ok });
    },
    ...extra,
  });
  const count = (kind: GitRequestKind) => requests.filter((r) => r.kind === kind).length;
  return { client, requests, count };
}

function isGitError(code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof GitError, `expected GitError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('a local repository (absolute path or file:// URL)', () => {
  let tmp: TempDir;
  let repo: LocalRepoHandle;
  let first: string;
  let second: string;

  before(async () => {
    tmp = await tempDir('ferry-poller-git');
    repo = await createLocalRepo(join(tmp.path, 'repo'), { 'k8s/cm.yaml': cm('one') });
    first = await repo.head();
    await repo.tag('v1');
    await repo.tag('v1-annotated', { annotated: true, message: 'release' });
    await writeFile(join(repo.workdir, 'run.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(repo.workdir, 'run.sh'), 0o755);
    await symlink('k8s/cm.yaml', join(repo.workdir, 'link.yaml'));
    second = await repo.commit({ 'k8s/cm.yaml': cm('two') }, 'second');
    await repo.branch('release', { from: first });
  });
  after(() => tmp.cleanup());

  test('its refs list HEAD, branches and tags, and every revision form resolves', async () => {
    const { client, count } = recordingClient(join(tmp.path, 'cache-a'));
    const listing = await client.listRefs(repo.workdir);
    assert.equal(listing.repoURL, repo.workdir);
    assert.equal(listing.headRef, 'refs/heads/main');
    assert.deepEqual(listing.branches, { main: second, release: first });
    assert.deepEqual(listing.tags, { v1: first, 'v1-annotated': first });
    assert.equal(resolveRevision(listing, ''), second);
    assert.equal(resolveRevision(listing, 'HEAD'), second);
    assert.equal(resolveRevision(listing, 'main'), second);
    assert.equal(resolveRevision(listing, 'refs/heads/release'), first);
    assert.equal(resolveRevision(listing, 'v1-annotated'), first);
    assert.equal(resolveRevision(listing, first), first);
    assert.throws(() => resolveRevision(listing, 'missing'), isGitError('FERRY_ERR_GIT_REVISION_NOT_FOUND'));
    assert.equal(count('ls-remote'), 1);
  });

  test('a file:// URL lists the same refs as the path', async () => {
    const { client } = recordingClient(join(tmp.path, 'cache-b'));
    const byPath = await client.listRefs(repo.workdir);
    const byUrl = await client.listRefs(pathToFileURL(repo.workdir).href);
    assert.deepEqual(byUrl.branches, byPath.branches);
    assert.deepEqual(byUrl.tags, byPath.tags);
    assert.equal(byUrl.head, byPath.head);
  });

  test('checkout lays out the tree of the commit: contents, executable bit, symlinks', async () => {
    const { client, count } = recordingClient(join(tmp.path, 'cache-c'));
    const dirSecond = await client.checkout(repo.workdir, second);
    const dirFirst = await client.checkout(repo.workdir, first);
    assert.equal(dirSecond, join(tmp.path, 'cache-c', 'trees', second));
    assert.equal(await readFile(join(dirSecond, 'k8s/cm.yaml'), 'utf8'), cm('two'));
    assert.equal(await readFile(join(dirFirst, 'k8s/cm.yaml'), 'utf8'), cm('one'));
    assert.equal((await stat(join(dirSecond, 'run.sh'))).mode & 0o111, 0o111);
    assert.equal(await readlink(join(dirSecond, 'link.yaml')), 'k8s/cm.yaml');
    await assert.rejects(stat(join(dirFirst, 'run.sh')), { code: 'ENOENT' });
    await assert.rejects(stat(join(dirSecond, '.git')), { code: 'ENOENT' });
    assert.equal(count('fetch'), 0, 'a local repository is read in place, never fetched');
  });

  test('a second checkout of a commit reuses the tree already laid out', async () => {
    const { client } = recordingClient(join(tmp.path, 'cache-d'));
    const dir = await client.checkout(repo.workdir, second);
    await writeFile(join(dir, 'marker'), 'x');
    assert.equal(await client.checkout(repo.workdir, second), dir);
    assert.equal(await readFile(join(dir, 'marker'), 'utf8'), 'x');
  });

  test('a commit the repository does not hold is FERRY_ERR_GIT_REVISION_NOT_FOUND', async () => {
    const { client } = recordingClient(join(tmp.path, 'cache-e'));
    await assert.rejects(client.checkout(repo.workdir, 'f'.repeat(40)), isGitError('FERRY_ERR_GIT_REVISION_NOT_FOUND'));
    await assert.rejects(client.checkout(repo.workdir, 'main'), isGitError('FERRY_ERR_GIT_REVISION_NOT_FOUND'));
  });

  test('a missing path or a directory that is not a repository is FERRY_ERR_GIT_UNREACHABLE', async () => {
    const { client, requests } = recordingClient(join(tmp.path, 'cache-f'));
    await assert.rejects(client.listRefs(join(tmp.path, 'nope')), isGitError('FERRY_ERR_GIT_UNREACHABLE'));
    await assert.rejects(client.listRefs(tmp.path), isGitError('FERRY_ERR_GIT_UNREACHABLE'));
    assert.deepEqual(
      requests.map((r) => [r.kind, r.ok]),
      [
        ['ls-remote', false],
        ['ls-remote', false],
      ],
    );
  });

  test('ssh, scp-like and relative repository URLs are FERRY_ERR_GIT_URL_UNSUPPORTED', async () => {
    const { client } = recordingClient(join(tmp.path, 'cache-g'));
    for (const url of ['ssh://git@github.com/a/b.git', 'git@github.com:a/b.git', 'git://host/a.git', 'relative/path']) {
      await assert.rejects(client.listRefs(url), isGitError('FERRY_ERR_GIT_URL_UNSUPPORTED'), url);
    }
  });
});

describe('a repository over smart HTTP', () => {
  let tmp: TempDir;
  let server: GitServerHandle;

  before(async () => {
    tmp = await tempDir('ferry-poller-http');
    server = await startGitServer();
  });
  after(async () => {
    await server.close();
    await tmp.cleanup();
  });

  test('its refs list HEAD, branches and peeled annotated tags in one request', async () => {
    const repo = await server.createRepo('refs', { 'a.yaml': cm('a') });
    const first = await repo.head();
    await repo.tag('v1', { annotated: true });
    await repo.tag('light');
    const second = await repo.commit({ 'a.yaml': cm('b') });
    await repo.branch('stable', { from: first });
    const { client, requests } = recordingClient(join(tmp.path, 'cache-refs'));
    const listing = await client.listRefs(repo.url);
    assert.equal(listing.repoURL, repo.url);
    assert.equal(listing.head, second);
    assert.equal(listing.headRef, 'refs/heads/main');
    assert.deepEqual(listing.branches, { main: second, stable: first });
    assert.deepEqual(listing.tags, { light: first, v1: first });
    assert.equal(resolveRevision(listing, 'v1'), first);
    assert.deepEqual(requests, [{ kind: 'ls-remote', url: repo.url, ok: true }]);
  });

  test('checking out a commit twice fetches once; a new commit fetches again, old trees stay', async () => {
    const repo = await server.createRepo('twice', { 'k8s/a.yaml': cm('a') });
    const first = await repo.head();
    const { client, count } = recordingClient(join(tmp.path, 'cache-twice'));
    const dir1 = await client.checkout(repo.url, first);
    assert.equal(await client.checkout(repo.url, first), dir1);
    assert.equal(count('fetch'), 1);
    assert.equal(await readFile(join(dir1, 'k8s/a.yaml'), 'utf8'), cm('a'));

    const second = await repo.commit({ 'k8s/a.yaml': cm('b') });
    const dir2 = await client.checkout(repo.url, second);
    assert.equal(count('fetch'), 2);
    assert.equal(await readFile(join(dir2, 'k8s/a.yaml'), 'utf8'), cm('b'));
    assert.equal(await readFile(join(dir1, 'k8s/a.yaml'), 'utf8'), cm('a'));

    // A fresh client on the same cache finds the mirror: no fetch for a commit it already holds.
    const again = recordingClient(join(tmp.path, 'cache-twice'));
    await rmTree(dir2);
    assert.equal(await again.client.checkout(repo.url, second), dir2);
    assert.equal(again.count('fetch'), 0);
  });

  test('concurrent checkouts of one repository are serialised and all succeed', async () => {
    const repo = await server.createRepo('concurrent', { 'f.yaml': cm('0') });
    const shas = [await repo.head()];
    for (let i = 1; i < 4; i++) shas.push(await repo.commit({ 'f.yaml': cm(String(i)) }));
    const { client, count } = recordingClient(join(tmp.path, 'cache-concurrent'));
    const dirs = await Promise.all([...shas, ...shas].map((sha) => client.checkout(repo.url, sha)));
    for (let i = 0; i < shas.length; i++) {
      assert.equal(await readFile(join(dirs[i] as string, 'f.yaml'), 'utf8'), cm(String(i)));
      assert.equal(dirs[i + shas.length], dirs[i]);
    }
    assert.equal(count('fetch'), 1, 'the first fetch brings every branch; later calls find their commit');
  });

  test('a commit no ref reaches any more is FERRY_ERR_GIT_REVISION_NOT_FOUND', async () => {
    const repo = await server.createRepo('rewritten', { 'f.yaml': cm('0') });
    const first = await repo.head();
    const dropped = await repo.commit({ 'f.yaml': cm('1') });
    await repo.reset(first);
    const { client } = recordingClient(join(tmp.path, 'cache-rewritten'));
    await assert.rejects(client.checkout(repo.url, dropped), isGitError('FERRY_ERR_GIT_REVISION_NOT_FOUND'));
  });

  test('a repository that does not exist, or a server that is down, is FERRY_ERR_GIT_UNREACHABLE', async () => {
    const { client, requests } = recordingClient(join(tmp.path, 'cache-missing'));
    await assert.rejects(client.listRefs(server.repoUrl('nope')), isGitError('FERRY_ERR_GIT_UNREACHABLE'));
    const down = await startGitServer();
    const downUrl = down.repoUrl('gone');
    await down.close();
    await assert.rejects(client.listRefs(downUrl), isGitError('FERRY_ERR_GIT_UNREACHABLE'));
    await assert.rejects(client.checkout(downUrl, 'a'.repeat(40)), isGitError('FERRY_ERR_GIT_UNREACHABLE'));
    assert.deepEqual(
      requests.map((r) => [r.kind, r.ok]),
      [
        ['ls-remote', false],
        ['ls-remote', false],
        ['fetch', false],
      ],
    );
  });
});

describe('a repository behind HTTP basic auth', () => {
  const password = 's3cr3t-p4ss';
  let tmp: TempDir;
  let server: GitServerHandle;
  let url: string;
  let sha: string;

  before(async () => {
    tmp = await tempDir('ferry-poller-auth');
    server = await startGitServer({ auth: { username: 'ferry', password } });
    const repo = await server.createRepo('private', { 'a.yaml': cm('a') });
    url = repo.url;
    sha = await repo.head();
  });
  after(async () => {
    await server.close();
    await tmp.cleanup();
  });

  test('with no credentials configured it is FERRY_ERR_GIT_AUTH', async () => {
    const { client } = recordingClient(join(tmp.path, 'c1'));
    await assert.rejects(client.listRefs(url), isGitError('FERRY_ERR_GIT_AUTH'));
    await assert.rejects(client.checkout(url, sha), isGitError('FERRY_ERR_GIT_AUTH'));
  });

  test('with wrong credentials it is FERRY_ERR_GIT_AUTH, and no password shows in the error or its cause', async () => {
    const wrong = 'wrong-pass-42';
    const withCreds = url.replace('http://', `http://ferry:${wrong}@`);
    const { client, requests } = recordingClient(join(tmp.path, 'c2'), { credentials: () => ({ username: 'ferry', password: wrong }) });
    for (const target of [url, withCreds]) {
      const error = await client.listRefs(target).then(
        () => assert.fail('expected an error'),
        (e: unknown) => e as GitError,
      );
      assert.equal(error.code, 'FERRY_ERR_GIT_AUTH');
      const text = `${error.message} ${error.repoURL} ${String((error.cause as Error).message)} ${String((error.cause as Error).stack)} ${JSON.stringify(error)}`;
      assert.ok(!text.includes(wrong), text);
    }
    for (const r of requests) assert.ok(!r.url.includes(wrong));
  });

  test('credentials from the callback or embedded in the URL work, and never reach the listing or metrics', async () => {
    const viaCallback = recordingClient(join(tmp.path, 'c3'), {
      credentials: (repoURL) => (repoURL === url ? { username: 'ferry', password } : undefined),
    });
    const listing = await viaCallback.client.listRefs(url);
    assert.equal(listing.head, sha);
    const dir = await viaCallback.client.checkout(url, sha);
    assert.equal(await readFile(join(dir, 'a.yaml'), 'utf8'), cm('a'));

    const embedded = recordingClient(join(tmp.path, 'c4'));
    const withCreds = server.repoUrl('private', { credentials: true });
    assert.ok(withCreds.includes(password));
    const listing2 = await embedded.client.listRefs(withCreds);
    assert.equal(listing2.head, sha);
    assert.equal(listing2.repoURL, url);
    await embedded.client.checkout(withCreds, sha);
    for (const r of [...viaCallback.requests, ...embedded.requests]) assert.ok(!r.url.includes(password) && r.ok, JSON.stringify(r));
  });
});

async function rmTree(dir: string): Promise<void> {
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true });
}

describe('a server that stalls', () => {
  test('a request with no data for idleTimeoutMs fails with FERRY_ERR_GIT_UNREACHABLE instead of hanging', async () => {
    const { createServer } = await import('node:http');
    const held: Array<{ destroy(): void }> = [];
    const server = createServer((req) => {
      held.push(req.socket); // accept, never answer
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const tmp = await tempDir('ferry-poller-stall');
    try {
      const { client } = recordingClient(tmp.path, { idleTimeoutMs: 300 });
      const started = Date.now();
      await assert.rejects(
        client.listRefs(`http://127.0.0.1:${port}/repo.git`),
        (error: unknown) => isGitError('FERRY_ERR_GIT_UNREACHABLE')(error) && /300 ms/.test((error as Error).message),
      );
      assert.ok(Date.now() - started < 5000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tmp.cleanup();
    }
  });
});
