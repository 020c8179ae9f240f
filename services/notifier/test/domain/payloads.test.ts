import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent, EventType, NotificationTrigger } from '@ferry/contracts';
import { parseNotificationsConfig } from '../../src/domain/notifications-config.js';
import { buildChannelRequest, type Notification } from '../../src/domain/payloads.js';
import { verifySignature } from '../../src/domain/signature.js';

const config = parseNotificationsConfig(
  [
    'channels:',
    '  - { name: hook, type: webhook, url: "https://x.example/h", secret: k3y, headers: { X-Team: platform } }',
    '  - { name: chat, type: slack, url: "https://hooks.example/services/T" }',
  ].join('\n'),
);
const event = createEvent(EventType.HealthChanged, {
  source: 'health',
  app: 'web',
  id: 'health.changed:web:r1:Healthy:1',
  data: { app: 'web', revision: 'r1', status: 'Healthy', resources: [], changedAt: '2025-01-01T00:00:00Z' },
});
const notification: Notification = {
  trigger: NotificationTrigger.OnDeployed,
  app: 'web',
  revision: 'r1',
  title: 'T',
  message: 'M',
  health: 'Healthy',
  syncStatus: 'Synced',
  event,
};

test('a webhook request carries the JSON body, the event that fired it, and signature, event and delivery headers', () => {
  const [hook] = config.channels;
  assert.ok(hook);
  const req = buildChannelRequest(hook, notification);
  const body = JSON.parse(req.body) as Record<string, unknown>;
  assert.equal(body['trigger'], 'on-deployed');
  assert.equal(body['app'], 'web');
  assert.equal(body['revision'], 'r1');
  assert.equal(body['title'], 'T');
  assert.equal(body['message'], 'M');
  assert.deepEqual(body['event'], event);
  assert.equal(req.headers['X-Ferry-Event'], 'on-deployed');
  assert.equal(req.headers['X-Ferry-Delivery'], 'on-deployed:web:r1:hook');
  assert.equal(req.headers['X-Team'], 'platform');
  assert.ok(verifySignature('k3y', req.body, req.headers['X-Ferry-Signature']));
});

test('a Slack request is { text, attachments } and is not signed', () => {
  const chat = config.channels[1];
  assert.ok(chat);
  const req = buildChannelRequest(chat, notification);
  const body = JSON.parse(req.body) as { text: string; attachments: Array<{ text: string; color: string }> };
  assert.equal(body.text, 'T');
  assert.equal(body.attachments[0]?.text, 'M');
  assert.equal(body.attachments[0]?.color, '#18be52');
  assert.equal(req.headers['X-Ferry-Signature'], undefined);
});
