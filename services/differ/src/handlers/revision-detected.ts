/** The `differ-revision` consumer: revision.detected events from the poller. */
import { EventType, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler, Logger } from '@ferry/runtime';
import type { AppComparer } from '../app-comparer.js';

/** Durable consumer name shared by every replica of the differ. */
export const REVISION_DURABLE = 'differ-revision';

/** `<prefix>.revision.detected.*`. */
export function revisionFilter(subjectPrefix: string): string {
  return `${subjectPrefix}.revision.detected.*`;
}

/**
 * Compares the app at the detected revision, publishes diff.computed and writes the record, then acks.
 * A transient comparison failure (cluster unreachable) is recorded (Unknown) and nak-ed with a delay
 * growing with the delivery count (retryMs × delivery, at most 6×); NATS failures throw (the runtime
 * naks with backoff). Events of another type on the subject are acknowledged without work.
 */
export function createRevisionHandler(comparer: AppComparer, options: { retryMs: number; logger: Logger }): EventHandler {
  return async (event, ctx) => {
    if (!isEventOf(event, EventType.RevisionDetected)) return HandlerResult.ack();
    const outcome = await comparer.onRevisionDetected(event.data, ctx.traceContext);
    if (outcome.kind === 'retry') {
      const delayMs = options.retryMs * Math.min(ctx.deliveryCount, 6);
      options.logger.warn(
        { app: event.data.app, err: outcome.error, delivery: ctx.deliveryCount, delayMs },
        'comparison failed transiently; will retry',
      );
      return HandlerResult.nak(delayMs);
    }
    return HandlerResult.ack();
  };
}
