import { SyncStatus } from '@ferry/contracts';
import { Counter, Gauge, Histogram } from '@ferry/runtime';
import type { Registry } from '@ferry/runtime';

/** How one comparison ended (label `result` of ferry_differ_comparisons_total). */
export const ComparisonResult = {
  Synced: 'synced',
  OutOfSync: 'out_of_sync',
  /** The comparison could not be made (cluster unknown or unreachable, artifact missing): status Unknown. */
  Error: 'error',
} as const;
export type ComparisonResult = (typeof ComparisonResult)[keyof typeof ComparisonResult];

/** Why a comparison ran (label `reason`): after revision.detected, or after watch events / resync / restart. */
export const MetricReason = { Revision: 'revision', Drift: 'drift' } as const;
export type MetricReason = (typeof MetricReason)[keyof typeof MetricReason];

/** The differ's metrics, registered on the injected registry. */
export interface DifferMetrics {
  /** ferry_differ_comparisons_total{reason,result}. */
  readonly comparisons: Counter<'reason' | 'result'>;
  /** ferry_differ_comparison_duration_seconds: one app comparison (cache reads, compare, publish, record write). */
  readonly duration: Histogram;
  /** ferry_differ_app_sync_status{app,status}: 1 for the app's current sync status, 0 for the others. */
  readonly appSyncStatus: Gauge<'app' | 'status'>;
  /** ferry_differ_drift_events_total: cluster watch events that touched an app (each schedules a re-comparison). */
  readonly driftEvents: Counter;
  setAppStatus(app: string, status: SyncStatus): void;
  forgetApp(app: string): void;
}

export function resultOf(status: SyncStatus): ComparisonResult {
  return status === SyncStatus.Synced
    ? ComparisonResult.Synced
    : status === SyncStatus.OutOfSync
      ? ComparisonResult.OutOfSync
      : ComparisonResult.Error;
}

export function createDifferMetrics(registry: Registry): DifferMetrics {
  const comparisons = new Counter({
    name: 'ferry_differ_comparisons_total',
    help: 'App comparisons (desired vs live), by reason (revision, drift) and result (synced, out_of_sync, error).',
    labelNames: ['reason', 'result'] as const,
    registers: [registry],
  });
  for (const reason of Object.values(MetricReason))
    for (const result of Object.values(ComparisonResult)) comparisons.inc({ reason, result }, 0);
  const duration = new Histogram({
    name: 'ferry_differ_comparison_duration_seconds',
    help: 'Duration of one app comparison, from reading the cache to writing the record, in seconds.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const appSyncStatus = new Gauge({
    name: 'ferry_differ_app_sync_status',
    help: 'Sync status of each app: 1 for its current status (Synced, OutOfSync, Unknown), 0 for the others.',
    labelNames: ['app', 'status'] as const,
    registers: [registry],
  });
  const driftEvents = new Counter({
    name: 'ferry_differ_drift_events_total',
    help: 'Cluster watch events on objects an app tracks or declares; each schedules a re-comparison of that app.',
    registers: [registry],
  });
  return {
    comparisons,
    duration,
    appSyncStatus,
    driftEvents,
    setAppStatus(app, status) {
      for (const s of Object.values(SyncStatus)) appSyncStatus.set({ app, status: s }, s === status ? 1 : 0);
    },
    forgetApp(app) {
      for (const s of Object.values(SyncStatus)) appSyncStatus.remove({ app, status: s });
    },
  };
}
