/**
 * The operation record (`ferry-status-operation/<app>`, written only by the applier) and its
 * transitions: a sync starts (Running), completes (Succeeded/Failed, with history), a manual request
 * waits for its revision (pendingSync). Also the one decision that needs the record: what to do with
 * a diff.computed event (run, resume, re-report, ignore, ask again later).
 */
import {
  ConditionType,
  ErrorCode,
  OperationPhase,
  ResourceResultStatus,
  SyncTrigger,
  isOperationCompleted,
  type AppCondition,
  type Application,
  type DiffComputed,
  type ErrorInfo,
  type HistoryEntry,
  type OperationState,
  type OperationStatusRecord,
  type ResourceResult,
  type SyncEvent,
  type SyncIntent,
} from '@ferry/contracts';
import { decideSync, SyncDecision, type DecideOptions } from './decide.js';
import { appendHistory } from './history.js';

/** The record as the applier stores it: the contract's fields plus its own bookkeeping. */
export interface StoredOperationRecord extends OperationStatusRecord {
  /** `comparedAt` of the diff that started the latest operation; older automated diffs are stale. */
  lastSyncDiffAt?: string;
  /** The error of the latest operation when it failed (the completion event carries it again on a re-publish). */
  operationError?: ErrorInfo & { syncId: string };
  /** Request ids of the latest manual syncs that completed (newest last, at most {@link SERVED_REQUESTS_KEPT}). */
  servedRequests?: string[];
}

/** How many served manual request ids the record remembers (a redelivered sync.requested is then not re-queued). */
export const SERVED_REQUESTS_KEPT = 20;

/** One sync operation as the applier runs it. */
export interface SyncOperation {
  syncId: string;
  app: string;
  revision: string;
  artifactKey: string;
  trigger: SyncTrigger;
  prune: boolean;
  initiatedBy: { username?: string; automated?: boolean };
  /** The manual request this sync serves (cleared from pendingSync when it completes). */
  requestId?: string;
  /** `comparedAt` of the diff that caused it. */
  diffComparedAt: string;
}

/** How a sync ended. */
export interface SyncOutcome {
  phase: typeof OperationPhase.Succeeded | typeof OperationPhase.Failed;
  message: string;
  resources: ResourceResult[];
  finishedAt: string;
  error?: ErrorInfo;
}

export function emptyRecord(app: string): StoredOperationRecord {
  return { app, history: [], conditions: [] };
}

/** The operation a diff asks for, given the decision's trigger. */
export function operationFor(app: Application, diff: DiffComputed, syncId: string): SyncOperation {
  const intent = diff.sync;
  return {
    syncId,
    app: app.metadata.name,
    revision: diff.revision,
    artifactKey: diff.artifactKey,
    trigger: intent ? SyncTrigger.Manual : SyncTrigger.Automated,
    prune: intent ? intent.prune : app.spec.syncPolicy?.automated?.prune === true,
    initiatedBy: intent ? { username: intent.initiatedBy } : { automated: true },
    ...(intent ? { requestId: intent.requestId } : {}),
    diffComparedAt: diff.comparedAt,
  };
}

/**
 * The record with `op` Running. Resuming the same syncId (after a crash) keeps its startedAt, so
 * the started event and the history entry describe the operation, not the attempt.
 */
export function startOperation(record: StoredOperationRecord | undefined, op: SyncOperation, now: Date): StoredOperationRecord {
  const base = record ?? emptyRecord(op.app);
  const previous = base.operationState?.syncId === op.syncId ? base.operationState : undefined;
  const operationState: OperationState = {
    operation: { sync: { revision: op.revision, prune: op.prune }, initiatedBy: op.initiatedBy },
    phase: OperationPhase.Running,
    message: 'sync is running',
    startedAt: previous?.startedAt ?? now.toISOString(),
    syncId: op.syncId,
    trigger: op.trigger,
  };
  return { ...base, operationState, lastSyncDiffAt: op.diffComparedAt };
}

function withSyncError(conditions: readonly AppCondition[], outcome: SyncOutcome): AppCondition[] {
  const others = conditions.filter((c) => c.type !== ConditionType.SyncError);
  if (outcome.phase === OperationPhase.Succeeded) return others;
  return [...others, { type: ConditionType.SyncError, message: outcome.message, lastTransitionTime: outcome.finishedAt }];
}

/**
 * The record with `op` completed: final operationState with its syncResult, a history entry (every
 * completed sync, trimmed to revisionHistoryLimit), lastSyncedRevision on success, pendingSync
 * cleared when this sync served it, and the SyncError condition set (failure) or removed (success).
 */
export function completeOperation(
  record: StoredOperationRecord | undefined,
  op: SyncOperation,
  outcome: SyncOutcome,
  app: Application,
  now: Date,
): StoredOperationRecord {
  const base = record ?? emptyRecord(op.app);
  const startedAt = base.operationState?.syncId === op.syncId ? base.operationState.startedAt : now.toISOString();
  const operationState: OperationState = {
    operation: { sync: { revision: op.revision, prune: op.prune }, initiatedBy: op.initiatedBy },
    phase: outcome.phase,
    message: outcome.message,
    startedAt,
    finishedAt: outcome.finishedAt,
    syncId: op.syncId,
    trigger: op.trigger,
    syncResult: { revision: op.revision, resources: outcome.resources },
  };
  const history = base.history.some((h) => h.syncId === op.syncId)
    ? base.history
    : appendHistory(
        base.history,
        {
          revision: op.revision,
          deployStartedAt: startedAt,
          deployedAt: outcome.finishedAt,
          source: app.spec.source,
          initiatedBy: op.initiatedBy,
          syncId: op.syncId,
          phase: outcome.phase,
          resources: outcome.resources,
        },
        app,
      );
  const next: StoredOperationRecord = {
    ...base,
    operationState,
    history,
    conditions: withSyncError(base.conditions, outcome),
    lastSyncDiffAt: base.lastSyncDiffAt ?? op.diffComparedAt,
  };
  if (outcome.phase === OperationPhase.Succeeded) next.lastSyncedRevision = op.revision;
  if (outcome.error) next.operationError = { ...outcome.error, syncId: op.syncId };
  else delete next.operationError;
  if (op.requestId !== undefined) {
    if (base.pendingSync?.requestId === op.requestId) delete next.pendingSync;
    const served = (base.servedRequests ?? []).filter((id) => id !== op.requestId);
    next.servedRequests = [...served, op.requestId].slice(-SERVED_REQUESTS_KEPT);
  }
  return next;
}

/** True when a manual sync of `requestId` already completed (its sync.requested was redelivered). */
export function isRequestServed(record: StoredOperationRecord | undefined, requestId: string): boolean {
  return record?.servedRequests?.includes(requestId) === true;
}

/** The record with a manual sync waiting for its revision. */
export function withPendingSync(
  record: StoredOperationRecord | undefined,
  app: string,
  intent: SyncIntent,
  now: Date,
): StoredOperationRecord {
  return { ...(record ?? emptyRecord(app)), pendingSync: { ...intent, requestedAt: now.toISOString() } };
}

/**
 * The completion event of `syncId` if the record shows it completed (in operationState, else in
 * history), so a redelivered diff re-publishes it instead of syncing again.
 */
export function completedSyncEvent(record: StoredOperationRecord | undefined, syncId: string): SyncEvent | undefined {
  if (!record) return undefined;
  const state = record.operationState;
  if (state?.syncId === syncId && isOperationCompleted(state.phase)) {
    const error = record.operationError?.syncId === syncId ? record.operationError : undefined;
    return syncEventOf(record.app, state, error && { code: error.code, message: error.message });
  }
  const entry = record.history.find((h) => h.syncId === syncId);
  return entry ? syncEventFromHistory(record.app, entry) : undefined;
}

/** A history entry keeps no error: a failed one is re-reported with the code its results imply. */
function historyError(entry: HistoryEntry, message: string): ErrorInfo | undefined {
  if (entry.phase === OperationPhase.Succeeded) return undefined;
  const failed = entry.resources.some((r) => r.status === ResourceResultStatus.SyncFailed);
  return { code: failed ? ErrorCode.SyncResourceFailed : ErrorCode.SyncPruneRefused, message };
}

/** The sync event (started or completion) describing an operation state; `error` for a failed one. */
export function syncEventOf(app: string, state: OperationState, error?: ErrorInfo): SyncEvent {
  const resources = state.syncResult?.resources ?? [];
  const err = state.phase === OperationPhase.Succeeded ? undefined : error;
  return {
    app,
    syncId: state.syncId,
    revision: state.operation.sync.revision,
    trigger: state.trigger,
    phase: state.phase,
    message: state.message,
    startedAt: state.startedAt,
    ...(state.finishedAt === undefined ? {} : { finishedAt: state.finishedAt }),
    resources,
    ...(err ? { error: { code: err.code, message: err.message } } : {}),
  };
}

function syncEventFromHistory(app: string, entry: HistoryEntry): SyncEvent {
  const trigger = entry.initiatedBy.automated ? SyncTrigger.Automated : SyncTrigger.Manual;
  const message = entry.phase === OperationPhase.Succeeded ? 'successfully synced (all tasks run)' : 'sync failed';
  const err = historyError(entry, message);
  return {
    app,
    syncId: entry.syncId,
    revision: entry.revision,
    trigger,
    phase: entry.phase,
    message,
    startedAt: entry.deployStartedAt,
    finishedAt: entry.deployedAt,
    resources: entry.resources,
    ...(err ? { error: err } : {}),
  };
}

/** What to do with one diff.computed. */
export type DiffAction =
  /** This sync already completed: publish its completion event again (the message id de-duplicates) and ack. */
  | { kind: 'republish'; event: SyncEvent }
  /** Run the sync (`resume`: it was Running when its process stopped; same syncId, same startedAt). */
  | { kind: 'sync'; decision: SyncDecision; reason: string; resume: boolean }
  /** Nothing to do; ack. */
  | { kind: 'ignore'; reason: string }
  /** Nothing to do yet; ask again after `delayMs` (nak). */
  | { kind: 'later'; reason: string; delayMs: number };

/**
 * Decides what a diff.computed means given the operation record: a completed syncId is re-reported,
 * a Running one resumed; a manual request already served (another diff carrying the same intent) is
 * ignored; an automated diff compared before the diff of the latest operation is stale (it was
 * overtaken); otherwise {@link decideSync} decides.
 */
export function diffAction(
  app: Application,
  diff: DiffComputed,
  record: StoredOperationRecord | undefined,
  syncId: string,
  options: DecideOptions,
): DiffAction {
  const done = completedSyncEvent(record, syncId);
  if (done) return { kind: 'republish', event: done };
  const state = record?.operationState;
  if (state?.syncId === syncId && state.phase === OperationPhase.Running) {
    return {
      kind: 'sync',
      decision: diff.sync ? SyncDecision.Manual : SyncDecision.Automated,
      reason: 'resuming an interrupted sync',
      resume: true,
    };
  }
  if (diff.sync && isRequestServed(record, diff.sync.requestId)) {
    return { kind: 'ignore', reason: `manual sync request ${diff.sync.requestId} was already served` };
  }
  if (!diff.sync && record?.lastSyncDiffAt !== undefined && Date.parse(diff.comparedAt) < Date.parse(record.lastSyncDiffAt)) {
    return { kind: 'ignore', reason: 'stale comparison: a later one already started a sync' };
  }
  const decision = decideSync(app, diff, record, options);
  if (decision.decision === SyncDecision.None) {
    return decision.retryAfterMs === undefined
      ? { kind: 'ignore', reason: decision.reason }
      : { kind: 'later', reason: decision.reason, delayMs: decision.retryAfterMs };
  }
  return { kind: 'sync', decision: decision.decision, reason: decision.reason, resume: false };
}
