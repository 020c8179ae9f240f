/**
 * The differ's state machine per app: what it knows (spec, the desired set of its latest revision,
 * the last record), when it compares (on revision.detected; debounced after watch events touching the
 * app; after a spec change, a restart, a resync), and what a comparison writes (the comparison record)
 * and publishes (diff.computed). Comparisons of one app never overlap.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EventType, FerryError, SyncStatus, parseApplication } from '@ferry/contracts';
import type { Application, DiffComputed, ResourceComparison, RevisionDetected, SyncIntent } from '@ferry/contracts';
import {
  IgnoreDifferencesError,
  KubeError,
  compileIgnoreDifferences,
  discoverScopes,
  isTransient,
  prepareDesired,
  refOf,
  resourceKey,
  trackingApp,
} from '@ferry/kube';
import type { CompiledIgnoreRules, KubeObject, WatchEvent } from '@ferry/kube';
import { SpanAttribute, withSpan } from '@ferry/runtime';
import type { ArtifactStore, Context, EventBus, JsonKv, Logger, Tracer } from '@ferry/runtime';
import type { ClusterCache, ClusterCaches, KindRef } from './cluster-caches.js';
import { compareApp, isHook, type AppDiff } from './domain/compare.js';
import { appDiffs, diffsHash, diffsKey } from './domain/diffs.js';
import {
  ArtifactError,
  comparedRecord,
  driftMessageId,
  failedRecord,
  kindsOf,
  parseArtifact,
  revisionMessageId,
  toResourceComparison,
  type RecordContext,
  type StoredComparisonRecord,
} from './domain/result.js';
import { MetricReason, resultOf, type DifferMetrics } from './metrics.js';
import { contextOf, traceparentOf } from './trace-context.js';

/** Ferry's server-side apply field manager: its managedFields entries tell what Git used to declare. */
export const FIELD_MANAGER = 'ferry';

/** Namespace of namespaced objects that name none when the app's destination names none either (kubectl's default). */
export const DEFAULT_NAMESPACE = 'default';

export interface AppComparerOptions {
  logger: Logger;
  tracer: Tracer;
  bus: EventBus;
  metrics: DifferMetrics;
  comparisonKv: JsonKv<StoredComparisonRecord>;
  appsKv: JsonKv<unknown>;
  artifacts: ArtifactStore;
  caches: ClusterCaches;
  /** Watch events of one app within this window cause one re-comparison (trailing, at most 5× this late, capped at 1 s). */
  debounceMs: number;
  /** Delay before a drift comparison that failed is tried again. */
  retryMs: number;
  now?: () => Date;
}

/** What handling one revision.detected came to. */
export type RevisionOutcome =
  | { kind: 'compared'; status: SyncStatus }
  | { kind: 'ignored'; reason: string }
  /** A transient failure (cluster unreachable): the record says Unknown; the event should be redelivered. */
  | { kind: 'retry'; error: unknown };

/** What one comparison came to. */
export interface CompareOutcome {
  status: SyncStatus;
  /** diff.computed was published. */
  published: boolean;
  /** Set when the comparison failed transiently and should be retried. */
  transientError?: unknown;
}

export interface AppComparer {
  /** The apps KV changed (`value` undefined: deleted). */
  setApp(name: string, value: unknown): void;
  /** Loads the existing comparison records (at start, before resume). */
  loadRecords(records: Array<{ key: string; value: StoredComparisonRecord; revision: number }>): void;
  /** Re-loads the artifact of every recorded app and compares it (a restart resumes); resolves when all are done. */
  resumeAll(): Promise<void>;
  /** Handles a revision.detected: load, prepare, watch, compare, publish, record. Throws on NATS failures. */
  onRevisionDetected(event: RevisionDetected, traceContext: Context): Promise<RevisionOutcome>;
  /** A watch cache applied a change in `cluster`: schedules (debounced) the apps it touches. */
  onWatchEvent(cluster: string, event: WatchEvent): void;
  /** Schedules a re-comparison of every app with a desired set (also retries failed watches). */
  resyncAll(): void;
  /** Compares an app from the cache now (after any running comparison), as a drift comparison would. */
  compare(name: string): Promise<CompareOutcome | undefined>;
  /** Stops scheduling; waits for running comparisons (at most `graceMs`). Idempotent. */
  close(graceMs: number): Promise<void>;
}

interface Source {
  revision: string;
  artifactKey: string;
  /** The rendered objects (unprepared); undefined when the artifact could not be loaded. */
  objects?: KubeObject[];
  error?: FerryError;
}

interface AppState {
  spec?: Application;
  /** The spec's ignoreDifferences, compiled; or why they cannot be (a ComparisonError until the spec changes). */
  ignore?: CompiledIgnoreRules;
  ignoreError?: IgnoreDifferencesError;
  /** diffsHash of the `diffs.<app>` document last written. */
  diffsHash?: string;
  source?: Source;
  prepared?: { for: string; desired: KubeObject[]; complete: boolean };
  record?: { value: StoredComparisonRecord; revision: number };
  traceparent?: string;
  detectedAt?: string;
  /** Cluster of the last comparison (watch events of other clusters do not concern the app). */
  cluster?: string;
  /** `cluster|resourceKey` of every desired object, as indexed. */
  indexed: string[];
  timer?: NodeJS.Timeout;
  pendingSince?: number;
  driftQueued: boolean;
  chain: Promise<unknown>;
  hasUnknownKinds: boolean;
  kindRetryTimer?: NodeJS.Timeout;
  kindRetryMs: number;
}

const KIND_RETRY_MIN_MS = 1_000;
const KIND_RETRY_MAX_MS = 30_000;
const COMMIT_ATTEMPTS = 3;

interface Failure {
  code: string;
  message: string;
  transient: boolean;
}

function failureOf(error: unknown): Failure | undefined {
  if (error instanceof KubeError) return { code: error.code, message: error.message, transient: isTransient(error) };
  if (error instanceof FerryError) return { code: error.code, message: error.message, transient: false };
  return undefined;
}

function kindsOfResources(resources: readonly ResourceComparison[]): KindRef[] {
  return resources.map((r) => ({ apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`, kind: r.kind }));
}

export function createAppComparer(options: AppComparerOptions): AppComparer {
  const { logger, tracer, bus, metrics, comparisonKv, appsKv, artifacts, caches } = options;
  const now = options.now ?? (() => new Date());
  const maxWaitMs = Math.max(options.debounceMs, Math.min(1_000, options.debounceMs * 5));
  const apps = new Map<string, AppState>();
  /** `cluster|resourceKey` of a desired object → apps whose desired set names it. */
  const desiredIndex = new Map<string, Set<string>>();
  const inflight = new Set<Promise<unknown>>();
  let closing = false;
  let closePromise: Promise<void> | undefined;

  const stateOf = (name: string): AppState => {
    let st = apps.get(name);
    if (!st) {
      st = { indexed: [], driftQueued: false, chain: Promise.resolve(), hasUnknownKinds: false, kindRetryMs: KIND_RETRY_MIN_MS };
      apps.set(name, st);
    }
    return st;
  };

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  /** Runs `fn` after every earlier piece of work on the app. */
  const serialize = <T>(st: AppState, fn: () => Promise<T>): Promise<T> => {
    const run = st.chain.then(fn, fn);
    st.chain = run.catch(() => undefined);
    return track(run);
  };

  function reindex(name: string, st: AppState, keys: string[]): void {
    for (const key of st.indexed) {
      const set = desiredIndex.get(key);
      set?.delete(name);
      if (set?.size === 0) desiredIndex.delete(key);
    }
    for (const key of keys) {
      let set = desiredIndex.get(key);
      if (!set) {
        set = new Set();
        desiredIndex.set(key, set);
      }
      set.add(name);
    }
    st.indexed = keys;
  }

  function clearTimers(st: AppState): void {
    if (st.timer) clearTimeout(st.timer);
    if (st.kindRetryTimer) clearTimeout(st.kindRetryTimer);
    st.timer = undefined;
    st.kindRetryTimer = undefined;
    st.pendingSince = undefined;
  }

  /** Schedules a drift comparison: trailing debounce, but never later than maxWaitMs after the first request. */
  function scheduleDrift(name: string, delayMs?: number): void {
    if (closing) return;
    const st = apps.get(name);
    if (!st?.source || !st.spec) return;
    const at = Date.now();
    st.pendingSince ??= at;
    if (st.timer) clearTimeout(st.timer);
    const wait = delayMs ?? Math.max(0, Math.min(options.debounceMs, st.pendingSince + maxWaitMs - at));
    st.timer = setTimeout(() => {
      st.timer = undefined;
      st.pendingSince = undefined;
      runDrift(name);
    }, wait);
    st.timer.unref();
  }

  function runDrift(name: string): void {
    const st = apps.get(name);
    if (!st || st.driftQueued || closing) return;
    st.driftQueued = true;
    serialize(st, async () => {
      st.driftQueued = false;
      if (closing || apps.get(name) !== st) return;
      const outcome = await compareLocked(name, st, MetricReason.Drift);
      if (outcome?.transientError !== undefined) scheduleDrift(name, options.retryMs);
    }).catch((error: unknown) => {
      if (closing) return;
      logger.warn({ err: error, app: name }, 'drift comparison failed; retrying');
      scheduleDrift(name, options.retryMs);
    });
  }

  function scheduleKindRetry(name: string, st: AppState): void {
    if (closing || st.kindRetryTimer) return;
    const delay = st.kindRetryMs;
    st.kindRetryMs = Math.min(delay * 2, KIND_RETRY_MAX_MS);
    st.kindRetryTimer = setTimeout(() => {
      st.kindRetryTimer = undefined;
      scheduleDrift(name, 0);
    }, delay);
    st.kindRetryTimer.unref();
  }

  /** The desired set prepared for the app's destination (discovery decides namespaces). */
  async function preparedDesired(st: AppState, cc: ClusterCache, objects: KubeObject[]): Promise<KubeObject[]> {
    const spec = st.spec as Application;
    const key = `${st.source?.artifactKey}|${cc.name}|${spec.spec.destination.namespace ?? ''}`;
    if (st.prepared?.for === key && st.prepared.complete) return st.prepared.desired;
    // Hooks (argocd.argoproj.io/hook, Skip included) are the applier's to run: not compared, not pruned.
    const compared = objects.filter((o) => !isHook(o));
    const isNamespaced = await discoverScopes(cc.client, compared);
    const desired = prepareDesired(spec.metadata.name, compared, {
      defaultNamespace: spec.spec.destination.namespace || DEFAULT_NAMESPACE,
      isNamespaced,
    });
    // Kinds the cluster does not serve yet were scoped by guess: prepare again once they are served.
    const complete = compared.every((o) => isNamespaced(o.apiVersion, o.kind) !== undefined);
    st.prepared = { for: key, desired, complete };
    return desired;
  }

  interface Compared {
    diff?: AppDiff;
    failure?: Failure;
  }

  async function evaluate(name: string, st: AppState): Promise<Compared> {
    const spec = st.spec as Application;
    const source = st.source as Source;
    if (source.error) return { failure: failureOf(source.error) as Failure };
    if (st.ignoreError) return { failure: failureOf(st.ignoreError) as Failure };
    try {
      const cc = caches.forDestination(spec.spec.destination);
      if (st.cluster !== undefined && st.cluster !== cc.name) reindex(name, st, []);
      st.cluster = cc.name;
      const desired = await preparedDesired(st, cc, source.objects ?? []);
      reindex(
        name,
        st,
        desired.map((o) => `${cc.name}|${resourceKey(o)}`),
      );
      // Also the kinds of the last result: tracked objects no longer in Git must be seen to be pruned.
      const kinds = [...kindsOf(desired), ...kindsOfResources(st.record?.value.resources ?? [])];
      const ensured = await cc.ensureKinds(kinds);
      const firstFailure = ensured.failed[0];
      if (firstFailure) throw firstFailure.error;
      st.hasUnknownKinds = ensured.unknown.length > 0 || !(st.prepared?.complete ?? true);
      if (st.hasUnknownKinds) scheduleKindRetry(name, st);
      else st.kindRetryMs = KIND_RETRY_MIN_MS;
      const live = new Map<string, KubeObject>();
      for (const object of desired) {
        const found = cc.cache.get(refOf(object));
        if (found) live.set(resourceKey(object), found);
      }
      const diff = compareApp(desired, live, cc.cache.listTracked(name), resourceKey, {
        fieldManager: FIELD_MANAGER,
        ...(st.ignore === undefined ? {} : { ignore: st.ignore }),
      });
      return { diff };
    } catch (error) {
      const failure = failureOf(error);
      if (!failure) throw error;
      return { failure };
    }
  }

  /** Compares, then publishes and records as the reason requires. Call inside serialize(). */
  async function compareLocked(
    name: string,
    st: AppState,
    reason: MetricReason,
    sync?: SyncIntent,
    parent?: Context,
  ): Promise<CompareOutcome | undefined> {
    if (!st.spec || !st.source) return undefined;
    const source = st.source;
    const stopTimer = metrics.duration.startTimer();
    const attributes = { [SpanAttribute.App]: name, [SpanAttribute.Revision]: source.revision, 'ferry.compare.reason': reason };
    try {
      return await withSpan(
        tracer,
        'differ.compare',
        attributes,
        async (span) => {
          const compared = await evaluate(name, st);
          const { failure } = compared;
          const resources = compared.diff?.resources.map(toResourceComparison) ?? [];
          if (compared.diff) {
            for (const r of compared.diff.resources) {
              if (r.status !== SyncStatus.Synced)
                logger.debug({ app: name, resource: r.key, differences: r.differences }, 'resource differs');
            }
          }
          if (compared.diff) await storeDiffs(name, st, source, compared.diff);
          let outcome: CompareOutcome | undefined;
          for (let attempt = 1; attempt <= COMMIT_ATTEMPTS && outcome === undefined; attempt++) {
            outcome = await commit(name, st, source, reason, compared, resources, sync);
          }
          if (!outcome) throw new Error(`comparison record of ${name} keeps changing concurrently`);
          span.setAttribute('ferry.sync.status', outcome.status);
          if (failure) span.setAttribute('ferry.error.code', failure.code);
          metrics.comparisons.inc({ reason, result: resultOf(outcome.status) });
          metrics.setAppStatus(name, outcome.status);
          return outcome;
        },
        parent ?? contextOf(st.traceparent),
      );
    } finally {
      stopTimer();
    }
  }

  /** Writes `diffs.<app>` (object store) when its content changed since the last write. */
  async function storeDiffs(name: string, st: AppState, source: Source, diff: AppDiff): Promise<void> {
    const doc = appDiffs(name, source.revision, now().toISOString(), diff.resources);
    const hash = diffsHash(doc);
    if (hash === (st.diffsHash ?? st.record?.value.diffsHash)) return;
    await artifacts.putJson(diffsKey(name), doc);
    st.diffsHash = hash;
  }

  /**
   * Decides what to publish and write, publishes, then writes the record (CAS). Undefined when the
   * record changed under us (another replica): the caller tries again with the fresh record.
   */
  async function commit(
    name: string,
    st: AppState,
    source: Source,
    reason: MetricReason,
    compared: Compared,
    resources: ResourceComparison[],
    sync: SyncIntent | undefined,
  ): Promise<CompareOutcome | undefined> {
    if (apps.get(name) !== st) return { status: SyncStatus.Unknown, published: false }; // the app was deleted meanwhile
    const prev = st.record?.value;
    const at = now().toISOString();
    const ctx: RecordContext = {
      app: name,
      revision: source.revision,
      artifactKey: source.artifactKey,
      now: at,
      previous: prev,
      traceparent: st.traceparent,
      detectedAt: st.detectedAt,
    };
    const sameArtifact = prev?.artifactKey === source.artifactKey;
    const sequence = sameArtifact ? prev.driftSequence : 0;
    const { failure, diff } = compared;
    const record = failure ? failedRecord(ctx, failure, sequence) : comparedRecord(ctx, (diff as AppDiff).syncStatus, resources, sequence);
    const hashOfDiffs = st.diffsHash ?? prev?.diffsHash;
    if (hashOfDiffs !== undefined) record.diffsHash = hashOfDiffs;
    const changed = !prev || !sameArtifact || prev.statusesHash !== record.statusesHash;
    const diffsChanged = prev?.diffsHash !== record.diffsHash;
    const conditionsChanged = JSON.stringify(prev?.conditions ?? []) !== JSON.stringify(record.conditions);

    let msgId: string | undefined;
    if (reason === MetricReason.Revision) {
      if (!failure?.transient) msgId = revisionMessageId(name, source.artifactKey, record.statusesHash, sync?.requestId);
    } else if (changed) {
      record.driftSequence = sequence + 1;
      msgId = driftMessageId(name, source.artifactKey, record.statusesHash, record.driftSequence);
    }
    const write = reason === MetricReason.Revision || changed || conditionsChanged || diffsChanged;
    if (closing && msgId !== undefined && reason === MetricReason.Drift) throw new Error('closing: not publishing');
    if (msgId !== undefined) {
      const data: DiffComputed = {
        app: name,
        revision: source.revision,
        artifactKey: source.artifactKey,
        syncStatus: record.status,
        reason,
        resources: record.resources,
        comparedAt: at,
        ...(sync === undefined ? {} : { sync }),
      };
      await bus.publish(EventType.DiffComputed, name, data, { msgId });
    }
    if (write) {
      const kvRevision = st.record ? await comparisonKv.update(name, record, st.record.revision) : await comparisonKv.create(name, record);
      if (kvRevision === undefined) {
        const fresh = await comparisonKv.get(name);
        if (fresh) st.record = fresh;
        else delete st.record;
        return undefined;
      }
      st.record = { value: record, revision: kvRevision };
    }
    if (msgId !== undefined) {
      logger.info(
        {
          app: name,
          revision: source.revision,
          reason,
          status: record.status,
          resources: record.resources.length,
          ...(failure ? { code: failure.code } : {}),
        },
        'diff computed',
      );
    }
    return {
      status: record.status,
      published: msgId !== undefined,
      ...(failure?.transient ? { transientError: failure } : {}),
    };
  }

  async function loadSource(revision: string, artifactKey: string): Promise<Source> {
    try {
      return { revision, artifactKey, objects: parseArtifact(artifactKey, await artifacts.getJson<unknown>(artifactKey)) };
    } catch (error) {
      if (error instanceof ArtifactError) return { revision, artifactKey, error };
      throw error; // NATS unavailable, or not JSON: retried
    }
  }

  function applySpec(name: string, st: AppState, value: unknown): boolean {
    let app: Application;
    try {
      app = parseApplication(value);
    } catch (error) {
      logger.warn({ err: error, app: name }, 'ignoring an invalid application spec');
      return false;
    }
    const destinationChanged = JSON.stringify(st.spec?.spec.destination) !== JSON.stringify(app.spec.destination);
    const ignoreChanged =
      st.spec === undefined || JSON.stringify(st.spec.spec.ignoreDifferences) !== JSON.stringify(app.spec.ignoreDifferences);
    st.spec = app;
    if (destinationChanged) st.prepared = undefined;
    if (ignoreChanged) {
      try {
        st.ignore = compileIgnoreDifferences(app.spec.ignoreDifferences);
        delete st.ignoreError;
      } catch (error) {
        if (!(error instanceof IgnoreDifferencesError)) throw error;
        delete st.ignore;
        st.ignoreError = error;
        logger.warn({ err: error, app: name }, 'spec.ignoreDifferences cannot be evaluated; the app compares Unknown until it is fixed');
      }
    }
    return destinationChanged || ignoreChanged;
  }

  const comparer: AppComparer = {
    setApp(name, value) {
      if (value === undefined) {
        const st = apps.get(name);
        if (!st) return;
        clearTimers(st);
        reindex(name, st, []);
        apps.delete(name);
        metrics.forgetApp(name);
        if (!closing) {
          track(comparisonKv.delete(name)).catch((error: unknown) =>
            logger.warn({ err: error, app: name }, 'cannot delete the comparison record of a deleted app'),
          );
        }
        return;
      }
      const st = stateOf(name);
      const hadSpec = st.spec !== undefined;
      if (applySpec(name, st, value) && hadSpec && st.source) scheduleDrift(name, 0);
    },

    loadRecords(records) {
      for (const { key, value, revision } of records) {
        const st = stateOf(key);
        st.record = { value, revision };
        if (value.traceparent !== undefined) st.traceparent = value.traceparent;
        if (value.detectedAt !== undefined) st.detectedAt = value.detectedAt;
        metrics.setAppStatus(key, value.status);
      }
    },

    async resumeAll() {
      await Promise.all(
        [...apps.entries()].map(async ([name, st]) => {
          const record = st.record?.value;
          if (!record || !st.spec || st.source) return;
          try {
            await serialize(st, async () => {
              if (st.source || closing) return; // a revision.detected came first
              st.source = await loadSource(record.revision, record.artifactKey);
              await compareLocked(name, st, MetricReason.Drift);
            });
          } catch (error) {
            logger.warn({ err: error, app: name }, 'cannot resume the comparison of an app; retrying at the next resync');
          }
        }),
      );
    },

    async onRevisionDetected(event, traceContext) {
      const name = event.app;
      const st = stateOf(name);
      return serialize(st, async (): Promise<RevisionOutcome> => {
        if (!st.spec) {
          const stored = await appsKv.get(name);
          if (stored) applySpec(name, st, stored.value);
        }
        if (!st.spec) {
          if (!st.record) apps.delete(name);
          logger.info({ app: name, revision: event.revision }, 'revision detected for an app that is not registered: nothing to compare');
          return { kind: 'ignored', reason: 'app not registered' };
        }
        const stale = st.detectedAt !== undefined && event.detectedAt < st.detectedAt && event.artifactKey !== st.source?.artifactKey;
        if (stale && !event.sync) {
          logger.info({ app: name, revision: event.revision, current: st.source?.revision }, 'older revision.detected: ignored');
          return { kind: 'ignored', reason: 'older revision' };
        }
        // A sync naming a revision (a rollback, `ferry app sync --revision`) compares that revision's own artifact.
        if (!stale || !st.source || event.sync?.revision !== undefined) {
          st.source = await loadSource(event.revision, event.artifactKey);
          st.prepared = undefined;
          const traceparent = traceparentOf(traceContext);
          if (traceparent === undefined) delete st.traceparent;
          else st.traceparent = traceparent;
          st.detectedAt = event.detectedAt;
        }
        // A stale event with a plain sync intent: the sync asked for the latest revision, which is the current one.
        const outcome = await compareLocked(name, st, MetricReason.Revision, event.sync, traceContext);
        if (!outcome) return { kind: 'ignored', reason: 'nothing to compare' };
        if (outcome.transientError !== undefined) return { kind: 'retry', error: outcome.transientError };
        return { kind: 'compared', status: outcome.status };
      });
    },

    onWatchEvent(cluster, event) {
      if (closing) return;
      const object = event.object;
      const targets = new Set<string>();
      const owner = trackingApp(object);
      if (owner !== undefined) targets.add(owner);
      for (const app of desiredIndex.get(`${cluster}|${resourceKey(object)}`) ?? []) targets.add(app);
      let touched = false;
      for (const app of targets) {
        const st = apps.get(app);
        if (!st?.source || st.cluster !== cluster) continue;
        touched = true;
        scheduleDrift(app);
      }
      if (touched) metrics.driftEvents.inc();
      if (object.kind === 'CustomResourceDefinition') {
        // A kind may have become servable: apps waiting for one compare again now.
        for (const [app, st] of apps) if (st.hasUnknownKinds && st.cluster === cluster) scheduleDrift(app);
      }
    },

    resyncAll() {
      if (closing) return;
      let resume = false;
      for (const [name, st] of apps) {
        if (st.source) scheduleDrift(name);
        else if (st.record && st.spec) resume = true;
      }
      if (resume) track(comparer.resumeAll()).catch(() => undefined);
    },

    async compare(name) {
      const st = apps.get(name);
      if (!st || closing) return undefined;
      if (st.timer) clearTimeout(st.timer);
      st.timer = undefined;
      st.pendingSince = undefined;
      return serialize(st, () => compareLocked(name, st, MetricReason.Drift));
    },

    close(graceMs) {
      closePromise ??= (async () => {
        closing = true;
        for (const st of apps.values()) clearTimers(st);
        await Promise.race([Promise.allSettled([...inflight]), sleep(graceMs, undefined, { ref: false })]);
      })();
      return closePromise;
    },
  };
  return comparer;
}
