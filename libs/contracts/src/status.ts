/**
 * Application status. Each part is written by one service into its own KV bucket (one writer per
 * part); the api composes them into Argo CD's `Application.status` shape ({@link ApplicationStatus}).
 */
import type { ApplicationSource, ApplicationDestination } from './application.js';
import type { RenderProblem, ResourceComparison, ResourceHealth, ResourceResult, SyncIntent } from './events.js';
import type { ConditionType, HealthStatus, OperationPhase, SyncStatus, SyncTrigger } from './vocabularies.js';

export interface AppCondition {
  type: ConditionType;
  message: string;
  lastTransitionTime: string;
}

/** Bucket `<prefix>-status-source`, written by the poller. */
export interface SourceStatusRecord {
  app: string;
  repoURL: string;
  targetRevision: string;
  /** Last commit that resolved and rendered. */
  revision?: string;
  artifactKey?: string;
  sourceType?: 'Directory' | 'Kustomize';
  resourceCount?: number;
  /** Last time the source was resolved (successfully or not). */
  resolvedAt: string;
  /** Present while the source fails to resolve or render. */
  error?: { code: string; message: string; revision?: string; problems: RenderProblem[] };
  conditions: AppCondition[];
  /**
   * The last resolution made for a sync intent naming a revision other than the target's (`sync
   * --revision`, a rollback). The fields above stay the target's; the next poll of the target
   * announces it again (so the comparison returns to the target, as Argo CD compares with it).
   */
  requested?: {
    /** The revision the intent named (branch, tag or SHA). */
    revision: string;
    requestId: string;
    /** The commit it resolved to, when it did. */
    commit?: string;
    artifactKey?: string;
    resolvedAt: string;
    /** Why it could not be resolved or rendered. */
    error?: { code: string; message: string };
  };
}

/** Bucket `<prefix>-status-comparison`, written by the differ. */
export interface ComparisonStatusRecord {
  app: string;
  revision: string;
  artifactKey: string;
  status: SyncStatus;
  resources: ResourceComparison[];
  comparedAt: string;
  conditions: AppCondition[];
}

export interface HistoryEntry {
  /** Increasing per app, from 0 (Argo CD's `history[].id`). */
  id: number;
  revision: string;
  deployStartedAt: string;
  deployedAt: string;
  source: ApplicationSource;
  initiatedBy: { username?: string; automated?: boolean };
  /** Ferry's addition: the result and per-resource results of that sync. */
  syncId: string;
  phase: OperationPhase;
  resources: ResourceResult[];
  /** Ferry's addition: why the sync ran (absent = 'sync'): a user's sync, a rollback, Ferry's automatic rollback. */
  kind?: 'sync' | 'rollback' | 'auto-rollback';
  /** Ferry's addition: retries the operation needed (Argo CD's operationState.retryCount); absent = 0. */
  retryCount?: number;
}

export interface OperationState {
  operation: {
    sync: {
      revision: string;
      prune: boolean;
      /** A dry run: nothing was changed, and it does not count as an attempt of the revision. */
      dryRun?: boolean;
      /** A selective sync: only these resources. */
      resources?: Array<{ group: string; kind: string; namespace?: string; name: string }>;
      /** Extra sync options of this operation. */
      syncOptions?: string[];
    };
    initiatedBy: { username?: string; automated?: boolean };
  };
  phase: OperationPhase;
  message: string;
  startedAt: string;
  finishedAt?: string;
  syncId: string;
  trigger: SyncTrigger;
  syncResult?: { revision: string; resources: ResourceResult[] };
  /** Failed attempts retried so far in this operation (Argo CD's `retryCount`, `syncPolicy.retry`); absent = 0. */
  retryCount?: number;
  /** Why the operation runs (absent = 'sync'). */
  kind?: 'sync' | 'rollback' | 'auto-rollback';
}

/** Bucket `<prefix>-status-operation`, written by the applier. */
export interface OperationStatusRecord {
  app: string;
  operationState?: OperationState;
  history: HistoryEntry[];
  /** A manual sync waiting for a fresh revision. */
  pendingSync?: SyncIntent & { requestedAt: string };
  /** Revision of the last successful sync. */
  lastSyncedRevision?: string;
  conditions: AppCondition[];
  /**
   * Automated sync paused by an automatic rollback: it resumes when a revision other than
   * `revision` (the one rolled back from) is detected.
   */
  automationPaused?: { revision: string; reason: string; pausedAt: string };
  /**
   * Revisions whose health became Healthy after they were synced (health.changed Healthy at that
   * revision), newest last, at most 50: the candidates of an automatic rollback.
   */
  healthyRevisions?: string[];
  /** Revisions an automatic rollback was started from (one per revision, ever), newest last, at most 50. */
  autoRollbacks?: string[];
  /** A rollback waiting for its sync to complete (then rollback.completed is published and this is cleared). */
  rollback?: {
    kind: 'rollback' | 'auto-rollback';
    fromRevision: string;
    toRevision: string;
    historyId?: number;
    /** The sync.requested's requestId (the rollback sync serves it). */
    requestId: string;
    reason: string;
    requestedAt: string;
  };
}

/** Bucket `<prefix>-status-health`, written by the health service. */
export interface HealthStatusRecord {
  app: string;
  status: HealthStatus;
  message?: string;
  revision?: string;
  resources: ResourceHealth[];
  changedAt: string;
  assessedAt: string;
}

/** Argo CD's `Application.status`, as the api serves it. */
export interface ApplicationStatus {
  sync: { status: SyncStatus; revision?: string; comparedTo?: { source: ApplicationSource; destination: ApplicationDestination } };
  health: { status: HealthStatus; message?: string };
  resources: Array<ResourceComparison & { health?: { status: HealthStatus; message?: string } }>;
  history: HistoryEntry[];
  conditions: AppCondition[];
  operationState?: OperationState;
  reconciledAt?: string;
  sourceType?: 'Directory' | 'Kustomize';
  summary: Record<string, never>;
}
