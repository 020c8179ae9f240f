/**
 * The notifier's work for one consumed event: evaluate triggers against the app's state (KV, CAS),
 * deliver each fired trigger once (dedupe record per `<trigger>.<app>.<revision>`, CAS-created
 * before sending), publish notification.sent per channel, then commit the new state. The state is
 * committed only after every fired trigger's record is final, so a crash before the commit makes the
 * redelivered event fire again, and the final records turn that into no second send.
 */
import { randomUUID } from 'node:crypto';
import { EventType, isEventOf, NotificationTrigger } from '@ferry/contracts';
import type { CloudEvent, NotificationSent } from '@ferry/contracts';
import { HandlerResult, SpanAttribute, withSpan } from '@ferry/runtime';
import type { DeliveryContext, EventBus, JsonKv, Logger, Tracer } from '@ferry/runtime';
import { ChannelDeliveryError, DeliveryFailureReason } from '../channels/errors.js';
import { sendNotification } from '../channels/send.js';
import {
  claimDecision,
  dedupeKey,
  finish,
  leaseMsFor,
  newDeliveryRecord,
  takeOver,
  withChannelResult,
  type DeliveryRecord,
} from '../domain/delivery-record.js';
import { channelsFor, type ChannelConfig, type NotificationsConfig } from '../domain/notifications-config.js';
import type { Notification } from '../domain/payloads.js';
import { renderMessage, shortRevision } from '../domain/templates.js';
import {
  evaluateTriggers,
  initialNotifyState,
  syncStatusOf,
  type AppNotifyState,
  type FiredTrigger,
  type NotifyEvent,
} from '../domain/triggers.js';
import type { NotifierMetrics } from '../metrics.js';

/** KV key of an app's notify state (dedupe records start with the trigger name, `on-…`). */
export function stateKey(app: string): string {
  return `state.${app}`;
}

/** msgId of a notification.sent event: one per trigger, app, revision and channel. */
export function notificationSentMsgId(trigger: NotificationTrigger, app: string, revision: string, channel: string): string {
  return `notification.sent:${trigger}:${app}:${revision}:${channel}`;
}

export interface NotifyProcessorOptions {
  /** The `ferry-notifier` bucket: notify states and delivery records (both JSON). */
  kv: JsonKv<unknown>;
  bus: EventBus;
  notifications: NotificationsConfig;
  tracer: Tracer;
  metrics: NotifierMetrics;
  logger: Logger;
  /** Aborted when the service must stop waiting for in-flight deliveries. */
  signal: AbortSignal;
  now?: () => Date;
  random?: () => number;
}

export interface NotifyProcessor {
  /** Handles one event of the sync and health consumers. */
  handle(event: CloudEvent<unknown>, ctx: DeliveryContext): Promise<HandlerResult>;
}

/** The outcome of delivering one fired trigger. */
type DeliverOutcome =
  | { kind: 'done' }
  | { kind: 'busy'; retryInMs: number }
  | { kind: 'aborted' };

const MAX_STATE_CAS_ATTEMPTS = 20;

/** Turns a consumed CloudEvent into a domain event; undefined for events the notifier ignores. */
export function toNotifyEvent(event: CloudEvent<unknown>): NotifyEvent | undefined {
  if (isEventOf(event, EventType.SyncSucceeded) || isEventOf(event, EventType.SyncFailed)) {
    const d = event.data;
    const failed = event.type === EventType.SyncFailed;
    return {
      kind: 'sync',
      result: failed ? 'failed' : 'succeeded',
      app: d.app,
      revision: d.revision,
      syncId: d.syncId,
      message: failed && d.error ? d.error.message : d.message,
      at: d.finishedAt ?? d.startedAt,
    };
  }
  if (isEventOf(event, EventType.RollbackCompleted)) {
    const d = event.data;
    return {
      kind: 'rollback',
      app: d.app,
      fromRevision: d.fromRevision,
      toRevision: d.toRevision,
      automatic: d.automatic,
      result: d.result,
      reason: d.reason,
      at: d.completedAt,
    };
  }
  if (isEventOf(event, EventType.HealthChanged)) {
    const d = event.data;
    return {
      kind: 'health',
      app: d.app,
      status: d.status,
      ...(d.revision === undefined ? {} : { revision: d.revision }),
      ...(d.message === undefined ? {} : { message: d.message }),
      at: d.changedAt,
    };
  }
  return undefined;
}

export function createNotifyProcessor(options: NotifyProcessorOptions): NotifyProcessor {
  const { kv, bus, notifications, tracer, metrics, logger, signal } = options;
  const now = options.now ?? (() => new Date());

  function messageFor(trigger: NotificationTrigger, state: AppNotifyState): string {
    switch (trigger) {
      case NotificationTrigger.OnHealthDegraded:
        return state.health?.message ?? '';
      case NotificationTrigger.OnRollback:
        return state.lastRollback?.message ?? '';
      default:
        return state.lastSync?.message ?? '';
    }
  }

  function notificationFor(fired: FiredTrigger, state: AppNotifyState, event: CloudEvent<unknown>): Notification {
    const health = state.health?.status ?? 'Unknown';
    const syncStatus = syncStatusOf(state);
    const message = messageFor(fired.trigger, state);
    const rendered = renderMessage(notifications.templates[fired.trigger], {
      app: state.app,
      revision: fired.revision,
      shortRevision: shortRevision(fired.revision),
      health,
      syncStatus,
      message,
      trigger: fired.trigger,
    });
    return {
      trigger: fired.trigger,
      app: state.app,
      revision: fired.revision,
      ...(fired.dedupe === undefined ? {} : { dedupe: fired.dedupe }),
      title: rendered.title,
      message: rendered.body,
      health,
      syncStatus,
      event,
    };
  }

  /** Writes `record` at `revision`; returns the new revision, or undefined when someone else changed it. */
  async function write(key: string, record: DeliveryRecord, revision: number): Promise<number | undefined> {
    return kv.update(key, record, revision);
  }

  async function sendOne(channel: ChannelConfig, notification: Notification, log: Logger): Promise<{ result: 'sent' | 'failed'; attempts: number; error?: string }> {
    const started = performance.now();
    return withSpan(
      tracer,
      'notifier.send',
      {
        [SpanAttribute.App]: notification.app,
        [SpanAttribute.Revision]: notification.revision,
        'ferry.trigger': notification.trigger,
        'ferry.channel': channel.name,
        'ferry.channel_type': channel.type,
      },
      async (span) => {
        try {
          const r = await sendNotification(channel, notification, {
            signal,
            ...(options.random ? { random: options.random } : {}),
            onRetry: (info) => log.warn({ channel: channel.name, attempt: info.attempt, status: info.status, reason: info.reason, retryInMs: info.delayMs }, 'delivery attempt failed, retrying'),
          });
          span.setAttribute('ferry.attempts', r.attempts);
          metrics.sendDuration.observe({ channel: channel.name, result: 'sent' }, (performance.now() - started) / 1000);
          return { result: 'sent' as const, attempts: r.attempts };
        } catch (error) {
          if (error instanceof ChannelDeliveryError && error.reason !== DeliveryFailureReason.Aborted) {
            span.setAttribute('ferry.attempts', error.attempts);
            span.recordException(error);
            metrics.sendDuration.observe({ channel: channel.name, result: 'failed' }, (performance.now() - started) / 1000);
            log.warn({ channel: channel.name, code: error.code, reason: error.reason, status: error.status, attempts: error.attempts }, 'delivery failed, giving up');
            return { result: 'failed' as const, attempts: error.attempts, error: error.message };
          }
          throw error;
        }
      },
    );
  }

  async function deliver(fired: FiredTrigger, state: AppNotifyState, event: CloudEvent<unknown>, log: Logger): Promise<DeliverOutcome> {
    const channels = channelsFor(notifications, fired.trigger, state.app);
    if (channels.length === 0) {
      log.debug({ trigger: fired.trigger, revision: fired.revision }, 'trigger fired; no channel subscribed');
      return { kind: 'done' };
    }
    const dedupeOn = fired.dedupe ?? fired.revision;
    const key = dedupeKey(fired.trigger, state.app, dedupeOn);
    const owner = randomUUID();
    const leaseMs = leaseMsFor(channels);
    let record: DeliveryRecord;
    let revision: number;
    for (;;) {
      const found = (await kv.get(key)) as { value: DeliveryRecord; revision: number } | undefined;
      if (found === undefined) {
        const fresh = newDeliveryRecord({ trigger: fired.trigger, app: state.app, revision: fired.revision, owner }, now(), leaseMs);
        const rev = await kv.create(key, fresh);
        if (rev === undefined) continue;
        record = fresh;
        revision = rev;
        break;
      }
      const decision = claimDecision(found.value, owner, now());
      if (decision.kind === 'done') {
        metrics.deduplicated.inc({ trigger: fired.trigger });
        log.debug({ trigger: fired.trigger, revision: fired.revision, state: found.value.state }, 'already delivered');
        return { kind: 'done' };
      }
      if (decision.kind === 'busy') return { kind: 'busy', retryInMs: decision.retryInMs };
      if (decision.kind === 'takeover') {
        const taken = takeOver(found.value, owner, now(), leaseMs);
        const rev = await kv.update(key, taken, found.revision);
        if (rev === undefined) continue;
        log.warn({ trigger: fired.trigger, revision: fired.revision, previousOwner: found.value.owner }, 'taking over a delivery whose owner stopped');
        record = taken;
        revision = rev;
        break;
      }
      record = found.value;
      revision = found.revision;
      break;
    }

    const notification = notificationFor(fired, state, event);
    for (const channel of channels) {
      if (record.channels[channel.name] === undefined) {
        let outcome: { result: 'sent' | 'failed'; attempts: number; error?: string };
        try {
          outcome = await sendOne(channel, notification, log);
        } catch (error) {
          if (error instanceof ChannelDeliveryError && error.reason === DeliveryFailureReason.Aborted) {
            // Let the next attempt (after restart) take over at once instead of waiting out the lease.
            await kv.update(key, { ...record, leaseUntil: now().toISOString() }, revision).catch(() => undefined);
            return { kind: 'aborted' };
          }
          throw error;
        }
        metrics.notifications.inc({ trigger: fired.trigger, channel: channel.name, result: outcome.result });
        record = withChannelResult(record, channel.name, { ...outcome, at: now().toISOString(), published: false }, now());
        const rev = await write(key, record, revision);
        if (rev === undefined) return { kind: 'busy', retryInMs: 1_000 };
        revision = rev;
        if (outcome.result === 'sent') log.info({ trigger: fired.trigger, revision: fired.revision, channel: channel.name, attempts: outcome.attempts }, 'notification sent');
      }
      const result = record.channels[channel.name];
      if (result && !result.published) {
        const data: NotificationSent = {
          app: state.app,
          trigger: fired.trigger,
          channel: channel.name,
          revision: fired.revision,
          result: result.result,
          attempts: result.attempts,
          ...(result.error === undefined ? {} : { error: result.error }),
          sentAt: result.at,
        };
        await bus.publish(EventType.NotificationSent, state.app, data, {
          msgId: notificationSentMsgId(fired.trigger, state.app, dedupeOn, channel.name),
        });
        record = withChannelResult(record, channel.name, { ...result, published: true }, now());
        const rev = await write(key, record, revision);
        if (rev === undefined) return { kind: 'busy', retryInMs: 1_000 };
        revision = rev;
      }
    }
    const rev = await write(key, finish(record, now()), revision);
    if (rev === undefined) return { kind: 'busy', retryInMs: 1_000 };
    return { kind: 'done' };
  }

  async function handle(event: CloudEvent<unknown>, ctx: DeliveryContext): Promise<HandlerResult> {
    const notifyEvent = toNotifyEvent(event);
    if (notifyEvent === undefined) {
      metrics.events.inc({ type: event.type, outcome: 'ignored' });
      return HandlerResult.ack();
    }
    const log = logger.child({ app: notifyEvent.app, eventId: event.id, deliveryCount: ctx.deliveryCount });
    const key = stateKey(notifyEvent.app);
    for (let attempt = 0; attempt < MAX_STATE_CAS_ATTEMPTS; attempt++) {
      const found = (await kv.get(key)) as { value: AppNotifyState; revision: number } | undefined;
      const state = found?.value ?? initialNotifyState(notifyEvent.app);
      const { state: next, fired } = evaluateTriggers(state, notifyEvent);
      if (next === state) {
        metrics.events.inc({ type: event.type, outcome: 'ack' });
        return HandlerResult.ack();
      }
      for (const f of fired) {
        const outcome = await deliver(f, next, event, log.child({ trigger: f.trigger }));
        if (outcome.kind === 'busy') {
          metrics.events.inc({ type: event.type, outcome: 'nak' });
          // Short naks: the other owner usually finishes well before its (worst-case) lease ends.
          return HandlerResult.nak(Math.min(outcome.retryInMs, 2_000));
        }
        if (outcome.kind === 'aborted') {
          metrics.events.inc({ type: event.type, outcome: 'nak' });
          return HandlerResult.nak(1_000);
        }
      }
      const committed = found === undefined ? await kv.create(key, next) : await kv.update(key, next, found.revision);
      if (committed !== undefined) {
        metrics.events.inc({ type: event.type, outcome: 'ack' });
        return HandlerResult.ack();
      }
      // Another event of this app changed the state meanwhile: evaluate again on the new state
      // (triggers already delivered are skipped by their records).
    }
    metrics.events.inc({ type: event.type, outcome: 'nak' });
    return HandlerResult.nak(1_000);
  }

  return { handle };
}
