/**
 * The health service's state machine per app: what it knows (spec, latest comparison, last sync,
 * last record), when it assesses (at once after a sync, debounced after watch events, periodically),
 * and what an assessment writes (the health record) and publishes (health.changed on a change of
 * status or revision). Assessments of one app never overlap; a request during one runs once after it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EventType, parseApplication } from '@ferry/contracts';
import type {
  Application,
  ComparisonStatusRecord,
  HealthChanged,
  HealthStatusRecord,
  OperationStatusRecord,
  ResourceId,
  SyncEvent,
 HealthStatus} from '@ferry/contracts';
import { resourceKey, trackingApp } from '@ferry/kube';
import type { KubeObject, WatchEvent } from '@ferry/kube';
import { SpanAttribute, withSpan } from '@ferry/runtime';
import type { EventBus, JsonKv, Logger, Tracer } from '@ferry/runtime';
import { apiVersionOf, assessApp, type AppHealth, type LiveObject } from './app-health.js';
import type { ClusterWatch, ClusterWatches, KindRef } from './cluster-watches.js';
import { AssessmentResult, type HealthMetrics } from './metrics.js';
import { contextOf } from './trace-context.js';

/**
 * What the health service stores in `<prefix>-status-health`: the contract's record plus its own
 * bookkeeping (ignored by readers that do not know it).
 */
export interface StoredHealthRecord extends HealthStatusRecord {
  /** Number of health.changed events published for this app; part of their message ids. */
  sequence: number;
  /** W3C traceparent of the sync that produced `revision` (health spans join that trace). */
  traceparent?: string;
  /** finishedAt of that sync: an older sync event (redelivered late) does not move the revision back. */
  syncFinishedAt?: string;
}

export interface HealthMonitorOptions {
  logger: Logger;
  tracer: Tracer;
  bus: EventBus;
  metrics: HealthMetrics;
  healthKv: JsonKv<StoredHealthRecord>;
  appsKv: JsonKv<unknown>;
  operationKv?: JsonKv<OperationStatusRecord>;
  watches: ClusterWatches;
  debounceMs: number;
  now?: () => Date;
}

interface AppState {
  app?: Application;
  comparison?: ComparisonStatusRecord;
  record?: { value: StoredHealthRecord; revision: number };
  sync?: { revision: string; traceparent?: string; finishedAt?: string; resources: ResourceId[] };
  /** Revision from the applier's operation record, read once when nothing else names one. */
  operationRevision?: string | null;
  timer?: NodeJS.Timeout;
  running?: Promise<AssessOutcome>;
  again?: Promise<AssessOutcome>;
}

/** What one assessment did. `error` means it should be retried (transient). */
export type AssessOutcome = { result: AssessmentResult; status?: HealthStatus; error?: unknown };

export interface HealthMonitor {
  /** The apps KV changed (`value` undefined: deleted). */
  setApp(name: string, value: unknown): void;
  /** The comparison KV changed. */
  setComparison(name: string, value: ComparisonStatusRecord | undefined): void;
  /** Loads the existing health records (at start). */
  loadRecords(records: Array<{ key: string; value: StoredHealthRecord; revision: number }>): void;
  /**
   * A sync completed (succeeded or failed): remembers its revision and trace, watches the kinds of
   * its resources and assesses the app at once. Resolves with the assessment's outcome.
   */
  onSyncCompleted(event: SyncEvent, traceparent: string | undefined): Promise<AssessOutcome>;
  /** A watch cache applied a change. Schedules (debounced) the apps it concerns. */
  onWatchEvent(cluster: string, event: WatchEvent): void;
  /** Watches the kinds of every known app's resources; resolves when each initial list settled. */
  watchKnownApps(): Promise<void>;
  /** Schedules (debounced) an assessment of every app with resources. */
  resyncAll(): void;
  /** Assesses now (after any running assessment of the app). */
  assess(name: string): Promise<AssessOutcome>;
  /** Apps with a comparison, a record or a sync. */
  knownApps(): string[];
  /** Stops scheduling, waits for running assessments (at most `graceMs`). Idempotent. */
  close(graceMs: number): Promise<void>;
}

const RETRY_AFTER_ERROR_MS = 1_000;

function kindsOf(resources: Iterable<Pick<ResourceId, 'group' | 'version' | 'kind'>>): KindRef[] {
  const out = new Map<string, KindRef>();
  for (const r of resources) {
    const apiVersion = apiVersionOf(r);
    out.set(`${apiVersion}/${r.kind}`, { apiVersion, kind: r.kind });
  }
  return [...out.values()];
}

function refOf(id: ResourceId): { apiVersion: string; kind: string; namespace?: string; name: string } {
  const ref: { apiVersion: string; kind: string; namespace?: string; name: string } = { apiVersion: apiVersionOf(id), kind: id.kind, name: id.name };
  if (id.namespace) ref.namespace = id.namespace;
  return ref;
}

function sameHealth(a: StoredHealthRecord, b: Omit<StoredHealthRecord, 'changedAt' | 'assessedAt' | 'sequence'>): boolean {
  return (
    a.status === b.status &&
    (a.message ?? '') === (b.message ?? '') &&
    a.revision === b.revision &&
    a.traceparent === b.traceparent &&
    JSON.stringify(a.resources) === JSON.stringify(b.resources)
  );
}

export function createHealthMonitor(options: HealthMonitorOptions): HealthMonitor {
  const { logger, tracer, bus, metrics, healthKv, appsKv, watches } = options;
  const now = options.now ?? (() => new Date());
  const apps = new Map<string, AppState>();
  /** uid of a tracked object → its app (for objects owned by it). */
  const trackedUids = new Map<string, string>();
  /** resourceKey of a desired object → apps whose comparison names it. */
  const desiredIndex = new Map<string, Set<string>>();
  const inflight = new Set<Promise<unknown>>();
  let closing = false;
  let closePromise: Promise<void> | undefined;

  const stateOf = (name: string): AppState => {
    let st = apps.get(name);
    if (!st) {
      st = {};
      apps.set(name, st);
    }
    return st;
  };

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  function indexComparison(name: string, previous: ComparisonStatusRecord | undefined, next: ComparisonStatusRecord | undefined): void {
    for (const r of previous?.resources ?? []) {
      const key = resourceKey(refOf(r));
      const set = desiredIndex.get(key);
      set?.delete(name);
      if (set?.size === 0) desiredIndex.delete(key);
    }
    for (const r of next?.resources ?? []) {
      const key = resourceKey(refOf(r));
      let set = desiredIndex.get(key);
      if (!set) {
        set = new Set();
        desiredIndex.set(key, set);
      }
      set.add(name);
    }
  }

  function watchOf(st: AppState): ClusterWatch {
    if (!st.app) throw new Error('app spec unknown');
    return watches.forDestination(st.app.spec.destination);
  }

  /** Resources whose kinds the app needs watched. */
  function resourcesOf(st: AppState): ResourceId[] {
    return [...(st.comparison?.resources ?? []), ...(st.record?.value.resources ?? []), ...(st.sync?.resources ?? [])];
  }

  async function ensureKindsFor(name: string, extra: ResourceId[] = []): Promise<{ failed: KindRef[] }> {
    const st = apps.get(name);
    if (!st?.app) return { failed: [] };
    let watch: ClusterWatch;
    try {
      watch = watchOf(st);
    } catch {
      return { failed: [] }; // the assessment reports the cluster problem as Unknown
    }
    return watch.ensureKinds(kindsOf([...resourcesOf(st), ...extra]));
  }

  function hasResources(st: AppState): boolean {
    return st.comparison !== undefined || st.record !== undefined || st.sync !== undefined;
  }

  function schedule(name: string, delayMs = options.debounceMs): void {
    if (closing) return;
    const st = apps.get(name);
    if (!st?.app || !hasResources(st) || st.timer) return;
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void monitor.assess(name);
    }, delayMs);
    st.timer.unref();
  }

  async function revisionOf(name: string, st: AppState): Promise<string | undefined> {
    if (st.sync) return st.sync.revision;
    if (st.record?.value.revision) return st.record.value.revision;
    if (st.operationRevision === undefined && options.operationKv) {
      try {
        const op = await options.operationKv.get(name);
        st.operationRevision = op?.value.lastSyncedRevision ?? op?.value.operationState?.syncResult?.revision ?? null;
      } catch (error) {
        logger.debug({ err: error, app: name }, 'cannot read the operation record');
      }
    }
    return st.operationRevision ?? undefined;
  }

  function evaluate(name: string, st: AppState): AppHealth {
    const desired = (st.comparison?.resources ?? [])
      .filter((r) => r.requiresPruning !== true)
      .map(({ group, version, kind, namespace, name: n }) => ({ group, version, kind, namespace, name: n }));
    if (st.comparison === undefined && st.sync) {
      desired.push(...st.sync.resources);
    }
    let watch: ClusterWatch | undefined;
    let clusterError: string | undefined;
    try {
      watch = watchOf(st);
    } catch (error) {
      clusterError = error instanceof Error ? error.message : String(error);
    }
    return assessApp({
      desired,
      tracked: (watch?.cache.listTracked(name) ?? []) as LiveObject[],
      live: (id) => watch?.cache.get(refOf(id)) as LiveObject | undefined,
      liveState: (id) => (watch ? watch.liveState(apiVersionOf(id), id.kind) : 'unavailable'),
      ...(clusterError === undefined ? {} : { clusterError }),
    });
  }

  async function assessOnce(name: string): Promise<AssessOutcome> {
    const st = apps.get(name);
    if (closing || !st?.app || !hasResources(st)) return { result: AssessmentResult.Unchanged };
    const stopTimer = metrics.duration.startTimer();
    try {
      const health = evaluate(name, st);
      const revision = await revisionOf(name, st);
      const prev = st.record?.value;
      const traceparent = st.sync?.traceparent ?? prev?.traceparent;
      const candidate = {
        app: name,
        status: health.status,
        ...(health.message === undefined ? {} : { message: health.message }),
        ...(revision === undefined ? {} : { revision }),
        resources: health.resources,
        ...(traceparent === undefined ? {} : { traceparent }),
        ...(st.sync?.finishedAt ?? prev?.syncFinishedAt ? { syncFinishedAt: (st.sync?.finishedAt ?? prev?.syncFinishedAt) as string } : {}),
      };
      if (prev && sameHealth(prev, candidate)) {
        metrics.setAppStatus(name, health.status);
        metrics.assessments.inc({ result: AssessmentResult.Unchanged });
        return { result: AssessmentResult.Unchanged, status: health.status };
      }
      const statusChanged = !prev || prev.status !== health.status || prev.revision !== revision;
      const at = now().toISOString();
      const sequence = (prev?.sequence ?? 0) + (statusChanged ? 1 : 0);
      const record: StoredHealthRecord = {
        ...candidate,
        changedAt: statusChanged || !prev ? at : prev.changedAt,
        assessedAt: at,
        sequence,
      };
      const attributes = { [SpanAttribute.App]: name, [SpanAttribute.Revision]: revision ?? '', 'ferry.health.status': health.status };
      await withSpan(
        tracer,
        'health.assess',
        attributes,
        async (span) => {
          if (statusChanged) {
            if (closing) throw new Error('closing: not publishing');
            const data: HealthChanged = {
              app: name,
              ...(revision === undefined ? {} : { revision }),
              status: health.status,
              ...(prev ? { previousStatus: prev.status } : {}),
              ...(health.message === undefined ? {} : { message: health.message }),
              resources: health.resources,
              changedAt: at,
            };
            const msgId = `health.changed:${name}:${revision ?? 'none'}:${health.status}:${sequence}`;
            span.setAttribute('ferry.health.previous_status', prev?.status ?? '');
            await bus.publish(EventType.HealthChanged, name, data, { msgId });
          }
          const kvRevision = st.record
            ? await healthKv.update(name, record, st.record.revision)
            : await healthKv.create(name, record);
          if (kvRevision === undefined) {
            // Someone else wrote the record (another replica): reload and assess again.
            const fresh = await healthKv.get(name);
            if (fresh) st.record = fresh;
            else delete st.record;
            throw new Error(`health record of ${name} changed concurrently`);
          }
          st.record = { value: record, revision: kvRevision };
        },
        contextOf(traceparent),
      );
      metrics.setAppStatus(name, health.status);
      metrics.assessments.inc({ result: AssessmentResult.Changed });
      if (statusChanged) logger.info({ app: name, revision, status: health.status, previousStatus: prev?.status }, 'health changed');
      return { result: AssessmentResult.Changed, status: health.status };
    } catch (error) {
      metrics.assessments.inc({ result: AssessmentResult.Error });
      if (!closing) {
        logger.warn({ err: error, app: name }, 'health assessment failed; retrying');
        schedule(name, RETRY_AFTER_ERROR_MS);
      }
      return { result: AssessmentResult.Error, error };
    } finally {
      stopTimer();
    }
  }

  const monitor: HealthMonitor = {
    setApp(name, value) {
      if (value === undefined) {
        const st = apps.get(name);
        if (st?.timer) clearTimeout(st.timer);
        if (st) indexComparison(name, st.comparison, undefined);
        apps.delete(name);
        metrics.forgetApp(name);
        if (!closing) {
          void track(healthKv.delete(name)).catch((error: unknown) => logger.warn({ err: error, app: name }, 'cannot delete the health record of a deleted app'));
        }
        return;
      }
      let app: Application;
      try {
        app = parseApplication(value);
      } catch (error) {
        logger.warn({ err: error, app: name }, 'ignoring an invalid application spec');
        return;
      }
      const st = stateOf(name);
      st.app = app;
      if (hasResources(st) && !closing) {
        void track(ensureKindsFor(name)).then(() => schedule(name), () => undefined);
      }
    },

    setComparison(name, value) {
      const st = stateOf(name);
      indexComparison(name, st.comparison, value);
      if (value === undefined) delete st.comparison;
      else st.comparison = value;
      if (st.app && !closing) void track(ensureKindsFor(name)).then(() => schedule(name), () => undefined);
    },

    loadRecords(records) {
      for (const { key, value, revision } of records) {
        const st = stateOf(key);
        st.record = { value, revision };
        metrics.setAppStatus(key, value.status);
      }
    },

    async onSyncCompleted(event, traceparent) {
      const name = event.app;
      const st = stateOf(name);
      const finishedAt = event.finishedAt ?? event.startedAt;
      const known = st.sync?.finishedAt ?? st.record?.value.syncFinishedAt;
      if (known !== undefined && finishedAt < known) {
        logger.debug({ app: name, revision: event.revision }, 'older sync event: revision kept');
      } else {
        const resources = event.resources
          .filter((r) => r.status !== 'Pruned')
          .map(({ group, version, kind, namespace, name: n }) => ({ group, version, kind, namespace, name: n }));
        st.sync = { revision: event.revision, finishedAt, resources, ...(traceparent === undefined ? {} : { traceparent }) };
      }
      if (!st.app) {
        const stored = await appsKv.get(name);
        if (stored) monitor.setApp(name, stored.value);
        if (!st.app) {
          logger.info({ app: name }, 'sync event for an app that is not registered: nothing to assess');
          return { result: AssessmentResult.Unchanged };
        }
      }
      const { failed } = await track(ensureKindsFor(name, event.resources));
      if (failed.length > 0) {
        return { result: AssessmentResult.Error, error: new Error(`cannot watch ${failed.map((k) => `${k.apiVersion}/${k.kind}`).join(', ')}`) };
      }
      return monitor.assess(name);
    },

    onWatchEvent(_cluster, event) {
      if (closing) return;
      const object: KubeObject = event.object;
      const targets = new Set<string>();
      const owner = trackingApp(object);
      const uid = object.metadata.uid;
      if (owner !== undefined) {
        targets.add(owner);
        if (uid) {
          if (event.type === 'DELETED') trackedUids.delete(uid);
          else trackedUids.set(uid, owner);
        }
      }
      for (const ref of object.metadata.ownerReferences ?? []) {
        const app = trackedUids.get(ref.uid);
        if (app !== undefined) targets.add(app);
      }
      for (const app of desiredIndex.get(resourceKey(object)) ?? []) targets.add(app);
      for (const app of targets) schedule(app);
    },

    async watchKnownApps() {
      await Promise.all([...apps.keys()].map((name) => ensureKindsFor(name)));
    },

    resyncAll() {
      if (closing) return;
      for (const name of apps.keys()) {
        void track(ensureKindsFor(name)).then(() => schedule(name), () => undefined);
      }
    },

    assess(name) {
      const st = apps.get(name);
      if (!st || closing) return Promise.resolve({ result: AssessmentResult.Unchanged });
      if (st.timer) {
        clearTimeout(st.timer);
        st.timer = undefined;
      }
      if (st.running) {
        // One follow-up run covers every request made while an assessment runs.
        st.again ??= st.running.then(() => {
          st.again = undefined;
          return monitor.assess(name);
        });
        return st.again;
      }
      const run = track(assessOnce(name)).finally(() => {
        if (st.running === run) st.running = undefined;
      });
      st.running = run;
      return run;
    },

    knownApps() {
      return [...apps.entries()].filter(([, st]) => hasResources(st)).map(([name]) => name);
    },

    close(graceMs) {
      closePromise ??= (async () => {
        closing = true;
        for (const st of apps.values()) {
          if (st.timer) clearTimeout(st.timer);
          st.timer = undefined;
        }
        const all = Promise.allSettled([...inflight]);
        await Promise.race([all, sleep(graceMs, undefined, { ref: false })]);
      })();
      return closePromise;
    },
  };
  return monitor;
}
