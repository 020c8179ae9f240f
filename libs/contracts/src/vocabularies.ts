/** Closed vocabularies shared by every service, with their orderings and predicates beside them. */

/** An app's (or a resource's) comparison result, as Argo CD names it. */
export const SyncStatus = {
  Synced: 'Synced',
  OutOfSync: 'OutOfSync',
  Unknown: 'Unknown',
} as const;
export type SyncStatus = (typeof SyncStatus)[keyof typeof SyncStatus];

/** Health, in Argo CD's vocabulary. */
export const HealthStatus = {
  Healthy: 'Healthy',
  Suspended: 'Suspended',
  Progressing: 'Progressing',
  Missing: 'Missing',
  Degraded: 'Degraded',
  Unknown: 'Unknown',
} as const;
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus];

/** Argo CD's aggregation order: an app is as healthy as its worst resource. */
const healthRank: Record<HealthStatus, number> = {
  Healthy: 0,
  Suspended: 1,
  Progressing: 2,
  Missing: 3,
  Degraded: 4,
  Unknown: 5,
};

/** True when `a` is worse than `b` in Argo CD's aggregation order. */
export function isWorseHealth(a: HealthStatus, b: HealthStatus): boolean {
  return healthRank[a] > healthRank[b];
}

export function isHealthStatus(value: unknown): value is HealthStatus {
  return typeof value === 'string' && Object.hasOwn(healthRank, value);
}

/** The phase of a sync operation (Argo CD's `operationState.phase`). */
export const OperationPhase = {
  Running: 'Running',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Error: 'Error',
  Terminating: 'Terminating',
} as const;
export type OperationPhase = (typeof OperationPhase)[keyof typeof OperationPhase];

export function isOperationCompleted(phase: OperationPhase): boolean {
  return phase !== OperationPhase.Running && phase !== OperationPhase.Terminating;
}

/** The result of one resource in a sync (Argo CD's `syncResult.resources[].status`). */
export const ResourceResultStatus = {
  Synced: 'Synced',
  SyncFailed: 'SyncFailed',
  Pruned: 'Pruned',
  PruneSkipped: 'PruneSkipped',
} as const;
export type ResourceResultStatus = (typeof ResourceResultStatus)[keyof typeof ResourceResultStatus];

/** What started a sync. */
export const SyncTrigger = {
  Automated: 'automated',
  Manual: 'manual',
} as const;
export type SyncTrigger = (typeof SyncTrigger)[keyof typeof SyncTrigger];

/** Why a comparison ran. */
export const CompareReason = {
  Revision: 'revision',
  Drift: 'drift',
  Resync: 'resync',
} as const;
export type CompareReason = (typeof CompareReason)[keyof typeof CompareReason];

/** Notification triggers (Argo CD Notifications' names). */
export const NotificationTrigger = {
  OnDeployed: 'on-deployed',
  OnSyncSucceeded: 'on-sync-succeeded',
  OnSyncFailed: 'on-sync-failed',
  OnHealthDegraded: 'on-health-degraded',
  OnRollback: 'on-rollback',
} as const;
export type NotificationTrigger = (typeof NotificationTrigger)[keyof typeof NotificationTrigger];

/** Condition types on an app (Argo CD's names). */
export const ConditionType = {
  ComparisonError: 'ComparisonError',
  InvalidSpecError: 'InvalidSpecError',
  SyncError: 'SyncError',
  SharedResourceWarning: 'SharedResourceWarning',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
