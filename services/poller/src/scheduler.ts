/** The poll cycle timer: one cycle at a time, the next one an interval (± jitter) after the last ended. */
import type { Logger } from '@ferry/runtime';
import { nextPollDelayMs } from './domain/detection.js';

export interface PollScheduler<T> {
  /** Runs a cycle now (after the running one, if any); resolves with its result, undefined once stopped. */
  runNow(): Promise<T | undefined>;
  /** Clears the timer and waits for the running cycle. Idempotent. */
  stop(): Promise<void>;
}

export interface StartPollSchedulerOptions<T> {
  intervalMs: number;
  jitter: number;
  /** Delay of the first cycle; default 0 (at once). */
  initialDelayMs?: number;
  /** One cycle; a rejection is logged (the result is then undefined). */
  run: () => Promise<T>;
  logger: Logger;
  random?: () => number;
}

export function startPollScheduler<T>(options: StartPollSchedulerOptions<T>): PollScheduler<T> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let stopPromise: Promise<void> | undefined;

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void cycle().then(() => schedule(nextPollDelayMs(options.intervalMs, options.jitter, options.random)));
    }, delayMs);
    timer.unref();
  };

  const cycle = (): Promise<T | undefined> => {
    const next = running.then(async () => {
      if (stopped) return undefined;
      try {
        return await options.run();
      } catch (error) {
        options.logger.error({ err: error }, 'poll cycle failed');
        return undefined;
      }
    });
    running = next;
    return next;
  };

  schedule(options.initialDelayMs ?? 0);

  return {
    runNow: () => cycle(),
    stop() {
      stopPromise ??= (async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        timer = undefined;
        await running;
      })();
      return stopPromise;
    },
  };
}
