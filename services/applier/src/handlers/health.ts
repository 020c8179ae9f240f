/** The `applier-health` consumer: health.changed from the health service (healthy revisions, automatic rollback). */
import { EventType, eventFilter, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler } from '@ferry/runtime';
import type { RollbackController } from '../rollback/controller.js';

/** Durable consumer name shared by every applier replica. */
export const HEALTH_DURABLE = 'applier-health';

/** `<prefix>.health.changed.*`. */
export function healthFilter(subjectPrefix: string): string {
  return eventFilter(subjectPrefix, EventType.HealthChanged);
}

/** Hands each health.changed to the rollback controller; other event types are acked. */
export function createHealthHandler(controller: RollbackController): EventHandler {
  return async (event) => {
    if (!isEventOf(event, EventType.HealthChanged)) return HandlerResult.ack();
    return controller.onHealthChanged(event.data);
  };
}
