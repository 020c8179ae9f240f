import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@ferry/runtime';
import { loadConfig, verifyToken } from '../src/index.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected loadConfig to throw');
}

describe('api configuration', () => {
  it('defaults to port 8080 and a 1 MiB body limit', () => {
    const config = loadConfig({ FERRY_API_TOKENS: 'ci=abc' });
    assert.equal(config.httpPort, 8080);
    assert.equal(config.maxBodyBytes, 1024 * 1024);
    assert.equal(config.serviceName, 'api');
    assert.ok(Object.isFrozen(config));
    assert.equal(verifyToken(config.tokens, 'abc'), 'ci');
  });

  it('refuses to start without any token, naming both variables', () => {
    const error = configError(() => loadConfig({}));
    assert.equal(error.code, 'FERRY_ERR_CONFIG_INVALID');
    assert.match(error.message, /FERRY_API_TOKENS\b/);
    assert.match(error.message, /FERRY_API_TOKENS_FILE/);
  });

  it('reads tokens from the file and the variable together', () => {
    const config = loadConfig(
      { FERRY_API_TOKENS: 'ci=abc', FERRY_API_TOKENS_FILE: '/etc/ferry/tokens' },
      { readFile: (path) => (path === '/etc/ferry/tokens' ? '# people\nalice=def\n' : '') },
    );
    assert.equal(verifyToken(config.tokens, 'abc'), 'ci');
    assert.equal(verifyToken(config.tokens, 'def'), 'alice');
  });

  it('reports every problem at once and never echoes a token', () => {
    const error = configError(() =>
      loadConfig(
        {
          FERRY_API_TOKENS: 'alice=topsecret,bob=',
          FERRY_API_TOKENS_FILE: '/missing',
          FERRY_API_MAX_BODY_BYTES: 'lots',
          FERRY_HTTP_PORT: '-1',
        },
        {
          readFile: () => {
            throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
          },
        },
      ),
    );
    const names = error.problems.map((p) => p.name).sort();
    assert.deepEqual(names, ['FERRY_API_MAX_BODY_BYTES', 'FERRY_API_TOKENS', 'FERRY_API_TOKENS_FILE', 'FERRY_HTTP_PORT']);
    assert.doesNotMatch(error.message, /topsecret/);
  });

  it('refuses the same token under two names', () => {
    const error = configError(() => loadConfig({ FERRY_API_TOKENS: 'alice=same,bob=same' }));
    assert.match(error.message, /alice and bob/);
    assert.doesNotMatch(error.message, /same,/);
  });

  it('keeps the webhook secret, refuses a short one without echoing it, and leaves webhooks off when unset', () => {
    assert.equal(loadConfig({ FERRY_API_TOKENS: 'a', FERRY_API_WEBHOOK_SECRET: 'long-enough-secret' }).webhookSecret, 'long-enough-secret');
    assert.equal(loadConfig({ FERRY_API_TOKENS: 'a' }).webhookSecret, undefined);
    const error = configError(() => loadConfig({ FERRY_API_TOKENS: 'a', FERRY_API_WEBHOOK_SECRET: 'shh' }));
    assert.deepEqual(
      error.problems.map((p) => p.name),
      ['FERRY_API_WEBHOOK_SECRET'],
    );
    assert.doesNotMatch(error.message, /shh/);
  });
});
