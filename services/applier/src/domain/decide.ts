/**
 * When to sync, as Argo CD's automated sync decides it: a manual request always syncs; an automated
 * app syncs when it is OutOfSync at a revision it has not attempted yet; drift of an already-synced
 * revision is re-applied only with selfHeal (after a short self-heal delay, so a flapping object does
 * not turn into a hot loop). After an automatic rollback from revision R, automated sync skips R
 * until another revision of the target is detected ({@link pauseOf}).
 */
import { OperationPhase, SyncStatus, type Application, type DiffComputed, type OperationStatusRecord } from '@ferry/contracts';

export const SyncDecision = {
  Manual: 'manual',
  Automated: 'automated',
  SelfHeal: 'self-heal',
  None: 'none',
} as const;
export type SyncDecision = (typeof SyncDecision)[keyof typeof SyncDecision];

export interface DecideOptions {
  /** Minimum time between two self-heal syncs of one app, ms (Argo CD's selfHealTimeout, default 5 s). */
  selfHealIntervalMs: number;
  now: Date;
}

export interface Decision {
  decision: SyncDecision;
  /** Why, for logs and status. */
  reason: string;
  /** Set when the same diff may decide differently later (self-heal waiting for its interval): ask again after this many ms. */
  retryAfterMs?: number;
  /**
   * Set when this diff lifts the pause of an automatic rollback (a new revision of the target was
   * detected): the caller removes `automationPaused` from the record before syncing.
   */
  clearPause?: true;
}

/**
 * Automated sync after an automatic rollback from revision R: paused while the target's diffs carry
 * R; lifted by the first diff of the target (reason `revision`, no sync intent) at another revision,
 * i.e. a new commit. Drift diffs never lift it (they compare whatever was compared last).
 */
export function pauseOf(
  diff: DiffComputed,
  status: OperationStatusRecord | undefined,
): { paused: true; reason: string } | { paused: false; clear: boolean } {
  const pause = status?.automationPaused;
  if (!pause || diff.sync) return { paused: false, clear: false };
  if (diff.revision === pause.revision) {
    return {
      paused: true,
      reason: `automated sync is paused: revision ${pause.revision.slice(0, 7)} was rolled back automatically (${pause.reason}); it resumes with a new revision`,
    };
  }
  return { paused: false, clear: diff.reason === 'revision' };
}

export function decideSync(
  app: Application,
  diff: DiffComputed,
  status: OperationStatusRecord | undefined,
  options: DecideOptions,
): Decision {
  if (diff.sync) return { decision: SyncDecision.Manual, reason: `manual sync requested by ${diff.sync.initiatedBy}` };
  const automated = app.spec.syncPolicy?.automated;
  if (!automated) return { decision: SyncDecision.None, reason: 'automated sync is off' };
  const pause = pauseOf(diff, status);
  if (pause.paused) return { decision: SyncDecision.None, reason: pause.reason };
  const decided = decideAutomated(automated, diff, status, options);
  return pause.clear ? { ...decided, clearPause: true } : decided;
}

/**
 * The last operation that really tried a revision. A dry run changes nothing, and an `Error`
 * operation (its revision could not be resolved or rendered) never ran, so neither is an attempt:
 * then the newest history entry (neither reaches history) stands for the last attempt.
 */
function lastAttempt(status: OperationStatusRecord | undefined): { revision: string; phase: string; finishedAt?: string } | undefined {
  const state = status?.operationState;
  if (state && state.operation.sync.dryRun !== true && state.phase !== OperationPhase.Error) {
    return { revision: state.operation.sync.revision, phase: state.phase, ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}) };
  }
  const entry = status?.history.at(-1);
  return entry && { revision: entry.revision, phase: entry.phase, finishedAt: entry.deployedAt };
}

function decideAutomated(
  automated: NonNullable<NonNullable<Application['spec']['syncPolicy']>['automated']>,
  diff: DiffComputed,
  status: OperationStatusRecord | undefined,
  options: DecideOptions,
): Decision {
  if (diff.syncStatus === SyncStatus.Synced) return { decision: SyncDecision.None, reason: 'already synced' };
  const last = lastAttempt(status);
  const attempted = last?.revision === diff.revision;
  if (!attempted) return { decision: SyncDecision.Automated, reason: `new revision ${diff.revision.slice(0, 7)} is OutOfSync` };
  if (last && last.phase === 'Running') return { decision: SyncDecision.None, reason: 'a sync of this revision is running' };
  if (!automated.selfHeal) {
    return { decision: SyncDecision.None, reason: `revision ${diff.revision.slice(0, 7)} was already synced; selfHeal is off` };
  }
  const finished = last?.finishedAt ? Date.parse(last.finishedAt) : 0;
  const waited = options.now.getTime() - finished;
  if (waited < options.selfHealIntervalMs) {
    return {
      decision: SyncDecision.None,
      reason: 'self-heal is waiting for its interval',
      retryAfterMs: options.selfHealIntervalMs - waited,
    };
  }
  return { decision: SyncDecision.SelfHeal, reason: 'live state drifted; selfHeal re-applies the synced revision' };
}
