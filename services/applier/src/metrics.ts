import { Counter, Histogram } from '@ferry/runtime';
import type { Registry } from '@ferry/runtime';
import { SyncTrigger } from '@ferry/contracts';

/** Result label of ferry_applier_syncs_total. */
export const SyncResult = {
  Succeeded: 'succeeded',
  Failed: 'failed',
} as const;
export type SyncResult = (typeof SyncResult)[keyof typeof SyncResult];

/** Result label of ferry_applier_applies_total (one per resource a sync touched). */
export const ApplyResult = {
  Applied: 'applied',
  Failed: 'failed',
  Pruned: 'pruned',
} as const;
export type ApplyResult = (typeof ApplyResult)[keyof typeof ApplyResult];

/** The applier's metrics, registered on the injected registry. */
export interface ApplierMetrics {
  /** ferry_applier_syncs_total{trigger,result}: completed sync operations. */
  readonly syncs: Counter<'trigger' | 'result'>;
  /** ferry_applier_applies_total{result}: resources applied, failed (apply or prune) and pruned. */
  readonly applies: Counter<'result'>;
  /** ferry_applier_sync_duration_seconds: one sync, from taking the lease to the completion event. */
  readonly syncDuration: Histogram;
  /** ferry_applier_lease_conflicts_total: syncs postponed because another replica held the app's lease. */
  readonly leaseConflicts: Counter;
}

export function createApplierMetrics(registry: Registry): ApplierMetrics {
  const syncs = new Counter({
    name: 'ferry_applier_syncs_total',
    help: 'Completed sync operations, by trigger (automated, manual) and result (succeeded, failed).',
    labelNames: ['trigger', 'result'] as const,
    registers: [registry],
  });
  for (const trigger of Object.values(SyncTrigger)) for (const result of Object.values(SyncResult)) syncs.inc({ trigger, result }, 0);
  const applies = new Counter({
    name: 'ferry_applier_applies_total',
    help: 'Resources touched by syncs, by result (applied, failed, pruned).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of Object.values(ApplyResult)) applies.inc({ result }, 0);
  const syncDuration = new Histogram({
    name: 'ferry_applier_sync_duration_seconds',
    help: 'Duration of one sync operation, from taking the lease to publishing its completion.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const leaseConflicts = new Counter({
    name: 'ferry_applier_lease_conflicts_total',
    help: 'Syncs postponed because another applier replica held the app lease.',
    registers: [registry],
  });
  return { syncs, applies, syncDuration, leaseConflicts };
}
