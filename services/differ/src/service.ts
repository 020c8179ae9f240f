/**
 * The differ service: wiring only. Watches apps in KV, consumes revision.detected, keeps a watch cache
 * per cluster, compares apps (app-comparer.ts) and serves /healthz /readyz /metrics.
 */
import { ErrorCode, FerryError } from '@ferry/contracts';
import { resolveClusters, clusterOptionsOf } from '@ferry/kube';
import type { ClusterRegistry } from '@ferry/kube';
import {
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
import type { EventConsumer, HttpServer, KvWatch, Logger, NatsConnection, Registry, Tracing } from '@ferry/runtime';
import { createAppComparer } from './app-comparer.js';
import type { AppComparer, CompareOutcome } from './app-comparer.js';
import { createClusterCaches } from './cluster-caches.js';
import type { ClusterCaches } from './cluster-caches.js';
import type { DifferConfig } from './config.js';
import type { StoredComparisonRecord } from './domain/result.js';
import { REVISION_DURABLE, createRevisionHandler, revisionFilter } from './handlers/revision-detected.js';
import { createDifferMetrics } from './metrics.js';

/** Things start() would otherwise create; tests inject fresh ones. */
export interface DifferDeps {
  logger?: Logger;
  registry?: Registry;
  /** Tracing to use; when given, close() flushes it but does not shut it down (the caller owns it). */
  tracing?: Pick<Tracing, 'tracer' | 'forceFlush' | 'shutdown'>;
  /** Cluster registry; when given, close() does not close it. Default: resolveClusters from the config. */
  clusters?: ClusterRegistry;
}

/** A running differ. */
export interface DifferService {
  /** `http://host:port` of /healthz /readyz /metrics. */
  readonly url: string;
  /** True once NATS, provisioning, the apps watch and the consumer are up; false from close(). */
  isReady(): boolean;
  /** Compares an app from the cache now (tests and tools); undefined when the differ has no desired set for it. */
  compare(app: string): Promise<CompareOutcome | undefined>;
  /**
   * Staged and idempotent (same promise to every caller): readiness false → stop the revision consumer
   * (in-flight events finish) → stop the apps watch and timers → finish in-flight comparisons (at most
   * shutdownGraceMs) → stop the watch caches → close cluster clients → drain NATS → flush tracing → close HTTP.
   */
  close(): Promise<void>;
}

function sameServer(a: string, b: string): boolean {
  const norm = (u: string): string => u.trim().replace(/\/+$/, '').toLowerCase();
  return norm(a) === norm(b);
}

/** The cluster registry from the config; a named cluster whose `server` disagrees with its kubeconfig fails. */
export function clustersFromConfig(config: DifferConfig): ClusterRegistry {
  const registry = resolveClusters({
    ...(config.kubeconfigPath === undefined ? {} : { kubeconfigPath: config.kubeconfigPath }),
    clusters: clusterOptionsOf(config.clusters),
    env: config.kubeEnv,
  });
  const problems: string[] = [];
  const infos = registry.clusters();
  for (const c of config.clusters) {
    const info = infos.find((i) => i.name === c.name);
    if (c.server !== undefined && info && !sameServer(info.server, c.server)) {
      problems.push(`cluster "${c.name}": the clusters file says server ${c.server} but its kubeconfig points at ${info.server}`);
    }
  }
  if (problems.length > 0) {
    void registry.close();
    throw new FerryError(ErrorCode.KubeConfigInvalid, `failed to load clusters: ${problems.join('; ')}`);
  }
  return registry;
}

export async function start(config: DifferConfig, deps: DifferDeps = {}): Promise<DifferService> {
  const logger = deps.logger ?? createLogger({ name: config.serviceName, level: config.logLevel });
  const registry = deps.registry ?? createMetricsRegistry({ service: config.serviceName, collectDefaults: true });
  const metrics = createDifferMetrics(registry);
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
  let clusters: ClusterRegistry | undefined;
  let caches: ClusterCaches | undefined;
  let comparer: AppComparer | undefined;
  let consumer: EventConsumer | undefined;
  let appsWatch: KvWatch | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;

  const close = createCloser(
    [
      ['readiness', () => void (ready = false)],
      ['revision consumer', async () => consumer?.stop()],
      [
        'intake',
        async () => {
          if (resyncTimer) clearInterval(resyncTimer);
          await appsWatch?.stop();
        },
      ],
      ['in-flight comparisons', async () => comparer?.close(config.shutdownGraceMs)],
      ['watch caches', async () => caches?.close()],
      ['clusters', async () => (deps.clusters === undefined ? clusters?.close() : undefined)],
      [
        'nats',
        async () => {
          if (!nc || nc.isClosed()) return;
          const drained = await withTimeout(nc.drain(), config.shutdownGraceMs);
          if (!drained) await nc.close();
        },
      ],
      ['tracing', async () => (ownTracing ? tracing.shutdown() : tracing.forceFlush())],
      ['http', async () => http?.close()],
    ],
    logger,
  );

  try {
    http = await startHttpServer({ host: config.httpHost, port: config.httpPort, logger, registry, isReady: () => ready });
    clusters = deps.clusters ?? clustersFromConfig(config);
    nc = await connectServiceNats(config, logger);
    await provisionJetStream(nc, config, logger);
    const bus = createEventBus({ nc, config, logger, tracer: tracing.tracer, registry });
    const [appsKv, comparisonKv, artifacts] = await Promise.all([
      openJsonKv<unknown>(nc, names.buckets.apps),
      openJsonKv<StoredComparisonRecord>(nc, names.buckets.comparison),
      openArtifactStore(nc, names.objectStore),
    ]);
    caches = createClusterCaches({
      registry: clusters,
      logger: logger.child({ component: 'watch' }),
      onEvent: (cluster, event) => comparer?.onWatchEvent(cluster, event),
    });
    const c = createAppComparer({
      logger,
      tracer: tracing.tracer,
      bus,
      metrics,
      comparisonKv,
      appsKv,
      artifacts,
      caches,
      debounceMs: config.debounceMs,
      retryMs: config.retryMs,
    });
    comparer = c;
    c.loadRecords(await comparisonKv.values());
    appsWatch = await appsKv.watch((key, value) => c.setApp(key, value));
    // Resume in the background: a cluster that is slow to answer must not hold readiness.
    void c.resumeAll().catch((error: unknown) => logger.warn({ err: error }, 'resume failed; retrying at the next resync'));
    consumer = await bus.consume(
      { durable: REVISION_DURABLE, filterSubject: revisionFilter(config.subjectPrefix), concurrency: config.concurrency },
      createRevisionHandler(c, { retryMs: config.retryMs, logger }),
    );
    resyncTimer = setInterval(() => c.resyncAll(), config.resyncMs);
    resyncTimer.unref();
    ready = true;
    logger.info({ url: http.url, clusters: clusters.clusters().map((i) => i.name) }, 'differ started');
  } catch (error) {
    await close();
    throw error;
  }

  const url = http.url;
  const c = comparer;
  return {
    url,
    isReady: () => ready,
    compare: (app) => c.compare(app),
    close,
  };
}
