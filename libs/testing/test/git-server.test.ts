import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { clone, getRemoteInfo2, listServerRefs, resolveRef } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { createLocalRepo, requireTool, startGitServer, tempDir } from '@ferry/testing';

const exec = promisify(execFile);
const gitEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = async (args: string[], cwd?: string) =>
  (
    await exec(
      'git',
      ['-c', 'user.name=Someone', '-c', 'user.email=someone@example.invalid', ...args],
      { cwd, env: gitEnv },
    )
  ).stdout.trim();

test('a repository created on the Git server is cloned by real git over HTTP and sees later commits and tags', async (t) => {
  if (!requireTool('git', t)) return;
  const server = await startGitServer();
  t.after(() => server.close());
  const work = await tempDir('git-client');
  t.after(() => work.cleanup());

  const repo = await server.createRepo('apps', { 'k8s/a.yaml': 'kind: ConfigMap\n', 'README.md': 'hi\n' });
  assert.equal(repo.url, `${server.url}/apps.git`);
  const first = await repo.head();

  const dir = join(work.path, 'clone');
  await git(['clone', '-q', repo.url, dir]);
  assert.equal(await git(['rev-parse', 'HEAD'], dir), first);
  assert.equal(await git(['rev-parse', '--abbrev-ref', 'HEAD'], dir), 'main');
  assert.equal(await readFile(join(dir, 'k8s/a.yaml'), 'utf8'), 'kind: ConfigMap\n');

  const second = await repo.commit({ 'k8s/a.yaml': null, 'k8s/b.yaml': 'kind: Secret\n' }, 'swap');
  assert.notEqual(second, first);
  await repo.tag('v1.0.0', { annotated: true });
  await repo.tag('light', { ref: first });
  await git(['pull', '-q', '--tags'], dir);
  assert.equal(await git(['rev-parse', 'HEAD'], dir), second);
  assert.deepEqual(await readdir(join(dir, 'k8s')), ['b.yaml']);
  assert.equal(await git(['rev-parse', 'v1.0.0^{commit}'], dir), second);
  assert.equal(await git(['cat-file', '-t', 'v1.0.0'], dir), 'tag');
  assert.equal(await git(['rev-parse', 'light'], dir), first);

  // a push by a client lands in the repository, and the fixture's branch helper is visible remotely
  await fs.promises.writeFile(join(dir, 'pushed.txt'), 'from client\n');
  await git(['add', '-A'], dir);
  await git(['commit', '-q', '-m', 'client push'], dir);
  await git(['push', '-q', 'origin', 'main'], dir);
  const pushed = await git(['rev-parse', 'HEAD'], dir);
  const remote = await git(['ls-remote', repo.url, 'refs/heads/main']);
  assert.equal(remote.split('\t')[0], pushed);
  await repo.branch('feature', { from: first });
  assert.match(await git(['ls-remote', repo.url, 'refs/heads/feature']), new RegExp(`^${first}`));
});

test('a Git server with auth answers 401 without credentials, and real git clones with them', async (t) => {
  if (!requireTool('git', t)) return;
  const server = await startGitServer({ auth: { username: 'bot', password: 's3cret' } });
  t.after(() => server.close());
  const work = await tempDir('git-client');
  t.after(() => work.cleanup());
  const repo = await server.createRepo('private', { 'a.txt': 'a\n' });

  const res = await fetch(`${repo.url}/info/refs?service=git-upload-pack`);
  await res.arrayBuffer();
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /);
  await assert.rejects(git(['clone', '-q', repo.url, join(work.path, 'anon')]));
  await git(['clone', '-q', server.repoUrl('private', { credentials: true }), join(work.path, 'authed')]);
  assert.equal(await git(['rev-parse', 'HEAD'], join(work.path, 'authed')), await repo.head());
  const info = await getRemoteInfo2({
    http,
    url: repo.url,
    onAuth: () => ({ username: 'bot', password: 's3cret' }),
  });
  assert.equal(info.protocolVersion, 2);
});

test('isomorphic-git lists refs over protocol v2 and v1 and clones from the Git server', async (t) => {
  if (!requireTool('git', t)) return;
  const server = await startGitServer();
  t.after(() => server.close());
  const work = await tempDir('git-iso');
  t.after(() => work.cleanup());
  const repo = await server.createRepo('iso', { 'a.yaml': 'a: 1\n' });
  const sha = await repo.commit({ 'b.yaml': 'b: 2\n' });
  await repo.tag('v2', { annotated: true });

  const v2 = await getRemoteInfo2({ http, url: repo.url, protocolVersion: 2 });
  assert.equal(v2.protocolVersion, 2);
  assert.ok('ls-refs' in v2.capabilities);
  const v1 = await getRemoteInfo2({ http, url: repo.url, protocolVersion: 1 });
  assert.equal(v1.protocolVersion, 1);
  assert.ok(v1.refs?.some((r) => r.ref === 'refs/heads/main' && r.oid === sha));

  for (const protocolVersion of [1, 2] as const) {
    const refs = await listServerRefs({ http, url: repo.url, protocolVersion, symrefs: true, peelTags: true });
    const main = refs.find((r) => r.ref === 'refs/heads/main');
    assert.equal(main?.oid, sha, `protocol v${protocolVersion}`);
    const tag = refs.find((r) => r.ref === 'refs/tags/v2');
    assert.equal(tag?.peeled, sha, `protocol v${protocolVersion}`);
    const head = refs.find((r) => r.ref === 'HEAD');
    assert.equal(head?.target, 'refs/heads/main', `protocol v${protocolVersion}`);
  }

  const dir = join(work.path, 'iso');
  await clone({ fs, http, dir, url: repo.url, singleBranch: true, depth: 1 });
  assert.equal(await resolveRef({ fs, dir, ref: 'HEAD' }), sha);
  assert.equal(await readFile(join(dir, 'b.yaml'), 'utf8'), 'b: 2\n');
});

test('the Git server passes Git-Protocol and gzip Content-Encoding through to git http-backend', async (t) => {
  if (!requireTool('git', t)) return;
  const server = await startGitServer();
  t.after(() => server.close());
  const repo = await server.createRepo('gz', { 'a.txt': 'a\n' });
  const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
  const request = `${pkt('command=ls-refs\n')}0001${pkt('symrefs\n')}0000`;
  const res = await fetch(`${repo.url}/git-upload-pack`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-git-upload-pack-request',
      'Content-Encoding': 'gzip',
      'Git-Protocol': 'version=2',
    },
    body: gzipSync(request),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-git-upload-pack-result');
  const text = await res.text();
  assert.ok(text.includes(`${await repo.head()} refs/heads/main`), text);
  assert.ok(text.includes('HEAD symref-target:refs/heads/main'), text);

  const missing = await fetch(`${server.url}/nope.git/info/refs?service=git-upload-pack`);
  await missing.arrayBuffer();
  assert.equal(missing.status, 404);
});

test('a local repository is created with a first commit and takes further commits, tags and branches', async (t) => {
  if (!requireTool('git', t)) return;
  const work = await tempDir('git-local');
  t.after(() => work.cleanup());
  const dir = join(work.path, 'repo');
  const repo = await createLocalRepo(dir, { 'x.yaml': 'x: 1\n' });
  const first = await repo.head();
  const second = await repo.commit({ 'x.yaml': 'x: 2\n' }, 'bump');
  await repo.tag('v1');
  await repo.branch('next', { checkout: true });
  const third = await repo.commit({ 'y.yaml': 'y: 1\n' });
  assert.equal(repo.currentBranch, 'next');
  assert.equal(await git(['rev-parse', 'main'], dir), second);
  assert.equal(await git(['rev-parse', 'v1'], dir), second);
  assert.equal(await git(['rev-parse', 'next'], dir), third);
  assert.equal(await git(['log', '-1', '--format=%an <%ae>', first], dir), 'Ferry Test <test@ferry.invalid>');
  await repo.reset(first);
  assert.equal(await repo.head(), first);
});
