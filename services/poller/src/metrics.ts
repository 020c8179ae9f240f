import { Counter, Gauge, Histogram } from '@ferry/runtime';
import type { Registry } from '@ferry/runtime';

/** How one app's poll ended (`ferry_poller_reconciles_total{result}`). */
export const ReconcileResult = {
  /** The commit and artifact are the ones already announced; nothing published. */
  Unchanged: 'unchanged',
  /** revision.detected published (new artifact, or a sync intent). */
  Detected: 'detected',
  /** Resolution, fetch or render failed (status error written). */
  Failed: 'failed',
} as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

/** The poller's own metrics on the injected registry. */
export interface PollerMetrics {
  readonly gitRequests: Counter<'kind' | 'result'>;
  readonly gitRequestDuration: Histogram<'kind'>;
  readonly reconciles: Counter<'result'>;
  readonly renderDuration: Histogram;
  readonly apps: Gauge;
}

/** Registers the poller metrics on `registry` (once per registry: a second call returns the same ones). */
export function createPollerMetrics(registry: Registry): PollerMetrics {
  const existing = <M>(name: string): M | undefined => registry.getSingleMetric(name) as M | undefined;
  return {
    gitRequests:
      existing('ferry_poller_git_requests_total') ??
      new Counter({
        name: 'ferry_poller_git_requests_total',
        help: 'Git requests made, by kind (ls-remote, fetch) and result (ok, error).',
        labelNames: ['kind', 'result'],
        registers: [registry],
      }),
    gitRequestDuration:
      existing('ferry_poller_git_request_duration_seconds') ??
      new Histogram({
        name: 'ferry_poller_git_request_duration_seconds',
        help: 'Duration of Git requests, by kind (ls-remote, fetch).',
        labelNames: ['kind'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      }),
    reconciles:
      existing('ferry_poller_reconciles_total') ??
      new Counter({
        name: 'ferry_poller_reconciles_total',
        help: 'App source resolutions, by result (unchanged, detected, failed).',
        labelNames: ['result'],
        registers: [registry],
      }),
    renderDuration:
      existing('ferry_poller_render_duration_seconds') ??
      new Histogram({
        name: 'ferry_poller_render_duration_seconds',
        help: 'Time to render one app source at one commit (only when the artifact was not stored yet; checkout excluded).',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      }),
    apps:
      existing('ferry_poller_apps') ??
      new Gauge({
        name: 'ferry_poller_apps',
        help: 'Applications the poller knows (valid entries of the apps bucket).',
        registers: [registry],
      }),
  };
}
