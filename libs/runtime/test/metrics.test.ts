import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Counter, createMetricsRegistry } from '@ferry/runtime';

function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('/usr/bin/promtool', ['check', 'metrics'], (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    child.stdin?.end(text);
  });
}

test('a registry with the default Node metrics has no gauges named like counters', async () => {
  const registry = createMetricsRegistry({ service: 'poller', collectDefaults: true });
  const text = await registry.metrics();
  assert.match(text, /process_resident_memory_bytes\{service="poller"\}/);
  assert.match(text, /^nodejs_active_handles\{/m);
  assert.doesNotMatch(text, /nodejs_active_(handles|requests|resources)_total/);
});

test('promtool check metrics accepts a service registry with the defaults', async (t) => {
  if (!existsSync('/usr/bin/promtool')) {
    t.skip('promtool not found at /usr/bin/promtool (apt-get install -y prometheus)');
    return;
  }
  const registry = createMetricsRegistry({ service: 'api', collectDefaults: true });
  new Counter({ name: 'ferry_test_things_total', help: 'Things counted by the test.', registers: [registry] }).inc();
  const { code, out } = await promtoolCheck(await registry.metrics());
  assert.equal(code, 0, out);
});
