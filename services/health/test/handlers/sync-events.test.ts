import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType, createEvent, type SyncEvent } from '@ferry/contracts';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { DeliveryContext } from '@ferry/runtime';
import { createSyncEventHandler } from '../../src/handlers/sync-events.js';
import type { HealthMonitor } from '../../src/health-monitor.js';

const sync = (over: Partial<SyncEvent>): SyncEvent => ({
  app: 'web',
  syncId: 's1',
  revision: 'a'.repeat(40),
  trigger: 'manual',
  phase: 'Succeeded',
  message: '',
  startedAt: '2026-01-01T00:00:00Z',
  resources: [],
  ...over,
});

function harness(): { seen: SyncEvent[]; handle: (type: typeof EventType.SyncSucceeded | typeof EventType.SyncFailed, data: SyncEvent) => Promise<unknown> } {
  const seen: SyncEvent[] = [];
  const monitor = { onSyncCompleted: async (data: SyncEvent) => (seen.push(data), { result: 'unchanged' }) } as unknown as HealthMonitor;
  const handler = createSyncEventHandler(monitor);
  return {
    seen,
    handle: (type, data) => handler(createEvent(type, { source: 'applier', app: 'web', data }), { traceContext: ROOT_CONTEXT } as unknown as DeliveryContext),
  };
}

test('a completed sync that applied something is assessed', async () => {
  const h = harness();
  await h.handle(EventType.SyncSucceeded, sync({}));
  await h.handle(EventType.SyncFailed, sync({ phase: 'Failed' }));
  assert.equal(h.seen.length, 2);
});

test('a dry run and an Error operation (nothing applied) do not move the app to their revision', async () => {
  const h = harness();
  await h.handle(EventType.SyncSucceeded, sync({ dryRun: true }));
  await h.handle(EventType.SyncFailed, sync({ phase: 'Error', error: { code: 'FERRY_ERR_RENDER_PARSE', message: 'k8s/a.yaml:3: bad' } }));
  assert.deepEqual(h.seen, []);
});
