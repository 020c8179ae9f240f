/**
 * Runs sync operations. Every step is idempotent so a diff redelivered after a crash either resumes
 * the operation (same syncId, record Running) or re-publishes its completion (record completed):
 *
 *   lease → read (cluster, artifact, discovery, live tracked objects) → plan → record Running →
 *   sync.started → namespace → server-side apply (kind order) → prune → record completed + history →
 *   sync.succeeded|failed → ack → release the lease.
 *
 * Nothing is written before the reads succeed: a transient failure there is a nak, not a failed sync.
 */
import {
  ErrorCode,
  EventType,
  FerryError,
  OperationPhase,
  ResourceResultStatus,
  parseApplication,
  toErrorInfo,
  type Application,
  type DiffComputed,
  type ErrorInfo,
  type ResourceResult,
  type SyncEvent,
  type SyncRequested,
} from '@ferry/contracts';
import {
  discoverScopes,
  isTrackedBy,
  isTransient,
  KubeError,
  prepareDesired,
  resourceKey,
  type ClusterClient,
  type ClusterRegistry,
  type KubeObject,
} from '@ferry/kube';
import {
  acquireLease,
  HandlerResult,
  resourceAttribute,
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
import {
  completeOperation,
  diffAction,
  isRequestServed,
  operationFor,
  startOperation,
  syncEventOf,
  withPendingSync,
  type DiffAction,
  type StoredOperationRecord,
  type SyncOperation,
  type SyncOutcome,
} from './domain/operation.js';
import { planSync, resourceResult, type SyncPlan } from './domain/plan.js';
import { syncIdOf } from './domain/sync-id.js';
import { trackedKinds } from './domain/tracked-kinds.js';
import { SyncAbortedError, SyncError } from './errors.js';
import { ApplyResult, SyncResult, type ApplierMetrics } from './metrics.js';

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
  /** Clock (tests). Default `() => new Date()`. */
  now?: () => Date;
}

export interface Syncer {
  /** Handles one diff.computed (`eventId` = its CloudEvent id); resolves to what the consumer does with the message. */
  onDiff(diff: DiffComputed, eventId: string, traceContext: Context): Promise<HandlerResult>;
  /** Handles one sync.requested: records pendingSync and asks the poller for a fresh revision with the intent. */
  onSyncRequested(request: SyncRequested): Promise<HandlerResult>;
  /** Syncs running now. */
  running(): number;
  /** Stops running syncs at their next step; their records stay Running and their events are redelivered (resumed). */
  abort(why: string): void;
  /** Releases every lease still held (close). */
  releaseLeases(): Promise<void>;
}

interface Prepared {
  client: ClusterClient;
  plan: SyncPlan;
  /** Keys of live tracked objects before the sync (`created` vs `configured`). */
  liveKeys: ReadonlySet<string>;
}

const SUCCESS_MESSAGE = 'successfully synced (all tasks run)';
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

function describe(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name ?? ''}`;
}

function serverMessage(error: unknown): string {
  if (error instanceof KubeError) return error.serverMessage || error.message;
  return error instanceof Error ? error.message : String(error);
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
  ): Promise<Prepared> {
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
    const isNamespaced = await discoverScopes(client, parsed.objects);
    const desired = prepareDesired(name, parsed.objects, { defaultNamespace: app.spec.destination.namespace || 'default', isNamespaced });
    const live: KubeObject[] = [];
    for (const kind of trackedKinds(desired, diff, record)) {
      try {
        live.push(...(await client.list(kind.apiVersion, kind.kind)).filter((o) => isTrackedBy(name, o)));
      } catch (error) {
        if (error instanceof KubeError && error.code === ErrorCode.KubeKindUnknown) continue; // a CRD not created yet: nothing live
        throw error;
      }
    }
    const plan = planSync({ app, desired, tracked: live, prune: op.prune, keyOf: resourceKey });
    return { client, plan, liveKeys: new Set(live.map((o) => resourceKey(o))) };
  }

  function failure(code: ErrorCode, message: string, resources: ResourceResult[]): SyncOutcome {
    return { phase: OperationPhase.Failed, message, resources, finishedAt: now().toISOString(), error: { code, message } };
  }

  async function execute(app: Application, prepared: Prepared, signal: AbortSignal): Promise<SyncOutcome> {
    const name = app.metadata.name;
    const { client, plan, liveKeys } = prepared;
    const checkAbort = (): void => {
      if (signal.aborted) throw new SyncAbortedError(name, String(signal.reason ?? 'aborted'));
    };
    if (plan.refusal) return failure(ErrorCode.SyncPruneRefused, plan.refusal, []);
    if (plan.createNamespace) {
      checkAbort();
      try {
        await client.ensureNamespace(plan.createNamespace);
      } catch (error) {
        const info = toErrorInfo(error, ErrorCode.KubeRequest);
        return failure(info.code, `failed to create namespace ${plan.createNamespace}: ${serverMessage(error)}`, []);
      }
    }
    const results: ResourceResult[] = [];
    let firstFailure: string | undefined;
    // One wave today: every object is attempted (as Argo CD runs every task of a wave); a failure stops the sync before pruning.
    for (const object of plan.applies) {
      checkAbort();
      const attributes = {
        [SpanAttribute.App]: name,
        [SpanAttribute.Resource]: resourceAttribute({
          kind: object.kind,
          namespace: object.metadata.namespace ?? '',
          name: object.metadata.name ?? '',
        }),
      };
      try {
        await withSpan(tracer, 'applier.apply', attributes, () =>
          client.apply(object, { fieldManager: options.fieldManager, force: true }),
        );
        const verb = liveKeys.has(resourceKey(object)) ? 'configured' : 'created';
        results.push(
          resourceResult(object, ResourceResultStatus.Synced, `${object.kind.toLowerCase()}/${object.metadata.name ?? ''} ${verb}`),
        );
        metrics.applies.inc({ result: ApplyResult.Applied });
      } catch (error) {
        const message = serverMessage(error);
        results.push(resourceResult(object, ResourceResultStatus.SyncFailed, message));
        metrics.applies.inc({ result: ApplyResult.Failed });
        firstFailure ??= `${describe(object)}: ${message}`;
      }
    }
    if (firstFailure === undefined) {
      for (const object of plan.prunes) {
        checkAbort();
        const attributes = {
          [SpanAttribute.App]: name,
          [SpanAttribute.Resource]: resourceAttribute({
            kind: object.kind,
            namespace: object.metadata.namespace ?? '',
            name: object.metadata.name ?? '',
          }),
        };
        try {
          await withSpan(tracer, 'applier.prune', attributes, () =>
            client.delete(
              {
                apiVersion: object.apiVersion,
                kind: object.kind,
                ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
                name: object.metadata.name ?? '',
              },
              { propagationPolicy: 'Foreground' },
            ),
          );
          results.push(resourceResult(object, ResourceResultStatus.Pruned, 'pruned'));
          metrics.applies.inc({ result: ApplyResult.Pruned });
        } catch (error) {
          const message = serverMessage(error);
          results.push(resourceResult(object, ResourceResultStatus.SyncFailed, `failed to prune: ${message}`));
          metrics.applies.inc({ result: ApplyResult.Failed });
          firstFailure ??= `prune ${describe(object)}: ${message}`;
        }
      }
    }
    for (const object of plan.pruneSkipped)
      results.push(resourceResult(object, ResourceResultStatus.PruneSkipped, 'ignored (requires pruning)'));
    if (firstFailure !== undefined) {
      const notPruned =
        plan.prunes.length > 0 && !results.some((r) => r.status === ResourceResultStatus.Pruned)
          ? ` (${plan.prunes.length} prune(s) not run)`
          : '';
      return failure(ErrorCode.SyncResourceFailed, `one or more objects failed to apply, reason: ${firstFailure}${notPruned}`, results);
    }
    return { phase: OperationPhase.Succeeded, message: SUCCESS_MESSAGE, resources: results, finishedAt: now().toISOString() };
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
    let prepared: Prepared | undefined;
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

    const started = await updateRecord(name, (current) => startOperation(current, op, now()));
    const startedState = started.operationState;
    if (startedState === undefined) throw new Error('operation state missing after start');
    await bus.publish(EventType.SyncStarted, name, syncEventOf(name, startedState), { msgId: `sync.started:${name}:${syncId}` });
    log.info({ trigger: op.trigger, prune: op.prune }, 'sync started');

    const outcome = prepared
      ? await execute(app, prepared, signal)
      : failure(prepareError?.code ?? ErrorCode.KubeRequest, prepareError?.message ?? 'sync failed', []);
    if (signal.aborted) throw new SyncAbortedError(name, String(signal.reason ?? 'aborted'));

    const done = await updateRecord(name, (current) => completeOperation(current, op, outcome, app, now()));
    const state = done.operationState;
    if (state === undefined) throw new Error('operation state missing after completion');
    const event = syncEventOf(name, state, outcome.error);
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

  async function finish(action: Exclude<DiffAction, { kind: 'sync' }>, log: Logger): Promise<HandlerResult> {
    switch (action.kind) {
      case 'republish':
        await publishCompletion(action.event);
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
      if (first.kind !== 'sync') return finish(first, log);

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
        if (action.kind !== 'sync') return await finish(action, syncLog);
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
      const intent = { requestId: request.requestId, prune: request.prune, initiatedBy: request.initiatedBy };
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
      log.info({ prune: request.prune, initiatedBy: request.initiatedBy }, 'sync requested; refresh requested with the sync intent');
      return HandlerResult.ack();
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
