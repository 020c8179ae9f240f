import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { tempDir } from '@ferry/testing';
import { loadConfig } from '../src/config.js';

test('without FERRY_NOTIFIER_CONFIG the notifier has no channels and the common defaults', () => {
  const config = loadConfig({});
  assert.equal(config.configFile, undefined);
  assert.deepEqual(config.notifications.channels, []);
  assert.equal(config.concurrency, 4);
  assert.equal(config.serviceName, 'notifier');
  assert.ok(Object.isFrozen(config));
});

test('an unreadable config file and a bad variable are reported together as FERRY_ERR_CONFIG_INVALID', () => {
  assert.throws(
    () => loadConfig({ FERRY_NOTIFIER_CONFIG: '/nonexistent/notifier.yaml', FERRY_NOTIFIER_CONCURRENCY: 'many' }),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === ErrorCode.ConfigInvalid &&
      e.message.includes('FERRY_NOTIFIER_CONFIG') &&
      e.message.includes('ENOENT') &&
      e.message.includes('FERRY_NOTIFIER_CONCURRENCY'),
  );
});

test('a config file with problems fails with FERRY_ERR_NOTIFIER_CONFIG_INVALID naming the file and line', async (t) => {
  const dir = await tempDir('ferry-notifier-config');
  t.after(() => dir.cleanup());
  const file = join(dir.path, 'notifier.yaml');
  await writeFile(file, 'channels:\n  - name: hook\n    type: webhook\n    urlEnv: HOOK_URL\n');
  assert.throws(
    () => loadConfig({ FERRY_NOTIFIER_CONFIG: file }),
    (e: unknown) => e instanceof FerryError && e.code === ErrorCode.NotifierConfigInvalid && e.message.includes(`${file}:4:`) && e.message.includes('HOOK_URL is not set'),
  );
  const config = loadConfig({ FERRY_NOTIFIER_CONFIG: file, HOOK_URL: 'https://hooks.example/x' });
  assert.equal(config.notifications.channels[0]?.url.reveal(), 'https://hooks.example/x');
  assert.equal(config.configFile, file);
});
