/**
 * Notification triggers as a pure state machine over sync and health events, per app.
 *
 * - `on-sync-succeeded` / `on-sync-failed`: a sync of a revision completed with that result.
 * - `on-health-degraded`: the app's health became Degraded (from anything else, or from unknown).
 * - `on-deployed`: the last sync succeeded at revision R, and the app is Healthy at R (health
 *   carries R, or carries no revision), and `on-deployed` has not fired for R yet. It fires once
 *   per revision whichever event completes the condition (sync after health, or health after sync).
 * - `on-rollback`: a rollback.completed (automatic or a user's), once per app, toRevision and
 *   fromRevision (the revision is toRevision; the de-duplication key also names fromRevision).
 *
 * Stale events (older than what the state already holds) and repeats of the same sync are ignored,
 * so a redelivered event fires nothing twice. Delivery de-duplication (KV) backs this up.
 */
import { HealthStatus, NotificationTrigger } from '@ferry/contracts';
import type { SyncStatus } from '@ferry/contracts';

/** The revision recorded when an event names none (health before any sync). */
export const UNKNOWN_REVISION = 'unknown';

/** What the notifier remembers about one app (stored as JSON in KV). */
export interface AppNotifyState {
  readonly app: string;
  readonly lastSync?: {
    readonly result: 'succeeded' | 'failed';
    readonly revision: string;
    readonly syncId: string;
    readonly message: string;
    /** RFC 3339: the sync's finishedAt (or startedAt). */
    readonly at: string;
  };
  readonly health?: {
    readonly status: HealthStatus;
    /** The revision the health was assessed at (health.changed's `revision`), when given. */
    readonly revision?: string;
    readonly message?: string;
    /** RFC 3339: the event's changedAt. */
    readonly at: string;
  };
  /** The last revision `on-deployed` fired for. */
  readonly deployedRevision?: string;
  /** Rollbacks already seen (`<toRevision>.<fromRevision>`), newest last, at most {@link ROLLBACKS_KEPT}. */
  readonly rollbacks?: readonly string[];
  /** The last rollback's message (for the `on-rollback` template). */
  readonly lastRollback?: { readonly toRevision: string; readonly fromRevision: string; readonly message: string; readonly at: string };
}

/** How many rollbacks the state remembers. */
export const ROLLBACKS_KEPT = 20;

/** A completed sync, as the notifier sees it. */
export interface SyncCompletedEvent {
  readonly kind: 'sync';
  readonly result: 'succeeded' | 'failed';
  readonly app: string;
  readonly revision: string;
  readonly syncId: string;
  /** The operation message, or the error message on failure. */
  readonly message: string;
  readonly at: string;
}

/** A health change, as the notifier sees it. */
export interface HealthEvent {
  readonly kind: 'health';
  readonly app: string;
  readonly status: HealthStatus;
  readonly revision?: string;
  readonly message?: string;
  readonly at: string;
}

/** A completed rollback (rollback.completed), as the notifier sees it. */
export interface RollbackEvent {
  readonly kind: 'rollback';
  readonly app: string;
  readonly fromRevision: string;
  readonly toRevision: string;
  readonly automatic: boolean;
  readonly result: 'succeeded' | 'failed';
  readonly reason: string;
  readonly at: string;
}

export type NotifyEvent = SyncCompletedEvent | HealthEvent | RollbackEvent;

export interface FiredTrigger {
  readonly trigger: NotificationTrigger;
  readonly revision: string;
  /**
   * What the delivery is de-duplicated on in place of `revision` (dedupe record, notification.sent
   * msgId, X-Ferry-Delivery): `on-rollback` uses `<toRevision>.<fromRevision>`.
   */
  readonly dedupe?: string;
}

/** The short form of a revision for messages. */
function short(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}

/** The `{{message}}` of an on-rollback notification. */
export function rollbackMessage(event: RollbackEvent): string {
  const who = event.automatic ? 'Automatic rollback' : 'Rollback';
  return event.result === 'succeeded'
    ? `${who} from ${short(event.fromRevision)}: ${event.reason}.`
    : `${who} from ${short(event.fromRevision)} failed: ${event.reason}.`;
}

export interface TriggerEvaluation {
  /** The new state (the same object when nothing changed). */
  readonly state: AppNotifyState;
  readonly fired: readonly FiredTrigger[];
}

/** The state of an app never seen before. */
export function initialNotifyState(app: string): AppNotifyState {
  return { app };
}

function isBefore(a: string, b: string): boolean {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isFinite(ta) && Number.isFinite(tb) && ta < tb;
}

/** Evaluates one event against an app's state. Pure. */
export function evaluateTriggers(state: AppNotifyState, event: NotifyEvent): TriggerEvaluation {
  const fired: FiredTrigger[] = [];
  let next: AppNotifyState = state;

  if (event.kind === 'rollback') {
    const key = `${event.toRevision}.${event.fromRevision}`;
    if (state.rollbacks?.includes(key)) return { state, fired };
    next = {
      ...state,
      rollbacks: [...(state.rollbacks ?? []), key].slice(-ROLLBACKS_KEPT),
      lastRollback: { toRevision: event.toRevision, fromRevision: event.fromRevision, message: rollbackMessage(event), at: event.at },
    };
    fired.push({ trigger: NotificationTrigger.OnRollback, revision: event.toRevision, dedupe: key });
    return { state: next, fired };
  }

  if (event.kind === 'sync') {
    const last = state.lastSync;
    if (last && (last.syncId === event.syncId || isBefore(event.at, last.at))) return { state, fired };
    next = {
      ...state,
      lastSync: { result: event.result, revision: event.revision, syncId: event.syncId, message: event.message, at: event.at },
    };
    fired.push({
      trigger: event.result === 'succeeded' ? NotificationTrigger.OnSyncSucceeded : NotificationTrigger.OnSyncFailed,
      revision: event.revision,
    });
  } else {
    const last = state.health;
    if (last && isBefore(event.at, last.at)) return { state, fired };
    if (
      last &&
      last.status === event.status &&
      last.revision === event.revision &&
      last.message === event.message &&
      last.at === event.at
    ) {
      return { state, fired };
    }
    next = {
      ...state,
      health: {
        status: event.status,
        ...(event.revision === undefined ? {} : { revision: event.revision }),
        ...(event.message === undefined ? {} : { message: event.message }),
        at: event.at,
      },
    };
    if (event.status === HealthStatus.Degraded && last?.status !== HealthStatus.Degraded) {
      fired.push({
        trigger: NotificationTrigger.OnHealthDegraded,
        revision: event.revision ?? state.lastSync?.revision ?? UNKNOWN_REVISION,
      });
    }
  }

  const deployed = deployedRevision(next);
  if (deployed !== undefined) {
    next = { ...next, deployedRevision: deployed };
    fired.push({ trigger: NotificationTrigger.OnDeployed, revision: deployed });
  }
  return { state: next, fired };
}

/** The revision `on-deployed` should fire for now, if any. */
function deployedRevision(state: AppNotifyState): string | undefined {
  const sync = state.lastSync;
  const health = state.health;
  if (!sync || sync.result !== 'succeeded' || !health || health.status !== HealthStatus.Healthy) return undefined;
  if (health.revision !== undefined && health.revision !== sync.revision) return undefined;
  if (state.deployedRevision === sync.revision) return undefined;
  return sync.revision;
}

/** The app's sync status as the notifier knows it (for templates): the last sync's outcome. */
export function syncStatusOf(state: AppNotifyState): SyncStatus {
  if (!state.lastSync) return 'Unknown';
  return state.lastSync.result === 'succeeded' ? 'Synced' : 'OutOfSync';
}
