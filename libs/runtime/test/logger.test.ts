import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl } from '../src/logger.js';
import { captureLogger } from './helpers/logs.js';

describe('logger', () => {
  it('writes JSON lines with name, level and message', () => {
    const { logger, lines } = captureLogger('info');
    logger.info({ app: 'web' }, 'hello');
    logger.debug('not shown');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!['name'], 'test');
    assert.equal(lines[0]!['level'], 'info');
    assert.equal(lines[0]!['msg'], 'hello');
    assert.equal(lines[0]!['app'], 'web');
  });

  it('redacts tokens, passwords, secrets, credentials and authorization headers', () => {
    const { logger, text } = captureLogger('info');
    logger.info(
      {
        token: 'tok-1',
        password: 'pw-1',
        secret: 'sec-1',
        credentials: { user: 'u', pass: 'cred-1' },
        repo: { token: 'tok-2', password: 'pw-2', secret: 'sec-2', headers: { authorization: 'Bearer auth-1' } },
        headers: { authorization: 'Bearer auth-2' },
        req: { headers: { authorization: 'Bearer auth-3' } },
      },
      'with secrets',
    );
    logger.child({ component: 'x' }).info({ webhook: { secret: 'sec-3' } }, 'child');
    const out = text();
    for (const s of ['tok-1', 'tok-2', 'pw-1', 'pw-2', 'sec-1', 'sec-2', 'sec-3', 'cred-1', 'auth-1', 'auth-2', 'auth-3']) {
      assert.ok(!out.includes(s), `${s} leaked: ${out}`);
    }
    assert.ok(out.includes('[Redacted]'));
  });

  it('strips user:password from URLs in messages, fields and errors', () => {
    const { logger, text, lines } = captureLogger('info');
    const url = 'https://bot:hunter2@git.example.com/org/repo.git';
    logger.info({ repoURL: url, nested: { list: [url] } }, `cloning ${url}`);
    logger.error({ err: new Error(`fetch ${url} failed`) }, 'fetch failed');
    assert.ok(!text().includes('hunter2'), text());
    assert.equal(lines[0]!['repoURL'], 'https://git.example.com/org/repo.git');
    assert.equal(lines[0]!['msg'], 'cloning https://git.example.com/org/repo.git');
    assert.match(String((lines[1]!['err'] as { message: string }).message), /fetch https:\/\/git\.example\.com/);
  });

  it('redactUrl strips user:password from one URL', () => {
    assert.equal(redactUrl('https://user:hunter2@git.example.com/org/repo.git'), 'https://git.example.com/org/repo.git');
    assert.equal(redactUrl('nats://tok@127.0.0.1:4222'), 'nats://127.0.0.1:4222');
    assert.equal(redactUrl('https://git.example.com/r.git'), 'https://git.example.com/r.git');
    assert.ok(!redactUrl('not a url //me:hunter2@x').includes('hunter2'));
  });
});
