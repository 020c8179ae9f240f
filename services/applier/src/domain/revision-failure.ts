/**
 * A manual operation whose revision could not be resolved or rendered (revision.failed carrying the
 * sync intent): it ends as Argo CD ends an operation whose manifest generation failed — phase `Error`
 * with the failure's message, no sync ran, nothing was applied. Pure: the record transition, the
 * operation's id and message, and what to do with one revision.failed.
 *
 * Choices: no history entry (nothing was deployed, and the revision may not even be known: Argo CD's
 * history holds deployments); `lastSyncedRevision`, conditions (the poller's ComparisonError says it
 * for the target) and `lastSyncDiffAt` are left as they were; automated sync does not count an
 * `Error` operation as an attempt of its revision (decide.ts).
 */
import { createHash } from 'node:crypto';
import {
  OperationPhase,
  isErrorCode,
  SyncTrigger,
  type OperationState,
  type RenderProblem,
  type RevisionFailed,
  type SyncEvent,
  type SyncIntent,
} from '@ferry/contracts';
import { operationExtras } from './dry-run.js';
import { SERVED_REQUESTS_KEPT, completedSyncEvent, emptyRecord, isRequestServed, type StoredOperationRecord } from './operation.js';

/** Problems spelled out in the operation message at most (as the poller's ComparisonError). */
const MESSAGE_PROBLEM_LIMIT = 10;

/**
 * The syncId of the operation a revision failure ends: 20 hex characters of SHA-256 over app and
 * request id. Deterministic, so a redelivered revision.failed (or the poller announcing the same
 * request's failure again) maps to the same operation and the same `sync.failed:<app>:<syncId>`.
 */
export function revisionFailureSyncId(app: string, requestId: string): string {
  return createHash('sha256').update(['revision-failed', app, requestId].join('\n')).digest('hex').slice(0, 20);
}

function formatProblem(problem: RenderProblem): string {
  return problem.line !== undefined && problem.line > 0
    ? `${problem.file}:${problem.line}: ${problem.message}`
    : `${problem.file}: ${problem.message}`;
}

/**
 * The operation message: what could not be generated and why, each render problem as
 * `file:line: message` (at most 10, then "and N more"), else the error's message.
 */
export function revisionFailureMessage(failure: Pick<RevisionFailed, 'revision' | 'error' | 'problems'>, requested: string): string {
  const shown = failure.problems.slice(0, MESSAGE_PROBLEM_LIMIT).map(formatProblem);
  const more = failure.problems.length > MESSAGE_PROBLEM_LIMIT ? `; and ${failure.problems.length - MESSAGE_PROBLEM_LIMIT} more` : '';
  const detail = shown.length > 0 ? `${shown.join('; ')}${more}` : failure.error.message;
  const at = failure.revision !== undefined && failure.revision !== requested ? ` (${failure.revision.slice(0, 7)})` : '';
  return `ComparisonError: failed to generate manifests for revision ${requested}${at}: ${detail}`;
}

/** What to do with one revision.failed. */
export type RevisionFailureAction =
  /** End the operation: record it `Error` (pendingSync cleared, request served), publish sync.failed. */
  | { kind: 'fail'; intent: SyncIntent; syncId: string }
  /** The operation already ended (a redelivery): publish its sync.failed again (the message id de-duplicates). */
  | { kind: 'republish'; event: SyncEvent }
  /** Nothing to end; ack. */
  | { kind: 'ignore'; reason: string }
  /** A sync of the app is running: ask again later (nak) rather than overwrite its state. */
  | { kind: 'later'; reason: string };

/**
 * Decides what a revision.failed means for the app's operation record: without a sync intent nothing
 * waits for it; an intent whose operation already ended is re-reported; a request already served (by
 * a sync or an earlier failure) is ignored; while another operation is Running, later; otherwise the
 * operation it names ends — whether it is the app's `pendingSync` or an older request a newer one
 * replaced (it was never served either).
 */
export function revisionFailureAction(failure: RevisionFailed, record: StoredOperationRecord | undefined): RevisionFailureAction {
  const intent = failure.sync;
  if (!intent) return { kind: 'ignore', reason: 'no sync intent: no operation waits for this revision' };
  const syncId = revisionFailureSyncId(failure.app, intent.requestId);
  const done = completedSyncEvent(record, syncId);
  if (done) return { kind: 'republish', event: done };
  if (isRequestServed(record, intent.requestId)) {
    return { kind: 'ignore', reason: `sync request ${intent.requestId} was already served` };
  }
  const state = record?.operationState;
  if (state?.phase === OperationPhase.Running) {
    return { kind: 'later', reason: `sync ${state.syncId} is running` };
  }
  return { kind: 'fail', intent, syncId };
}

/**
 * The record once the operation of `intent` ended in `Error` because its revision failed:
 * operationState Error (revision = the resolved commit, else the requested one, else `targetRevision`;
 * the request's options and kind recorded as a sync would), `operationError` (the failure's code and
 * message) for re-publishing,
 * `pendingSync` cleared when it was this request, the request marked served.
 */
export function withRevisionFailure(
  record: StoredOperationRecord | undefined,
  failure: RevisionFailed,
  intent: SyncIntent,
  syncId: string,
  targetRevision: string,
  now: Date,
): StoredOperationRecord {
  const base = record ?? emptyRecord(failure.app);
  const requested = intent.revision ?? targetRevision;
  const pending = base.pendingSync?.requestId === intent.requestId ? base.pendingSync : undefined;
  const finishedAt = now.toISOString();
  const startedAt = pending && pending.requestedAt <= finishedAt ? pending.requestedAt : finishedAt;
  const operationState: OperationState = {
    operation: {
      sync: { revision: failure.revision ?? requested, prune: intent.prune, ...operationExtras(intent) },
      initiatedBy: { username: intent.initiatedBy },
    },
    phase: OperationPhase.Error,
    message: revisionFailureMessage(failure, requested),
    startedAt,
    finishedAt,
    syncId,
    trigger: SyncTrigger.Manual,
    ...(intent.kind ? { kind: intent.kind } : {}),
  };
  const next: StoredOperationRecord = {
    ...base,
    operationState,
    servedRequests: [...(base.servedRequests ?? []).filter((id) => id !== intent.requestId), intent.requestId].slice(-SERVED_REQUESTS_KEPT),
  };
  // The code is the poller's (git/render); one this build does not know is still published, not stored.
  const code = failure.error.code;
  if (isErrorCode(code)) next.operationError = { code, message: failure.error.message, syncId };
  else delete next.operationError;
  if (pending) delete next.pendingSync;
  return next;
}
