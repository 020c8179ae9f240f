export { loadConfig } from './config.js';
export type { ApplierConfig } from './config.js';
export { start } from './service.js';
export type { ApplierDeps, ApplierService } from './service.js';
export { DEFAULT_WAVE_TIMEOUT_MS, createSyncer, toApplication } from './syncer.js';
export type { AppSource, Syncer, SyncerOptions } from './syncer.js';
export { ApplyResult, SyncResult, createApplierMetrics } from './metrics.js';
export type { ApplierMetrics } from './metrics.js';
export { SyncAbortedError, SyncError } from './errors.js';
export { DIFF_DURABLE, createDiffHandler, diffFilter } from './handlers/diff-computed.js';
export { SYNC_REQUEST_DURABLE, createSyncRequestHandler, syncRequestFilter } from './handlers/sync-requested.js';
export { REVISION_FAILED_DURABLE, createRevisionFailedHandler, revisionFailedFilter } from './handlers/revision-failed.js';
export { revisionFailureAction, revisionFailureMessage, revisionFailureSyncId, withRevisionFailure } from './domain/revision-failure.js';
export type { RevisionFailureAction } from './domain/revision-failure.js';
export { SyncDecision, decideSync, pauseOf } from './domain/decide.js';
export type { DecideOptions, Decision } from './domain/decide.js';
export { planSync, resourceIdOf, resourceResult } from './domain/plan.js';
export type { PlanInput, SyncPlan } from './domain/plan.js';
export { appendHistory } from './domain/history.js';
export { syncIdOf } from './domain/sync-id.js';
export type { SyncIdInput } from './domain/sync-id.js';
export { parseArtifact } from './domain/artifact.js';
export type { ArtifactParse } from './domain/artifact.js';
export { trackedKinds } from './domain/tracked-kinds.js';
export type { KindRef } from './domain/tracked-kinds.js';
export {
  SERVED_REQUESTS_KEPT,
  completeOperation,
  completedSyncEvent,
  diffAction,
  emptyRecord,
  isRequestServed,
  operationFor,
  startOperation,
  syncEventOf,
  withPendingSync,
} from './domain/operation.js';
export type { DiffAction, StoredOperationRecord, SyncOperation, SyncOutcome } from './domain/operation.js';
export {
  DEFAULT_AUTOMATED_RETRY_LIMIT,
  DEFAULT_RETRY_DURATION_MS,
  DEFAULT_RETRY_FACTOR,
  DEFAULT_RETRY_MAX_DURATION_MS,
  NOT_RETRIED_CODES,
  RetryOperationKind,
  abortableSleep,
  isRetriedFailure,
  mayRetry,
  retryConfigFor,
  retryDelayMs,
  retryMessage,
  runWithRetry,
  withRetryCount,
  withRetrying,
} from './domain/retry.js';
export type { RetryConfig, RunWithRetryOptions } from './domain/retry.js';
export { createDeleter, isDeleteDisabled, planDeletion, recordedKinds } from './deleter.js';
export type { AppDeleter, DeleterOptions, DeletionPlan } from './deleter.js';
export { APP_DELETED_DURABLE, appDeletedFilter, createAppDeletedHandler } from './handlers/app-deleted.js';
export { HEALTH_DURABLE, createHealthHandler, healthFilter } from './handlers/health.js';
export { createRollbackController } from './rollback/controller.js';
export type { RollbackController, RollbackControllerOptions } from './rollback/controller.js';
export { ROLLBACK_DURABLE, createRollbackSyncHandler, rollbackFilter } from './rollback/sync-events-handler.js';
export {
  AUTO_ROLLBACK_INITIATOR,
  REVISIONS_KEPT,
  ROLLBACK_ABANDONED_MS,
  autoRollbackRequestId,
  decideAutoRollback,
  hasFailedPostSyncHook,
  rollbackCompletedMsgId,
  rollbackCompletion,
  rollbackFollowsFailure,
  rollbackTarget,
  rollbackWorthyFailure,
  wasDeployed,
  withAutoRollback,
  withHealthyRevision,
  withManualRollback,
  withRollbackDone,
} from './rollback/domain.js';
export type { AutoRollbackDecision, RollbackCause } from './rollback/domain.js';
export { prepareSync } from './engine/prepare.js';
export type { PrepareSyncInput, PreparedSync } from './engine/prepare.js';
export { SUCCESS_MESSAGE, executeSync } from './engine/execute.js';
export type { EngineOutcome, ExecuteOptions } from './engine/execute.js';
export { waitForWave } from './engine/health-wait.js';
export type { WaitItem, WaitOptions, WaitResult } from './engine/health-wait.js';
export { SYNC_PHASES, planSyncTasks, waveOf } from './domain/sync-tasks.js';
export type { SyncPhase, SyncStep, SyncTask, SyncTaskInput, SyncTaskPlan } from './domain/sync-tasks.js';
export { HookDeletePolicy, HookType, deletePoliciesOf, hookPhaseOf, hookTypesOf, isHookAnnotated } from './domain/hooks.js';
export type { HookPhase, SyncHookType } from './domain/hooks.js';
export { operationOptions, resourceOptions } from './domain/sync-options.js';
export type { OperationOptions, PropagationPolicy, ResourceSyncOptions } from './domain/sync-options.js';
export { completeOperationWith, dryRunChange, isDryRunOperation, operationExtras, startOperationWith } from './domain/dry-run.js';
