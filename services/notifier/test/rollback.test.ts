import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { EventType, type CloudEvent, type NotificationSent, type RollbackCompleted } from '@ferry/contracts';
import { connectNats, createEventBus, createLogger, createMetricsRegistry, provisionJetStream, startTracing, subscribeEvents } from '@ferry/runtime';
import type { EventBus, EventSubscription, NatsConnection, Tracing } from '@ferry/runtime';
import { natsServerPath, startNatsServer, startWebhookReceiver, tempDir, waitUntil } from '@ferry/testing';
import type { NatsServerHandle, TempDir, WebhookReceiver } from '@ferry/testing';
import { loadConfig } from '../src/config.js';
import { start, type NotifierService } from '../src/service.js';

const skip = natsServerPath() ? false : 'nats-server not found (apt-get install -y nats-server)';
const silent = createLogger({ name: 'test', level: 'silent' });
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

describe('notifier on-rollback (real nats-server, webhook receiver)', { skip }, () => {
  let nats: NatsServerHandle;
  let dir: TempDir;
  let nc: NatsConnection;
  let bus: EventBus;
  let tracing: Tracing;
  let receiver: WebhookReceiver;
  let service: NotifierService;
  let sub: EventSubscription;
  const sent: Array<CloudEvent<NotificationSent>> = [];

  before(async () => {
    nats = await startNatsServer();
    dir = await tempDir('ferry-notifier-rollback');
    nc = await connectNats({ servers: [nats.url], name: 'test-publisher', logger: silent });
    const common = { serviceName: 'test', subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };
    await provisionJetStream(nc, common, silent);
    tracing = await startTracing({ serviceName: 'notifier-test', logger: silent });
    bus = createEventBus({ nc, config: common, logger: silent, tracer: tracing.tracer });
    receiver = await startWebhookReceiver();
    sub = subscribeEvents(nc, 'gitops.notification.sent.>', (event) => void sent.push(event as CloudEvent<NotificationSent>));
    const file = join(dir.path, 'notifier.yaml');
    await writeFile(
      file,
      [
        'channels:',
        '  - name: hook',
        '    type: webhook',
        `    url: ${receiver.url}/hook`,
        '    baseDelayMs: 20',
        'subscriptions:',
        '  - triggers: [on-rollback]',
        '    channels: [hook]',
      ].join('\n'),
    );
    const config = loadConfig({ FERRY_NATS_URL: nats.url, FERRY_NOTIFIER_CONFIG: file, FERRY_LOG_LEVEL: 'silent' });
    service = await start(config, { logger: silent, registry: createMetricsRegistry({ service: 'notifier' }), tracer: tracing.tracer });
  });

  after(async () => {
    await service?.close();
    await sub?.stop();
    await nc?.drain();
    await tracing?.shutdown();
    await receiver?.close();
    await nats?.close();
    await dir?.cleanup();
  });

  async function settled(): Promise<void> {
    const jsm = await jetstreamManager(nc);
    await waitUntil(
      async () => {
        const info = await jsm.consumers.info('FERRY_EVENTS', 'notifier-rollback');
        return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 25, message: 'notifier-rollback settled' },
    );
  }

  const completed = (from: string, to: string, at: string): RollbackCompleted => ({
    app: 'shop',
    fromRevision: from,
    toRevision: to,
    historyId: 0,
    automatic: true,
    result: 'succeeded',
    reason: `revision ${from.slice(0, 7)} turned Degraded after its sync`,
    completedAt: at,
  });
  const hooks = () => receiver.requests().filter((r) => r.path === '/hook' && r.headers['x-ferry-event'] === 'on-rollback');

  it('sends one on-rollback per app, toRevision and fromRevision, whatever the redeliveries', async () => {
    const event = completed(B, A, '2025-01-01T00:00:05.000Z');
    await bus.publish(EventType.RollbackCompleted, 'shop', event, { msgId: 'rollback.completed:shop:sync1' });
    // The same rollback published again under another id (a replica re-publishing after a crash).
    await bus.publish(EventType.RollbackCompleted, 'shop', event, { msgId: 'rollback.completed:shop:sync1-again' });
    const req = await receiver.waitFor((r) => r.headers['x-ferry-event'] === 'on-rollback');
    await settled();
    assert.equal(hooks().length, 1);
    const body = req.json as { trigger: string; app: string; revision: string; title: string; message: string; event: CloudEvent };
    assert.equal(body.revision, A);
    assert.equal(body.title, 'Application shop has been rolled back.');
    assert.match(body.message, /rolled back to revision aaaaaaa\. Automatic rollback from bbbbbbb: revision bbbbbbb turned Degraded/);
    assert.equal(body.event.type, EventType.RollbackCompleted);
    assert.equal(req.headers['x-ferry-delivery'], `on-rollback:shop:${A}.${B}:hook`);
    await waitUntil(() => sent.find((e) => e.data.trigger === 'on-rollback'), { message: 'notification.sent' });
    assert.equal(sent.filter((e) => e.data.trigger === 'on-rollback')[0]?.data.revision, A);

    // A later rollback to the same revision from another one is a new notification.
    await bus.publish(EventType.RollbackCompleted, 'shop', completed(C, A, '2025-01-01T00:01:00.000Z'), { msgId: 'rollback.completed:shop:sync2' });
    await receiver.waitFor((r) => r.headers['x-ferry-delivery'] === `on-rollback:shop:${A}.${C}:hook`);
    await settled();
    assert.equal(hooks().length, 2);
  });
});
