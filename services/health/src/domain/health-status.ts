/**
 * Health in Argo CD's vocabulary (Healthy, Suspended, Progressing, Missing, Degraded, Unknown),
 * with Argo CD's aggregation order beside it. The vocabulary itself is the shared one of
 * `@ferry/contracts`, re-exported here so that the domain has one import for it.
 */
import { HealthStatus } from '@ferry/contracts';

export { HealthStatus };

/**
 * Argo CD's aggregation order, most healthy first (gitops-engine `healthOrder`):
 * Healthy < Suspended < Progressing < Missing < Degraded < Unknown.
 */
export const healthOrder: readonly HealthStatus[] = Object.freeze([
  HealthStatus.Healthy,
  HealthStatus.Suspended,
  HealthStatus.Progressing,
  HealthStatus.Missing,
  HealthStatus.Degraded,
  HealthStatus.Unknown,
]);

const rank: Readonly<Record<HealthStatus, number>> = {
  Healthy: 0,
  Suspended: 1,
  Progressing: 2,
  Missing: 3,
  Degraded: 4,
  Unknown: 5,
};

/** True when `value` is one of the six health statuses. */
export function isHealthStatus(value: unknown): value is HealthStatus {
  return typeof value === 'string' && Object.hasOwn(rank, value);
}

/** True when `a` is strictly worse than `b` in Argo CD's aggregation order. */
export function isWorse(a: HealthStatus, b: HealthStatus): boolean {
  return rank[a] > rank[b];
}

/** The worst status of `list` in Argo CD's aggregation order; Healthy when `list` is empty. */
export function worst(list: Iterable<HealthStatus>): HealthStatus {
  let result: HealthStatus = HealthStatus.Healthy;
  for (const status of list) {
    if (isWorse(status, result)) result = status;
  }
  return result;
}
