import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createMetricsRegistry } from '@ferry/runtime';
import { createNotifierMetrics } from '../src/metrics.js';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

test('the notifier metrics pass promtool check metrics', async (t) => {
  if (!PROMTOOL) {
    t.skip('promtool not found (apt-get install -y prometheus)');
    return;
  }
  const registry = createMetricsRegistry({ service: 'notifier' });
  const m = createNotifierMetrics(registry);
  m.notifications.inc({ trigger: 'on-deployed', channel: 'hook', result: 'sent' });
  m.sendDuration.observe({ channel: 'hook', result: 'sent' }, 0.12);
  m.deduplicated.inc({ trigger: 'on-deployed' });
  m.events.inc({ type: 'dev.ferry.sync.succeeded.v1', outcome: 'ack' });
  const text = await registry.metrics();
  assert.match(text, /ferry_notifier_notifications_total\{/);
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
});
