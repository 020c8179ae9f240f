import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { canConnect, freePort, kubectlPath, requireTool, tempDir, waitUntil } from '@ferry/testing';

test('waitUntil returns the first value that is neither undefined nor false', async () => {
  let calls = 0;
  const value = await waitUntil(async () => (++calls >= 3 ? { calls } : undefined), { intervalMs: 5 });
  assert.deepEqual(value, { calls: 3 });
  assert.equal(await waitUntil(() => 0, { timeoutMs: 50 }), 0);
});

test('waitUntil times out with the message and the last value, or the last error as cause', async () => {
  await assert.rejects(waitUntil(() => false, { timeoutMs: 60, intervalMs: 10, message: 'the moon' }), (error: Error) => {
    assert.equal(error.name, 'WaitTimeoutError');
    assert.match(error.message, /waiting for the moon \(last value: false\)/);
    return true;
  });
  await assert.rejects(
    waitUntil(
      () => {
        throw new Error('not yet');
      },
      { timeoutMs: 30, intervalMs: 10 },
    ),
    (error: Error) => {
      assert.match(error.message, /last error: not yet/);
      assert.equal((error.cause as Error).message, 'not yet');
      return true;
    },
  );
});

test('freePort returns a port that can be listened on, and canConnect tells whether something listens', async () => {
  const port = await freePort();
  assert.ok(port > 1024);
  assert.equal(await canConnect(port), false);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  assert.equal(await canConnect(port), true);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('tempDir creates an empty directory that cleanup removes, idempotently', async () => {
  const dir = await tempDir('ferry-unit');
  assert.match(dir.path, /ferry-unit-/);
  await writeFile(join(dir.path, 'f'), 'x');
  const first = dir.cleanup();
  assert.equal(dir.cleanup(), first);
  await first;
  await assert.rejects(stat(dir.path), { code: 'ENOENT' });
});

test('requireTool skips with an install hint when a tool is missing, and passes when present', () => {
  const skipped: string[] = [];
  const t = { skip: (message?: string) => void skipped.push(message ?? '') };
  assert.equal(requireTool('definitely-not-a-tool-xyz', t), false);
  assert.deepEqual(skipped, ['definitely-not-a-tool-xyz not found: install definitely-not-a-tool-xyz']);
  assert.equal(requireTool('git', t), true);
  assert.equal(skipped.length, 1);
  const kubectl = kubectlPath();
  if (kubectl !== undefined) assert.match(kubectl, /kubectl$/);
});
