import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { evaluateTriggers, initialNotifyState, syncStatusOf, type AppNotifyState, type NotifyEvent } from '../../src/domain/triggers.js';

interface Case {
  description: string;
  steps: Array<{ event: Omit<NotifyEvent, 'app'>; fired: Array<{ trigger: string; revision: string }> }>;
  finalState?: Record<string, unknown>;
}

const dir = join(import.meta.dirname, 'fixtures', 'triggers');

for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
  const c = parse(readFileSync(join(dir, file), 'utf8')) as Case;
  test(`${c.description} (${file})`, () => {
    let state: AppNotifyState = initialNotifyState('web');
    c.steps.forEach((step, i) => {
      const result = evaluateTriggers(state, { ...step.event, app: 'web' } as NotifyEvent);
      assert.deepEqual(result.fired, step.fired, `step ${i + 1} (${step.event.kind})`);
      // The state round-trips through JSON, as it does through KV.
      state = JSON.parse(JSON.stringify(result.state)) as AppNotifyState;
    });
    for (const [key, expected] of Object.entries(c.finalState ?? {})) {
      const actual = (state as unknown as Record<string, unknown>)[key];
      if (typeof expected === 'object' && expected !== null) {
        for (const [k, v] of Object.entries(expected)) assert.equal((actual as Record<string, unknown>)[k], v, `${key}.${k}`);
      } else assert.equal(actual, expected, key);
    }
  });
}

test('evaluateTriggers does not mutate the state it is given', () => {
  const state = Object.freeze(initialNotifyState('web'));
  const result = evaluateTriggers(state, { kind: 'sync', result: 'succeeded', app: 'web', revision: 'r1', syncId: 's1', message: 'ok', at: '2025-01-01T00:00:00Z' });
  assert.notEqual(result.state, state);
  assert.equal(state.lastSync, undefined);
});

test('the sync status shown in templates follows the last sync result', () => {
  const s0 = initialNotifyState('web');
  assert.equal(syncStatusOf(s0), 'Unknown');
  const s1 = evaluateTriggers(s0, { kind: 'sync', result: 'failed', app: 'web', revision: 'r1', syncId: 's1', message: 'x', at: '2025-01-01T00:00:00Z' }).state;
  assert.equal(syncStatusOf(s1), 'OutOfSync');
});
