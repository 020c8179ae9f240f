import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { EventType } from '@ferry/contracts';
import type { CloudEvent, HealthChanged, NotificationSent, SyncEvent } from '@ferry/contracts';
import {
  connectNats,
  createEventBus,
  createLogger,
  createMetricsRegistry,
  natsNames,
  openJsonKv,
  provisionJetStream,
  startTracing,
  subscribeEvents,
} from '@ferry/runtime';
import type { EventBus, EventSubscription, JsonKv, NatsConnection, Tracing } from '@ferry/runtime';
import { natsServerPath, startNatsServer, startWebhookReceiver, tempDir, waitUntil } from '@ferry/testing';
import type { NatsServerHandle, TempDir, WebhookReceiver } from '@ferry/testing';
import { loadConfig } from '../src/config.js';
import { start, type NotifierService } from '../src/service.js';
import { verifySignature } from '../src/domain/signature.js';
import { stateKey } from '../src/handlers/notify-processor.js';
import type { DeliveryRecord } from '../src/domain/delivery-record.js';

const skip = natsServerPath() ? false : 'nats-server not found (apt-get install -y nats-server)';
const SECRET = 'webhook-secret-value';
const REV1 = '1111111111111111111111111111111111111111';
const REV2 = '2222222222222222222222222222222222222222';
const silent = createLogger({ name: 'test', level: 'silent' });

function syncEvent(app: string, revision: string, syncId: string, phase: 'Succeeded' | 'Failed', finishedAt: string): SyncEvent {
  return {
    app,
    syncId,
    revision,
    trigger: 'automated',
    phase,
    message: phase === 'Succeeded' ? 'successfully synced (all tasks run)' : 'one or more objects failed to apply',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt,
    resources: [],
    ...(phase === 'Failed' ? { error: { code: 'FERRY_ERR_KUBE_INVALID', message: 'Deployment web: spec.replicas must be >= 0' } } : {}),
  };
}

function healthEvent(app: string, revision: string, status: HealthChanged['status'], changedAt: string): HealthChanged {
  return { app, revision, status, resources: [], changedAt };
}

interface Env {
  nats: NatsServerHandle;
  dir: TempDir;
  nc: NatsConnection;
  bus: EventBus;
  tracing: Tracing;
}

async function configFile(dir: TempDir, name: string, receiverUrl: string, extra = ''): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(
    path,
    [
      'channels:',
      '  - name: hook',
      '    type: webhook',
      `    url: ${receiverUrl}/hook`,
      '    secretEnv: HOOK_SECRET',
      '    baseDelayMs: 20',
      '  - name: chat',
      '    type: slack',
      `    url: ${receiverUrl}/slack`,
      extra,
      'subscriptions:',
      '  - triggers: [on-deployed, on-sync-failed, on-health-degraded]',
      '    channels: [hook]',
      '  - triggers: [on-sync-failed]',
      '    channels: [chat]',
      '    apps: ["fail-*"]',
    ].join('\n'),
  );
  return path;
}

/** The value of the sample `name` whose labels include `labels` (any order), or undefined. */
function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Cleanups run in reverse order of registration, in one after-hook. */
function cleanups(t: { after: (fn: () => Promise<void>) => void }): (fn: () => Promise<unknown> | unknown) => void {
  const fns: Array<() => Promise<unknown> | unknown> = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn) => void fns.push(fn);
}

describe('notifier service against a real nats-server', { skip }, () => {
  let env: Env;
  let receiver: WebhookReceiver;
  let service: NotifierService;
  let sent: Array<CloudEvent<NotificationSent>>;
  let sub: EventSubscription;
  const exporter = new InMemorySpanExporter();
  const registry = createMetricsRegistry({ service: 'notifier' });
  let kv: JsonKv<unknown>;

  before(async () => {
    const nats = await startNatsServer();
    const dir = await tempDir('ferry-notifier');
    const nc = await connectNats({ servers: [nats.url], name: 'test-publisher', logger: silent });
    const common = { serviceName: 'test', subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };
    await provisionJetStream(nc, common, silent);
    const tracing = await startTracing({ serviceName: 'notifier-test', logger: silent, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const bus = createEventBus({ nc, config: common, logger: silent, tracer: tracing.tracer });
    env = { nats, dir, nc, bus, tracing };
    receiver = await startWebhookReceiver();
    sent = [];
    sub = subscribeEvents(nc, 'gitops.notification.sent.>', (event) => {
      sent.push(event as CloudEvent<NotificationSent>);
    });
    kv = await openJsonKv<unknown>(nc, natsNames(common).buckets.notifier);
    const config = loadConfig({
      FERRY_NATS_URL: nats.url,
      FERRY_NOTIFIER_CONFIG: await configFile(dir, 'notifier.yaml', receiver.url),
      HOOK_SECRET: SECRET,
      FERRY_LOG_LEVEL: 'silent',
    });
    service = await start(config, { logger: silent, registry, tracer: tracing.tracer });
  });

  after(async () => {
    await service?.close();
    await sub?.stop();
    await env?.nc.drain();
    await env?.tracing.shutdown();
    await receiver?.close();
    await env?.nats.close();
    await env?.dir.cleanup();
  });

  /** Waits until both notifier consumers have acknowledged everything in the stream. */
  async function settled(): Promise<void> {
    const jsm = await jetstreamManager(env.nc);
    await waitUntil(
      async () => {
        for (const durable of ['notifier-sync', 'notifier-health']) {
          const info = await jsm.consumers.info('FERRY_EVENTS', durable);
          if (info.num_pending > 0 || info.num_ack_pending > 0) return undefined;
        }
        return true;
      },
      { timeoutMs: 10_000, intervalMs: 25, message: 'notifier consumers settled' },
    );
  }

  const hooksFor = (app: string, trigger: string) =>
    receiver.requests().filter((r) => r.path === '/hook' && r.headers['x-ferry-event'] === trigger && (r.json as { app?: string }).app === app);

  it('sends on-deployed once, signed, and publishes one notification.sent when a synced revision becomes Healthy', async () => {
    // Publish inside a span: the notifier's send span must continue this trace.
    const root = env.tracing.tracer.startSpan('test.root');
    const traceId = root.spanContext().traceId;
    await context.with(trace.setSpan(context.active(), root), async () => {
      await env.bus.publish(EventType.SyncSucceeded, 'web', syncEvent('web', REV1, 's1', 'Succeeded', '2025-01-01T00:00:01.000Z'), { msgId: 'sync.succeeded:web:s1' });
      await env.bus.publish(EventType.HealthChanged, 'web', healthEvent('web', REV1, 'Healthy', '2025-01-01T00:00:02.000Z'), { msgId: 'health.changed:web:r1:Healthy:1' });
    });
    root.end();
    const req = await receiver.waitFor((r) => r.path === '/hook' && r.headers['x-ferry-event'] === 'on-deployed');
    await settled();
    assert.equal(hooksFor('web', 'on-deployed').length, 1);
    assert.ok(verifySignature(SECRET, req.body, String(req.headers['x-ferry-signature'])), 'signature verifies with the secret');
    assert.equal(req.headers['x-ferry-delivery'], `on-deployed:web:${REV1}:hook`);
    const body = req.json as { trigger: string; app: string; revision: string; title: string; health: string; syncStatus: string; event: CloudEvent };
    assert.equal(body.trigger, 'on-deployed');
    assert.equal(body.revision, REV1);
    assert.equal(body.title, 'New version of an application web is up and running.');
    assert.equal(body.health, 'Healthy');
    assert.equal(body.syncStatus, 'Synced');
    assert.equal(body.event.type, EventType.HealthChanged);
    assert.ok(!req.text.includes(SECRET));

    await waitUntil(() => sent.some((e) => e.data.app === 'web' && e.data.trigger === 'on-deployed') || undefined, { timeoutMs: 5_000, message: 'notification.sent' });
    const events = sent.filter((e) => e.data.app === 'web' && e.data.trigger === 'on-deployed');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.id, `notification.sent:on-deployed:web:${REV1}:hook`);
    assert.equal(events[0]?.data.result, 'sent');
    assert.equal(events[0]?.data.channel, 'hook');

    const record = (await kv.get(`on-deployed.web.${REV1}`))?.value as DeliveryRecord | undefined;
    assert.equal(record?.state, 'sent');

    const span = exporter.getFinishedSpans().find((s) => s.name === 'notifier.send' && s.attributes['ferry.app'] === 'web');
    assert.ok(span, 'a notifier.send span');
    assert.equal(span.attributes['ferry.revision'], REV1);
    assert.equal(span.spanContext().traceId, traceId, 'the send span continues the consumed event trace');

    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    assert.equal(metricValue(metrics, 'ferry_notifier_notifications_total', { trigger: 'on-deployed', channel: 'hook', result: 'sent' }), 1);
    assert.equal(metricValue(metrics, 'ferry_notifier_send_duration_seconds_count', { channel: 'hook', result: 'sent' }), 1);
  });

  it('does not send again when the same events are delivered again', async () => {
    await env.bus.publish(EventType.SyncSucceeded, 'web', syncEvent('web', REV1, 's1', 'Succeeded', '2025-01-01T00:00:01.000Z'), { msgId: 'sync.succeeded:web:s1:again' });
    await env.bus.publish(EventType.HealthChanged, 'web', healthEvent('web', REV1, 'Progressing', '2025-01-01T00:00:03.000Z'), { msgId: 'health.changed:web:r1:Progressing:2' });
    await env.bus.publish(EventType.HealthChanged, 'web', healthEvent('web', REV1, 'Healthy', '2025-01-01T00:00:04.000Z'), { msgId: 'health.changed:web:r1:Healthy:3' });
    await settled();
    assert.equal(hooksFor('web', 'on-deployed').length, 1);
    assert.equal(sent.filter((e) => e.data.app === 'web' && e.data.trigger === 'on-deployed').length, 1);
  });

  it('does not send twice when the state was lost after the send (crash before the state commit)', async () => {
    // What a crash between the send and the state commit leaves behind: a final record, an old state.
    const state = await kv.get(stateKey('web'));
    assert.ok(state);
    await kv.delete(stateKey('web'));
    await env.bus.publish(EventType.SyncSucceeded, 'web', syncEvent('web', REV1, 's1', 'Succeeded', '2025-01-01T00:00:01.000Z'), { msgId: 'sync.succeeded:web:s1:redelivered' });
    await env.bus.publish(EventType.HealthChanged, 'web', healthEvent('web', REV1, 'Healthy', '2025-01-01T00:00:02.000Z'), { msgId: 'health.changed:web:r1:Healthy:redelivered' });
    await settled();
    assert.equal(hooksFor('web', 'on-deployed').length, 1);
    assert.ok(await kv.get(stateKey('web')), 'the state was committed again');
  });

  it('takes over a pending delivery whose owner died once its lease has expired, and sends it', async () => {
    const key = `on-deployed.orphan.${REV2}`;
    const stale: DeliveryRecord = {
      trigger: 'on-deployed',
      app: 'orphan',
      revision: REV2,
      state: 'pending',
      owner: 'dead-process',
      leaseUntil: '2000-01-01T00:00:00.000Z',
      createdAt: '2000-01-01T00:00:00.000Z',
      updatedAt: '2000-01-01T00:00:00.000Z',
      channels: {},
    };
    await kv.create(key, stale);
    await env.bus.publish(EventType.SyncSucceeded, 'orphan', syncEvent('orphan', REV2, 'o1', 'Succeeded', '2025-01-01T00:00:01.000Z'), { msgId: 'sync.succeeded:orphan:o1' });
    await env.bus.publish(EventType.HealthChanged, 'orphan', healthEvent('orphan', REV2, 'Healthy', '2025-01-01T00:00:02.000Z'), { msgId: 'health.changed:orphan:r2:Healthy:1' });
    await receiver.waitFor((r) => r.headers['x-ferry-delivery'] === `on-deployed:orphan:${REV2}:hook`);
    await settled();
    assert.equal(hooksFor('orphan', 'on-deployed').length, 1);
    assert.equal(((await kv.get(key))?.value as DeliveryRecord).state, 'sent');
  });

  it('sends on-sync-failed to the webhook and, for apps its subscription names, to the Slack channel', async () => {
    await env.bus.publish(EventType.SyncFailed, 'fail-app', syncEvent('fail-app', REV1, 'f1', 'Failed', '2025-01-01T00:00:01.000Z'), { msgId: 'sync.failed:fail-app:f1' });
    await env.bus.publish(EventType.SyncFailed, 'other', syncEvent('other', REV1, 'f2', 'Failed', '2025-01-01T00:00:01.000Z'), { msgId: 'sync.failed:other:f2' });
    await settled();
    assert.equal(hooksFor('fail-app', 'on-sync-failed').length, 1);
    assert.equal(hooksFor('other', 'on-sync-failed').length, 1);
    const hook = hooksFor('fail-app', 'on-sync-failed')[0];
    assert.match((hook?.json as { message: string }).message, /spec\.replicas must be >= 0/);
    const slack = receiver.requests().filter((r) => r.path === '/slack');
    assert.equal(slack.length, 1, 'only fail-* apps go to Slack');
    const slackBody = slack[0]?.json as { text: string; attachments: unknown[] };
    assert.equal(slackBody.text, 'Failed to sync application fail-app.');
    assert.equal(slack[0]?.headers['x-ferry-signature'], undefined);
    assert.equal(hooksFor('fail-app', 'on-deployed').length, 0);
    await waitUntil(() => sent.filter((e) => e.data.app === 'fail-app').length >= 2 || undefined, { timeoutMs: 5_000, message: 'two notification.sent' });
  });

  it('ignores sync.started events', async () => {
    const before = receiver.requests().length;
    await env.bus.publish(EventType.SyncStarted, 'web', { ...syncEvent('web', REV2, 's9', 'Succeeded', '2025-01-01T00:01:00.000Z'), phase: 'Running' }, { msgId: 'sync.started:web:s9' });
    await settled();
    assert.equal(receiver.requests().length, before);
  });

  it('close() returns the same promise every time and leaves readiness false', async () => {
    const first = service.close();
    const second = service.close();
    assert.equal(first, second);
    await first;
    assert.equal(service.ready, false);
  });
});

async function startHangingServer(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req) => {
    hits++;
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('notifier lifecycle', { skip }, () => {
  it('closes promptly during a hanging send, and the event is delivered after a restart', async (t) => {
    const defer = cleanups(t);
    const nats = await startNatsServer();
    defer(() => nats.close());
    const dir = await tempDir('ferry-notifier-life');
    defer(() => dir.cleanup());
    const hanging = await startHangingServer();
    defer(() => hanging.close());
    const receiver = await startWebhookReceiver();
    defer(() => receiver.close());
    const nc = await connectNats({ servers: [nats.url], name: 'test', logger: silent });
    defer(() => nc.drain());
    const common = { serviceName: 'test', subjectPrefix: 'gitops', streamName: 'FERRY_EVENTS', bucketPrefix: 'ferry' };
    await provisionJetStream(nc, common, silent);
    const tracing = await startTracing({ serviceName: 'life', logger: silent });
    defer(() => tracing.shutdown());
    const bus = createEventBus({ nc, config: common, logger: silent, tracer: tracing.tracer });

    const writeConfig = async (url: string) => {
      const path = join(dir.path, 'notifier.yaml');
      await writeFile(path, `channels:\n  - { name: hook, type: webhook, url: "${url}/hook", timeoutMs: 60000 }\nsubscriptions:\n  - { triggers: [on-sync-failed], channels: [hook] }\n`);
      return path;
    };
    const env = { FERRY_NATS_URL: nats.url, FERRY_LOG_LEVEL: 'silent', FERRY_SHUTDOWN_GRACE_MS: '200' };
    const first = await start(loadConfig({ ...env, FERRY_NOTIFIER_CONFIG: await writeConfig(hanging.url) }), {
      logger: silent,
      registry: createMetricsRegistry({ service: 'notifier' }),
      tracer: tracing.tracer,
    });
    await bus.publish(EventType.SyncFailed, 'web', syncEvent('web', REV1, 'f1', 'Failed', '2025-01-01T00:00:01.000Z'), { msgId: 'sync.failed:web:f1' });
    await waitUntil(() => hanging.hits() > 0 || undefined, { timeoutMs: 5_000, message: 'the send started' });

    const started = Date.now();
    await first.close();
    assert.ok(Date.now() - started < 5_000, `close took ${Date.now() - started} ms with a 60 s send in flight`);
    assert.equal(first.ready, false);

    const kv = await openJsonKv<DeliveryRecord>(nc, natsNames(common).buckets.notifier);
    const pending = await kv.get(`on-sync-failed.web.${REV1}`);
    assert.equal(pending?.value.state, 'pending', 'an aborted delivery is not marked sent');
    assert.ok(Date.parse(pending.value.leaseUntil) <= Date.now(), 'its lease was released');

    // Restarted, with an endpoint that answers: the redelivered event is sent exactly once.
    const second = await start(loadConfig({ ...env, FERRY_NOTIFIER_CONFIG: await writeConfig(receiver.url) }), {
      logger: silent,
      registry: createMetricsRegistry({ service: 'notifier' }),
      tracer: tracing.tracer,
    });
    defer(() => second.close());
    await receiver.waitFor((r) => r.headers['x-ferry-event'] === 'on-sync-failed', 10_000);
    await waitUntil(async () => ((await kv.get(`on-sync-failed.web.${REV1}`))?.value.state === 'sent') || undefined, { timeoutMs: 5_000, message: 'record sent' });
    assert.equal(receiver.requests().length, 1);
    await second.close();
  });

  it('starts without a config file (no channels) and still answers its probes', async (t) => {
    const defer = cleanups(t);
    const nats = await startNatsServer();
    defer(() => nats.close());
    const service = await start(loadConfig({ FERRY_NATS_URL: nats.url, FERRY_LOG_LEVEL: 'silent' }), {
      logger: silent,
      registry: createMetricsRegistry({ service: 'notifier' }),
    });
    defer(() => service.close());
    assert.equal(service.ready, true);
    assert.equal((await fetch(`${service.httpUrl}/readyz`)).status, 200);
    assert.equal((await fetch(`${service.httpUrl}/healthz`)).status, 200);
    await service.close();
    await service.close();
  });
});
