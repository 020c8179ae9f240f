import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Application, OperationStatusRecord } from '@ferry/contracts';
import {
  DEFAULT_AUTOMATED_RETRY_LIMIT,
  abortableSleep,
  isRetriedFailure,
  mayRetry,
  retryConfigFor,
  retryDelayMs,
  runWithRetry,
  withRetryCount,
  withRetrying,
  type RetryConfig,
} from '../../src/domain/retry.js';

function app(retry?: NonNullable<Application['spec']['syncPolicy']>['retry']): Application {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'web' },
    spec: {
      source: { repoURL: 'r' },
      destination: { server: 'https://kubernetes.default.svc' },
      syncPolicy: { automated: {}, ...(retry ? { retry } : {}) },
    },
  };
}

describe('retry strategy (Argo CD syncPolicy.retry)', () => {
  it('defaults an automated sync without retry to Argo CD autoSync: 5 retries, 5s doubling, capped at 3m', () => {
    const config = retryConfigFor(app(), 'automated');
    assert.deepEqual(config, { limit: DEFAULT_AUTOMATED_RETRY_LIMIT, durationMs: 5_000, factor: 2, maxDurationMs: 180_000 });
    assert.equal(config.limit, 5);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(config, n)),
      [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 180_000],
    );
  });

  it('does not retry a manual sync or a rollback unless the app sets retry, and never retries a rollback', () => {
    assert.equal(retryConfigFor(app(), 'manual').limit, 0);
    assert.equal(retryConfigFor(app({ limit: 3 }), 'manual').limit, 3);
    assert.equal(retryConfigFor(app({ limit: 3 }), 'rollback').limit, 0);
  });

  it('reads limit, duration, factor and maxDuration, with Go durations, and a retry block without limit means no retry', () => {
    const config = retryConfigFor(app({ limit: 4, backoff: { duration: '200ms', factor: 3, maxDuration: '1s' } }), 'automated');
    assert.deepEqual(config, { limit: 4, durationMs: 200, factor: 3, maxDurationMs: 1_000 });
    assert.deepEqual(
      [1, 2, 3].map((n) => retryDelayMs(config, n)),
      [200, 600, 1_000],
    );
    assert.equal(retryConfigFor(app({ backoff: { duration: '1s' } }), 'automated').limit, 0);
  });

  it('allows unlimited retries with a negative limit', () => {
    const config: RetryConfig = { limit: -1, durationMs: 1, factor: 2, maxDurationMs: 10 };
    assert.equal(mayRetry(config, 1_000), true);
    assert.equal(mayRetry({ ...config, limit: 2 }, 2), false);
  });
});

describe('runWithRetry', () => {
  it('retries a failing attempt up to the limit, waiting 200, 400 and 800 ms between attempts (factor 2), within tolerance', async () => {
    const config = retryConfigFor(app({ limit: 3, backoff: { duration: '200ms', factor: 2, maxDuration: '3m' } }), 'automated');
    const ends: number[] = [];
    const starts: number[] = [];
    const retries: Array<[number, number]> = [];
    // The backoff timer is unref'd (it never holds a process open): keep this test's event loop alive.
    const keepAlive = setInterval(() => undefined, 1_000);
    const { result, retryCount } = await runWithRetry({
      config,
      attempt: async (n) => {
        starts.push(performance.now());
        ends.push(performance.now());
        return { failed: true, n };
      },
      failed: (r) => r.failed,
      onRetry: async (n, delayMs) => void retries.push([n, delayMs]),
    }).finally(() => clearInterval(keepAlive));
    assert.equal(retryCount, 3);
    assert.equal(result.n, 3);
    assert.deepEqual(retries, [
      [1, 200],
      [2, 400],
      [3, 800],
    ]);
    const gaps = [1, 2, 3].map((i) => (starts[i] ?? 0) - (ends[i - 1] ?? 0));
    for (const [i, expected] of [200, 400, 800].entries()) {
      const gap = gaps[i] ?? 0;
      assert.ok(gap >= expected - 5 && gap < expected + 150, `gap ${i + 1} was ${gap.toFixed(0)} ms, expected about ${expected} ms`);
    }
  });

  it('stops retrying at the first attempt that does not fail', async () => {
    let calls = 0;
    const { result, retryCount } = await runWithRetry({
      config: { limit: 5, durationMs: 1, factor: 1, maxDurationMs: 1 },
      attempt: async () => ++calls,
      failed: (n) => n < 3,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    assert.equal(result, 3);
    assert.equal(retryCount, 2);
  });

  it('stops waiting when aborted (the abort reason rejects)', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const run = runWithRetry({
      config: { limit: 1, durationMs: 10_000, factor: 1, maxDurationMs: 10_000 },
      attempt: async () => 'failed',
      failed: () => true,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('closing')), 20);
    await assert.rejects(run, /closing/);
    assert.ok(performance.now() - started < 1_000);
    await assert.rejects(abortableSleep(10, AbortSignal.abort(new Error('already'))), /already/);
  });
});

describe('retry in the operation record', () => {
  const record: OperationStatusRecord = {
    app: 'web',
    conditions: [],
    history: [
      {
        id: 0,
        revision: 'a',
        deployStartedAt: 't',
        deployedAt: 't',
        source: { repoURL: 'r' },
        initiatedBy: { automated: true },
        syncId: 's1',
        phase: 'Failed',
        resources: [],
      },
    ],
    operationState: {
      operation: { sync: { revision: 'a', prune: false }, initiatedBy: { automated: true } },
      phase: 'Failed',
      message: 'one or more objects failed to apply',
      startedAt: 't',
      syncId: 's1',
      trigger: 'automated',
    },
  };

  it('keeps the operation Running between attempts with Argo CD\'s "Retrying attempt #n" message and the retry count', () => {
    const next = withRetrying(record, 's1', 2, 1_000, 'one or more objects failed to apply', new Date('2026-01-01T10:15:03Z'));
    assert.equal(next.operationState?.phase, 'Running');
    assert.equal(next.operationState?.retryCount, 2);
    assert.equal(next.operationState?.message, 'Retrying attempt #2 at 10:15:04. one or more objects failed to apply');
    assert.equal(withRetrying(record, 'other', 1, 0, '', new Date()), record);
  });

  it('records the retry count on the final state and the history entry of the operation', () => {
    const next = withRetryCount(record, 's1', 3);
    assert.equal(next.operationState?.retryCount, 3);
    assert.equal(next.history[0]?.retryCount, 3);
    assert.equal(withRetryCount(record, 's1', 0), record);
  });
});

describe('which failures are retried', () => {
  const failed = (code: string) => ({ phase: 'Failed', error: { code, message: 'x' } });

  it('retries a failed attempt, but not one another attempt cannot change, and never a success', () => {
    assert.equal(isRetriedFailure(failed('FERRY_ERR_SYNC_RESOURCE_FAILED'), false), true);
    assert.equal(isRetriedFailure(failed('FERRY_ERR_SYNC_WAVE_TIMEOUT'), false), true);
    for (const code of ['FERRY_ERR_SYNC_OPTION_INVALID', 'FERRY_ERR_SYNC_PRUNE_REFUSED', 'FERRY_ERR_SYNC_ARTIFACT_INVALID']) {
      assert.equal(isRetriedFailure(failed(code), false), false, code);
    }
    assert.equal(isRetriedFailure({ phase: 'Succeeded' }, false), false);
  });

  it('does not retry a failure an automatic rollback is about to remedy (failed PostSync hook, Degraded wave)', () => {
    assert.equal(isRetriedFailure(failed('FERRY_ERR_SYNC_HOOK_FAILED'), true), false);
    assert.equal(isRetriedFailure(failed('FERRY_ERR_SYNC_RESOURCE_DEGRADED'), true), false);
    assert.equal(isRetriedFailure(failed('FERRY_ERR_SYNC_HOOK_FAILED'), false), true, 'no rollback follows: retrying is the remedy');
  });
});
