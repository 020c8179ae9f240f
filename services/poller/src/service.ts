/**
 * The poller service: wiring only. Watches the apps bucket, polls every app on a jittered interval
 * and on refresh requests (source-poller.ts), serves /healthz /readyz /metrics.
 */
import type { SourceStatusRecord } from '@ferry/contracts';
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
import type { EventConsumer, HttpServer, Logger, NatsConnection, Registry, Tracing } from '@ferry/runtime';
import { startAppRegistry } from './app-registry.js';
import type { AppRegistry } from './app-registry.js';
import type { PollerConfig } from './config.js';
import { createGitClient } from './git/git-client.js';
import type { GitClient } from './git/git-client.js';
import { REFRESH_DURABLE, createRefreshHandler, refreshFilter } from './handlers/refresh-requested.js';
import { createPollerMetrics } from './metrics.js';
import type { RenderOptions } from './render/render.js';
import { startPollScheduler } from './scheduler.js';
import type { PollScheduler } from './scheduler.js';
import { createSourcePoller } from './source-poller.js';
import type { AppPollOutcome } from './source-poller.js';

/** Things start() would otherwise create; tests inject fresh ones. */
export interface PollerDeps {
  logger?: Logger;
  registry?: Registry;
  /** Tracing to use; when given, close() flushes it but does not shut it down (the caller owns it). */
  tracing?: Pick<Tracing, 'tracer' | 'forceFlush' | 'shutdown'>;
  /** Git client; default one over `config.gitCacheDir` with the configured credentials and metrics. */
  git?: GitClient;
  renderOptions?: RenderOptions;
  /** Random source for the poll jitter, [0, 1). */
  random?: () => number;
}

/** A running poller. */
export interface PollerService {
  /** `http://host:port` of /healthz /readyz /metrics. */
  readonly url: string;
  /** True once NATS, provisioning, the apps watch and the refresh consumer are up; false from close(). */
  isReady(): boolean;
  /** Runs a poll cycle of every known app now (after a running one); rejects once closing. */
  pollNow(): Promise<AppPollOutcome[]>;
  /**
   * Staged and idempotent (same promise to every caller): readiness false → stop the cycle timer →
   * stop the refresh consumer (its in-flight polls finish) → wait for a running cycle (at most
   * shutdownGraceMs) → stop the apps watch → drain NATS → flush tracing → close HTTP.
   */
  close(): Promise<void>;
}

export async function start(config: PollerConfig, deps: PollerDeps = {}): Promise<PollerService> {
  const logger = deps.logger ?? createLogger({ name: config.serviceName, level: config.logLevel });
  const registry = deps.registry ?? createMetricsRegistry({ service: config.serviceName, collectDefaults: true });
  const metrics = createPollerMetrics(registry);
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
  let closing = false;
  let http: HttpServer | undefined;
  let nc: NatsConnection | undefined;
  let apps: AppRegistry | undefined;
  let consumer: EventConsumer | undefined;
  let scheduler: PollScheduler<AppPollOutcome[]> | undefined;
  let schedulerStopped: Promise<void> | undefined;

  const close = createCloser(
    [
      [
        'readiness',
        () => {
          ready = false;
          closing = true;
        },
      ],
      ['cycle timer', () => void (schedulerStopped = scheduler?.stop())],
      ['refresh consumer', async () => void (consumer ? await withTimeout(consumer.stop(), config.shutdownGraceMs) : undefined)],
      [
        'in-flight polls',
        async () => {
          if (schedulerStopped && !(await withTimeout(schedulerStopped, config.shutdownGraceMs))) {
            logger.warn({ graceMs: config.shutdownGraceMs }, 'poll cycle still running after the grace period');
          }
        },
      ],
      ['apps watch', async () => apps?.stop()],
      ['nats', async () => (nc ? closeNats(nc, config.shutdownGraceMs) : undefined)],
      ['tracing', async () => (ownTracing ? tracing.shutdown() : tracing.forceFlush())],
      ['http', async () => http?.close()],
    ],
    logger,
  );

  try {
    http = await startHttpServer({ host: config.httpHost, port: config.httpPort, logger, registry, isReady: () => ready });
    nc = await connectServiceNats(config, logger);
    await provisionJetStream(nc, config, logger);
    const bus = createEventBus({ nc, config, logger, tracer: tracing.tracer, registry });
    const [appsKv, statusKv, artifacts] = await Promise.all([
      openJsonKv<unknown>(nc, names.buckets.apps),
      openJsonKv<SourceStatusRecord>(nc, names.buckets.source),
      openArtifactStore(nc, names.objectStore),
    ]);
    const git =
      deps.git ??
      createGitClient({
        cacheDir: config.gitCacheDir,
        credentials: (url) => config.gitCredentials.lookup(url),
        logger: logger.child({ component: 'git' }),
        onRequest: (kind, _url, durationMs, ok) => {
          metrics.gitRequests.inc({ kind, result: ok ? 'ok' : 'error' });
          metrics.gitRequestDuration.observe({ kind }, durationMs / 1000);
        },
      });
    const poller = createSourcePoller({
      git,
      artifacts,
      statusKv,
      bus,
      tracer: tracing.tracer,
      logger,
      metrics,
      concurrency: config.pollConcurrency,
      ...(deps.renderOptions === undefined ? {} : { renderOptions: deps.renderOptions }),
    });
    const registryOfApps = await startAppRegistry({
      appsKv,
      logger: logger.child({ component: 'apps' }),
      onChange: (count) => metrics.apps.set(count),
      onDeleted: (name) => {
        // The source status of a deleted app goes with it (the poller is its only writer).
        statusKv.delete(name).catch((error: unknown) => logger.warn({ err: error, app: name }, 'cannot delete source status'));
      },
    });
    apps = registryOfApps;
    consumer = await bus.consume(
      { durable: REFRESH_DURABLE, filterSubject: refreshFilter(config.subjectPrefix), concurrency: config.pollConcurrency },
      createRefreshHandler({ fetchApp: (name) => registryOfApps.fetch(name), poller, logger: logger.child({ component: 'refresh' }) }),
    );
    scheduler = startPollScheduler({
      intervalMs: config.pollIntervalMs,
      jitter: config.pollJitter,
      logger,
      ...(deps.random === undefined ? {} : { random: deps.random }),
      run: async () => {
        const list = registryOfApps.list();
        const started = performance.now();
        const outcomes = await poller.pollCycle(list, () => !closing);
        const counts: Record<string, number> = {};
        for (const o of outcomes) counts[o.result] = (counts[o.result] ?? 0) + 1;
        logger.debug({ apps: list.length, ...counts, durationMs: Math.round(performance.now() - started) }, 'poll cycle done');
        return outcomes;
      },
    });
    ready = true;
    logger.info(
      { url: http.url, apps: registryOfApps.size, pollIntervalMs: config.pollIntervalMs, gitCacheDir: config.gitCacheDir },
      'poller started',
    );
  } catch (error) {
    await close();
    throw error;
  }

  const url = http.url;
  const sched = scheduler;
  return {
    url,
    isReady: () => ready,
    async pollNow() {
      if (closing) throw new Error('the poller is closing');
      return (await sched.runNow()) ?? [];
    },
    close,
  };
}
