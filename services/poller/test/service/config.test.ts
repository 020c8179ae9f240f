import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { ErrorCode } from '@ferry/contracts';
import { tempDir } from '@ferry/testing';
import { loadConfig } from '../../src/index.js';

describe('loadConfig', () => {
  it('fills the documented defaults and freezes the result', () => {
    const config = loadConfig({});
    assert.equal(config.serviceName, 'poller');
    assert.equal(config.pollIntervalMs, 180_000);
    assert.equal(config.pollJitter, 0.1);
    assert.equal(config.pollConcurrency, 8);
    assert.equal(config.gitCacheDir, join(tmpdir(), 'ferry-git-cache'));
    assert.equal(config.gitCredentialsFile, undefined);
    assert.equal(config.gitCredentials.lookup('https://git.example.com/x.git'), undefined);
    assert.ok(Object.isFrozen(config));
  });

  it('reads the poller variables, a jitter as a fraction or a percentage', () => {
    const config = loadConfig({
      FERRY_POLL_INTERVAL_MS: '5000',
      FERRY_POLL_JITTER: '25%',
      FERRY_POLL_CONCURRENCY: '16',
      FERRY_GIT_CACHE_DIR: '/var/cache/ferry',
    });
    assert.equal(config.pollIntervalMs, 5000);
    assert.equal(config.pollJitter, 0.25);
    assert.equal(config.pollConcurrency, 16);
    assert.equal(config.gitCacheDir, '/var/cache/ferry');
    assert.equal(loadConfig({ FERRY_POLL_JITTER: '0' }).pollJitter, 0);
  });

  it('reports every invalid variable, common and poller-specific, in one FERRY_ERR_CONFIG_INVALID', () => {
    assert.throws(
      () =>
        loadConfig({
          FERRY_POLL_INTERVAL_MS: 'soon',
          FERRY_POLL_JITTER: '1.5',
          FERRY_POLL_CONCURRENCY: '0',
          FERRY_HTTP_PORT: '70000',
          FERRY_GIT_CREDENTIALS_FILE: '/nonexistent/ferry-credentials.yaml',
        }),
      (error: Error & { code?: string; problems?: Array<{ name: string }> }) => {
        assert.equal(error.code, ErrorCode.ConfigInvalid);
        assert.deepEqual(error.problems?.map((p) => p.name).sort(), [
          'FERRY_GIT_CREDENTIALS_FILE',
          'FERRY_HTTP_PORT',
          'FERRY_POLL_CONCURRENCY',
          'FERRY_POLL_INTERVAL_MS',
          'FERRY_POLL_JITTER',
        ]);
        return true;
      },
    );
  });

  it('reads Git credentials by URL prefix (longest wins) and never shows the secrets', async () => {
    const dir = await tempDir('ferry-poller-config');
    try {
      const file = join(dir.path, 'credentials.yaml');
      await writeFile(
        file,
        [
          'https://git.example.com/: { username: everyone, password: pw-general-123 }',
          'https://git.example.com/platform/:',
          '  username: platform',
          '  password: pw-platform-456',
        ].join('\n'),
      );
      const config = loadConfig({ FERRY_GIT_CREDENTIALS_FILE: file });
      assert.equal(config.gitCredentialsFile, file);
      assert.deepEqual(config.gitCredentials.lookup('https://git.example.com/platform/apps.git'), {
        username: 'platform',
        password: 'pw-platform-456',
      });
      assert.equal(config.gitCredentials.lookup('https://git.example.com/other.git')?.username, 'everyone');
      assert.equal(config.gitCredentials.lookup('https://elsewhere.example.com/x.git'), undefined);
      for (const shown of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
        assert.doesNotMatch(shown, /pw-general-123|pw-platform-456/);
      }
    } finally {
      await dir.cleanup();
    }
  });

  it('rejects a credentials file with a malformed entry without echoing its values', async () => {
    const dir = await tempDir('ferry-poller-config');
    try {
      const file = join(dir.path, 'credentials.json');
      await writeFile(
        file,
        JSON.stringify({
          'https://git.example.com/': { username: 'u', password: 42 },
          'ssh://x': { username: 'a', password: 'secret-789' },
        }),
      );
      assert.throws(
        () => loadConfig({ FERRY_GIT_CREDENTIALS_FILE: file }),
        (error: Error & { code?: string; problems?: unknown[] }) => {
          assert.equal(error.code, ErrorCode.ConfigInvalid);
          assert.equal(error.problems?.length, 2);
          assert.doesNotMatch(error.message, /secret-789/);
          return true;
        },
      );
    } finally {
      await dir.cleanup();
    }
  });
});
