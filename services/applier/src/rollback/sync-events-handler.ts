/**
 * The `applier-rollback` consumer of `<prefix>.sync.*.*`: completions of rollback syncs
 * (rollback.completed), failed PostSync hooks (automatic rollback), and users' rollback requests.
 * sync.started is acknowledged and ignored. (NATS 2.9 allows one filter per consumer, hence one
 * consumer for the whole `sync` noun.)
 */
import { EventType, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler } from '@ferry/runtime';
import type { RollbackController } from './controller.js';

/** Durable consumer name shared by every applier replica. */
export const ROLLBACK_DURABLE = 'applier-rollback';

/** `<prefix>.sync.*.*`. */
export function rollbackFilter(subjectPrefix: string): string {
  return `${subjectPrefix}.sync.*.*`;
}

export function createRollbackSyncHandler(controller: RollbackController): EventHandler {
  return async (event) => {
    if (isEventOf(event, EventType.SyncSucceeded) || isEventOf(event, EventType.SyncFailed)) return controller.onSyncCompleted(event.data);
    if (isEventOf(event, EventType.SyncRequested)) return controller.onSyncRequested(event.data);
    return HandlerResult.ack();
  };
}
