/** The `poller-refresh` consumer: `<prefix>.refresh.requested.<app>` from the api and the applier. */
import { EventType, eventFilter, isEventOf } from '@ferry/contracts';
import type { Application } from '@ferry/contracts';
import { HandlerResult, handlerErrorBackoffMs } from '@ferry/runtime';
import type { EventHandler, Logger } from '@ferry/runtime';
import type { PollRequest, SourcePoller } from '../source-poller.js';

/** Durable consumer name shared by every replica of the poller. */
export const REFRESH_DURABLE = 'poller-refresh';

/** Deliveries of one refresh request while its Git server is unreachable before the failure is announced. */
export const REFRESH_MAX_ATTEMPTS = 5;

/** `<prefix>.refresh.requested.*`. */
export function refreshFilter(subjectPrefix: string): string {
  return eventFilter(subjectPrefix, EventType.RefreshRequested);
}

export interface RefreshHandlerOptions {
  /** Reads the app as the bucket holds it now. */
  fetchApp(name: string): Promise<Application | undefined>;
  poller: Pick<SourcePoller, 'pollApp'>;
  logger: Logger;
  /** Default {@link REFRESH_MAX_ATTEMPTS}. */
  maxAttempts?: number;
  /** Delay before redelivery after a transient Git failure; default 1 s, 2 s, 4 s … (capped at 30 s). */
  retryDelayMs?: (deliveryCount: number) => number;
}

/**
 * Polls the requested app at once, in the request's trace, carrying its sync intent. Ack when done
 * (also for an unknown or invalid app: nothing to do); nak with a delay when its Git server is
 * unreachable (the last attempt reports the failure instead). NATS failures throw: the bus naks.
 */
export function createRefreshHandler(options: RefreshHandlerOptions): EventHandler {
  const maxAttempts = options.maxAttempts ?? REFRESH_MAX_ATTEMPTS;
  const retryDelay = options.retryDelayMs ?? handlerErrorBackoffMs;
  return async (event, ctx) => {
    if (!isEventOf(event, EventType.RefreshRequested)) return HandlerResult.ack();
    const data = event.data;
    const app = await options.fetchApp(data.app);
    if (app === undefined) {
      options.logger.info({ app: data.app, requestId: data.requestId }, 'refresh requested for an unknown or invalid app; ignored');
      return HandlerResult.ack();
    }
    const request: PollRequest = {
      requestId: data.requestId,
      ...(data.sync === undefined ? {} : { sync: data.sync }),
      parentContext: ctx.traceContext,
      finalAttempt: ctx.deliveryCount >= maxAttempts,
    };
    const outcome = await options.poller.pollApp(app, request);
    if (outcome.transient) {
      const delayMs = retryDelay(ctx.deliveryCount);
      options.logger.info(
        { app: data.app, requestId: data.requestId, attempt: ctx.deliveryCount, retryInMs: delayMs },
        'refresh will be retried',
      );
      return HandlerResult.nak(delayMs);
    }
    return HandlerResult.ack();
  };
}
