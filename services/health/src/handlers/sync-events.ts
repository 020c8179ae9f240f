/** The `health-sync` consumer: sync.started / succeeded / failed events from the applier. */
import { EventType, isEventOf } from '@ferry/contracts';
import { HandlerResult } from '@ferry/runtime';
import type { EventHandler } from '@ferry/runtime';
import type { HealthMonitor } from '../health-monitor.js';
import { AssessmentResult } from '../metrics.js';
import { traceparentOf } from '../trace-context.js';

/** Durable consumer name shared by every replica of the health service. */
export const SYNC_DURABLE = 'health-sync';

/** `<prefix>.sync.*.*`: started, succeeded and failed (and any later sync verb) for every app. */
export function syncFilter(subjectPrefix: string): string {
  return `${subjectPrefix}.sync.*.*`;
}

/** Delay before a sync event whose assessment failed (KV, NATS or the cluster unavailable) is redelivered. */
export const SYNC_RETRY_MS = 2_000;

/**
 * On a completed sync that changed the cluster: remember its revision and trace, watch its kinds, assess the app at once; ack
 * when the assessment was written (or nothing changed), nak with a delay when it failed. Other sync
 * events (started, requested) are acknowledged without work.
 */
export function createSyncEventHandler(monitor: HealthMonitor): EventHandler {
  return async (event, ctx) => {
    if (!isEventOf(event, EventType.SyncSucceeded) && !isEventOf(event, EventType.SyncFailed)) return HandlerResult.ack();
    // A dry run changed nothing, and an Error operation never applied anything (its manifests could not
    // be generated): the app still runs the revision of its last real sync.
    if (event.data.dryRun === true || event.data.phase === 'Error') return HandlerResult.ack();
    const outcome = await monitor.onSyncCompleted(event.data, traceparentOf(ctx.traceContext));
    if (outcome.result === AssessmentResult.Error) return HandlerResult.nak(SYNC_RETRY_MS);
    return HandlerResult.ack();
  };
}
