import { inspect } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { WaitTimeoutError } from './errors.js';

export interface WaitUntilOptions {
  /** Give up after this many milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Pause between checks, in milliseconds. Default 50. */
  intervalMs?: number;
  /** What was awaited, for the error message. Default 'condition'. */
  message?: string;
}

/**
 * Calls `check` until it returns something other than `undefined` or `false`, and returns that.
 * A check that throws counts as "not yet" (the last error becomes the timeout error's `cause`).
 * On timeout throws WaitTimeoutError naming `message` and the last value seen.
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitUntilOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastValue: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      lastValue = value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
      lastValue = undefined;
    }
    if (Date.now() >= deadline) break;
    // A ref'd timer on purpose: someone awaits this, and the wait alone must keep the process alive.
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const what = options.message ?? 'condition';
  const last =
    lastError !== undefined
      ? `last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)}`
      : `last value: ${inspect(lastValue, { depth: 4, breakLength: Infinity })}`;
  throw new WaitTimeoutError(
    `timed out after ${timeoutMs} ms waiting for ${what} (${last})`,
    timeoutMs,
    lastValue,
    lastError !== undefined ? { cause: lastError } : undefined,
  );
}
