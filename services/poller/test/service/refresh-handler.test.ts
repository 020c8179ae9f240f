import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { EventType, createEvent, type Application } from '@ferry/contracts';
import { createLogger, type DeliveryContext } from '@ferry/runtime';
import { createRefreshHandler, type AppPollOutcome, type PollRequest } from '../../src/index.js';

const logger = createLogger({ name: 'test', level: 'silent' });
const app = { metadata: { name: 'web' }, spec: { source: { repoURL: 'https://git.example.com/r.git' } } } as unknown as Application;
const delivery = (deliveryCount: number): DeliveryContext => ({
  subject: 'gitops.refresh.requested.web',
  deliveryCount,
  streamSequence: 1,
  traceContext: ROOT_CONTEXT,
  headers: undefined,
});
const refresh = (sync?: { requestId: string; prune: boolean; initiatedBy: string }) =>
  createEvent(EventType.RefreshRequested, {
    source: 'api',
    app: 'web',
    data: { app: 'web', reason: 'manual', requestId: 'r1', ...(sync ? { sync } : {}) },
  });

function handlerWith(outcome: Partial<AppPollOutcome>, known = true) {
  const requests: PollRequest[] = [];
  const handler = createRefreshHandler({
    fetchApp: async () => (known ? app : undefined),
    poller: {
      pollApp: async (_app, request) => {
        if (request) requests.push(request);
        return { app: 'web', result: 'detected', transient: false, ...outcome };
      },
    },
    logger,
    maxAttempts: 3,
    retryDelayMs: (n) => n * 100,
  });
  return { handler, requests };
}

describe('the refresh request handler', () => {
  it('polls the app with the request id, sync intent and trace context, then acks', async () => {
    const { handler, requests } = handlerWith({});
    const sync = { requestId: 's1', prune: false, initiatedBy: 'bob' };
    assert.deepEqual(await handler(refresh(sync), delivery(1)), { kind: 'ack' });
    assert.equal(requests[0]?.requestId, 'r1');
    assert.deepEqual(requests[0]?.sync, sync);
    assert.equal(requests[0]?.parentContext, ROOT_CONTEXT);
    assert.equal(requests[0]?.finalAttempt, false);
  });

  it('naks with a delay while the Git server is unreachable, and flags the last attempt', async () => {
    const { handler, requests } = handlerWith({ result: 'failed', transient: true });
    assert.deepEqual(await handler(refresh(), delivery(2)), { kind: 'nak', delayMs: 200 });
    await handler(refresh(), delivery(3));
    assert.deepEqual(
      requests.map((r) => r.finalAttempt),
      [false, true],
    );
  });

  it('acks a request for an unknown app without polling', async () => {
    const { handler, requests } = handlerWith({}, false);
    assert.deepEqual(await handler(refresh(), delivery(1)), { kind: 'ack' });
    assert.equal(requests.length, 0);
  });
});
