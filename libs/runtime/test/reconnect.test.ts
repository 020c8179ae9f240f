import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '@ferry/contracts';
import { connectNats, provisionJetStream } from '../src/nats.js';
import type { NatsConnection } from '../src/nats.js';
import { createEventBus } from '../src/event-bus.js';
import { openJsonKv } from '../src/kv.js';
import { startTracing } from '../src/tracing.js';
import type { Tracing } from '../src/tracing.js';
import { captureLogger, waitFor } from './helpers/logs.js';
import { natsServerMissing, startNatsServer } from './helpers/nats-server.js';
import type { TestNatsServer } from './helpers/nats-server.js';

const skip = natsServerMissing();
const config = { serviceName: 'test', subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };

describe('surviving a NATS restart', { skip }, () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let tracing: Tracing;
  const { logger, lines } = captureLogger();

  before(async () => {
    server = await startNatsServer();
    nc = await connectNats({ servers: [server.url], name: 'restart', logger });
    await provisionJetStream(nc, config, logger);
    tracing = await startTracing({ serviceName: 'test', logger });
  });
  after(async () => {
    await nc?.close();
    await tracing?.shutdown();
    await server?.stop();
  });

  it('reconnects, keeps consuming, and keeps KV state after the server is killed and restarted', async () => {
    const bus = createEventBus({ nc, config, logger, tracer: tracing.tracer });
    const kv = await openJsonKv<number>(nc, 'ferry-apps');
    await kv.put('counter', 1);
    const seen: string[] = [];
    const consumer = await bus.consume({ durable: 'restart', filterSubject: 'gitops.refresh.requested.*', pullExpiresMs: 1_000 }, async (e) => {
      seen.push(e.id);
      return { kind: 'ack' };
    });
    await bus.publish(EventType.RefreshRequested, 'a', { app: 'a', reason: 'manual', requestId: '1' }, { msgId: 'before' });
    await waitFor(() => seen.includes('before'), 5_000, 'first event');

    await server.restart({ kill: true, downMs: 300 });
    await waitFor(() => lines.some((l) => l['msg'] === 'nats reconnected'), 10_000, 'reconnect');
    await bus.publish(EventType.RefreshRequested, 'a', { app: 'a', reason: 'manual', requestId: '2' }, { msgId: 'after' });
    await waitFor(() => seen.includes('after'), 10_000, 'event after restart');
    await consumer.stop();
    // A SIGKILL may lose the last ack, so 'before' can come twice; 'after' must come exactly once.
    assert.equal(seen.filter((id) => id === 'after').length, 1);
    assert.equal((await kv.get('counter'))?.value, 1);
    assert.ok(lines.some((l) => l['msg'] === 'nats disconnected'));
  });
});
