/**
 * When to sync, as Argo CD's automated sync decides it: a manual request always syncs; an automated
 * app syncs when it is OutOfSync at a revision it has not attempted yet; drift of an already-synced
 * revision is re-applied only with selfHeal (after a short self-heal delay, so a flapping object does
 * not turn into a hot loop).
 */
import { SyncStatus, type Application, type DiffComputed, type OperationStatusRecord } from '@ferry/contracts';

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
  if (diff.syncStatus === SyncStatus.Synced) return { decision: SyncDecision.None, reason: 'already synced' };
  const last = status?.operationState;
  const attempted = last?.operation.sync.revision === diff.revision;
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
