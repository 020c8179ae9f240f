/**
 * The health service: wiring only. Reads apps and comparisons from KV, consumes sync events, keeps a
 * watch cache per cluster, assesses apps (health-monitor.ts) and serves /healthz /readyz /metrics.
 */
import type { ComparisonStatusRecord, OperationStatusRecord } from '@ferry/contracts';
import { clusterOptionsOf, resolveClusters } from '@ferry/kube';
import type { ClusterRegistry } from '@ferry/kube';
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
} from '@ferry/runtime';
import type { EventConsumer, HttpServer, KvWatch, Logger, NatsConnection, Registry, Tracing } from '@ferry/runtime';
import { createClusterWatches } from './cluster-watches.js';
import type { ClusterWatches } from './cluster-watches.js';
import type { HealthConfig } from './config.js';
import { SYNC_DURABLE, createSyncEventHandler, syncFilter } from './handlers/sync-events.js';
import { createHealthMonitor } from './health-monitor.js';
import type { HealthMonitor, StoredHealthRecord } from './health-monitor.js';
import { createHealthMetrics } from './metrics.js';

/** Things start() would otherwise create; tests inject fresh ones. */
export interface HealthDeps {
  logger?: Logger;
  registry?: Registry;
  /** Tracing to use; when given, close() flushes it but does not shut it down (the caller owns it). */
  tracing?: Pick<Tracing, 'tracer' | 'forceFlush' | 'shutdown'>;
  /** Cluster registry; when given, close() does not close it. Default: resolveClusters from the config. */
  clusters?: ClusterRegistry;
}

/** A running health service. */
export interface HealthService {
  /** `http://host:port` of /healthz /readyz /metrics. */
  readonly url: string;
  /** True once NATS, provisioning, the KV watches and the first list of every known kind are done; false from close(). */
  isReady(): boolean;
  /** Assesses an app now (tests and tools); resolves when written or found unchanged. */
  assess(app: string): Promise<void>;
  /**
   * Staged and idempotent (same promise to every caller): readiness false → stop the sync consumer
   * → stop the KV watches and timers → finish in-flight assessments (at most shutdownGraceMs) →
   * stop the watch caches → drain NATS → flush tracing → close HTTP.
   */
  close(): Promise<void>;
}

export async function start(config: HealthConfig, deps: HealthDeps = {}): Promise<HealthService> {
  const logger = deps.logger ?? createLogger({ name: config.serviceName, level: config.logLevel });
  const registry = deps.registry ?? createMetricsRegistry({ service: config.serviceName, collectDefaults: true });
  const metrics = createHealthMetrics(registry);
  const ownTracing = deps.tracing === undefined;
  const tracing =
    deps.tracing ??
    (await startTracing({ serviceName: config.serviceName, logger, ...(config.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.otlpEndpoint }) }));
  const names = natsNames(config);

  let ready = false;
  let http: HttpServer | undefined;
  let nc: NatsConnection | undefined;
  let clusters: ClusterRegistry | undefined;
  let watches: ClusterWatches | undefined;
  let monitor: HealthMonitor | undefined;
  let consumer: EventConsumer | undefined;
  const kvWatches: KvWatch[] = [];
  let resyncTimer: NodeJS.Timeout | undefined;

  const close = createCloser(
    [
      ['readiness', () => void (ready = false)],
      ['sync consumer', async () => consumer?.stop()],
      [
        'intake',
        async () => {
          if (resyncTimer) clearInterval(resyncTimer);
          await Promise.allSettled(kvWatches.map((w) => w.stop()));
        },
      ],
      ['in-flight assessments', async () => monitor?.close(config.shutdownGraceMs)],
      ['watch caches', async () => watches?.close()],
      ['clusters', async () => (deps.clusters === undefined ? clusters?.close() : undefined)],
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
    const bus = createEventBus({ nc, config, logger, tracer: tracing.tracer });
    const [appsKv, comparisonKv, healthKv, operationKv] = await Promise.all([
      openJsonKv<unknown>(nc, names.buckets.apps),
      openJsonKv<ComparisonStatusRecord>(nc, names.buckets.comparison),
      openJsonKv<StoredHealthRecord>(nc, names.buckets.health),
      openJsonKv<OperationStatusRecord>(nc, names.buckets.operation),
    ]);
    clusters =
      deps.clusters ??
      resolveClusters({
        ...(config.kubeconfigPath === undefined ? {} : { kubeconfigPath: config.kubeconfigPath }),
        clusters: clusterOptionsOf(config.clusters),
        env: config.kubeEnv,
      });
    const watchLogger = logger.child({ component: 'watch' });
    watches = createClusterWatches({
      registry: clusters,
      logger: watchLogger,
      onEvent: (cluster, event) => monitor?.onWatchEvent(cluster, event),
    });
    const m = createHealthMonitor({
      logger,
      tracer: tracing.tracer,
      bus,
      metrics,
      healthKv,
      appsKv,
      operationKv,
      watches,
      debounceMs: config.debounceMs,
    });
    monitor = m;
    m.loadRecords(await healthKv.values());
    kvWatches.push(await appsKv.watch((key, value) => m.setApp(key, value)));
    kvWatches.push(await comparisonKv.watch((key, value) => m.setComparison(key, value)));
    await m.watchKnownApps();
    for (const app of m.knownApps()) void m.assess(app);
    consumer = await bus.consume(
      { durable: SYNC_DURABLE, filterSubject: syncFilter(config.subjectPrefix), concurrency: config.concurrency },
      createSyncEventHandler(m),
    );
    resyncTimer = setInterval(() => m.resyncAll(), config.resyncMs);
    resyncTimer.unref();
    ready = true;
    logger.info({ url: http.url, apps: m.knownApps().length }, 'health service started');
  } catch (error) {
    await close();
    throw error;
  }

  const url = http.url;
  const m = monitor;
  return {
    url,
    isReady: () => ready,
    async assess(app) {
      await m.assess(app);
    },
    close,
  };
}
