/**
 * The applier's rollback controller: records healthy revisions, starts automatic rollbacks, records
 * a user's rollback request, publishes rollback.completed when a rollback sync ends, and lifts the
 * automated-sync pause when a new revision arrives. Every step is idempotent: the record is written
 * before anything is published, and publishes carry deterministic message ids.
 */
import {
  EventType,
  HealthStatus,
  type Application,
  type DiffComputed,
  type HealthChanged,
  type SyncEvent,
  type SyncRequested,
} from '@ferry/contracts';
import { HandlerResult, type EventBus, type JsonKv, type Logger } from '@ferry/runtime';
import { pauseOf } from '../domain/decide.js';
import type { StoredOperationRecord } from '../domain/operation.js';
import {
  decideAutoRollback,
  rollbackWorthyFailure,
  rollbackCompletedMsgId,
  rollbackCompletion,
  withAutoRollback,
  withHealthyRevision,
  withManualRollback,
  withRollbackDone,
  type RollbackCause,
} from './domain.js';
import { updateOperationRecord } from './record.js';

export interface RollbackControllerOptions {
  logger: Logger;
  bus: EventBus;
  operationKv: JsonKv<StoredOperationRecord>;
  apps: { get(name: string): Promise<Application | undefined> };
  now?: () => Date;
}

export interface RollbackController {
  /** health.changed: Healthy marks the revision healthy; Degraded may start an automatic rollback. */
  onHealthChanged(event: HealthChanged): Promise<HandlerResult>;
  /** sync.succeeded/failed: publishes rollback.completed for a rollback sync; a failed PostSync hook or Degraded wave may start an automatic rollback. */
  onSyncCompleted(event: SyncEvent): Promise<HandlerResult>;
  /** sync.requested: a user's rollback (kind 'rollback') is recorded, so its completion can name where it came from. */
  onSyncRequested(request: SyncRequested): Promise<HandlerResult>;
  /** Before the syncer sees a diff: lifts `automationPaused` when the diff brings a new revision of the target. */
  beforeDiff(diff: DiffComputed): Promise<void>;
}

export function createRollbackController(options: RollbackControllerOptions): RollbackController {
  const { logger, bus, operationKv, apps } = options;
  const now = options.now ?? (() => new Date());

  async function publishRequest(request: SyncRequested): Promise<void> {
    await bus.publish(EventType.SyncRequested, request.app, request, { msgId: `sync.requested:${request.app}:${request.requestId}` });
  }

  async function consider(app: Application, cause: RollbackCause, log: Logger): Promise<HandlerResult> {
    const name = app.metadata.name;
    const record = (await operationKv.get(name))?.value;
    const decision = decideAutoRollback(app, record, cause, now());
    if (decision.kind === 'skip') {
      log.debug({ reason: decision.reason }, 'no automatic rollback');
      return HandlerResult.ack();
    }
    if (decision.kind === 'republish') {
      await publishRequest(decision.request);
      return HandlerResult.ack();
    }
    let written = false;
    await updateOperationRecord(operationKv, name, (current) => {
      // Decide again on the fresh record: another event (or replica) may have decided meanwhile.
      const again = decideAutoRollback(app, current, cause, now());
      if (again.kind !== 'rollback') return current;
      written = true;
      return withAutoRollback(current, { ...again, rollback: { ...again.rollback, requestedAt: decision.rollback.requestedAt } });
    });
    if (!written) return consider(app, cause, log);
    await publishRequest(decision.request);
    log.warn(
      {
        fromRevision: decision.rollback.fromRevision,
        toRevision: decision.rollback.toRevision,
        historyId: decision.rollback.historyId,
        reason: decision.rollback.reason,
      },
      'automatic rollback requested; automated sync paused for the failed revision',
    );
    return HandlerResult.ack();
  }

  return {
    async onHealthChanged(event) {
      const log = logger.child({ app: event.app, revision: event.revision, health: event.status });
      if (event.revision === undefined) return HandlerResult.ack();
      const revision = event.revision;
      if (event.status === HealthStatus.Healthy) {
        const current = (await operationKv.get(event.app))?.value;
        if (!current) return HandlerResult.ack(); // no sync yet (or the app was deleted): nothing to remember
        await updateOperationRecord(operationKv, event.app, (record) => withHealthyRevision(record, revision));
        log.debug('revision recorded as healthy');
        return HandlerResult.ack();
      }
      if (event.status !== HealthStatus.Degraded) return HandlerResult.ack();
      const app = await apps.get(event.app);
      if (!app) return HandlerResult.ack();
      return consider(app, { kind: 'degraded', revision, ...(event.message === undefined ? {} : { message: event.message }) }, log);
    },

    async onSyncCompleted(event) {
      const log = logger.child({ app: event.app, revision: event.revision, syncId: event.syncId });
      const record = (await operationKv.get(event.app))?.value;
      const completion = rollbackCompletion(record, event, now());
      if (completion && record?.rollback) {
        const { requestId } = record.rollback;
        await bus.publish(EventType.RollbackCompleted, event.app, completion, { msgId: rollbackCompletedMsgId(event.app, event.syncId) });
        await updateOperationRecord(operationKv, event.app, (current) => withRollbackDone(current, requestId, event.syncId));
        log.info(
          {
            fromRevision: completion.fromRevision,
            toRevision: completion.toRevision,
            automatic: completion.automatic,
            result: completion.result,
          },
          'rollback completed',
        );
        return HandlerResult.ack();
      }
      if (event.kind === 'rollback' || event.kind === 'auto-rollback' || event.dryRun === true) return HandlerResult.ack();
      const failure = rollbackWorthyFailure(event);
      if (failure === undefined) return HandlerResult.ack();
      const app = await apps.get(event.app);
      if (!app) return HandlerResult.ack();
      return consider(
        app,
        { kind: failure, revision: event.revision, syncId: event.syncId, message: event.error?.message ?? event.message },
        log,
      );
    },

    async onSyncRequested(request) {
      if (request.kind !== 'rollback' || request.revision === undefined) return HandlerResult.ack();
      const current = (await operationKv.get(request.app))?.value;
      if (current?.servedRequests?.includes(request.requestId)) return HandlerResult.ack();
      await updateOperationRecord(operationKv, request.app, (record) =>
        record.servedRequests?.includes(request.requestId) ? record : withManualRollback(record, request, now()),
      );
      logger.info({ app: request.app, toRevision: request.revision, historyId: request.historyId }, 'rollback requested');
      return HandlerResult.ack();
    },

    async beforeDiff(diff) {
      const record = (await operationKv.get(diff.app))?.value;
      const pause = pauseOf(diff, record);
      if (pause.paused || !pause.clear) return;
      await updateOperationRecord(operationKv, diff.app, (current) => {
        const again = pauseOf(diff, current);
        if (again.paused || !again.clear) return current;
        const next = { ...current };
        delete next.automationPaused;
        return next;
      });
      logger.info(
        { app: diff.app, revision: diff.revision, pausedRevision: record?.automationPaused?.revision },
        'new revision: automated sync resumes',
      );
    },
  };
}
