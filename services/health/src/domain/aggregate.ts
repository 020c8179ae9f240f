/** An application's health from its resources' health, as Argo CD's application controller aggregates it. */
import { hasHealthCheck, parseApiVersion } from './assess.js';
import { HealthStatus, isWorse } from './health-status.js';

/** One resource of an app, as far as its app's health is concerned. */
export interface ResourceHealthInput {
  /**
   * The resource's own health: its assessment, `Missing` when it is declared but absent from the
   * cluster, undefined when its kind has no health check (it then does not count).
   */
  readonly status: HealthStatus | undefined;
  /** A resource hook (PreSync, PostSync, …): never counts. Default false. */
  readonly hook?: boolean;
  /** The live object carries `argocd.argoproj.io/ignore-healthcheck: "true"`: does not count. Default false. */
  readonly ignoreHealthCheck?: boolean;
  /** The resource's apiVersion (`apps/v1`); with `kind`, refines how Missing counts (see aggregateHealth). */
  readonly apiVersion?: string;
  /** The resource's kind (`Deployment`). */
  readonly kind?: string;
}

/**
 * The app's health: the worst health of its resources in Argo CD's order
 * (Healthy < Suspended < Progressing < Missing < Degraded < Unknown); Healthy for an app with no
 * resources.
 *
 * - Hooks, resources marked to ignore, and resources without a health check (status undefined)
 *   do not count.
 * - A Missing resource counts, except when `kind` is given and that kind has no built-in health
 *   check (a missing ConfigMap does not make the app Missing; OutOfSync already says it), or when
 *   it is a child `argoproj.io` Application (whose Missing or Unknown never rolls up).
 * - When every resource that is not a hook is Missing (before the first sync), the app is at
 *   least Missing whatever the kinds.
 */
export function aggregateHealth(resources: readonly ResourceHealthInput[]): HealthStatus {
  let result: HealthStatus = HealthStatus.Healthy;
  let declared = 0;
  let missing = 0;
  for (const resource of resources) {
    if (resource.hook === true) continue;
    declared += 1;
    if (resource.status === HealthStatus.Missing) missing += 1;
    if (resource.ignoreHealthCheck === true || resource.status === undefined) continue;
    if (!counts(resource, resource.status)) continue;
    if (isWorse(resource.status, result)) result = resource.status;
  }
  if (declared > 0 && missing === declared && isWorse(HealthStatus.Missing, result)) result = HealthStatus.Missing;
  return result;
}

function counts(resource: ResourceHealthInput, status: HealthStatus): boolean {
  if (resource.kind === undefined) return true;
  const apiVersion = resource.apiVersion ?? '';
  const isChildApp = resource.kind === 'Application' && parseApiVersion(apiVersion).group === 'argoproj.io';
  if (isChildApp && (status === HealthStatus.Missing || status === HealthStatus.Unknown)) return false;
  if (status === HealthStatus.Missing && !hasHealthCheck(apiVersion, resource.kind)) return false;
  return true;
}
