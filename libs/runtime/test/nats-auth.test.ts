import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { ConfigError, loadCommonConfig } from '../src/config.js';
import { closeNats, connectNats, connectServiceNats } from '../src/nats.js';
import { captureLogger } from './helpers/logs.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import type { TestNatsServer } from './helpers/nats-server.js';

const skip = natsServerMissing();

describe('NATS servers that require credentials', { skip }, () => {
  let withUser: TestNatsServer;
  let withToken: TestNatsServer;
  const { logger, text: logText } = captureLogger();

  before(async () => {
    [withUser, withToken] = await Promise.all([startNatsServer(['--user', 'ferry', '--pass', 's3cret-pass']), startNatsServer(['--auth', 's3cret-token'])]);
  });
  after(async () => {
    await Promise.all([withUser?.stop(), withToken?.stop()]);
  });

  it('refuses a connection without credentials, with FERRY_ERR_MESSAGING_UNAVAILABLE', async () => {
    await assert.rejects(
      connectNats({ servers: [withUser.url], name: 't', logger }),
      (error: unknown) => error instanceof FerryError && error.code === ErrorCode.MessagingUnavailable,
    );
  });

  it('connects with FERRY_NATS_USER and FERRY_NATS_PASSWORD, and with FERRY_NATS_TOKEN', async () => {
    const user = loadCommonConfig({ FERRY_NATS_URL: withUser.url, FERRY_NATS_USER: 'ferry', FERRY_NATS_PASSWORD: 's3cret-pass' }, 'api');
    const token = loadCommonConfig({ FERRY_NATS_URL: withToken.url, FERRY_NATS_TOKEN: 's3cret-token' }, 'api');
    for (const config of [user, token]) {
      const nc = await connectServiceNats(config, logger);
      assert.equal(nc.isClosed(), false);
      await closeNats(nc);
    }
  });

  it('never shows the password or token in the config, its JSON or the logs', () => {
    const config = loadCommonConfig({ FERRY_NATS_USER: 'ferry', FERRY_NATS_PASSWORD: 's3cret-pass' }, 'api');
    const text = `${JSON.stringify(config)} ${String(config.natsAuth)} ${logText()}`;
    assert.doesNotMatch(text, /s3cret/);
    assert.match(JSON.stringify(config), /\[redacted user\]/);
  });

  it('reports a half-given or mixed credential setting as a config problem', () => {
    assert.throws(() => loadCommonConfig({ FERRY_NATS_USER: 'ferry' }, 'api'), (e: unknown) => e instanceof ConfigError && /FERRY_NATS_PASSWORD/.test(e.message));
    assert.throws(
      () => loadCommonConfig({ FERRY_NATS_TOKEN: 't', FERRY_NATS_USER: 'u', FERRY_NATS_PASSWORD: 'p' }, 'api'),
      (e: unknown) => e instanceof ConfigError && /give one of/.test(e.message) && !/\bp\b.*\bt\b/.test(e.message),
    );
    assert.throws(() => loadCommonConfig({ FERRY_NATS_CREDS: '/no/such.creds' }, 'api'), (e: unknown) => e instanceof ConfigError && /FERRY_NATS_CREDS/.test(e.message));
  });
});
