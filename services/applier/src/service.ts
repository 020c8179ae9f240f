/**
 * The applier service: wiring only. Watches `ferry-apps`, consumes diff.computed (`applier-diff`),
 * sync.requested (`applier-sync-request`), revision.failed (`applier-revision-failed`), app.deleted
 * (`applier-app-deleted`), health.changed (`applier-health`) and the sync noun for rollbacks
 * (`applier-rollback`), runs syncs (syncer.ts),
 * deletions (deleter.ts) and rollbacks (rollback/), and serves /healthz /readyz /metrics.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, type Application } from '@ferry/contracts';
import { KubeError, resolveClusters, type ClusterRegistry, clusterOptionsOf } from '@ferry/kube';
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
import type { EventConsumer, HttpServer, KvWatch, Lease, Logger, NatsConnection, Registry, Tracing } from '@ferry/runtime';
import type { ApplierConfig } from './config.js';
import type { StoredOperationRecord } from './domain/operation.js';
import { createDeleter } from './deleter.js';
import { APP_DELETED_DURABLE, appDeletedFilter, createAppDeletedHandler } from './handlers/app-deleted.js';
import { DIFF_DURABLE, createDiffHandler, diffFilter } from './handlers/diff-computed.js';
import { HEALTH_DURABLE, createHealthHandler, healthFilter } from './handlers/health.js';
import { REVISION_FAILED_DURABLE, createRevisionFailedHandler, revisionFailedFilter } from './handlers/revision-failed.js';
import { SYNC_REQUEST_DURABLE, createSyncRequestHandler, syncRequestFilter } from './handlers/sync-requested.js';
import { createApplierMetrics } from './metrics.js';
import { createRollbackController } from './rollback/controller.js';
import { ROLLBACK_DURABLE, createRollbackSyncHandler, rollbackFilter } from './rollback/sync-events-handler.js';
import { createSyncer, toApplication, type Syncer } from './syncer.js';

/** Things start() would otherwise create; tests inject fresh ones. */
export interface ApplierDeps {
  logger?: Logger;
  registry?: Registry;
  /** Tracing to use; when given, close() flushes it but does not shut it down (the caller owns it). */
  tracing?: Pick<Tracing, 'tracer' | 'forceFlush' | 'shutdown'>;
  /** Cluster registry; when given, close() does not close it. Default: resolveClusters from the config. */
  clusters?: ClusterRegistry;
  /** Clock for sync decisions and timestamps (tests). */
  now?: () => Date;
}

/** A running applier. */
export interface ApplierService {
  /** `http://host:port` of /healthz /readyz /metrics. */
  readonly url: string;
  /** This replica's lease holder name. */
  readonly holder: string;
  /** True once NATS, provisioning, the apps watch and both consumers are up; false from close(). */
  isReady(): boolean;
  /** Syncs running now. */
  running(): number;
  /**
   * Staged and idempotent (same promise to every caller): readiness false → stop both consumers,
   * letting in-flight syncs finish within shutdownGraceMs (then they are stopped at their next step,
   * left Running, and resumed by whichever replica gets their event again) → release leases → stop
   * the apps watch → close cluster clients → drain NATS → flush tracing → close HTTP.
   */
  close(): Promise<void>;
}

function normalizeServer(server: string): string {
  try {
    const url = new URL(server);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return server.toLowerCase();
  }
}

function openClusters(config: ApplierConfig): ClusterRegistry {
  const registry = resolveClusters({
    ...(config.kubeconfigPath === undefined ? {} : { kubeconfigPath: config.kubeconfigPath }),
    env: config.kubeEnv,
    clusters: clusterOptionsOf(config.clusters),
  });
  const known = new Map(registry.clusters().map((c) => [c.name, c.server]));
  const wrong = config.clusters.filter(
    (c) => c.server !== undefined && normalizeServer(c.server) !== normalizeServer(known.get(c.name) ?? ''),
  );
  if (wrong.length > 0) {
    void registry.close();
    throw new KubeError(
      ErrorCode.KubeConfigInvalid,
      `failed to load clusters: ${wrong.map((c) => `cluster "${c.name}": the clusters file says server ${c.server ?? ''}, its kubeconfig says ${known.get(c.name) ?? ''}`).join('; ')}`,
      { operation: 'configure' },
    );
  }
  return registry;
}

export async function start(config: ApplierConfig, deps: ApplierDeps = {}): Promise<ApplierService> {
  const logger = deps.logger ?? createLogger({ name: config.serviceName, level: config.logLevel });
  const registry = deps.registry ?? createMetricsRegistry({ service: config.serviceName, collectDefaults: true });
  const metrics = createApplierMetrics(registry);
  const ownTracing = deps.tracing === undefined;
  const tracing =
    deps.tracing ??
    (await startTracing({
      serviceName: config.serviceName,
      logger,
      ...(config.otlpEndpoint === undefined ? {} : { otlpEndpoint: config.otlpEndpoint }),
    }));
  const names = natsNames(config);
  const holder = `${config.serviceName}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

  let ready = false;
  let http: HttpServer | undefined;
  let nc: NatsConnection | undefined;
  let clusters: ClusterRegistry | undefined;
  let syncer: Syncer | undefined;
  let appsWatch: KvWatch | undefined;
  const consumers: EventConsumer[] = [];

  const stopConsumers = async (): Promise<void> => {
    const stopped = Promise.allSettled(consumers.map((c) => c.stop()));
    if (await withTimeout(stopped, config.shutdownGraceMs)) return;
    logger.warn(
      { running: syncer?.running() ?? 0, graceMs: config.shutdownGraceMs },
      'syncs still running after the grace period; stopping them',
    );
    syncer?.abort('the applier is closing');
    await withTimeout(stopped, 5_000);
  };

  const close = createCloser(
    [
      ['readiness', () => void (ready = false)],
      ['consumers and in-flight syncs', stopConsumers],
      ['leases', async () => syncer?.releaseLeases()],
      ['apps watch', async () => appsWatch?.stop()],
      ['clusters', async () => (deps.clusters === undefined ? clusters?.close() : undefined)],
      ['nats', async () => (nc && !nc.isClosed() ? closeNats(nc, config.shutdownGraceMs) : undefined)],
      ['tracing', async () => (ownTracing ? tracing.shutdown() : tracing.forceFlush())],
      ['http', async () => http?.close()],
    ],
    logger,
  );

  try {
    http = await startHttpServer({ host: config.httpHost, port: config.httpPort, logger, registry, isReady: () => ready });
    clusters = deps.clusters ?? openClusters(config);
    nc = await connectServiceNats(config, logger);
    await provisionJetStream(nc, config, logger);
    const bus = createEventBus({ nc, config, logger, tracer: tracing.tracer, registry });
    const [appsKv, operationKv, leasesKv, artifacts] = await Promise.all([
      openJsonKv<unknown>(nc, names.buckets.apps),
      openJsonKv<StoredOperationRecord>(nc, names.buckets.operation),
      openJsonKv<Lease>(nc, names.buckets.leases),
      openArtifactStore(nc, names.objectStore),
    ]);
    const apps = new Map<string, Application>();
    /** Every manifest seen, kept after its deletion: app.deleted may need the destination of a spec that is gone. */
    const lastKnown = new Map<string, Application>();
    appsWatch = await appsKv.watch((key, value) => {
      const app = toApplication(value, key, logger);
      if (app) {
        apps.set(key, app);
        lastKnown.set(key, app);
      } else apps.delete(key);
    });
    const appSource = {
      // The watch may lag a write made just before the event: read through on a miss.
      async get(name: string): Promise<Application | undefined> {
        return apps.get(name) ?? toApplication((await appsKv.get(name))?.value, name, logger);
      },
    };
    syncer = createSyncer({
      logger,
      tracer: tracing.tracer,
      bus,
      metrics,
      operationKv,
      leasesKv,
      artifacts,
      clusters,
      apps: appSource,
      holder,
      selfHealIntervalMs: config.selfHealIntervalMs,
      syncLeaseTtlMs: config.syncLeaseTtlMs,
      fieldManager: config.fieldManager,
      retryMs: config.retryMs,
      waveTimeoutMs: config.syncWaveTimeoutMs,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    });
    const rollbacks = createRollbackController({
      logger,
      bus,
      operationKv,
      apps: appSource,
      ...(deps.now === undefined ? {} : { now: deps.now }),
    });
    const inner = syncer;
    // A new revision of the target lifts the pause of an automatic rollback before the syncer decides.
    const pauseAware: Syncer = {
      ...inner,
      async onDiff(diff, eventId, traceContext) {
        await rollbacks.beforeDiff(diff);
        return inner.onDiff(diff, eventId, traceContext);
      },
    };
    const deleter = createDeleter({
      logger,
      operationKv,
      leasesKv,
      clusters,
      exists: async (name) => (await appsKv.get(name)) !== undefined,
      lastKnown: (name) => lastKnown.get(name),
      holder,
      syncLeaseTtlMs: config.syncLeaseTtlMs,
      retryMs: config.retryMs,
    });
    consumers.push(
      await bus.consume(
        {
          durable: DIFF_DURABLE,
          filterSubject: diffFilter(config.subjectPrefix),
          concurrency: config.concurrency,
          ackWaitMs: config.ackWaitMs,
        },
        createDiffHandler(pauseAware),
      ),
    );
    consumers.push(
      await bus.consume(
        { durable: SYNC_REQUEST_DURABLE, filterSubject: syncRequestFilter(config.subjectPrefix), ackWaitMs: config.ackWaitMs },
        createSyncRequestHandler(syncer),
      ),
      await bus.consume(
        { durable: REVISION_FAILED_DURABLE, filterSubject: revisionFailedFilter(config.subjectPrefix), ackWaitMs: config.ackWaitMs },
        createRevisionFailedHandler(syncer),
      ),
    );
    consumers.push(
      await bus.consume(
        { durable: APP_DELETED_DURABLE, filterSubject: appDeletedFilter(config.subjectPrefix), ackWaitMs: config.ackWaitMs },
        createAppDeletedHandler(deleter),
      ),
      await bus.consume(
        { durable: HEALTH_DURABLE, filterSubject: healthFilter(config.subjectPrefix), ackWaitMs: config.ackWaitMs },
        createHealthHandler(rollbacks),
      ),
      await bus.consume(
        { durable: ROLLBACK_DURABLE, filterSubject: rollbackFilter(config.subjectPrefix), ackWaitMs: config.ackWaitMs },
        createRollbackSyncHandler(rollbacks),
      ),
    );
    ready = true;
    logger.info({ url: http.url, holder, apps: apps.size, clusters: clusters.clusters().map((c) => c.name) }, 'applier started');
  } catch (error) {
    await close();
    throw error;
  }

  const s = syncer;
  return {
    url: http.url,
    holder,
    isReady: () => ready,
    running: () => s.running(),
    close,
  };
}
