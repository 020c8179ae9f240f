import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { closeNats, connectNats, natsNames, provisionJetStream } from '../src/nats.js';
import type { NatsConnection } from '../src/nats.js';
import { captureLogger } from './helpers/logs.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import type { TestNatsServer } from './helpers/nats-server.js';

const skip = natsServerMissing();
const config = { subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };

describe('NATS connection and provisioning', { skip }, () => {
  let server: TestNatsServer;
  const { logger, lines } = captureLogger();
  const conns: NatsConnection[] = [];

  before(async () => {
    server = await startNatsServer();
  });
  after(async () => {
    for (const c of conns) if (!c.isClosed()) await c.close();
    await server?.stop();
  });

  it('names buckets and the object store after the bucket prefix', () => {
    assert.deepEqual(natsNames({ streamName: 'S', bucketPrefix: 'x' }), {
      stream: 'S',
      buckets: {
        apps: 'x-apps',
        source: 'x-status-source',
        comparison: 'x-status-comparison',
        operation: 'x-status-operation',
        health: 'x-status-health',
        leases: 'x-leases',
        notifier: 'x-notifier',
      },
      objectStore: 'x-artifacts',
    });
  });

  it('provisions stream, buckets and object store, and is idempotent when run again and concurrently', async () => {
    const ncs = await Promise.all([0, 1, 2].map(() => connectNats({ servers: [server.url], name: 'prov', logger })));
    conns.push(...ncs);
    // Three services starting at once, then once more.
    await Promise.all(ncs.map((nc) => provisionJetStream(nc, config, logger)));
    await provisionJetStream(ncs[0]!, config, logger);
    const jsm = await jetstreamManager(ncs[0]!);
    const names: string[] = [];
    for await (const s of jsm.streams.list()) names.push(s.config.name);
    const names_ = natsNames(config);
    assert.deepEqual(
      names.sort(),
      [config.streamName, ...Object.values(names_.buckets).map((b) => `KV_${b}`), `OBJ_${names_.objectStore}`].sort(),
    );
    const stream = await jsm.streams.info(config.streamName);
    assert.deepEqual(stream.config.subjects, ['gitops.>']);
    assert.equal(stream.config.storage, 'file');
    assert.equal(stream.config.discard, 'old');
    assert.equal(stream.config.duplicate_window, 2 * 60 * 1e9);
    assert.equal(stream.config.max_age, 7 * 24 * 3600 * 1e9);
    const apps = await jsm.streams.info(`KV_${names_.buckets.apps}`);
    assert.equal(apps.config.max_msgs_per_subject, 1);
    const leases = await jsm.streams.info(`KV_${names_.buckets.leases}`);
    assert.ok(leases.config.max_age > 0);
  });

  it('brings a stream whose settings drifted back to the wanted ones', async () => {
    const nc = await connectNats({ servers: [server.url], name: 'drift', logger });
    conns.push(nc);
    await provisionJetStream(nc, config, logger);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.update(config.streamName, { max_age: 3600 * 1e9 });
    await jsm.streams.update(`KV_${natsNames(config).buckets.apps}`, { max_msgs_per_subject: 5 });
    await provisionJetStream(nc, config, logger);
    assert.equal((await jsm.streams.info(config.streamName)).config.max_age, 7 * 24 * 3600 * 1e9);
    assert.equal((await jsm.streams.info(`KV_${natsNames(config).buckets.apps}`)).config.max_msgs_per_subject, 1);
  });

  it('closeNats drains and closes, and is safe to call again', async () => {
    const nc = await connectNats({ servers: [server.url], name: 'closer', logger });
    let got = 0;
    nc.subscribe('x.y', { callback: () => void got++ });
    nc.publish('x.y');
    await closeNats(nc, 2_000);
    assert.equal(nc.isClosed(), true);
    assert.equal(got, 1, 'drain delivered the pending message');
    await closeNats(nc, 2_000);
  });

  it('fails to connect to a server that is not there with FERRY_ERR_MESSAGING_UNAVAILABLE', async () => {
    await assert.rejects(
      connectNats({ servers: ['nats://127.0.0.1:1'], name: 'nobody', logger }),
      (e: unknown) => e instanceof FerryError && e.code === ErrorCode.MessagingUnavailable,
    );
  });

  it('logs disconnect and reconnect without credentials', async () => {
    const s2 = await startNatsServer();
    const nc = await connectNats({ servers: [`nats://user:hunter2@127.0.0.1:${s2.port}`], name: 'recon', logger }).catch(() => undefined);
    // The test server has no auth: a URL with credentials still connects (creds are ignored).
    await s2.stop();
    if (nc) {
      const deadline = Date.now() + 5_000;
      while (!lines.some((l) => l['msg'] === 'nats disconnected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await nc.close();
      assert.ok(lines.some((l) => l['msg'] === 'nats disconnected'));
    }
    assert.ok(!JSON.stringify(lines).includes('hunter2'));
  });
});
