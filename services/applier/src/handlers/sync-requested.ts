/** The `applier-sync-request` consumer: manual sync requests from the api. */
import { EventType, eventFilter, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler } from '@ferry/runtime';
import type { Syncer } from '../syncer.js';

/** Durable consumer name shared by every applier replica. */
export const SYNC_REQUEST_DURABLE = 'applier-sync-request';

/** `<prefix>.sync.requested.*`. */
export function syncRequestFilter(subjectPrefix: string): string {
  return eventFilter(subjectPrefix, EventType.SyncRequested);
}

/** Records pendingSync and asks for a refresh carrying the sync intent; other event types are acked. */
export function createSyncRequestHandler(syncer: Syncer): EventHandler {
  return async (event) => {
    if (!isEventOf(event, EventType.SyncRequested)) return HandlerResult.ack();
    return syncer.onSyncRequested(event.data);
  };
}
