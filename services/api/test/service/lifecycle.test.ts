import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createMetricsRegistry } from '@ferry/runtime';
import { freePort, startServiceProcess } from '@ferry/testing';
import { loadConfig, start } from '../../src/index.js';
import { ALICE, application, auth, logger, startApiFixture } from './helpers.js';

const mainTs = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('api lifecycle', () => {
  it('closes twice with the same promise, then refuses requests', async () => {
    const f = await startApiFixture();
    try {
      assert.equal(f.service.isReady(), true);
      assert.equal((await fetch(`${f.service.url}/readyz`)).status, 200);
      const first = f.service.close();
      const second = f.service.close();
      assert.equal(first, second);
      await first;
      assert.equal(f.service.isReady(), false);
      await assert.rejects(fetch(`${f.service.url}/api/v1/applications`, { headers: auth() }));
      await assert.rejects(f.service.app.inject({ method: 'GET', url: '/api/v1/applications', headers: auth() }));
    } finally {
      await f.close();
    }
  });

  it('ends open event streams when it closes', async () => {
    const f = await startApiFixture();
    try {
      const response = await fetch(`${f.service.url}/api/v1/stream/events`, { headers: auth() });
      assert.equal(response.status, 200);
      const reading = (async () => {
        let text = '';
        for await (const chunk of response.body ?? []) text += Buffer.from(chunk as Uint8Array).toString();
        return text;
      })();
      const started = Date.now();
      await f.service.close();
      const text = await reading;
      assert.match(text, /: connected/);
      assert.ok(Date.now() - started < 3000, 'close did not wait for the stream to time out');
    } finally {
      await f.close();
    }
  });

  it('answers 503 FERRY_ERR_API_UNAVAILABLE to api requests that arrive while it closes', async () => {
    const f = await startApiFixture();
    try {
      await f.service.app.inject({ method: 'PUT', url: '/api/v1/applications/late', headers: auth(), payload: application('late') });
      const closing = f.service.close();
      // readiness goes false synchronously when close() is called; HTTP closes last.
      const res = await f.service.app.inject({ method: 'GET', url: '/api/v1/applications/late', headers: auth() });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().code, 'FERRY_ERR_API_UNAVAILABLE');
      assert.equal((await f.service.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
      await closing;
    } finally {
      await f.close();
    }
  });

  it('fails to start with FERRY_ERR_MESSAGING_UNAVAILABLE when NATS is unreachable, leaving nothing listening', async () => {
    const port = await freePort();
    const natsPort = await freePort();
    const config = loadConfig({
      FERRY_NATS_URL: `nats://127.0.0.1:${natsPort}`,
      FERRY_HTTP_PORT: String(port),
      FERRY_API_TOKENS: ALICE,
      FERRY_LOG_LEVEL: 'silent',
    });
    await assert.rejects(start(config, { logger, registry: createMetricsRegistry({ service: 'api' }) }), {
      code: 'FERRY_ERR_MESSAGING_UNAVAILABLE',
    });
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });

  it('runs as a process: ready line, serves the API, exits 0 on SIGTERM', async () => {
    const f = await startApiFixture();
    try {
      const port = await freePort();
      const proc = await startServiceProcess({
        name: 'api',
        entry: mainTs,
        env: { FERRY_NATS_URL: f.nats.url, FERRY_HTTP_PORT: String(port), FERRY_API_TOKENS: `ops=${ALICE}`, FERRY_LOG_LEVEL: 'info' },
      });
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/applications`, { headers: auth() });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { items: [] });
        await proc.stop('SIGTERM');
        assert.deepEqual(await proc.exited, { code: 0, signal: null });
        assert.doesNotMatch(proc.logs(), new RegExp(ALICE));
      } finally {
        await proc.kill();
      }
    } finally {
      await f.close();
    }
  });

  it('exits 1 naming both token variables when no token is configured', async () => {
    await assert.rejects(
      startServiceProcess({
        name: 'api-no-tokens',
        entry: mainTs,
        env: { FERRY_HTTP_PORT: '0', FERRY_API_TOKENS: '', FERRY_API_TOKENS_FILE: '' },
        timeoutMs: 10_000,
      }),
      (error: Error & { output?: string }) =>
        /FERRY_ERR_CONFIG_INVALID/.test(error.output ?? error.message) && /FERRY_API_TOKENS_FILE/.test(error.output ?? error.message),
    );
  });
});
