import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@ferry/contracts';
import { ConfigError, createEnvReader, loadCommonConfig } from '../src/config.js';

describe('config', () => {
  it('uses the documented defaults when nothing is set', () => {
    const c = loadCommonConfig({}, 'poller');
    assert.deepEqual({ ...c }, {
      serviceName: 'poller',
      natsServers: ['nats://127.0.0.1:4222'],
      subjectPrefix: 'gitops',
      streamName: 'FERRY_EVENTS',
      bucketPrefix: 'ferry',
      httpHost: '127.0.0.1',
      httpPort: 0,
      logLevel: 'info',
      shutdownGraceMs: 10_000,
      jetStreamReplicas: 1,
    });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.natsServers));
  });

  it('reads every common variable', () => {
    const c = loadCommonConfig(
      {
        FERRY_NATS_URL: 'nats://a:4222, nats://b:4222',
        FERRY_SUBJECT_PREFIX: 'ops.ferry',
        FERRY_STREAM: 'S1',
        FERRY_BUCKET_PREFIX: 'f2',
        FERRY_HTTP_HOST: '0.0.0.0',
        FERRY_HTTP_PORT: '8080',
        FERRY_LOG_LEVEL: 'debug',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        FERRY_SHUTDOWN_GRACE_MS: '500',
        FERRY_JETSTREAM_REPLICAS: '3',
      },
      'api',
    );
    assert.equal(c.jetStreamReplicas, 3);
    assert.deepEqual(c.natsServers, ['nats://a:4222', 'nats://b:4222']);
    assert.equal(c.subjectPrefix, 'ops.ferry');
    assert.equal(c.httpPort, 8080);
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.otlpEndpoint, 'http://127.0.0.1:4318');
    assert.equal(c.shutdownGraceMs, 500);
  });

  it('lets a service choose its own default port', () => {
    assert.equal(loadCommonConfig({}, 'api', { defaultHttpPort: 8080 }).httpPort, 8080);
  });

  it('reports every problem at once, naming variable, value and what is wrong', () => {
    let error: unknown;
    try {
      loadCommonConfig(
        {
          FERRY_HTTP_PORT: '99999',
          FERRY_LOG_LEVEL: 'loud',
          FERRY_SHUTDOWN_GRACE_MS: 'soon',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
          FERRY_SUBJECT_PREFIX: 'a.*',
        },
        'x',
      );
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, ErrorCode.ConfigInvalid);
    assert.deepEqual(
      error.problems.map((p) => p.name).sort(),
      ['FERRY_HTTP_PORT', 'FERRY_LOG_LEVEL', 'FERRY_SHUTDOWN_GRACE_MS', 'FERRY_SUBJECT_PREFIX', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    );
    assert.match(error.message, /FERRY_HTTP_PORT="99999": must be <= 65535/);
    assert.match(error.message, /FERRY_LOG_LEVEL="loud": must be one of/);
  });

  it('collects a service\'s own problems and the common ones in one error', () => {
    const env = { FERRY_HTTP_PORT: 'x', POLL_INTERVAL_MS: '-5' };
    const r = createEnvReader(env);
    loadCommonConfig(env, 'poller', { reader: r });
    r.int('POLL_INTERVAL_MS', 180_000, { min: 1 });
    r.requiredString('GIT_TOKEN');
    assert.throws(
      () => r.finish(),
      (e: unknown) => e instanceof ConfigError && e.problems.length === 3 && /GIT_TOKEN=\(unset\): is required/.test(e.message),
    );
  });

  it('reads typed values with defaults', () => {
    const r = createEnvReader({ A: ' yes ', B: 'a, b,,c', C: 'http://x', D: 'two', E: '' });
    assert.equal(r.bool('A', false), true);
    assert.deepEqual(r.list('B', []), ['a', 'b', 'c']);
    assert.equal(r.url('C'), 'http://x');
    assert.equal(r.enumOf('D', ['one', 'two'] as const, 'one'), 'two');
    assert.equal(r.string('E', 'dflt'), 'dflt', 'empty counts as unset');
    assert.equal(r.string('MISSING'), undefined);
    assert.equal(r.int('MISSING', 7), 7);
    r.finish();
  });

  it('never echoes a password from a malformed URL', () => {
    const r = createEnvReader({ U: 'http//user:hunter2@host' });
    r.url('U');
    assert.throws(() => r.finish(), (e: unknown) => e instanceof ConfigError && !e.message.includes('hunter2'));
  });
});
