/** The `applier-revision-failed` consumer: revision.failed from the poller (a manual operation whose revision failed ends). */
import { EventType, eventFilter, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler } from '@ferry/runtime';
import type { Syncer } from '../syncer.js';

/** Durable consumer name shared by every applier replica. */
export const REVISION_FAILED_DURABLE = 'applier-revision-failed';

/** `<prefix>.revision.failed.*`. */
export function revisionFailedFilter(subjectPrefix: string): string {
  return eventFilter(subjectPrefix, EventType.RevisionFailed);
}

/** Hands each revision.failed to the syncer inside the consumed trace; other event types are acked. */
export function createRevisionFailedHandler(syncer: Syncer): EventHandler {
  return async (event, ctx) => {
    if (!isEventOf(event, EventType.RevisionFailed)) return HandlerResult.ack();
    return syncer.onRevisionFailed(event.data, ctx.traceContext);
  };
}
