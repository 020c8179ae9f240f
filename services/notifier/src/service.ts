import { EventType, eventFilter } from '@ferry/contracts';
import {
  closeNats,
  connectServiceNats,
  createCloser,
  createEventBus,
  createLogger,
  createMetricsRegistry,
  natsNames,
  openJsonKv,
  provisionJetStream,
  startHttpServer,
  startTracing,
  withTimeout,
} from '@ferry/runtime';
import type { EventConsumer, HttpServer, Logger, NatsConnection, Registry, Tracer, Tracing } from '@ferry/runtime';
import type { NotifierConfig } from './config.js';
import { createNotifyProcessor } from './handlers/notify-processor.js';
import { createNotifierMetrics } from './metrics.js';

/** Durable consumer of sync events (`<prefix>.sync.*.*`; `started` is acknowledged and ignored). */
export const SYNC_DURABLE = 'notifier-sync';
/** Durable consumer of health.changed. */
export const HEALTH_DURABLE = 'notifier-health';
/** Durable consumer of rollback.completed (`on-rollback`). */
export const ROLLBACK_DURABLE = 'notifier-rollback';

/** What start() may be given instead of making its own (tests inject fresh ones). */
export interface NotifierDeps {
  logger?: Logger;
  registry?: Registry;
  /** A tracer to use; when absent, start() starts tracing from the config (and shuts it down on close). */
  tracer?: Tracer;
  now?: () => Date;
  /** Random in [0, 1) for retry jitter. */
  random?: () => number;
}

export interface NotifierService {
  /** `http://host:port` of /healthz, /readyz, /metrics. */
  readonly httpUrl: string;
  /** True between start and close. */
  readonly ready: boolean;
  /**
   * Staged and idempotent (same promise to every caller): readiness false → stop consuming and wait
   * up to shutdownGraceMs for in-flight deliveries → abort the rest (their events are redelivered)
   * → drain NATS → flush traces → close HTTP.
   */
  close(): Promise<void>;
}

/** Starts the notifier: consumers of sync, health and rollback events, delivery to the configured channels. */
export async function start(config: NotifierConfig, deps: NotifierDeps = {}): Promise<NotifierService> {
  const logger = deps.logger ?? createLogger({ name: config.serviceName, level: config.logLevel });
  const registry = deps.registry ?? createMetricsRegistry({ service: config.serviceName, collectDefaults: true });
  let tracing: Tracing | undefined;
  let tracer = deps.tracer;
  if (tracer === undefined) {
    tracing = await startTracing({ serviceName: config.serviceName, logger, ...(config.otlpEndpoint ? { otlpEndpoint: config.otlpEndpoint } : {}) });
    tracer = tracing.tracer;
  }
  const { notifications } = config;
  if (config.configFile === undefined) {
    logger.info('FERRY_NOTIFIER_CONFIG is not set: no channels, triggers are evaluated but nothing is sent');
  } else {
    logger.info(
      { file: config.configFile, channels: notifications.channels.map((c) => `${c.name} (${c.type})`), subscriptions: notifications.subscriptions.length },
      'notification channels loaded',
    );
  }

  let nc: NatsConnection | undefined;
  let http: HttpServer | undefined;
  const consumers: EventConsumer[] = [];
  const abort = new AbortController();
  let ready = false;

  const close = createCloser(
    [
      ['readiness', () => void (ready = false)],
      [
        'consumers',
        async () => {
          const stopped = Promise.all(consumers.map((c) => c.stop()));
          if (!(await withTimeout(stopped, config.shutdownGraceMs))) {
            logger.warn({ graceMs: config.shutdownGraceMs }, 'deliveries still running after the grace period: aborting them (their events will be redelivered)');
            abort.abort(new Error('notifier closing'));
            await stopped;
          }
        },
      ],
      ['nats', async () => void (nc ? await closeNats(nc) : undefined)],
      ['tracing', async () => void (tracing ? await tracing.shutdown() : undefined)],
      ['http', async () => void (http ? await http.close() : undefined)],
    ],
    logger,
  );

  try {
    nc = await connectServiceNats(config, logger);
    await provisionJetStream(nc, config, logger);
    const kv = await openJsonKv<unknown>(nc, natsNames(config).buckets.notifier);
    const bus = createEventBus({ nc, config, logger, tracer });
    const metrics = createNotifierMetrics(registry);
    const processor = createNotifyProcessor({
      kv,
      bus,
      notifications,
      tracer,
      metrics,
      logger,
      signal: abort.signal,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.random ? { random: deps.random } : {}),
    });
    const handler = processor.handle.bind(processor);
    consumers.push(
      await bus.consume({ durable: SYNC_DURABLE, filterSubject: `${config.subjectPrefix}.sync.*.*`, concurrency: config.concurrency }, handler),
      await bus.consume({ durable: HEALTH_DURABLE, filterSubject: eventFilter(config.subjectPrefix, EventType.HealthChanged), concurrency: config.concurrency }, handler),
      await bus.consume({ durable: ROLLBACK_DURABLE, filterSubject: eventFilter(config.subjectPrefix, EventType.RollbackCompleted), concurrency: config.concurrency }, handler),
    );
    http = await startHttpServer({ host: config.httpHost, port: config.httpPort, logger, registry, isReady: () => ready });
  } catch (error) {
    await close();
    throw error;
  }
  ready = true;
  const httpUrl = http.url;
  return {
    httpUrl,
    get ready() {
      return ready;
    },
    close,
  };
}
