/**
 * Runs sync operations. Every step is idempotent so a diff redelivered after a crash either resumes
 * the operation (same syncId, record Running) or re-publishes its completion (record completed):
 *
 *   lease → read (cluster, artifact, discovery, live objects) → plan phases/waves/hooks (engine/prepare) →
 *   record Running → sync.started → dry run of every task → namespace → per phase and wave: prune,
 *   apply, hooks, wait (engine/execute) → record completed (+ history unless a dry run) →
 *   sync.succeeded|failed → ack → release the lease.
 *
 * Nothing is written before the reads succeed: a transient failure there is a nak, not a failed sync.
 */
import {
  ErrorCode,
  EventType,
  FerryError,
  OperationPhase,
  parseApplication,
  toErrorInfo,
  type Application,
  type DiffComputed,
  type ErrorInfo,
  type ResourceResult,
  type RevisionFailed,
  type SyncEvent,
  type SyncRequested,
} from '@ferry/contracts';
import { isTransient, KubeError, type ClusterRegistry } from '@ferry/kube';
import {
  acquireLease,
  HandlerResult,
  SpanAttribute,
  withSpan,
  type ArtifactStore,
  type Context,
  type EventBus,
  type JsonKv,
  type Lease,
  type LeaseHandle,
  type Logger,
  type Tracer,
} from '@ferry/runtime';
import { parseArtifact } from './domain/artifact.js';
import { completeOperationWith, startOperationWith } from './domain/dry-run.js';
import {
  diffAction,
  emptyRecord,
  isRequestServed,
  operationFor,
  syncEventOf,
  withPendingSync,
  type DiffAction,
  type StoredOperationRecord,
  type SyncOperation,
  type SyncOutcome,
} from './domain/operation.js';
import { revisionFailureAction, withRevisionFailure, type RevisionFailureAction } from './domain/revision-failure.js';
import {
  RetryOperationKind,
  abortableSleep,
  isRetriedFailure,
  retryConfigFor,
  runWithRetry,
  withRetryCount,
  withRetrying,
} from './domain/retry.js';
import { syncIdOf } from './domain/sync-id.js';
import { trackedKinds } from './domain/tracked-kinds.js';
import { executeSync } from './engine/execute.js';
import { prepareSync, type PreparedSync } from './engine/prepare.js';
import { SyncAbortedError, SyncError } from './errors.js';
import { ApplyResult, SyncResult, type ApplierMetrics } from './metrics.js';
import { rollbackFollowsFailure, rollbackWorthyFailure } from './rollback/domain.js';
import { updateOperationRecord } from './rollback/record.js';

/** Where the syncer finds an app's manifest (the service keeps a watch of `ferry-apps`). */
export interface AppSource {
  /** The validated Application, or undefined when absent or invalid. */
  get(name: string): Promise<Application | undefined>;
}

export interface SyncerOptions {
  logger: Logger;
  tracer: Tracer;
  bus: EventBus;
  metrics: ApplierMetrics;
  operationKv: JsonKv<StoredOperationRecord>;
  leasesKv: JsonKv<Lease>;
  artifacts: ArtifactStore;
  clusters: ClusterRegistry;
  apps: AppSource;
  /** This replica's lease holder name (unique per process and per start()). */
  holder: string;
  selfHealIntervalMs: number;
  syncLeaseTtlMs: number;
  fieldManager: string;
  /** nak delay after a transient failure or a held lease. */
  retryMs: number;
  /** Longest wait at the end of one sync wave (hooks finishing, resources Healthy), ms (FERRY_SYNC_WAVE_TIMEOUT_MS). Default 300000. */
  waveTimeoutMs?: number;
  /** Pause between two health/hook reads while a wave waits, ms. Default 100. */
  healthPollMs?: number;
  /** Clock (tests). Default `() => new Date()`. */
  now?: () => Date;
}

/** Default of {@link SyncerOptions.waveTimeoutMs}: 5 minutes. */
export const DEFAULT_WAVE_TIMEOUT_MS = 300_000;

export interface Syncer {
  /** Handles one diff.computed (`eventId` = its CloudEvent id); resolves to what the consumer does with the message. */
  onDiff(diff: DiffComputed, eventId: string, traceContext: Context): Promise<HandlerResult>;
  /** Handles one sync.requested: records pendingSync and asks the poller for a fresh revision with the intent. */
  onSyncRequested(request: SyncRequested): Promise<HandlerResult>;
  /**
   * Handles one revision.failed: when it carries a sync intent not served yet, the operation ends
   * `Error` (domain/revision-failure.ts), pendingSync is cleared and sync.failed is published.
   */
  onRevisionFailed(failure: RevisionFailed, traceContext?: Context): Promise<HandlerResult>;
  /** Syncs running now. */
  running(): number;
  /** Stops running syncs at their next step; their records stay Running and their events are redelivered (resumed). */
  abort(why: string): void;
  /** Releases every lease still held (close). */
  releaseLeases(): Promise<void>;
}

/**
 * Redelivery delay of an interrupted sync's event. Not 0: an immediate redelivery can land on a pull
 * request this (closing) replica still has open on the server, and is then lost until ack wait.
 */
const INTERRUPTED_REDELIVERY_MS = 1_000;
const MAX_RECORD_ATTEMPTS = 20;

function completionType(phase: string): typeof EventType.SyncSucceeded | typeof EventType.SyncFailed {
  return phase === OperationPhase.Succeeded ? EventType.SyncSucceeded : EventType.SyncFailed;
}

function completionMsgId(event: SyncEvent): string {
  return `sync.${event.phase === OperationPhase.Succeeded ? 'succeeded' : 'failed'}:${event.app}:${event.syncId}`;
}

function retryKindOf(diff: DiffComputed): RetryOperationKind {
  if (!diff.sync) return RetryOperationKind.Automated;
  return diff.sync.kind === 'rollback' || diff.sync.kind === 'auto-rollback' ? RetryOperationKind.Rollback : RetryOperationKind.Manual;
}

/** The sync event of an operation, with what the request adds (dry run, kind). */
function withIntent(event: SyncEvent, intent: DiffComputed['sync']): SyncEvent {
  return { ...event, ...(intent?.dryRun ? { dryRun: true } : {}), ...(intent?.kind ? { kind: intent.kind } : {}) };
}

/** Transient: the same step may succeed later (cluster or NATS unavailable). */
function isRetryable(error: unknown): boolean {
  if (error instanceof KubeError) return isTransient(error);
  return error instanceof FerryError && error.code === ErrorCode.MessagingUnavailable;
}

export function createSyncer(options: SyncerOptions): Syncer {
  const { logger, tracer, bus, metrics, operationKv, leasesKv, artifacts, clusters, apps } = options;
  const now = options.now ?? (() => new Date());
  const active = new Map<string, { controller: AbortController; lease: LeaseHandle }>();
  /** Apps this replica is syncing: acquireLease lets its own holder take the lease again, so workers of one replica check here first. */
  const busy = new Set<string>();

  /** Read-modify-write of an app's operation record by compare-and-set (the sync.requested handler writes without the lease). */
  async function updateRecord(
    app: string,
    change: (current: StoredOperationRecord | undefined) => StoredOperationRecord,
  ): Promise<StoredOperationRecord> {
    for (let attempt = 0; attempt < MAX_RECORD_ATTEMPTS; attempt++) {
      const current = await operationKv.get(app);
      const next = change(current?.value);
      const revision = current ? await operationKv.update(app, next, current.revision) : await operationKv.create(app, next);
      if (revision !== undefined) return next;
    }
    throw new FerryError(ErrorCode.MessagingUnavailable, `failed to write the operation record of ${app}: it kept changing`);
  }

  async function publishCompletion(event: SyncEvent): Promise<void> {
    await bus.publish(completionType(event.phase), event.app, event, { msgId: completionMsgId(event) });
  }

  async function prepare(
    app: Application,
    diff: DiffComputed,
    op: SyncOperation,
    record: StoredOperationRecord | undefined,
  ): Promise<PreparedSync> {
    const name = app.metadata.name;
    const client = clusters.forDestination(app.spec.destination);
    const raw = await artifacts.getJson<unknown>(diff.artifactKey);
    if (raw === undefined) {
      throw new SyncError(ErrorCode.SyncArtifactMissing, `artifact ${diff.artifactKey} is not in the artifact store`, {
        app: name,
        revision: diff.revision,
      });
    }
    const parsed = parseArtifact(raw);
    if (!parsed.ok)
      throw new SyncError(ErrorCode.SyncArtifactInvalid, `artifact ${diff.artifactKey}: ${parsed.problem}`, {
        app: name,
        revision: diff.revision,
      });
    return prepareSync({
      client,
      app,
      objects: parsed.objects,
      extraKinds: trackedKinds(parsed.objects, diff, record),
      comparisons: diff.resources,
      prune: op.prune,
      ...(diff.sync ? { intent: diff.sync } : {}),
    });
  }

  function failure(code: ErrorCode, message: string, resources: ResourceResult[]): SyncOutcome {
    return { phase: OperationPhase.Failed, message, resources, finishedAt: now().toISOString(), error: { code, message } };
  }

  async function execute(app: Application, prepared: PreparedSync, signal: AbortSignal): Promise<SyncOutcome> {
    const name = app.metadata.name;
    const outcome = await executeSync(prepared, {
      fieldManager: options.fieldManager,
      waveTimeoutMs: options.waveTimeoutMs ?? DEFAULT_WAVE_TIMEOUT_MS,
      ...(options.healthPollMs === undefined ? {} : { pollMs: options.healthPollMs }),
      signal,
      checkAbort: () => {
        if (signal.aborted) throw new SyncAbortedError(name, String(signal.reason ?? 'aborted'));
      },
      now,
      tracer,
      onWrite: (result) =>
        metrics.applies.inc({
          result: result === 'applied' ? ApplyResult.Applied : result === 'pruned' ? ApplyResult.Pruned : ApplyResult.Failed,
        }),
    });
    return { ...outcome, finishedAt: now().toISOString() };
  }

  async function runSync(
    app: Application,
    diff: DiffComputed,
    syncId: string,
    record: StoredOperationRecord | undefined,
    signal: AbortSignal,
    log: Logger,
  ): Promise<HandlerResult> {
    const name = app.metadata.name;
    const op = operationFor(app, diff, syncId);
    let prepared: PreparedSync | undefined;
    let prepareError: ErrorInfo | undefined;
    try {
      prepared = await prepare(app, diff, op, record);
    } catch (error) {
      if (isRetryable(error)) {
        log.warn({ err: error, code: (error as FerryError).code }, 'sync postponed: transient failure while reading state');
        return HandlerResult.nak(options.retryMs);
      }
      if (!(error instanceof FerryError)) throw error;
      prepareError = toErrorInfo(error, ErrorCode.KubeRequest);
    }
    if (signal.aborted) return HandlerResult.nak(INTERRUPTED_REDELIVERY_MS);

    const started = await updateRecord(name, (current) => startOperationWith(current, op, diff.sync, now()));
    const startedState = started.operationState;
    if (startedState === undefined) throw new Error('operation state missing after start');
    await bus.publish(EventType.SyncStarted, name, withIntent(syncEventOf(name, startedState), diff.sync), {
      msgId: `sync.started:${name}:${syncId}`,
    });
    log.info({ trigger: op.trigger, prune: op.prune, dryRun: diff.sync?.dryRun === true, kind: diff.sync?.kind }, 'sync started');

    // syncPolicy.retry (Argo CD): failed attempts are retried with backoff inside the same operation;
    // each retry reads the cluster again. A dry run and failures no retry can fix are not retried.
    const first = prepared;
    const { result: outcome, retryCount } = await runWithRetry<SyncOutcome>({
      config: diff.sync?.dryRun ? { ...retryConfigFor(app, RetryOperationKind.Manual), limit: 0 } : retryConfigFor(app, retryKindOf(diff)),
      attempt: async (attempt) => {
        if (attempt === 0) {
          return first
            ? execute(app, first, signal)
            : failure(prepareError?.code ?? ErrorCode.KubeRequest, prepareError?.message ?? 'sync failed', []);
        }
        let again: PreparedSync;
        try {
          again = await prepare(app, diff, op, (await operationKv.get(name))?.value);
        } catch (error) {
          const info = toErrorInfo(error, ErrorCode.KubeRequest);
          return failure(info.code, info.message, []);
        }
        return execute(app, again, signal);
      },
      failed: async (result) => {
        if (!isRetriedFailure(result, false)) return false;
        // An automatic rollback about to follow is the remedy: no retry (domain/retry.ts isRetriedFailure).
        const failure = { ...result, revision: op.revision, syncId, kind: diff.sync?.kind };
        const follows =
          rollbackWorthyFailure(failure) !== undefined && rollbackFollowsFailure(app, (await operationKv.get(name))?.value, failure, now());
        return isRetriedFailure(result, follows);
      },
      onRetry: async (retry, delayMs, last) => {
        log.info({ retry, delayMs, code: last.error?.code }, `sync failed; retrying: ${last.message}`);
        await updateRecord(name, (current) => withRetrying(current ?? emptyRecord(name), syncId, retry, delayMs, last.message, now()));
      },
      sleep: async (ms) => {
        await abortableSleep(ms, signal).catch(() => undefined);
        if (signal.aborted) throw new SyncAbortedError(name, String(signal.reason ?? 'aborted'));
      },
      signal,
    });
    if (signal.aborted) throw new SyncAbortedError(name, String(signal.reason ?? 'aborted'));

    const done = await updateRecord(name, (current) =>
      withRetryCount(completeOperationWith(current, op, diff.sync, outcome, app, now()), syncId, retryCount),
    );
    const state = done.operationState;
    if (state === undefined) throw new Error('operation state missing after completion');
    const event = withIntent(syncEventOf(name, state, outcome.error), diff.sync);
    await publishCompletion(event);
    metrics.syncs.inc({
      trigger: op.trigger,
      result: outcome.phase === OperationPhase.Succeeded ? SyncResult.Succeeded : SyncResult.Failed,
    });
    log.info(
      { phase: outcome.phase, resources: outcome.resources.length, ...(outcome.error ? { code: outcome.error.code } : {}) },
      outcome.message,
    );
    return HandlerResult.ack();
  }

  async function finish(action: Exclude<DiffAction, { kind: 'sync' }>, diff: DiffComputed, log: Logger): Promise<HandlerResult> {
    switch (action.kind) {
      case 'republish':
        await publishCompletion(withIntent(action.event, diff.sync));
        log.info({ syncId: action.event.syncId, phase: action.event.phase }, 'sync already completed; completion re-published');
        return HandlerResult.ack();
      case 'later':
        log.debug({ reason: action.reason, delayMs: action.delayMs }, 'no sync yet');
        return HandlerResult.nak(action.delayMs);
      case 'ignore':
        log.debug({ reason: action.reason }, 'no sync');
        return HandlerResult.ack();
    }
  }

  /** Ends the operation a revision failure names, under the app's lease (no sync of the app runs meanwhile). */
  async function endFailedRevision(app: Application, failure: RevisionFailed, log: Logger): Promise<HandlerResult> {
    const name = app.metadata.name;
    let action: RevisionFailureAction = { kind: 'ignore', reason: 'not decided' };
    const record = await updateOperationRecord(operationKv, name, (current) => {
      // Decided again on every CAS attempt: the sync.requested handler writes this record without the lease.
      action = revisionFailureAction(failure, current);
      return action.kind === 'fail'
        ? withRevisionFailure(current, failure, action.intent, action.syncId, app.spec.source.targetRevision ?? 'HEAD', now())
        : current;
    });
    const decided = action as RevisionFailureAction;
    switch (decided.kind) {
      case 'ignore':
        log.debug({ reason: decided.reason }, 'revision failure ends no operation');
        return HandlerResult.ack();
      case 'later':
        log.debug({ reason: decided.reason }, 'revision failure: waiting for the running sync');
        return HandlerResult.nak(options.retryMs);
      case 'republish':
        await publishCompletion(withIntent(decided.event, failure.sync));
        log.info({ syncId: decided.event.syncId }, 'operation already ended by this revision failure; sync.failed re-published');
        return HandlerResult.ack();
      case 'fail': {
        const state = record.operationState;
        if (state?.syncId !== decided.syncId) throw new Error('operation state missing after a revision failure');
        const event: SyncEvent = { ...withIntent(syncEventOf(name, state), decided.intent), error: { ...failure.error } };
        await publishCompletion(event);
        metrics.syncs.inc({ trigger: state.trigger, result: SyncResult.Failed });
        log.warn({ syncId: decided.syncId, kind: decided.intent.kind, code: failure.error.code }, state.message);
        return HandlerResult.ack();
      }
    }
  }

  return {
    async onDiff(diff, eventId, traceContext) {
      const log = logger.child({ app: diff.app, revision: diff.revision, diffId: eventId });
      const app = await apps.get(diff.app);
      if (!app) {
        log.info('diff for an app that is not in ferry-apps (deleted or invalid); ignored');
        return HandlerResult.ack();
      }
      const syncId = syncIdOf({
        app: diff.app,
        artifactKey: diff.artifactKey,
        trigger: diff.sync ? 'manual' : 'automated',
        diffEventId: eventId,
      });
      const decide = (record: StoredOperationRecord | undefined): DiffAction =>
        diffAction(app, diff, record, syncId, { selfHealIntervalMs: options.selfHealIntervalMs, now: now() });
      const first = decide((await operationKv.get(diff.app))?.value);
      if (first.kind !== 'sync') return finish(first, diff, log);

      if (busy.has(diff.app)) {
        metrics.leaseConflicts.inc();
        log.debug('this replica is already syncing the app; retrying later');
        return HandlerResult.nak(options.retryMs);
      }
      busy.add(diff.app);
      const controller = new AbortController();
      let lease: LeaseHandle | undefined;
      try {
        lease = await acquireLease(leasesKv, diff.app, options.holder, options.syncLeaseTtlMs, {
          onLost: () => controller.abort('the app lease was lost'),
        });
      } finally {
        if (!lease) busy.delete(diff.app);
      }
      if (!lease) {
        metrics.leaseConflicts.inc();
        log.debug('another applier holds the app lease; retrying later');
        return HandlerResult.nak(options.retryMs);
      }
      active.set(syncId, { controller, lease });
      const startedAt = process.hrtime.bigint();
      const syncLog = log.child({ syncId });
      try {
        // Under the lease, decide again from a fresh record: another replica may have run it meanwhile.
        const record = (await operationKv.get(diff.app))?.value;
        const action = decide(record);
        if (action.kind !== 'sync') return await finish(action, diff, syncLog);
        syncLog.debug({ decision: action.decision, reason: action.reason, resume: action.resume }, 'syncing');
        const result = await withSpan(
          tracer,
          'applier.sync',
          {
            [SpanAttribute.App]: diff.app,
            [SpanAttribute.Revision]: diff.revision,
            'ferry.sync_id': syncId,
            'ferry.trigger': diff.sync ? 'manual' : 'automated',
          },
          () => runSync(app, diff, syncId, record, controller.signal, syncLog),
          traceContext,
        );
        metrics.syncDuration.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
        return result;
      } catch (error) {
        if (error instanceof SyncAbortedError) {
          syncLog.warn({ reason: error.message }, 'sync interrupted; it resumes when the event is redelivered');
          return HandlerResult.nak(INTERRUPTED_REDELIVERY_MS);
        }
        throw error;
      } finally {
        active.delete(syncId);
        busy.delete(diff.app);
        await lease
          .release()
          .catch((error: unknown) => syncLog.warn({ err: error }, 'failed to release the app lease; it expires by itself'));
      }
    },

    async onSyncRequested(request) {
      const log = logger.child({ app: request.app, requestId: request.requestId });
      const app = await apps.get(request.app);
      if (!app) {
        log.warn('sync requested for an app that is not in ferry-apps; ignored');
        return HandlerResult.ack();
      }
      // The whole intent travels: a chosen revision, dry run, subset, options, rollback kind.
      const { app: _app, ...intent } = request;
      const record = (await operationKv.get(request.app))?.value;
      if (isRequestServed(record, request.requestId)) {
        log.info('sync request already served; ignored');
        return HandlerResult.ack();
      }
      if (record?.pendingSync?.requestId !== request.requestId) {
        await updateRecord(request.app, (current) =>
          isRequestServed(current, request.requestId)
            ? (current as StoredOperationRecord)
            : withPendingSync(current, request.app, intent, now()),
        );
      }
      await bus.publish(
        EventType.RefreshRequested,
        request.app,
        { app: request.app, reason: 'sync', requestId: request.requestId, sync: intent },
        { msgId: `refresh.requested:${request.app}:${request.requestId}` },
      );
      log.info(
        { prune: request.prune, initiatedBy: request.initiatedBy, revision: request.revision, dryRun: request.dryRun, kind: request.kind },
        'sync requested; refresh requested with the sync intent',
      );
      return HandlerResult.ack();
    },

    async onRevisionFailed(failure, traceContext) {
      const log = logger.child({ app: failure.app, revision: failure.revision, requestId: failure.sync?.requestId });
      const first = revisionFailureAction(failure, (await operationKv.get(failure.app))?.value);
      if (first.kind === 'ignore') {
        log.debug({ reason: first.reason }, 'revision failure ends no operation');
        return HandlerResult.ack();
      }
      if (first.kind === 'later') return HandlerResult.nak(options.retryMs);
      const app = await apps.get(failure.app);
      if (!app) {
        log.info('revision failure for an app that is not in ferry-apps (deleted or invalid); ignored');
        return HandlerResult.ack();
      }
      if (busy.has(failure.app)) return HandlerResult.nak(options.retryMs);
      busy.add(failure.app);
      let lease: LeaseHandle | undefined;
      try {
        lease = await acquireLease(leasesKv, failure.app, options.holder, options.syncLeaseTtlMs);
        if (!lease) {
          metrics.leaseConflicts.inc();
          return HandlerResult.nak(options.retryMs);
        }
        const held = lease;
        return await withSpan(
          tracer,
          'applier.revision_failed',
          { [SpanAttribute.App]: failure.app, [SpanAttribute.Revision]: failure.revision ?? '' },
          () => endFailedRevision(app, failure, log),
          traceContext,
        ).finally(() =>
          held.release().catch((error: unknown) => log.warn({ err: error }, 'failed to release the app lease; it expires by itself')),
        );
      } finally {
        busy.delete(failure.app);
      }
    },

    running: () => active.size,

    abort(why) {
      for (const { controller } of active.values()) controller.abort(why);
    },

    async releaseLeases() {
      await Promise.allSettled([...active.values()].map(({ lease }) => lease.release()));
    },
  };
}

/** Validates an `ferry-apps` value; undefined (and a warning) when it is not a valid Application. */
export function toApplication(value: unknown, key: string, logger: Logger): Application | undefined {
  if (value === undefined) return undefined;
  try {
    return parseApplication(value);
  } catch (error) {
    logger.warn({ app: key, err: error, code: (error as FerryError).code }, 'invalid Application in ferry-apps; it is not synced');
    return undefined;
  }
}
