/**
 * Health in Argo CD's vocabulary, with Argo CD's aggregation order beside it.
 *
 * The values are the same strings as `HealthStatus` in `@ferry/contracts`, so the two types are
 * interchangeable.
 */
export const HealthStatus = {
  /** The resource is 100% healthy. */
  Healthy: 'Healthy',
  /** Paused or suspended on purpose (a paused Deployment, a suspended Job). */
  Suspended: 'Suspended',
  /** Not healthy yet, but still has a chance to become healthy (a rollout in progress). */
  Progressing: 'Progressing',
  /** Declared in Git but absent from the cluster. Never the result of assessing a live object. */
  Missing: 'Missing',
  /** Failed, or could not become healthy within its deadline. */
  Degraded: 'Degraded',
  /** The assessment itself failed (an unsupported apiVersion, a malformed field). */
  Unknown: 'Unknown',
} as const;
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus];

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
