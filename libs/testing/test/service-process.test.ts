import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startServiceProcess } from '@ferry/testing';

const entry = fileURLToPath(new URL('./fixtures/fake-service.ts', import.meta.url));

test('a service process is ready when it logs the ready line, and stops on SIGTERM with its logs kept', async (t) => {
  const svc = await startServiceProcess({ name: 'fake', entry, env: { GREETING: 'hello' } });
  t.after(() => svc.kill());
  assert.equal(svc.running, true);
  assert.ok(svc.pid > 0);
  assert.match(svc.logs(), /"msg":"starting","greeting":"hello"/);
  assert.match(svc.logs(), /"msg":"ready"/);
  await svc.waitForLog(/"msg":"tick"/, 2000);
  const exit = await svc.stop();
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.equal(svc.running, false);
  assert.match(await readFile(svc.logFile, 'utf8'), /"msg":"stopping"/);
});

test('a service process killed with SIGKILL ends by that signal, and one that ignores SIGTERM is killed after the timeout', async (t) => {
  const a = await startServiceProcess({ name: 'killed', entry, env: {} });
  t.after(() => a.kill());
  assert.deepEqual(await a.kill(), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(await a.exited, { code: null, signal: 'SIGKILL' });

  const b = await startServiceProcess({ name: 'stubborn', entry, env: { FAKE_MODE: 'stubborn' } });
  t.after(() => b.kill());
  const started = Date.now();
  assert.deepEqual(await b.stop('SIGTERM', 300), { code: null, signal: 'SIGKILL' });
  assert.ok(Date.now() - started >= 300);
  assert.match(b.logs(), /ignoring SIGTERM/);
});

test('a service that exits before it is ready, or never gets ready, rejects with its output', async () => {
  await assert.rejects(startServiceProcess({ name: 'crash', entry, env: { FAKE_MODE: 'crash' } }), (error: Error) => {
    assert.equal(error.name, 'FixtureStartError');
    assert.match(error.message, /exited \(code 3/);
    assert.match(error.message, /fatal: cannot start/);
    return true;
  });
  await assert.rejects(
    startServiceProcess({ name: 'silent', entry, env: { FAKE_MODE: 'silent' }, timeoutMs: 1500 }),
    /no ready line matching/,
  );
});
