/**
 * Rollback decisions (pure): Ferry's automatic rollback (annotation `ferry.dev/auto-rollback: "true"`),
 * the healthy-revision bookkeeping it relies on, and the rollback.completed event of a rollback sync
 * (automatic or a user's `ferry app rollback`).
 *
 * Rules (docs/sync.md):
 * - A revision is *healthy* once a health.changed reports Healthy at it (the health service reports
 *   the revision of the app's last sync) and it was deployed (last successful sync or a succeeded
 *   history entry). Kept in `healthyRevisions` (newest last, at most 50).
 * - Trigger 1: health.changed Degraded at R, where R is the app's last sync (succeeded, R =
 *   lastSyncedRevision) and R was never Healthy.
 * - Trigger 2: a sync of R failed and one of its PostSync hooks failed (syncPhase PostSync, hookPhase
 *   Failed or Error), R being the app's latest operation.
 * - Trigger 3: a sync of R failed because resources of a wave turned Degraded while the sync waited
 *   for them (FERRY_ERR_SYNC_RESOURCE_DEGRADED), R being the app's latest operation.
 * - Never twice from one R (`autoRollbacks`), never while another rollback is waiting (for at most
 *   {@link ROLLBACK_ABANDONED_MS}), never from a rollback's own sync.
 * - Target: the newest history entry that succeeded at a healthy revision ≠ R. None: no rollback.
 * - Effect: `automationPaused { revision: R }`, `rollback` recorded, sync.requested kind
 *   `auto-rollback`, prune true, at the target's revision, historyId = the target entry's id.
 */
import {
  ErrorCode,
  OperationPhase,
  isAutoRollback,
  type Application,
  type HistoryEntry,
  type OperationStatusRecord,
  type ResourceResult,
  type RollbackCompleted,
  type SyncEvent,
  type SyncRequested,
} from '@ferry/contracts';

/** How many healthy revisions and auto-rollback origins the record remembers. */
export const REVISIONS_KEPT = 50;
/**
 * A rollback whose sync has not completed this long after it was requested (its revision could not be
 * resolved, its request was lost) no longer blocks a new automatic rollback.
 */
export const ROLLBACK_ABANDONED_MS = 10 * 60_000;
/** `initiatedBy` of an automatic rollback's sync (shows in history as the username). */
export const AUTO_ROLLBACK_INITIATOR = 'ferry/auto-rollback';

type RollbackState = NonNullable<OperationStatusRecord['rollback']>;
type RecordLike = Pick<
  OperationStatusRecord,
  'app' | 'history' | 'operationState' | 'lastSyncedRevision' | 'healthyRevisions' | 'autoRollbacks' | 'rollback' | 'automationPaused'
>;

function appendBounded(list: readonly string[] | undefined, value: string): string[] {
  return [...(list ?? []).filter((v) => v !== value), value].slice(-REVISIONS_KEPT);
}

/**
 * True when `revision` was deployed: the app's last successful sync, or a succeeded history entry.
 * A failed operation that never applied it (its revision could not be rendered: phase `Error`) still
 * publishes sync.failed at it, and the health service then reports the old objects' health at it.
 */
export function wasDeployed(record: RecordLike, revision: string): boolean {
  return (
    record.lastSyncedRevision === revision || record.history.some((h) => h.revision === revision && h.phase === OperationPhase.Succeeded)
  );
}

/**
 * The record with `revision` marked healthy; the same object when it already was the newest healthy
 * one, or when it was never deployed ({@link wasDeployed}: its health is that of other objects).
 */
export function withHealthyRevision<R extends RecordLike>(record: R, revision: string): R {
  const list = record.healthyRevisions ?? [];
  if (list[list.length - 1] === revision || !wasDeployed(record, revision)) return record;
  return { ...record, healthyRevisions: appendBounded(list, revision) };
}

/** The requestId of the automatic rollback from `fromRevision` (deterministic: one per revision). */
export function autoRollbackRequestId(fromRevision: string): string {
  return `auto-rollback-${fromRevision.slice(0, 12)}`;
}

/** True when a failed sync failed because one of its PostSync hooks failed. */
export function hasFailedPostSyncHook(resources: readonly ResourceResult[]): boolean {
  return resources.some(
    (r) => r.syncPhase === 'PostSync' && r.hookType !== undefined && (r.hookPhase === 'Failed' || r.hookPhase === 'Error'),
  );
}

/** Why a failed sync calls for an automatic rollback, or undefined when it does not (any other failure). */
export function rollbackWorthyFailure(
  event: Pick<SyncEvent, 'phase' | 'resources' | 'error'>,
): 'hook-failed' | 'degraded-sync' | undefined {
  if (event.phase !== OperationPhase.Failed) return undefined;
  if (hasFailedPostSyncHook(event.resources)) return 'hook-failed';
  if (event.error?.code === ErrorCode.SyncResourceDegraded) return 'degraded-sync';
  return undefined;
}

/**
 * True when an automatic rollback will follow the failure of sync `syncId` of `revision` (so retrying
 * it would only delay the remedy): the failure is rollback-worthy ({@link rollbackWorthyFailure}), the
 * operation is neither a rollback nor a dry run, and {@link decideAutoRollback} on `record` (the
 * operation being `syncId`) rolls back or already did — the app is annotated, `revision` was not
 * rolled back automatically before, no other rollback is waiting, and a Synced and Healthy earlier
 * revision exists. Otherwise (no target, say) retrying stays the only remedy.
 */
export function rollbackFollowsFailure(
  app: Application,
  record: RecordLike | undefined,
  failure: Pick<SyncEvent, 'phase' | 'resources' | 'error' | 'revision' | 'syncId' | 'kind' | 'dryRun' | 'message'>,
  now: Date,
): boolean {
  if (failure.kind === 'rollback' || failure.kind === 'auto-rollback' || failure.dryRun === true) return false;
  const worthy = rollbackWorthyFailure(failure);
  if (worthy === undefined || !isAutoRollback(app)) return false;
  const cause: RollbackCause = {
    kind: worthy,
    revision: failure.revision,
    syncId: failure.syncId,
    message: failure.error?.message ?? failure.message,
  };
  return decideAutoRollback(app, record, cause, now).kind !== 'skip';
}

/** Why an automatic rollback is considered. */
export type RollbackCause =
  | { kind: 'degraded'; revision: string; message?: string }
  | { kind: 'hook-failed' | 'degraded-sync'; revision: string; syncId: string; message: string };

export type AutoRollbackDecision =
  | { kind: 'skip'; reason: string }
  /** Publish `request` again (the record already holds this rollback: a redelivery). */
  | { kind: 'republish'; request: SyncRequested }
  /** Write `rollback`, `automationPaused` and `autoRollbacks`, then publish `request`. */
  | { kind: 'rollback'; rollback: RollbackState; pause: NonNullable<OperationStatusRecord['automationPaused']>; request: SyncRequested };

/** The newest history entry that succeeded at a healthy revision other than `revision`. */
export function rollbackTarget(record: RecordLike, revision: string): HistoryEntry | undefined {
  const healthy = new Set(record.healthyRevisions ?? []);
  return [...record.history]
    .sort((a, b) => b.id - a.id)
    .find((h) => h.phase === OperationPhase.Succeeded && h.revision !== revision && healthy.has(h.revision));
}

function requestOf(app: string, rollback: RollbackState): SyncRequested {
  return {
    app,
    requestId: rollback.requestId,
    prune: true,
    initiatedBy: AUTO_ROLLBACK_INITIATOR,
    revision: rollback.toRevision,
    kind: 'auto-rollback',
    ...(rollback.historyId === undefined ? {} : { historyId: rollback.historyId }),
  };
}

/** Decides whether `cause` starts an automatic rollback of `app`. */
export function decideAutoRollback(
  app: Application,
  record: RecordLike | undefined,
  cause: RollbackCause,
  now: Date,
): AutoRollbackDecision {
  const name = app.metadata.name;
  const r = cause.revision;
  const short = r.slice(0, 7);
  if (!isAutoRollback(app)) return { kind: 'skip', reason: 'the app is not annotated ferry.dev/auto-rollback: "true"' };
  if (!record) return { kind: 'skip', reason: 'the app has no operation record' };
  const pending = record.rollback;
  if (pending?.kind === 'auto-rollback' && pending.fromRevision === r) return { kind: 'republish', request: requestOf(name, pending) };
  if (record.autoRollbacks?.includes(r)) return { kind: 'skip', reason: `revision ${short} was already rolled back automatically once` };
  if (pending && now.getTime() - Date.parse(pending.requestedAt) < ROLLBACK_ABANDONED_MS) {
    return { kind: 'skip', reason: `a rollback to ${pending.toRevision.slice(0, 7)} is still waiting for its sync` };
  }
  const state = record.operationState;
  if (state?.kind === 'rollback' || state?.kind === 'auto-rollback') {
    return { kind: 'skip', reason: 'the latest operation is a rollback' };
  }
  if (cause.kind === 'degraded') {
    if (record.lastSyncedRevision !== r || state?.operation.sync.revision !== r || state.phase !== OperationPhase.Succeeded) {
      return { kind: 'skip', reason: `revision ${short} is not the app's last successful sync` };
    }
    if (record.healthyRevisions?.includes(r)) {
      return { kind: 'skip', reason: `revision ${short} was Healthy after its sync: a later degradation is not a bad deploy` };
    }
  } else if (state?.syncId !== cause.syncId) {
    return { kind: 'skip', reason: "the failed sync is not the app's latest operation" };
  }
  const target = rollbackTarget(record, r);
  if (!target) return { kind: 'skip', reason: `no earlier revision was Synced and Healthy: nothing to roll back ${short} to` };
  const why =
    cause.kind === 'degraded'
      ? `revision ${short} turned Degraded after its sync${cause.message ? ` (${cause.message})` : ''}`
      : cause.kind === 'hook-failed'
        ? `a PostSync hook of revision ${short} failed: ${cause.message}`
        : `the sync of revision ${short} failed with Degraded resources: ${cause.message}`;
  const rollback: RollbackState = {
    kind: 'auto-rollback',
    fromRevision: r,
    toRevision: target.revision,
    historyId: target.id,
    requestId: autoRollbackRequestId(r),
    reason: why,
    requestedAt: now.toISOString(),
  };
  return {
    kind: 'rollback',
    rollback,
    pause: { revision: r, reason: why, pausedAt: now.toISOString() },
    request: requestOf(name, rollback),
  };
}

/** The record once an automatic rollback was decided (written before the request is published). */
export function withAutoRollback<R extends RecordLike>(record: R, decision: Extract<AutoRollbackDecision, { kind: 'rollback' }>): R {
  return {
    ...record,
    rollback: decision.rollback,
    automationPaused: decision.pause,
    autoRollbacks: appendBounded(record.autoRollbacks, decision.rollback.fromRevision),
  };
}

/** The record once a user's rollback was requested (api: sync.requested kind 'rollback'). */
export function withManualRollback<R extends RecordLike>(record: R, request: SyncRequested, now: Date): R {
  if (request.kind !== 'rollback' || request.revision === undefined) return record;
  if (record.rollback?.requestId === request.requestId) return record;
  return {
    ...record,
    rollback: {
      kind: 'rollback',
      fromRevision: record.lastSyncedRevision ?? record.operationState?.operation.sync.revision ?? 'unknown',
      toRevision: request.revision,
      ...(request.historyId === undefined ? {} : { historyId: request.historyId }),
      requestId: request.requestId,
      reason: `rollback requested by ${request.initiatedBy}${request.historyId === undefined ? '' : ` to history entry ${request.historyId}`}`,
      requestedAt: now.toISOString(),
    },
  };
}

/**
 * The rollback.completed of a completed sync, when that sync served the waiting rollback: the sync
 * is manual, at the rollback's revision (a SHA compares equal; a branch or tag named by a user's
 * rollback is accepted as resolved), and the record lists the rollback's request as served.
 */
export function rollbackCompletion(
  record: (RecordLike & { servedRequests?: string[] }) | undefined,
  event: SyncEvent,
  now: Date,
): RollbackCompleted | undefined {
  const rollback = record?.rollback;
  if (!rollback || event.dryRun === true) return undefined;
  if (event.trigger !== 'manual' || !record.servedRequests?.includes(rollback.requestId)) return undefined;
  const isSha = /^[0-9a-f]{40}$/.test(rollback.toRevision);
  if (isSha && event.revision !== rollback.toRevision) return undefined;
  const succeeded = event.phase === OperationPhase.Succeeded;
  return {
    app: event.app,
    fromRevision: rollback.fromRevision,
    toRevision: event.revision,
    ...(rollback.historyId === undefined ? {} : { historyId: rollback.historyId }),
    automatic: rollback.kind === 'auto-rollback',
    result: succeeded ? 'succeeded' : 'failed',
    reason: succeeded ? rollback.reason : `${rollback.reason}; the rollback sync failed: ${event.error?.message ?? event.message}`,
    completedAt: event.finishedAt ?? now.toISOString(),
  };
}

/**
 * The record once the rollback's completion was published: `rollback` cleared, and the history entry
 * of the rollback sync marked with its kind (when the syncer did not already).
 */
export function withRollbackDone<R extends RecordLike>(record: R, requestId: string, syncId: string): R {
  const rollback = record.rollback;
  if (!rollback || rollback.requestId !== requestId) return record;
  const next: R = {
    ...record,
    history: record.history.map((h) => (h.syncId === syncId && h.kind === undefined ? { ...h, kind: rollback.kind } : h)),
  };
  delete next.rollback;
  return next;
}

/** msgId of rollback.completed: one per app and rollback sync. */
export function rollbackCompletedMsgId(app: string, syncId: string): string {
  return `rollback.completed:${app}:${syncId}`;
}
