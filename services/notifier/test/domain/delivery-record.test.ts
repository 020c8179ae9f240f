import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationTrigger } from '@ferry/contracts';
import { claimDecision, dedupeKey, finish, newDeliveryRecord, takeOver, withChannelResult } from '../../src/domain/delivery-record.js';

const now = new Date('2025-01-01T00:00:00Z');
const fields = { trigger: NotificationTrigger.OnDeployed, app: 'web', revision: 'abc', owner: 'a' };

test('the dedupe key is <trigger>.<app>.<revision> with characters KV refuses replaced', () => {
  assert.equal(dedupeKey(NotificationTrigger.OnDeployed, 'web', 'abc123'), 'on-deployed.web.abc123');
  assert.equal(dedupeKey(NotificationTrigger.OnSyncFailed, 'web', 'v1.2 beta'), 'on-sync-failed.web.v1_2_beta');
});

test('a pending record is busy for others until its lease ends, then it can be taken over', () => {
  const r = newDeliveryRecord(fields, now, 30_000);
  assert.deepEqual(claimDecision(r, 'a', now), { kind: 'proceed' });
  assert.deepEqual(claimDecision(r, 'b', new Date(now.getTime() + 10_000)), { kind: 'busy', retryInMs: 20_000 });
  assert.deepEqual(claimDecision(r, 'b', new Date(now.getTime() + 30_000)), { kind: 'takeover' });
  const taken = takeOver(r, 'b', new Date(now.getTime() + 30_000), 30_000);
  assert.deepEqual(claimDecision(taken, 'b', new Date(now.getTime() + 30_001)), { kind: 'proceed' });
});

test('a finished record is done for everyone, sent only when every channel was delivered', () => {
  let r = newDeliveryRecord(fields, now, 30_000);
  r = withChannelResult(r, 'hook', { result: 'sent', attempts: 1, at: now.toISOString(), published: true }, now);
  assert.equal(finish(r, now).state, 'sent');
  r = withChannelResult(r, 'chat', { result: 'failed', attempts: 5, error: 'HTTP 500', at: now.toISOString(), published: true }, now);
  const done = finish(r, now);
  assert.equal(done.state, 'failed');
  assert.deepEqual(claimDecision(done, 'a', now), { kind: 'done' });
  assert.deepEqual(claimDecision(done, 'z', now), { kind: 'done' });
});
