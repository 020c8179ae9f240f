/**
 * Retries of a failed sync, as Argo CD's `syncPolicy.retry` defines them. A retry is part of the same
 * operation (Argo CD's `operationState.retryCount`): one syncId, one started event, one completion
 * event and one history entry, whatever the number of attempts.
 *
 * - Limit: `retry.limit` retries after the first attempt (< 0: unlimited). Without `retry`, an
 *   automated sync gets Argo CD's autoSync default of 5, a manual sync 0; rollbacks never retry
 *   (Argo CD's rollback operation carries no retry strategy).
 * - Delay before retry n (1-based): min(duration × factor^(n-1), maxDuration), measured from the end
 *   of the failed attempt (Argo CD's `NextRetryAt`). Defaults: duration 5s, factor 2, maxDuration 3m.
 * - Which failures are retried: {@link isRetriedFailure} (Argo CD retries every failure; Ferry does not
 *   retry what another attempt cannot change, nor what an automatic rollback is about to remedy).
 */
import { ErrorCode, OperationPhase, parseDurationMs, type Application, type OperationStatusRecord } from '@ferry/contracts';

/** Argo CD's defaults (common.DefaultSyncRetryDuration / Factor / MaxDuration). */
export const DEFAULT_RETRY_DURATION_MS = 5_000;
export const DEFAULT_RETRY_FACTOR = 2;
export const DEFAULT_RETRY_MAX_DURATION_MS = 180_000;
/** Retries of an automated sync when the app sets no `syncPolicy.retry` (Argo CD's autoSync: `RetryStrategy{Limit: 5}`). */
export const DEFAULT_AUTOMATED_RETRY_LIMIT = 5;

/** What kind of operation is retried: automated (policy), manual (a user's sync), or a rollback. */
export const RetryOperationKind = {
  Automated: 'automated',
  Manual: 'manual',
  Rollback: 'rollback',
} as const;
export type RetryOperationKind = (typeof RetryOperationKind)[keyof typeof RetryOperationKind];

/** A resolved retry strategy. */
export interface RetryConfig {
  /** Retries after the first attempt; < 0 = unlimited; 0 = none. */
  limit: number;
  /** Delay before the first retry, ms. */
  durationMs: number;
  /** Multiplier per retry (>= 1). */
  factor: number;
  /** Longest delay, ms. */
  maxDurationMs: number;
}

/** The retry strategy of one operation of `app`. Unparsable durations (rejected by parseApplication) fall back to the defaults. */
export function retryConfigFor(app: Application, kind: RetryOperationKind): RetryConfig {
  const retry = app.spec.syncPolicy?.retry;
  const backoff = retry?.backoff;
  const duration = backoff?.duration === undefined ? undefined : parseDurationMs(backoff.duration);
  const maxDuration = backoff?.maxDuration === undefined ? undefined : parseDurationMs(backoff.maxDuration);
  const defaultLimit = kind === RetryOperationKind.Automated ? DEFAULT_AUTOMATED_RETRY_LIMIT : 0;
  return {
    limit: kind === RetryOperationKind.Rollback ? 0 : (retry?.limit ?? (retry ? 0 : defaultLimit)),
    durationMs: duration ?? DEFAULT_RETRY_DURATION_MS,
    factor: backoff?.factor !== undefined && backoff.factor >= 1 ? backoff.factor : DEFAULT_RETRY_FACTOR,
    maxDurationMs: maxDuration ?? DEFAULT_RETRY_MAX_DURATION_MS,
  };
}

/**
 * Failures a retry cannot fix: the same input fails the same way (an invalid option or annotation, a
 * prune of everything refused, an artifact that is not a rendered set).
 */
export const NOT_RETRIED_CODES: ReadonlySet<string> = new Set([
  ErrorCode.SyncOptionInvalid,
  ErrorCode.SyncPruneRefused,
  ErrorCode.SyncArtifactInvalid,
]);

/**
 * Whether a failed attempt is retried (when retries remain, {@link mayRetry}): only a `Failed`
 * attempt; never one whose code is in {@link NOT_RETRIED_CODES}; and never when `rollbackFollows` —
 * an automatic rollback will follow this failure (app annotated `ferry.dev/auto-rollback: "true"`, a
 * PostSync hook failed or FERRY_ERR_SYNC_RESOURCE_DEGRADED, and a revision to roll back to exists:
 * rollback/domain.ts `rollbackFollowsFailure`), because the rollback is the remedy and the default
 * automated retry (5 retries, 5 s doubling) would delay it by minutes.
 */
export function isRetriedFailure(failure: { phase: string; error?: { code: string } }, rollbackFollows: boolean): boolean {
  if (failure.phase !== OperationPhase.Failed) return false;
  if (NOT_RETRIED_CODES.has(failure.error?.code ?? '')) return false;
  return !rollbackFollows;
}

/** True when an operation that has already retried `retryCount` times may retry once more. */
export function mayRetry(config: RetryConfig, retryCount: number): boolean {
  return config.limit < 0 || retryCount < config.limit;
}

/** Delay before retry number `retry` (1 = the first retry), ms: min(duration × factor^(retry-1), maxDuration). */
export function retryDelayMs(config: RetryConfig, retry: number): number {
  const delay = config.durationMs * config.factor ** Math.max(0, retry - 1);
  return config.maxDurationMs > 0 ? Math.min(config.maxDurationMs, delay) : delay;
}

/** The operation message while waiting for a retry (Argo CD's wording). */
export function retryMessage(retry: number, at: Date, lastMessage: string): string {
  return `Retrying attempt #${retry} at ${at.toISOString().slice(11, 19)}. ${lastMessage}`;
}

export interface RunWithRetryOptions<T> {
  config: RetryConfig;
  /** Runs one attempt; `retryCount` is 0 for the first attempt. A throw is not retried (it propagates). */
  attempt: (retryCount: number) => Promise<T>;
  /** True when the attempt's result is a failure that may be retried. */
  failed: (result: T) => boolean | Promise<boolean>;
  /** Called before waiting for retry `retry` (1-based), e.g. to record Running + retryCount. */
  onRetry?: (retry: number, delayMs: number, last: T) => Promise<void>;
  /** Waits `ms`; default a timer that rejects when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborting stops the wait (the wait rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Waits `ms` (unref'd timer); rejects with `signal.reason` when it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
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
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it does not fail or the retries are used up, waiting the backoff between
 * attempts. Resolves with the last result and how many retries ran.
 */
export async function runWithRetry<T>(options: RunWithRetryOptions<T>): Promise<{ result: T; retryCount: number }> {
  const sleep = options.sleep ?? abortableSleep;
  let retryCount = 0;
  let result = await options.attempt(0);
  while ((await options.failed(result)) && mayRetry(options.config, retryCount)) {
    retryCount += 1;
    const delayMs = retryDelayMs(options.config, retryCount);
    await options.onRetry?.(retryCount, delayMs, result);
    await sleep(delayMs, options.signal);
    result = await options.attempt(retryCount);
  }
  return { result, retryCount };
}

/**
 * The record while operation `syncId` waits for retry `retry`: still Running (Argo CD keeps the
 * operation in progress between attempts), message "Retrying attempt #n at HH:MM:SS. <last message>"
 * (the time the retry starts), retryCount = n. Unchanged when the record holds another operation.
 */
export function withRetrying<R extends OperationStatusRecord>(
  record: R,
  syncId: string,
  retry: number,
  delayMs: number,
  lastMessage: string,
  now: Date,
): R {
  const state = record.operationState;
  if (state?.syncId !== syncId) return record;
  const at = new Date(now.getTime() + delayMs);
  return {
    ...record,
    operationState: { ...state, phase: OperationPhase.Running, message: retryMessage(retry, at, lastMessage), retryCount: retry },
  };
}

/** The record with `retryCount` on operation `syncId`'s final state and history entry (nothing when 0). */
export function withRetryCount<R extends OperationStatusRecord>(record: R, syncId: string, retryCount: number): R {
  if (retryCount <= 0) return record;
  const state = record.operationState;
  return {
    ...record,
    ...(state?.syncId === syncId ? { operationState: { ...state, retryCount } } : {}),
    history: record.history.map((h) => (h.syncId === syncId ? { ...h, retryCount } : h)),
  };
}
