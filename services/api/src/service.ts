/**
 * The api service: wiring only. Connects to NATS, provisions JetStream, opens the app and status
 * buckets, and serves the REST API, the event stream, /healthz /readyz /metrics on one fastify app.
 */
import {
  closeNats,
  connectServiceNats,
  createCloser,
  createEventBus,
  createLogger,
  createMetricsRegistry,
  natsNames,
  openArtifactStore,
  openJsonKv,
  provisionJetStream,
  startHttpServer,
  startTracing,
  withTimeout,
} from '@ferry/runtime';
import type { FastifyInstance, HttpServer, Logger, NatsConnection, Registry, Tracing } from '@ferry/runtime';
import type { ApiConfig } from './config.js';
import { registerActionRoutes } from './handlers/actions.js';
import { registerApplicationRoutes } from './handlers/applications.js';
import { installBodyParsers } from './handlers/body-parsers.js';
import type { ApiBuckets, ApiContext } from './handlers/context.js';
import { installErrorHandlers } from './handlers/errors.js';
import { registerDiffRoutes } from './handlers/diff.js';
import { registerHistoryRoutes } from './handlers/history.js';
import { installHooks } from './handlers/hooks.js';
import type { InstalledHooks } from './handlers/hooks.js';
import { registerStreamRoutes } from './handlers/stream.js';
import { registerVersionRoutes } from './handlers/version.js';
import { registerWebhookRoutes } from './handlers/webhook.js';
import { createApiMetrics } from './metrics.js';

/** Things start() would otherwise create; tests inject fresh ones. */
export interface ApiDeps {
  logger?: Logger;
  registry?: Registry;
  /** Tracing to use; when given, close() flushes it but does not shut it down (the caller owns it). */
  tracing?: Pick<Tracing, 'tracer' | 'forceFlush' | 'shutdown'>;
}

/** A running api. */
export interface ApiService {
  /** `http://host:port`. */
  readonly url: string;
  /** The fastify app (tests use `app.inject()`). */
  readonly app: FastifyInstance;
  /** True once NATS, provisioning and the buckets are ready; false from close(). */
  isReady(): boolean;
  /**
   * Staged and idempotent (same promise to every caller): readiness false and new requests 503 →
   * end event streams → wait for in-flight requests (at most shutdownGraceMs) → drain NATS → flush
   * tracing → close HTTP (after which connections are refused).
   */
  close(): Promise<void>;
}

export async function start(config: ApiConfig, deps: ApiDeps = {}): Promise<ApiService> {
  const logger = deps.logger ?? createLogger({ name: config.serviceName, level: config.logLevel });
  const registry = deps.registry ?? createMetricsRegistry({ service: config.serviceName, collectDefaults: true });
  const metrics = createApiMetrics(registry);
  const ownTracing = deps.tracing === undefined;
  const tracing =
    deps.tracing ??
    (await startTracing({
      serviceName: config.serviceName,
      logger,
      ...(config.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.otlpEndpoint }),
    }));
  const names = natsNames(config);

  let ready = false;
  let http: HttpServer | undefined;
  let nc: NatsConnection | undefined;
  let hooks: InstalledHooks | undefined;
  const streams = new Set<() => void>();

  const close = createCloser(
    [
      ['readiness', () => void (ready = false)],
      ['event streams', () => [...streams].forEach((end) => end())],
      [
        'in-flight requests',
        async () => {
          const h = hooks;
          if (h === undefined) return;
          await withTimeout(
            (async () => {
              while (h.inFlight() > 0) await new Promise((r) => setTimeout(r, 10).unref());
            })(),
            config.shutdownGraceMs,
          );
        },
      ],
      ['nats', async () => (nc ? closeNats(nc, config.shutdownGraceMs) : undefined)],
      ['tracing', async () => (ownTracing ? tracing.shutdown() : tracing.forceFlush())],
      ['http', async () => http?.close()],
    ],
    logger,
  );

  try {
    const conn = await connectServiceNats(config, logger);
    nc = conn;
    await provisionJetStream(conn, config, logger);
    const [apps, source, comparison, operation, health, artifacts] = await Promise.all([
      openJsonKv<unknown>(conn, names.buckets.apps),
      openJsonKv<unknown>(conn, names.buckets.source),
      openJsonKv<unknown>(conn, names.buckets.comparison),
      openJsonKv<unknown>(conn, names.buckets.operation),
      openJsonKv<unknown>(conn, names.buckets.health),
      openArtifactStore(conn, names.objectStore),
    ]);
    const kv: ApiBuckets = { apps, source, comparison, operation, health };
    const bus = createEventBus({ nc: conn, config, logger, tracer: tracing.tracer, registry });
    http = await startHttpServer({
      host: config.httpHost,
      port: config.httpPort,
      logger,
      registry,
      isReady: () => ready,
      bodyLimitBytes: config.maxBodyBytes,
      configure: (app) => {
        const h = installHooks(app, { tokens: config.tokens, metrics, isAccepting: () => ready });
        hooks = h;
        installErrorHandlers(app, logger);
        installBodyParsers(app);
        const ctx: ApiContext = {
          config,
          logger,
          tracer: tracing.tracer,
          bus,
          nc: conn,
          kv,
          artifacts,
          metrics,
          subjectOf: h.subjectOf,
          detachRequest: h.detach,
          trackStream(end) {
            streams.add(end);
            return () => void streams.delete(end);
          },
        };
        registerVersionRoutes(app, ctx);
        registerApplicationRoutes(app, ctx);
        registerActionRoutes(app, ctx);
        registerHistoryRoutes(app, ctx);
        registerDiffRoutes(app, ctx);
        registerStreamRoutes(app, ctx);
        registerWebhookRoutes(app, ctx);
      },
    });
    ready = true;
    logger.info({ url: http.url, tokens: config.tokens.length }, 'api started');
  } catch (error) {
    await close();
    throw error;
  }

  const server = http;
  return {
    url: server.url,
    app: server.app,
    isReady: () => ready,
    close,
  };
}
