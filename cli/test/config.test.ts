/** Login resolution (flag > environment > login file, per value), `ferry login`, and connection errors. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { startFakeApi, type FakeApi } from './fake-api.js';
import { ferry, tempHome } from './run-ferry.js';

let api: FakeApi;
let other: FakeApi;
let home: ReturnType<typeof tempHome>;
const loginFile = (): string => join(home.configHome, 'ferry', 'config.json');

before(async () => {
  api = await startFakeApi({ 'tok-file': 'from-file', 'tok-env': 'from-env', 'tok-flag': 'from-flag' });
  other = await startFakeApi({ 'tok-file': 'from-file', 'tok-env': 'from-env', 'tok-flag': 'from-flag' });
});
after(async () => {
  await api.close();
  await other.close();
});
const homes: Array<ReturnType<typeof tempHome>> = [];
after(() => homes.forEach((h) => h.cleanup()));
beforeEach(() => {
  home = tempHome();
  homes.push(home);
  api.requests.length = 0;
  other.requests.length = 0;
});

function writeLogin(value: unknown): void {
  mkdirSync(join(home.configHome, 'ferry'), { recursive: true });
  writeFileSync(loginFile(), typeof value === 'string' ? value : JSON.stringify(value));
}

test('the login file alone is enough (as the quick start leaves it)', async () => {
  writeLogin({ server: api.url, token: 'tok-file' });
  const result = await ferry(['app', 'list'], { home: home.dir });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(api.requests[0]?.authorization, 'Bearer tok-file');
});

test('FERRY_SERVER/FERRY_TOKEN override the login file, and flags override both, each value on its own', async () => {
  writeLogin({ server: api.url, token: 'tok-file' });
  await ferry(['app', 'list'], { home: home.dir, env: { FERRY_TOKEN: 'tok-env' } });
  assert.equal(api.requests.at(-1)?.authorization, 'Bearer tok-env');

  await ferry(['app', 'list'], { home: home.dir, env: { FERRY_SERVER: other.url } });
  assert.equal(other.requests.at(-1)?.authorization, 'Bearer tok-file', 'server from env, token from file');

  await ferry(['app', 'list', '--token', 'tok-flag', '--server', api.url], {
    home: home.dir,
    env: { FERRY_SERVER: other.url, FERRY_TOKEN: 'tok-env' },
  });
  assert.equal(api.requests.at(-1)?.authorization, 'Bearer tok-flag');
  assert.equal(other.requests.length, 1);
});

test('XDG_CONFIG_HOME unset: the login file is ~/.config/ferry/config.json', async () => {
  mkdirSync(join(home.dir, '.config', 'ferry'), { recursive: true });
  writeFileSync(join(home.dir, '.config', 'ferry', 'config.json'), JSON.stringify({ server: api.url, token: 'tok-file' }));
  const result = await ferry(['app', 'list'], { home: home.dir, env: { XDG_CONFIG_HOME: '' } });
  assert.equal(result.code, 0, result.stderr);
});

test('with no login anywhere the error says how to log in', async () => {
  const result = await ferry(['app', 'list'], { home: home.dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error FERRY_ERR_CLI_NOT_LOGGED_IN: /);
  assert.match(result.stderr, /ferry login --server/);
  assert.match(result.stderr, /FERRY_SERVER/);
});

test('a login file that is not JSON is FERRY_ERR_CONFIG_INVALID naming the file', async () => {
  writeLogin('{ not json');
  const result = await ferry(['app', 'list'], { home: home.dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error FERRY_ERR_CONFIG_INVALID: .*config\.json/);
});

test('login checks the token, writes the file with mode 0600 and never prints the token', async () => {
  const result = await ferry(['login', '--server', `${api.url}/`, '--token', 'tok-flag'], { home: home.dir });
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stdout + result.stderr, /tok-flag/);
  assert.equal(api.requests[0]?.path, '/api/v1/applications');
  assert.deepEqual(JSON.parse(readFileSync(loginFile(), 'utf8')), { server: api.url, token: 'tok-flag' });
  assert.equal(statSync(loginFile()).mode & 0o777, 0o600);
  const list = await ferry(['app', 'list'], { home: home.dir });
  assert.equal(list.code, 0, list.stderr);
});

test('login with a token the api refuses writes nothing and exits 1', async () => {
  const result = await ferry(['login', api.url, '--token', 'tok-wrong-secret'], { home: home.dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error FERRY_ERR_API_UNAUTHENTICATED: /);
  assert.doesNotMatch(result.stderr, /tok-wrong-secret/);
  assert.equal(existsSync(loginFile()), false);
});

test('login without a token is a usage error', async () => {
  const result = await ferry(['login', '--server', api.url], { home: home.dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error FERRY_ERR_CLI_USAGE: login needs a token/);
});

test('a refused connection names the server, suggests npm start, and hides the token', async () => {
  // a port that was free a moment ago: nothing listens there
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const result = await ferry(['app', 'get', 'docs', '--server', `127.0.0.1:${port}`, '--token', 'super-secret-token'], { home: home.dir });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`^error FERRY_ERR_CLI_SERVER_UNREACHABLE: cannot reach the Ferry api at http://127\\.0\\.0\\.1:${port}: connection refused`),
  );
  assert.match(result.stderr, /npm start/);
  assert.doesNotMatch(result.stderr, /super-secret-token/);
});
