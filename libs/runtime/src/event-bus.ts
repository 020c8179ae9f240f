import { headers as natsHeaders } from '@nats-io/transport-node';
import type { MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { ConsumerConfig, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Tracer } from '@opentelemetry/api';
import { createEvent, decodeEvent, ErrorCode, eventSubject, FerryError, isEventType } from '@ferry/contracts';
import type { CloudEvent, EventType } from '@ferry/contracts';
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { extractTraceContext, injectTraceHeaders, SpanAttribute } from './tracing.js';

/** What a handler asks the bus to do with the message it was given. */
export type HandlerResult =
  /** Done (or nothing to do): never delivered again. */
  | { kind: 'ack' }
  /** Transient failure: redeliver after `delayMs`. */
  | { kind: 'nak'; delayMs: number }
  /** Can never succeed (poison input): never delivered again; `reason` is logged. */
  | { kind: 'term'; reason: string };

/** Shorthands for handler results. */
export const HandlerResult = {
  ack: (): HandlerResult => ({ kind: 'ack' }),
  nak: (delayMs: number): HandlerResult => ({ kind: 'nak', delayMs }),
  term: (reason: string): HandlerResult => ({ kind: 'term', reason }),
} as const;

/** Facts about one delivery, passed to the handler with the decoded event. */
export interface DeliveryContext {
  /** The NATS subject (`gitops.revision.detected.web`). */
  subject: string;
  /** 1 on first delivery, 2 on first redelivery, … */
  deliveryCount: number;
  /** Position in the stream; stable across redeliveries. */
  streamSequence: number;
  /** OTel context of the consumer span (a child of the publisher's span when headers carried one). */
  traceContext: Context;
  /** The message headers (may be undefined). */
  headers: MsgHdrs | undefined;
}

export type EventHandler = (event: CloudEvent<unknown>, context: DeliveryContext) => Promise<HandlerResult>;

export interface ConsumeOptions {
  /** Durable consumer name; replicas of one service use the same name to share the work. */
  durable: string;
  /** One subject filter (2.9: exactly one), e.g. `gitops.revision.detected.*`. */
  filterSubject: string;
  /** How long the server waits for an ack before redelivering; default 30000 ms. */
  ackWaitMs?: number;
  /** Deliveries before the server gives up on a message; default -1 (unlimited). */
  maxDeliver?: number;
  /** Handlers run at once in this process; default 1. Per-app ordering is the caller's concern. */
  concurrency?: number;
  /** How long one pull waits for messages before re-pulling; default 5000 ms. */
  pullExpiresMs?: number;
}

export interface EventConsumer {
  readonly durable: string;
  /** Stops pulling and waits for in-flight handlers. Idempotent (same promise to every caller). */
  stop(): Promise<void>;
}

export interface PublishOptions {
  /**
   * Deterministic id (`Nats-Msg-Id`, also the CloudEvent id): a retried publish with the same id
   * within the stream's duplicate window (2 min) is stored once.
   */
  msgId: string;
  /** CloudEvent source; default `ferry/<serviceName>`. */
  source?: string;
}

export interface EventBus {
  /**
   * Publishes an event of `type` about `app`, with the active trace context in its headers. Throws
   * FerryError(FERRY_ERR_EVENT_INVALID) if `data` does not match the type's schema (no retry) and
   * FerryError(FERRY_ERR_MESSAGING_UNAVAILABLE) when JetStream did not accept it after retries.
   */
  publish(type: string, app: string, data: unknown, options: PublishOptions): Promise<void>;
  /** Creates/updates a durable pull consumer and starts handling its messages. */
  consume(options: ConsumeOptions, handler: EventHandler): Promise<EventConsumer>;
}

export interface CreateEventBusOptions {
  nc: NatsConnection;
  config: { serviceName: string; subjectPrefix: string; streamName: string };
  logger: Logger;
  tracer: Tracer;
  /** Publish attempts before giving up; default 4. */
  publishAttempts?: number;
  /**
   * When given, the bus registers `ferry_events_published_total{type,result}`,
   * `ferry_events_handled_total{durable,type,result}` (result: ack, nak, term, error, invalid) and
   * `ferry_event_handler_duration_seconds{durable,type}`.
   */
  registry?: Registry;
}

interface BusMetrics {
  published: Counter<'type' | 'result'>;
  handled: Counter<'durable' | 'type' | 'result'>;
  duration: Histogram<'durable' | 'type'>;
}

function busMetrics(registry: Registry | undefined): BusMetrics | undefined {
  if (!registry) return undefined;
  const existing = <M>(name: string): M | undefined => registry.getSingleMetric(name) as M | undefined;
  return {
    published:
      existing<Counter<'type' | 'result'>>('ferry_events_published_total') ??
      new Counter({ name: 'ferry_events_published_total', help: 'Events published, by type and result (ok, duplicate, error).', labelNames: ['type', 'result'], registers: [registry] }),
    handled:
      existing<Counter<'durable' | 'type' | 'result'>>('ferry_events_handled_total') ??
      new Counter({
        name: 'ferry_events_handled_total',
        help: 'Event deliveries handled, by consumer, type and result (ack, nak, term, error, invalid).',
        labelNames: ['durable', 'type', 'result'],
        registers: [registry],
      }),
    duration:
      existing<Histogram<'durable' | 'type'>>('ferry_event_handler_duration_seconds') ??
      new Histogram({
        name: 'ferry_event_handler_duration_seconds',
        help: 'Time an event handler took, by consumer and type.',
        labelNames: ['durable', 'type'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
  };
}

const NS = 1_000_000;
const MAX_HANDLER_BACKOFF_MS = 30_000;

/** Redelivery delay after a handler threw: 1 s, 2 s, 4 s … capped at 30 s. */
export function handlerErrorBackoffMs(deliveryCount: number): number {
  const exp = Math.max(0, deliveryCount - 1);
  return Math.min(MAX_HANDLER_BACKOFF_MS, 1000 * 2 ** Math.min(exp, 15));
}

export function createEventBus(options: CreateEventBusOptions): EventBus {
  const { nc, config, logger, tracer } = options;
  const js: JetStreamClient = jetstream(nc);
  const attempts = Math.max(1, options.publishAttempts ?? 4);
  const source = `ferry/${config.serviceName}`;
  const metrics = busMetrics(options.registry);

  async function publish(type: string, app: string, data: unknown, opts: PublishOptions): Promise<void> {
    // Validation errors are the caller's bug: no retry (createEvent throws FERRY_ERR_EVENT_INVALID).
    if (!isEventType(type)) throw new FerryError(ErrorCode.EventInvalid, `unknown event type ${JSON.stringify(type)}`);
    const event = createEvent(type as EventType, { source: opts.source ?? source, app, data: data as never, id: opts.msgId });
    const subject = eventSubject(config.subjectPrefix, type as EventType, app);
    const payload = JSON.stringify(event);
    const span = tracer.startSpan(`publish ${type}`, {
      kind: SpanKind.PRODUCER,
      attributes: { [SpanAttribute.App]: app, 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.message.id': opts.msgId },
    });
    const ctx = trace.setSpan(context.active(), span);
    try {
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const h = natsHeaders();
        injectTraceHeaders(h, ctx);
        try {
          const ack = await js.publish(subject, payload, { msgID: opts.msgId, headers: h, timeout: 5_000 });
          if (ack.duplicate) logger.debug({ subject, msgId: opts.msgId }, 'publish de-duplicated');
          metrics?.published.inc({ type, result: ack.duplicate ? 'duplicate' : 'ok' });
          span.setStatus({ code: SpanStatusCode.OK });
          return;
        } catch (error) {
          lastError = error;
          if (nc.isClosed() || attempt === attempts) break;
          logger.warn({ err: error, subject, attempt }, 'publish failed, retrying');
          await delay(100 * 3 ** (attempt - 1));
        }
      }
      const err = new FerryError(
        ErrorCode.MessagingUnavailable,
        `failed to publish ${type} for app ${app} to ${subject}: ${(lastError as Error)?.message ?? String(lastError)}`,
        { cause: lastError },
      );
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      metrics?.published.inc({ type, result: 'error' });
      throw err;
    } finally {
      span.end();
    }
  }

  async function ensureConsumer(o: ConsumeOptions): Promise<number> {
    const jsm = await jetstreamManager(nc);
    const want: Partial<ConsumerConfig> = {
      durable_name: o.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: o.filterSubject,
      ack_wait: (o.ackWaitMs ?? 30_000) * NS,
      max_deliver: o.maxDeliver ?? -1,
      max_ack_pending: 1000,
    };
    try {
      const info = await jsm.consumers.add(config.streamName, want);
      return (info.config.ack_wait ?? 30_000 * NS) / NS;
    } catch (error) {
      // Exists with another config (or a concurrent create): update what can change.
      if (!(error instanceof JetStreamApiError) && !/already|exists|in use/i.test(String(error))) throw error;
      const { durable_name: _d, deliver_policy: _p, ...update } = want;
      void _d;
      void _p;
      try {
        const info = await jsm.consumers.update(config.streamName, o.durable, update);
        return (info.config.ack_wait ?? 30_000 * NS) / NS;
      } catch (updateError) {
        throw new FerryError(
          ErrorCode.MessagingUnavailable,
          `cannot create or update consumer ${o.durable} on ${config.streamName} (filter ${o.filterSubject}): ${(updateError as Error).message}`,
          { cause: updateError },
        );
      }
    }
  }

  async function consume(o: ConsumeOptions, handler: EventHandler): Promise<EventConsumer> {
    const log = logger.child({ durable: o.durable });
    let ackWaitMs: number;
    try {
      ackWaitMs = await ensureConsumer(o);
    } catch (error) {
      if (error instanceof FerryError) throw error;
      throw new FerryError(
        ErrorCode.MessagingUnavailable,
        `cannot create consumer ${o.durable} on ${config.streamName}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const consumer = await js.consumers.get(config.streamName, o.durable);
    const concurrency = Math.max(1, o.concurrency ?? 1);
    const expires = Math.max(1_000, o.pullExpiresMs ?? 5_000);
    let stopping = false;
    const pulls = new Set<ConsumerMessages>();
    const inflight = new Set<Promise<void>>();

    async function handle(msg: JsMsg): Promise<void> {
      let event: CloudEvent<unknown>;
      try {
        event = decodeEvent(msg.data);
      } catch (error) {
        log.warn(
          { err: error, subject: msg.subject, streamSequence: msg.info.streamSequence, code: (error as FerryError).code },
          'undecodable message terminated',
        );
        metrics?.handled.inc({ durable: o.durable, type: 'unknown', result: 'invalid' });
        // No reason text: nats-server 2.9 ignores a `+TERM <reason>` ack (reasons came in 2.10.4).
        msg.term();
        return;
      }
      const parent = extractTraceContext(msg.headers, context.active());
      const span = tracer.startSpan(
        `process ${event.type}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            [SpanAttribute.App]: event.subject,
            'messaging.system': 'nats',
            'messaging.destination.name': msg.subject,
            'messaging.message.id': event.id,
            'messaging.consumer.group.name': o.durable,
          },
        },
        parent,
      );
      const traceContext = trace.setSpan(parent, span);
      const delivery: DeliveryContext = {
        subject: msg.subject,
        deliveryCount: msg.info.deliveryCount,
        streamSequence: msg.info.streamSequence,
        traceContext,
        headers: msg.headers,
      };
      // Keep the message ours while the handler runs longer than half of ack wait.
      const keepAlive = setInterval(() => msg.working(), Math.max(100, Math.floor(ackWaitMs / 2)));
      keepAlive.unref();
      let result: HandlerResult;
      let threw = false;
      const endTimer = metrics?.duration.startTimer({ durable: o.durable, type: event.type });
      try {
        result = await context.with(traceContext, () => handler(event, delivery));
      } catch (error) {
        threw = true;
        const delayMs = handlerErrorBackoffMs(msg.info.deliveryCount);
        log.error(
          { err: error, subject: msg.subject, eventId: event.id, deliveryCount: msg.info.deliveryCount, retryInMs: delayMs },
          'event handler failed',
        );
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message ?? String(error) });
        result = { kind: 'nak', delayMs };
      } finally {
        clearInterval(keepAlive);
        endTimer?.();
      }
      metrics?.handled.inc({ durable: o.durable, type: event.type, result: threw ? 'error' : result.kind });
      try {
        switch (result.kind) {
          case 'ack':
            span.setStatus({ code: SpanStatusCode.OK });
            await msg.ackAck();
            break;
          case 'nak':
            span.setAttribute('ferry.nak_delay_ms', result.delayMs);
            msg.nak(Math.max(0, Math.floor(result.delayMs)));
            break;
          case 'term':
            log.warn({ subject: msg.subject, eventId: event.id, reason: result.reason }, 'event terminated by handler');
            span.setAttribute('ferry.term_reason', result.reason);
            msg.term();
            break;
        }
      } catch (error) {
        log.warn({ err: error, subject: msg.subject, result: result.kind }, 'acknowledgement failed; the message will be redelivered');
      } finally {
        span.end();
      }
    }

    async function worker(id: number): Promise<void> {
      let failures = 0;
      while (!stopping && !nc.isClosed() && !nc.isDraining()) {
        let iter: ConsumerMessages | undefined;
        try {
          iter = await consumer.fetch({ max_messages: 1, expires });
          pulls.add(iter);
          if (stopping) iter.stop();
          for await (const msg of iter) {
            if (stopping) {
              msg.nak();
              continue;
            }
            const p = handle(msg).catch((error: unknown) => log.error({ err: error }, 'unexpected error handling message'));
            inflight.add(p);
            try {
              await p;
            } finally {
              inflight.delete(p);
            }
          }
          failures = 0;
        } catch (error) {
          if (stopping || nc.isClosed() || nc.isDraining()) break;
          failures++;
          log.warn({ err: error, worker: id }, 'pull failed, retrying');
          if (/consumer (not found|deleted|is deleted)|stream not found/i.test(String((error as Error)?.message))) {
            // Someone deleted the durable (or the stream was re-created): put it back.
            await ensureConsumer(o).catch((e: unknown) => log.warn({ err: e }, 'cannot re-create consumer'));
          }
          await delay(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)));
        } finally {
          if (iter) pulls.delete(iter);
        }
      }
    }

    const workers = Array.from({ length: concurrency }, (_, i) => worker(i));
    const done = Promise.allSettled(workers);
    log.debug({ filterSubject: o.filterSubject, concurrency, ackWaitMs }, 'consumer started');
    let stopPromise: Promise<void> | undefined;
    return {
      durable: o.durable,
      stop() {
        stopPromise ??= (async () => {
          stopping = true;
          // Wait for the handlers first: their acks must go out before the pulls are closed.
          await Promise.allSettled([...inflight]);
          for (const p of pulls) p.stop();
          await done;
          log.debug('consumer stopped');
        })();
        return stopPromise;
      },
    };
  }

  return { publish, consume };
}

export interface EventSubscriptionContext {
  subject: string;
  /** OTel context carried by the message headers. */
  traceContext: Context;
}

export interface EventSubscription {
  /** Unsubscribes (after draining delivered messages). Idempotent. */
  stop(): Promise<void>;
}

/**
 * A plain core-NATS subscription with decoding (no JetStream, no ack): every message published on a
 * matching subject from now on. Messages that do not decode are skipped (logged at debug when a
 * logger is given). For live views such as the api's event stream.
 */
export function subscribeEvents(
  nc: NatsConnection,
  subject: string,
  handler: (event: CloudEvent<unknown>, context: EventSubscriptionContext) => void | Promise<void>,
  options: { logger?: Logger } = {},
): EventSubscription {
  const sub: Subscription = nc.subscribe(subject, {
    callback: (error, msg) => {
      if (error) {
        options.logger?.warn({ err: error, subject }, 'event subscription error');
        return;
      }
      let event: CloudEvent<unknown>;
      try {
        event = decodeEvent(msg.data);
      } catch (decodeError) {
        options.logger?.debug({ err: decodeError, subject: msg.subject }, 'skipping undecodable message');
        return;
      }
      const traceContext = extractTraceContext(msg.headers);
      try {
        const r = handler(event, { subject: msg.subject, traceContext });
        if (r instanceof Promise) r.catch((e: unknown) => options.logger?.warn({ err: e, subject: msg.subject }, 'event subscriber failed'));
      } catch (e) {
        options.logger?.warn({ err: e, subject: msg.subject }, 'event subscriber failed');
      }
    },
  });
  let stopPromise: Promise<void> | undefined;
  return {
    stop() {
      stopPromise ??= (async () => {
        if (sub.isClosed() || nc.isClosed()) return;
        try {
          await sub.drain();
        } catch {
          sub.unsubscribe();
        }
      })();
      return stopPromise;
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
