import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parse } from 'yaml';
import { ErrorCode } from '@ferry/contracts';
import { channelsFor, parseNotificationsConfig } from '../../src/domain/notifications-config.js';
import { NotifierConfigError, type NotifierConfigProblem } from '../../src/domain/errors.js';
import type { NotificationTrigger } from '@ferry/contracts';

interface Case {
  description: string;
  env?: Record<string, string>;
  config: string;
  expect: {
    problems?: Array<{ line: number; field: string; contains: string }>;
    channels?: Array<Record<string, unknown>>;
    routes?: Array<{ trigger: NotificationTrigger; app: string; channels: string[] }>;
    templates?: Record<string, { title: string; body: string }>;
  };
}

const dir = join(import.meta.dirname, 'fixtures', 'config');

for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  const c = parse(readFileSync(join(dir, file), 'utf8')) as Case;
  test(`${c.description} (${file})`, () => {
    const run = () => parseNotificationsConfig(c.config, { file: 'notifier.yaml', env: c.env ?? {} });
    if (c.expect.problems) {
      let caught: unknown;
      try {
        run();
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof NotifierConfigError, `expected NotifierConfigError, got ${String(caught)}`);
      assert.equal(caught.code, ErrorCode.NotifierConfigInvalid);
      const actual = caught.problems.map((p) => ({ line: p.line, field: p.field, message: p.message }));
      assert.equal(actual.length, c.expect.problems.length, `problems: ${JSON.stringify(actual, null, 1)}`);
      for (const expected of c.expect.problems) {
        const found: NotifierConfigProblem | undefined = caught.problems.find((p) => p.field === expected.field);
        assert.ok(found, `no problem for ${expected.field}; got ${JSON.stringify(actual)}`);
        assert.equal(found.line, expected.line, `line of ${expected.field}`);
        assert.equal(found.file, 'notifier.yaml');
        assert.ok(found.message.includes(expected.contains), `${expected.field}: "${found.message}" should contain "${expected.contains}"`);
        assert.ok(caught.message.includes(`notifier.yaml:${expected.line}:`), 'the message names file and line');
      }
      for (const value of Object.values(c.env ?? {})) assert.ok(!caught.message.includes(value), 'no environment value in the error');
      return;
    }
    const config = run();
    if (c.expect.channels) {
      assert.equal(config.channels.length, c.expect.channels.length);
      c.expect.channels.forEach((expected, i) => {
        const channel = config.channels[i];
        assert.ok(channel);
        for (const [key, value] of Object.entries(expected)) {
          if (key === 'hasSecret') assert.equal(channel.secret !== undefined, value, 'hasSecret');
          else assert.equal((channel as unknown as Record<string, unknown>)[key], value, key);
        }
      });
    }
    for (const route of c.expect.routes ?? []) {
      assert.deepEqual(channelsFor(config, route.trigger, route.app).map((ch) => ch.name).sort(), [...route.channels].sort(), `${route.trigger} ${route.app}`);
    }
    for (const [trigger, template] of Object.entries(c.expect.templates ?? {})) {
      assert.deepEqual(config.templates[trigger as NotificationTrigger], template);
    }
    // Secrets and URLs never print, whichever way the config is logged.
    const printed = JSON.stringify(config) + inspect(config, { depth: 10 });
    for (const value of Object.values(c.env ?? {})) assert.ok(!printed.includes(value), 'environment value printed');
  });
}

test('secret values are revealed only on purpose', () => {
  const config = parseNotificationsConfig('channels:\n  - { name: a, type: webhook, url: "https://x.example/h", secret: topsecret }\n');
  const channel = config.channels[0];
  assert.ok(channel?.secret);
  assert.equal(channel.secret.reveal(), 'topsecret');
  assert.equal(`${channel.secret}`, '[Redacted]');
  assert.ok(!JSON.stringify(config).includes('topsecret'));
  assert.ok(!inspect(config, { depth: 10 }).includes('topsecret'));
  assert.ok(!inspect(config, { depth: 10 }).includes('x.example'));
});

test('the resolved config is frozen', () => {
  const config = parseNotificationsConfig('channels: []\n');
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.channels));
});
