import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEvent, ErrorCode, EventType, NotificationTrigger } from '@ferry/contracts';
import { startWebhookReceiver } from '@ferry/testing';
import { parseNotificationsConfig } from '../../src/domain/notifications-config.js';
import type { Notification } from '../../src/domain/payloads.js';
import { verifySignature } from '../../src/domain/signature.js';
import { sendNotification } from '../../src/channels/send.js';
import { ChannelDeliveryError } from '../../src/channels/errors.js';
import { backoffDelayMs, retryAfterMs } from '../../src/channels/http-delivery.js';

const event = createEvent(EventType.SyncSucceeded, {
  source: 'applier',
  app: 'web',
  id: 'sync.succeeded:web:s1',
  data: { app: 'web', syncId: 's1', revision: 'r1', trigger: 'automated', phase: 'Succeeded', message: 'ok', startedAt: '2025-01-01T00:00:00Z', resources: [] },
});
const notification: Notification = {
  trigger: NotificationTrigger.OnSyncSucceeded,
  app: 'web',
  revision: 'r1',
  title: 'Application web has been successfully synced.',
  message: 'ok',
  health: 'Unknown',
  syncStatus: 'Synced',
  event,
};

function channel(url: string, overrides: Record<string, number> = {}) {
  const settings = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 300, ...overrides };
  const extra = Object.entries(settings).map(([k, v]) => `, ${k}: ${v}`).join('');
  const config = parseNotificationsConfig(`channels:\n  - { name: hook, type: webhook, url: "${url}", secret: k3y${extra} }\n`);
  const c = config.channels[0];
  assert.ok(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<ChannelDeliveryError> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof ChannelDeliveryError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

test('a webhook delivery arrives once, signed over the exact body received', async (t) => {
  const receiver = await startWebhookReceiver();
  t.after(() => receiver.close());
  const result = await sendNotification(channel(`${receiver.url}/hook`), notification);
  assert.deepEqual(result, { attempts: 1, status: 200 });
  const [req] = receiver.requests();
  assert.ok(req);
  assert.equal(receiver.requests().length, 1);
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/hook');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.headers['x-ferry-event'], 'on-sync-succeeded');
  assert.equal(req.headers['x-ferry-delivery'], 'on-sync-succeeded:web:r1:hook');
  assert.ok(verifySignature('k3y', req.body, String(req.headers['x-ferry-signature'])));
  assert.equal((req.json as { app: string }).app, 'web');
});

test('a delivery answered 500 is retried until it succeeds, with the same delivery id and signature', async (t) => {
  const receiver = await startWebhookReceiver({ failFirst: 2, failStatus: 500 });
  t.after(() => receiver.close());
  const retries: number[] = [];
  const result = await sendNotification(channel(receiver.url), notification, { onRetry: (r) => retries.push(r.status ?? 0) });
  assert.equal(result.attempts, 3);
  assert.deepEqual(retries, [500, 500]);
  const reqs = receiver.requests();
  assert.equal(reqs.length, 3);
  assert.equal(new Set(reqs.map((r) => r.headers['x-ferry-delivery'])).size, 1);
  assert.equal(new Set(reqs.map((r) => r.headers['x-ferry-signature'])).size, 1);
});

test('a delivery answered 400 is not retried and fails with the notifier delivery code', async (t) => {
  const receiver = await startWebhookReceiver({ failFirst: 10, failStatus: 400 });
  t.after(() => receiver.close());
  const error = await rejection(sendNotification(channel(receiver.url), notification));
  assert.equal(error.code, ErrorCode.NotifierDeliveryFailed);
  assert.equal(error.status, 400);
  assert.equal(error.attempts, 1);
  assert.equal(receiver.requests().length, 1);
});

test('a delivery answered 429 is retried', async (t) => {
  const receiver = await startWebhookReceiver({ failFirst: 1, failStatus: 429 });
  t.after(() => receiver.close());
  const result = await sendNotification(channel(receiver.url), notification);
  assert.equal(result.attempts, 2);
});

test('a delivery that keeps failing gives up after the configured attempts without naming the URL', async (t) => {
  const receiver = await startWebhookReceiver({ failFirst: 100, failStatus: 503 });
  t.after(() => receiver.close());
  const url = `${receiver.url}/services/T000/B000/supersecrettoken`;
  const error = await rejection(sendNotification(channel(url), notification));
  assert.equal(error.attempts, 3);
  assert.equal(error.reason, 'http-status');
  assert.equal(receiver.requests().length, 3);
  assert.ok(!error.message.includes('supersecrettoken'));
  assert.ok(!error.message.includes('k3y'));
  assert.ok(!JSON.stringify(error).includes('supersecrettoken'));
});

async function startSlowServer(delayMs: number): Promise<{ url: string; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    const timer = setTimeout(() => res.end('late'), delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, server };
}

test('an attempt that exceeds the timeout is aborted and retried, then reported as a timeout', async (t) => {
  const slow = await startSlowServer(5_000);
  t.after(() => new Promise<void>((resolve) => { slow.server.closeAllConnections(); slow.server.close(() => resolve()); }));
  const started = Date.now();
  const error = await rejection(sendNotification(channel(slow.url, { timeoutMs: 100, attempts: 2 }), notification));
  assert.equal(error.reason, 'timeout');
  assert.equal(error.attempts, 2);
  assert.equal(slow.hits(), 2);
  assert.ok(Date.now() - started < 2_000, 'did not wait for the slow server');
});

test('a refused connection is a network failure, retried', async () => {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  const error = await rejection(sendNotification(channel(`http://127.0.0.1:${port}/`), notification));
  assert.equal(error.reason, 'network');
  assert.equal(error.attempts, 3);
  assert.match(error.message, /ECONNREFUSED/);
});

test('aborting stops a delivery during its backoff with reason aborted', async (t) => {
  const receiver = await startWebhookReceiver({ failFirst: 100, failStatus: 500 });
  t.after(() => receiver.close());
  const controller = new AbortController();
  const p = sendNotification(channel(receiver.url, { baseDelayMs: 10000, maxDelayMs: 10000 }), notification, { signal: controller.signal });
  await receiver.waitFor();
  controller.abort(new Error('closing'));
  const error = await rejection(p);
  assert.equal(error.reason, 'aborted');
  assert.equal(receiver.requests().length, 1);
});

test('backoff doubles per attempt, is jittered into [d/2, d] and capped; Retry-After is read in seconds or as a date', () => {
  assert.equal(backoffDelayMs(1, 500, 30_000, () => 0), 250);
  assert.equal(backoffDelayMs(1, 500, 30_000, () => 0.999999), 500);
  assert.equal(backoffDelayMs(3, 500, 30_000, () => 0), 1000);
  assert.equal(backoffDelayMs(20, 500, 30_000, () => 0.999999), 30_000);
  assert.equal(retryAfterMs('2'), 2000);
  assert.equal(retryAfterMs(null), undefined);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
});
