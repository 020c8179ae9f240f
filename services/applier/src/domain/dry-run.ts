/**
 * Dry runs (a manual sync with `dryRun`): what a server-side dry run says would change, and the
 * operation record after one — Argo CD keeps dry runs out of history, so only `operationState`
 * changes (marked `operation.sync.dryRun`), never history, lastSyncedRevision or conditions.
 */
import type { Application, SyncIntent } from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';
import { completeOperation, startOperation, type StoredOperationRecord, type SyncOperation, type SyncOutcome } from './operation.js';

/** Metadata the server changes on every write; not a change the user made. */
const VOLATILE_METADATA = ['resourceVersion', 'managedFields', 'generation', 'uid', 'creationTimestamp'] as const;

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

function comparable(object: KubeObject): string {
  const metadata: Record<string, unknown> = { ...object.metadata };
  for (const field of VOLATILE_METADATA) delete metadata[field];
  return JSON.stringify(canonical({ ...object, metadata }));
}

/** Whether the object a dry-run write returned differs from the live one (server-owned metadata aside). */
export function dryRunChange(live: KubeObject | undefined, result: KubeObject): 'created' | 'configured' | 'unchanged' {
  if (live === undefined) return 'created';
  return comparable(live) === comparable(result) ? 'unchanged' : 'configured';
}

/** What Argo CD keeps of a manual operation's request in `operation.sync`, beside revision and prune. */
export function operationExtras(intent: SyncIntent | undefined): Record<string, unknown> {
  if (!intent) return {};
  return {
    ...(intent.dryRun ? { dryRun: true } : {}),
    ...(intent.resources ? { resources: intent.resources } : {}),
    ...(intent.syncOptions ? { syncOptions: intent.syncOptions } : {}),
  };
}

function withExtras(record: StoredOperationRecord, syncId: string, intent: SyncIntent | undefined): StoredOperationRecord {
  const state = record.operationState;
  const extras = operationExtras(intent);
  const kind = intent?.kind;
  if (!state || state.syncId !== syncId || (Object.keys(extras).length === 0 && kind === undefined)) return record;
  return {
    ...record,
    operationState: {
      ...state,
      operation: { ...state.operation, sync: { ...state.operation.sync, ...extras } },
      ...(kind ? { kind } : {}),
    },
    history: kind ? record.history.map((h) => (h.syncId === syncId && h.kind === undefined ? { ...h, kind } : h)) : record.history,
  };
}

/** startOperation, with the request's dryRun/resources/syncOptions recorded in `operation.sync` and its kind on the state. */
export function startOperationWith(
  record: StoredOperationRecord | undefined,
  op: SyncOperation,
  intent: SyncIntent | undefined,
  now: Date,
): StoredOperationRecord {
  return withExtras(startOperation(record, op, now), op.syncId, intent);
}

/**
 * completeOperation, with the request's options recorded; for a dry run, history, lastSyncedRevision,
 * conditions and the error bookkeeping stay as they were (only operationState and served requests change).
 */
export function completeOperationWith(
  record: StoredOperationRecord | undefined,
  op: SyncOperation,
  intent: SyncIntent | undefined,
  outcome: SyncOutcome,
  app: Application,
  now: Date,
): StoredOperationRecord {
  const next = withExtras(completeOperation(record, op, outcome, app, now), op.syncId, intent);
  if (!intent?.dryRun) return next;
  const base = record ?? next;
  const kept: StoredOperationRecord = { ...next, history: base.history, conditions: base.conditions };
  if (base.lastSyncedRevision === undefined) delete kept.lastSyncedRevision;
  else kept.lastSyncedRevision = base.lastSyncedRevision;
  return kept;
}

/** True when the record's latest operation is `syncId` and was a dry run. */
export function isDryRunOperation(record: StoredOperationRecord | undefined, syncId: string): boolean {
  const state = record?.operationState;
  return state?.syncId === syncId && (state.operation.sync as { dryRun?: unknown }).dryRun === true;
}
