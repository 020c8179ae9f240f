/**
 * POST with timeouts and retries: exponential backoff with jitter, `Retry-After` honoured (capped),
 * 4xx other than 429 not retried. Error messages name the channel and status only: URLs (Slack's
 * carry a token), headers and secrets never appear in errors or logs.
 */
import { ChannelDeliveryError, DeliveryFailureReason } from './errors.js';

export interface HttpDeliveryOptions {
  /** Channel name, for errors. */
  channel: string;
  url: string;
  body: string;
  headers: Readonly<Record<string, string>>;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
  /** Attempts in all, >= 1. */
  attempts: number;
  /** Delay before the 2nd attempt, ms; doubled for each further one. */
  baseDelayMs: number;
  /** Cap of any delay (including Retry-After), ms. */
  maxDelayMs: number;
  /** Aborts the delivery (shutdown): pending attempt and backoff end with reason `aborted`. */
  signal?: AbortSignal;
  /** Random in [0, 1) for jitter; injectable for tests. */
  random?: () => number;
  /** Called after each failed attempt that will be retried. */
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; reason: DeliveryFailureReason }) => void;
}

export interface HttpDeliveryResult {
  /** Attempts made, including the successful one. */
  attempts: number;
  /** Final HTTP status (2xx). */
  status: number;
}

/** Backoff before attempt `attempt + 1` (attempt is 1-based): base·2^(attempt-1), jittered into [d/2, d), capped. */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const d = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.min(maxDelayMs, Math.round(d / 2 + (random() * d) / 2));
}

/** Parses Retry-After (delta-seconds or HTTP date) into ms; undefined when absent or unparsable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function abortError(channel: string, attempts: number, cause?: unknown): ChannelDeliveryError {
  return new ChannelDeliveryError({ channel, reason: DeliveryFailureReason.Aborted, attempts, detail: 'delivery aborted (shutting down)' }, { cause });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    // Not unref'd: this sleep is awaited work (a pending delivery), and the service's close() aborts it.
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Network error code (ECONNREFUSED, ENOTFOUND…) from fetch's `cause`, without any address. */
function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}

/**
 * Delivers `body` by POST. Resolves on a 2xx; rejects with {@link ChannelDeliveryError}
 * (FERRY_ERR_NOTIFIER_DELIVERY_FAILED) after the last attempt, on a non-retryable status, or when
 * `signal` aborts (reason `aborted`).
 */
export async function deliverHttp(options: HttpDeliveryOptions): Promise<HttpDeliveryResult> {
  const random = options.random ?? Math.random;
  const { channel, signal } = options;
  let attempt = 0;
  for (;;) {
    attempt++;
    if (signal?.aborted) throw abortError(channel, attempt - 1, signal.reason);
    let status: number | undefined;
    let reason: DeliveryFailureReason;
    let detail: string;
    let cause: unknown;
    let retryAfter: number | undefined;
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const attemptSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await fetch(options.url, {
        method: 'POST',
        headers: options.headers,
        body: options.body,
        signal: attemptSignal,
        redirect: 'error',
      });
      // Drain so the connection is reused; the content is not kept (it could echo anything).
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { attempts: attempt, status: res.status };
      status = res.status;
      reason = DeliveryFailureReason.HttpStatus;
      detail = `endpoint answered HTTP ${res.status}`;
      retryAfter = retryAfterMs(res.headers.get('retry-after'));
      if (!isRetryableStatus(res.status)) {
        throw new ChannelDeliveryError({ channel, reason, status, attempts: attempt, detail: `${detail} (not retried)` });
      }
    } catch (error) {
      if (error instanceof ChannelDeliveryError) throw error;
      if (signal?.aborted) throw abortError(channel, attempt, signal.reason);
      cause = error;
      if (timeout.aborted) {
        reason = DeliveryFailureReason.Timeout;
        detail = `request timed out after ${options.timeoutMs} ms`;
      } else {
        reason = DeliveryFailureReason.Network;
        detail = `request failed (${networkCode(error)})`;
      }
    }
    if (attempt >= options.attempts) {
      throw new ChannelDeliveryError({ channel, reason, ...(status === undefined ? {} : { status }), attempts: attempt, detail }, { cause });
    }
    const delayMs = Math.min(options.maxDelayMs, Math.max(backoffDelayMs(attempt, options.baseDelayMs, options.maxDelayMs, random), retryAfter ?? 0));
    options.onRetry?.({ attempt, delayMs, ...(status === undefined ? {} : { status }), reason });
    try {
      await sleep(delayMs, signal);
    } catch (error) {
      throw abortError(channel, attempt, error);
    }
  }
}
