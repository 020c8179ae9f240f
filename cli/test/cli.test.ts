/** `run(argv, io)` in-process: usage errors, help, confirmation, secret scrubbing (the bin is exercised in the other files). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { run, type CliIo } from '@ferry/cli';
import { sampleApp, startFakeApi, type FakeApi } from './fake-api.js';

let api: FakeApi;
before(async () => {
  api = await startFakeApi({ 'tok-admin': 'admin' });
});
after(() => api.close());

function io(env: Record<string, string> = {}, options: { interactive?: boolean; answer?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  const value: CliIo = {
    env: { HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent', ...env },
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    interactive: options.interactive ?? false,
    confirm: async (q) => {
      questions.push(q);
      return options.answer ?? false;
    },
  };
  return { io: value, stdout: () => out.join(''), stderr: () => err.join(''), questions };
}

test('usage errors exit 2 with FERRY_ERR_CLI_USAGE and point at the help', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['launch'], /unknown command 'launch'/],
    [['app', 'launch'], /unknown command 'app launch'/],
    [['app', 'list', '--bogus'], /Unknown option '--bogus'/],
    [['app', 'get'], /missing <name>/],
    [['app', 'get', 'a', 'b'], /unexpected argument 'b'/],
    [['app', 'list', '-o', 'xml'], /unknown output format 'xml'/],
    [['app', 'wait', 'a', '--timeout=-3'], /--timeout must be a number of seconds/],
    [['app', 'wait', 'a', '--timeout', 'soon'], /--timeout must be a number of seconds/],
    [['app', 'create'], /give at least one manifest/],
    [['health'], /give at least one file or directory/],
  ];
  for (const [args, message] of cases) {
    const c = io();
    assert.equal(await run(args, c.io), 2, args.join(' '));
    assert.match(c.stderr(), /^error FERRY_ERR_CLI_USAGE: /, args.join(' '));
    assert.match(c.stderr(), message, args.join(' '));
    assert.match(c.stderr(), /--help' for usage/, args.join(' '));
    assert.equal(c.stdout(), '');
  }
});

test('no arguments prints the command list on stderr and exits 2; --help prints it on stdout and exits 0', async () => {
  const none = io();
  assert.equal(await run([], none.io), 2);
  assert.match(none.stderr(), /app create/);
  const help = io();
  assert.equal(await run(['--help'], help.io), 0);
  assert.match(help.stdout(), /^Commands:$/m);
  const cmd = io();
  assert.equal(await run(['app', 'sync', 'x', '--bogus', '-h'], cmd.io), 0, 'help wins over other problems');
  assert.match(cmd.stdout(), /^Usage: ferry app sync <name> \[flags\]$/m);
});

test('delete on a terminal asks, and a "no" keeps the app', async () => {
  api.apps.set('docs', sampleApp('docs'));
  const c = io({}, { interactive: true, answer: false });
  assert.equal(await run(['app', 'delete', 'docs', '--server', api.url, '--token', 'tok-admin'], c.io), 1);
  assert.equal(c.questions.length, 1);
  assert.match(c.questions[0] ?? '', /delete application 'docs' and the resources it manages\?/);
  assert.equal(api.apps.has('docs'), true);
  const yes = io({}, { interactive: true });
  assert.equal(await run(['app', 'delete', 'docs', '-y', '--server', api.url, '--token', 'tok-admin'], yes.io), 0);
  assert.equal(yes.questions.length, 0, '-y does not ask');
  assert.equal(api.apps.has('docs'), false);
});

test('a token never appears in an error, from the flag or the environment', async () => {
  const flag = io();
  await run(['app', 'get', 'docs', '--server', 'http://127.0.0.1:9/abc', '--token', 'flag-secret-1234'], flag.io);
  const env = io({ FERRY_SERVER: 'not a url at all ::', FERRY_TOKEN: 'env-secret-5678' });
  await run(['app', 'list'], env.io);
  assert.match(env.stderr(), /FERRY_ERR_CONFIG_INVALID/);
  assert.doesNotMatch(flag.stderr() + env.stderr(), /flag-secret-1234|env-secret-5678/);
});
