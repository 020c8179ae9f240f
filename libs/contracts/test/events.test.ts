import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ErrorCode,
  EventInvalidError,
  EventType,
  appFromSubject,
  createEvent,
  decodeEvent,
  eventFilter,
  eventSubject,
} from '@ferry/contracts';
import { eventExamples, renderEventDocs } from '../../../scripts/event-docs.js';

test('subjects follow <prefix>.<noun>.<verb-past>.<app>', () => {
  assert.equal(eventSubject('gitops', EventType.RevisionDetected, 'web'), 'gitops.revision.detected.web');
  assert.equal(eventSubject('acme', EventType.SyncSucceeded, 'web'), 'acme.sync.succeeded.web');
  assert.equal(eventFilter('gitops', EventType.HealthChanged), 'gitops.health.changed.*');
  assert.equal(appFromSubject('gitops.sync.failed.skynet-docs'), 'skynet-docs');
});

for (const type of Object.values(EventType)) {
  test(`the documented example of ${type} round-trips through createEvent and decodeEvent`, () => {
    const event = createEvent(type, { source: 'test', app: 'skynet-docs', data: eventExamples[type] as never, id: 'id-1' });
    const decoded = decodeEvent(JSON.stringify(event));
    assert.deepEqual(decoded, event);
    assert.equal(decoded.source, 'ferry/test');
  });
}

test('a payload missing a required field is rejected with FERRY_ERR_EVENT_INVALID naming the field', () => {
  const bad = { app: 'web', reason: 'manual' };
  assert.throws(
    () => createEvent(EventType.RefreshRequested, { source: 'api', app: 'web', data: bad as never }),
    (error: unknown) => error instanceof EventInvalidError && error.code === ErrorCode.EventInvalid && /data\.requestId is required/.test(error.message),
  );
});

test('decodeEvent rejects non-JSON, unknown types and wrong specversion', () => {
  for (const raw of ['not json', '{"specversion":"0.3"}', JSON.stringify({ specversion: '1.0', id: 'a', source: 's', subject: 'x', time: 't', type: 'dev.other.v1', data: {} })]) {
    assert.throws(() => decodeEvent(raw), EventInvalidError);
  }
});

test('docs/events.md is generated from the catalogue and up to date (run npm run docs:events)', () => {
  const onDisk = readFileSync(new URL('../../../docs/events.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderEventDocs());
});
