import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter } from 'prom-client';
import { createHttpApp, startHttpServer } from '../src/http.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { captureLogger } from './helpers/logs.js';

describe('http server', () => {
  it('answers /healthz always and /readyz by isReady()', async () => {
    const { logger } = captureLogger();
    let ready = false;
    const app = createHttpApp({ logger, registry: createMetricsRegistry({ service: 't' }), isReady: () => ready });
    assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/readyz' })).statusCode, 503);
    ready = true;
    assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
    await app.close();
  });

  it('serves the registry in Prometheus text format with the service label', async () => {
    const { logger } = captureLogger();
    const registry = createMetricsRegistry({ service: 'poller' });
    const c = new Counter({ name: 'ferry_test_things_total', help: 'things', labelNames: ['result'], registers: [registry] });
    c.inc({ result: 'ok' });
    const app = createHttpApp({ logger, registry, isReady: () => true });
    const res = await app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(res.body, /ferry_test_things_total\{result="ok",service="poller"\} 1/);
    assert.ok(!res.body.includes('process_cpu'), 'default metrics are off unless asked for');
    await app.close();
  });

  it('listens on a free port, adds service routes, and closes idempotently', async () => {
    const { logger } = captureLogger();
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      registry: createMetricsRegistry({ service: 't' }),
      isReady: () => true,
      configure: (app) => {
        app.get('/hello', async () => ({ hello: 'world' }));
      },
    });
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    const res = await fetch(`${server.url}/hello`);
    assert.deepEqual(await res.json(), { hello: 'world' });
    const p1 = server.close();
    assert.equal(server.close(), p1);
    await p1;
    await assert.rejects(fetch(`${server.url}/healthz`));
  });
});
