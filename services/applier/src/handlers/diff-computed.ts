/** The `applier-diff` consumer: diff.computed events from the differ. */
import { EventType, eventFilter, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler } from '@ferry/runtime';
import type { Syncer } from '../syncer.js';

/** Durable consumer name shared by every applier replica. */
export const DIFF_DURABLE = 'applier-diff';

/** `<prefix>.diff.computed.*`. */
export function diffFilter(subjectPrefix: string): string {
  return eventFilter(subjectPrefix, EventType.DiffComputed);
}

/** Hands each diff.computed to the syncer inside the consumed trace; other event types are acked. */
export function createDiffHandler(syncer: Syncer): EventHandler {
  return async (event, ctx) => {
    if (!isEventOf(event, EventType.DiffComputed)) return HandlerResult.ack();
    return syncer.onDiff(event.data, event.id, ctx.traceContext);
  };
}
