/** The `applier-app-deleted` consumer: app.deleted from the api (delete the app's managed objects). */
import { EventType, eventFilter, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler } from '@ferry/runtime';
import type { AppDeleter } from '../deleter.js';

/** Durable consumer name shared by every applier replica. */
export const APP_DELETED_DURABLE = 'applier-app-deleted';

/** `<prefix>.app.deleted.*`. */
export function appDeletedFilter(subjectPrefix: string): string {
  return eventFilter(subjectPrefix, EventType.AppDeleted);
}

export function createAppDeletedHandler(deleter: AppDeleter): EventHandler {
  return async (event) => {
    if (!isEventOf(event, EventType.AppDeleted)) return HandlerResult.ack();
    return deleter.onAppDeleted(event.data);
  };
}
