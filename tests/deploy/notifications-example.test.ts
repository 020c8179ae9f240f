import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ErrorCode, NotificationTrigger } from '@ferry/contracts';
import { NotifierConfigError, parseNotificationsConfig } from '@ferry/notifier';
import { repoRoot } from './source-metrics.js';

const file = join(repoRoot, 'deploy/notifications.example.yaml');
const text = readFileSync(file, 'utf8');
const env = { OPS_WEBHOOK_SECRET: 'It is a secret to everybody', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX' };

test("the example notifier config parses with the notifier's own parser when its variables are set", () => {
  const config = parseNotificationsConfig(text, { file, env });
  const webhook = config.channels.find((c) => c.type === 'webhook');
  const slack = config.channels.find((c) => c.type === 'slack');
  assert.ok(webhook && slack);
  assert.equal(webhook.secret?.reveal(), env.OPS_WEBHOOK_SECRET, 'the webhook signs with the key from secretEnv');
  assert.equal(slack.url.reveal(), env.SLACK_WEBHOOK_URL, 'the Slack URL comes from urlEnv');
  const raw = parse(text) as { channels: Record<string, unknown>[] };
  assert.ok(raw.channels.some((c) => c['type'] === 'webhook' && typeof c['secretEnv'] === 'string' && c['secret'] === undefined));
  assert.ok(raw.channels.some((c) => c['type'] === 'slack' && typeof c['urlEnv'] === 'string' && c['url'] === undefined));
});

test('the example subscribes every trigger to a channel', () => {
  const config = parseNotificationsConfig(text, { file, env });
  const subscribed = new Set(config.subscriptions.flatMap((s) => s.triggers));
  assert.deepEqual([...subscribed].sort(), Object.values(NotificationTrigger).sort());
  for (const channel of config.channels)
    assert.ok(
      config.subscriptions.some((s) => s.channels.includes(channel.name)),
      `${channel.name} is subscribed`,
    );
});

test('without its variables the example is refused, naming each variable', () => {
  assert.throws(
    () => parseNotificationsConfig(text, { file, env: {} }),
    (error: unknown) => {
      assert.ok(error instanceof NotifierConfigError);
      assert.equal(error.code, ErrorCode.NotifierConfigInvalid);
      const fields = error.problems.map((p) => p.field);
      for (const field of ['channels[0].secretEnv', 'channels[1].urlEnv']) assert.ok(fields.includes(field), `a problem names ${field}`);
      for (const name of Object.keys(env)) {
        assert.match(error.message, new RegExp(name));
      }
      return true;
    },
  );
});

test("docker-compose.yml mounts the example where the notifier's FERRY_NOTIFIER_CONFIG points", () => {
  const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; volumes?: string[] }>;
  };
  const notifier = compose.services['notifier'];
  const mount = notifier?.volumes?.find((v) => v.startsWith('./deploy/notifications.example.yaml:'));
  assert.ok(mount);
  assert.equal(mount.split(':')[1], notifier?.environment?.['FERRY_NOTIFIER_CONFIG']);
});
