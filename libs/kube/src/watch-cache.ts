import { ErrorCode } from '@ferry/contracts';
import type { ClusterClient, RawWatchEvent } from './client.js';
import { groupOf, resourceKey } from './domain/identity.js';
import { trackingApp } from './domain/tracking.js';
import { KubeError, parseStatusBody } from './errors.js';
import type { ApiResource, KubeLogger, KubeObject, ObjectRef, WatchEvent } from './types.js';

export interface WatchCacheOptions {
  logger?: KubeLogger;
  /**
   * Called after the cache has applied each change: every object of the initial list (ADDED), each
   * watch event, and the differences found by a relist. Exceptions are logged and swallowed.
   */
  onEvent?: (event: WatchEvent) => void;
  /** First delay before restarting a failed watch, in ms; doubles per failure. Default 100. */
  minBackoffMs?: number;
  /** Largest restart delay, in ms. Default 5000. */
  maxBackoffMs?: number;
  /** Server-side watch timeout, in seconds (jittered up to +50%). Default 300. */
  watchTimeoutSeconds?: number;
}

/** A list+watch cache of whole kinds in one cluster. */
export interface WatchCache {
  /**
   * Starts (once) a list+watch of the kind, all namespaces; resolves after the initial list is in the
   * cache. Rejects (FERRY_ERR_KUBE_KIND_UNKNOWN, or the list's error) and forgets the kind when the
   * initial list fails, so a later call tries again. Later failures restart the watch with backoff.
   */
  ensureWatched(apiVersion: string, kind: string): Promise<void>;
  /** True when the kind has been listed and is being watched. */
  isWatched(apiVersion: string, kind: string): boolean;
  /** The cached object, or undefined (absent, or its kind is not watched). Shared: do not modify. */
  get(ref: ObjectRef): KubeObject | undefined;
  /** Cached objects of a watched kind, optionally in one namespace. Shared: do not modify. */
  list(apiVersion: string, kind: string, options?: { namespace?: string }): KubeObject[];
  /** Objects of every watched kind whose tracking annotation names the app (and the object itself). */
  listTracked(app: string): KubeObject[];
  /** Stops every watch and timer; idempotent. */
  close(): Promise<void>;
}

function typeKey(apiVersion: string, kind: string): string {
  return `${groupOf(apiVersion)}/${kind}`;
}

const silent: KubeLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface CacheHooks {
  logger: KubeLogger;
  emit(event: WatchEvent): void;
  indexSet(key: string, previous: KubeObject | undefined, next: KubeObject | undefined): void;
}

/** Thrown inside a watch loop to ask for a relist (410 Gone / Expired). */
class RelistNeeded extends Error {}

class KindWatcher {
  readonly objects = new Map<string, KubeObject>();
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;
  private listed = false;
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly client: ClusterClient,
    private readonly resource: ApiResource,
    private readonly hooks: CacheHooks,
    private readonly options: Required<Pick<WatchCacheOptions, 'minBackoffMs' | 'maxBackoffMs' | 'watchTimeoutSeconds'>>,
    onInitialFailure: () => void,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => onInitialFailure());
    this.done = this.run();
  }

  get isReady(): boolean {
    return this.listed;
  }

  private get name(): string {
    return `${this.resource.apiVersion}/${this.resource.kind}`;
  }

  private set(object: KubeObject, type: 'ADDED' | 'MODIFIED'): void {
    const key = resourceKey(object);
    const previous = this.objects.get(key);
    this.objects.set(key, object);
    this.hooks.indexSet(key, previous, object);
    this.hooks.emit({ type: previous && type === 'ADDED' ? 'MODIFIED' : type, object });
  }

  private remove(object: KubeObject): void {
    const key = resourceKey(object);
    const previous = this.objects.get(key);
    this.objects.delete(key);
    this.hooks.indexSet(key, previous, undefined);
    this.hooks.emit({ type: 'DELETED', object: previous ?? object });
  }

  private withType(object: KubeObject): KubeObject {
    return object.apiVersion && object.kind ? object : { ...object, apiVersion: this.resource.apiVersion, kind: this.resource.kind };
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.client.listWithVersion(this.resource.apiVersion, this.resource.kind);
    const seen = new Set<string>();
    for (const item of items) {
      const key = resourceKey(item);
      seen.add(key);
      const previous = this.objects.get(key);
      if (!previous) this.set(item, 'ADDED');
      else if (previous.metadata.resourceVersion !== item.metadata.resourceVersion) this.set(item, 'MODIFIED');
    }
    for (const [key, object] of [...this.objects]) {
      if (!seen.has(key)) this.remove(object);
    }
    this.resourceVersion = resourceVersion;
  }

  private handle(event: RawWatchEvent): void {
    const object = event.object;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.set(this.withType(object), event.type);
        break;
      case 'DELETED':
        this.remove(this.withType(object));
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = parseStatusBody(object);
        if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone')
          throw new RelistNeeded(status.message ?? 'resourceVersion too old');
        throw new KubeError(ErrorCode.KubeRequest, `failed to watch ${this.name}: ${status.message ?? 'watch error'}`, {
          cluster: this.client.name,
          operation: 'watch',
          resource: this.name,
          ...(status.code !== undefined ? { status: status.code } : {}),
          ...(status.reason ? { reason: status.reason } : {}),
        });
      }
      default:
        return;
    }
    const rv = object?.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopped) {
        resolve();
        return;
      }
      this.wake = resolve;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake = undefined;
        resolve();
      }, ms);
      this.timer.unref();
    });
  }

  private async run(): Promise<void> {
    let backoff = this.options.minBackoffMs;
    let needList = true;
    let failures = 0;
    while (!this.stopped) {
      let progressed = false;
      try {
        if (needList) {
          await this.relist();
          needList = false;
          progressed = true;
          if (!this.listed) {
            this.listed = true;
            this.resolveReady();
          }
        }
        const started = Date.now();
        const timeoutSeconds = Math.round(this.options.watchTimeoutSeconds * (1 + Math.random() * 0.5));
        let events = 0;
        // A watch ERROR event (410 Expired, …) ends this request; the loop decides what comes next.
        let streamError: unknown;
        const thisWatch = new AbortController();
        const signal = AbortSignal.any([this.abort.signal, thisWatch.signal]);
        try {
          await this.client.watch(
            this.resource,
            { resourceVersion: this.resourceVersion, timeoutSeconds },
            (event) => {
              if (this.stopped || streamError !== undefined) return;
              try {
                this.handle(event);
                events++;
              } catch (error) {
                streamError = error;
                thisWatch.abort(error);
              }
            },
            signal,
          );
        } catch (error) {
          throw streamError ?? error;
        }
        if (streamError !== undefined) throw streamError;
        // The server ended the watch (timeout, restart, load balancing): resume from the last
        // resourceVersion at once, unless watches keep ending without doing anything.
        progressed = events > 0 || Date.now() - started >= 1000;
        this.hooks.logger.debug({ kind: this.name, events }, 'watch ended by the server; resuming');
        failures = 0;
      } catch (error) {
        if (this.stopped) break;
        if (!this.listed) {
          // The initial list failed: report it to ensureWatched and stop; the cache forgets this kind.
          this.stopped = true;
          this.rejectReady(error);
          break;
        }
        if (error instanceof RelistNeeded) {
          this.hooks.logger.info({ kind: this.name, reason: error.message }, 'watch expired; relisting');
          needList = true;
          progressed = true;
        } else if (error instanceof KubeError && error.status === 410) {
          needList = true;
          progressed = true;
        } else {
          failures++;
          // After repeated failures the server may have lost our resourceVersion (restart): relist.
          if (failures >= 3) needList = true;
          this.hooks.logger.warn({ kind: this.name, err: error, failures }, 'watch failed; restarting with backoff');
        }
      }
      if (this.stopped) break;
      if (progressed) {
        backoff = this.options.minBackoffMs;
        continue;
      }
      await this.sleep(backoff + Math.floor(Math.random() * backoff * 0.2));
      backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
    }
  }

  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.abort.abort(new Error('watch cache closed'));
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.wake?.();
      this.wake = undefined;
      if (!this.listed)
        this.rejectReady(
          new KubeError(ErrorCode.KubeRequest, `failed to watch ${this.name}: the watch cache is closed`, {
            operation: 'watch',
            resource: this.name,
          }),
        );
    }
    return this.done;
  }
}

class Cache implements WatchCache {
  private readonly watchers = new Map<string, KindWatcher>();
  private readonly pending = new Map<string, Promise<void>>();
  /** app → resource keys of objects tracked by it. */
  private readonly tracked = new Map<string, Map<string, KubeObject>>();
  private readonly logger: KubeLogger;
  private readonly hooks: CacheHooks;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly client: ClusterClient,
    private readonly options: WatchCacheOptions,
  ) {
    this.logger = options.logger ?? silent;
    this.hooks = {
      logger: this.logger,
      emit: (event) => {
        if (!options.onEvent) return;
        try {
          options.onEvent(event);
        } catch (error) {
          this.logger.error(
            { err: error, type: event.type, kind: event.object.kind, name: event.object.metadata.name },
            'watch cache onEvent handler threw',
          );
        }
      },
      indexSet: (key, previous, next) => {
        const before = previous ? trackingApp(previous) : undefined;
        const after = next ? trackingApp(next) : undefined;
        if (before !== undefined && before !== after) {
          const set = this.tracked.get(before);
          set?.delete(key);
          if (set?.size === 0) this.tracked.delete(before);
        }
        if (after !== undefined && next) {
          let set = this.tracked.get(after);
          if (!set) {
            set = new Map();
            this.tracked.set(after, set);
          }
          set.set(key, next);
        }
      },
    };
  }

  ensureWatched(apiVersion: string, kind: string): Promise<void> {
    if (this.closing) {
      return Promise.reject(
        new KubeError(ErrorCode.KubeRequest, `failed to watch ${apiVersion}/${kind}: the watch cache is closed`, { operation: 'watch' }),
      );
    }
    const key = typeKey(apiVersion, kind);
    const watcher = this.watchers.get(key);
    if (watcher) return watcher.ready;
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const start = (async () => {
      const resource = await this.client.resourceFor(apiVersion, kind);
      if (this.closing)
        throw new KubeError(ErrorCode.KubeRequest, `failed to watch ${apiVersion}/${kind}: the watch cache is closed`, {
          operation: 'watch',
        });
      const created = new KindWatcher(
        this.client,
        resource,
        this.hooks,
        {
          minBackoffMs: this.options.minBackoffMs ?? 100,
          maxBackoffMs: this.options.maxBackoffMs ?? 5000,
          watchTimeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
        },
        () => {
          if (this.watchers.get(key) === created) this.watchers.delete(key);
        },
      );
      this.watchers.set(key, created);
      await created.ready;
    })();
    this.pending.set(key, start);
    const clear = (): void => {
      this.pending.delete(key);
    };
    start.then(clear, clear);
    return start;
  }

  isWatched(apiVersion: string, kind: string): boolean {
    return this.watchers.get(typeKey(apiVersion, kind))?.isReady ?? false;
  }

  get(ref: ObjectRef): KubeObject | undefined {
    return this.watchers.get(typeKey(ref.apiVersion, ref.kind))?.objects.get(resourceKey(ref));
  }

  list(apiVersion: string, kind: string, options: { namespace?: string } = {}): KubeObject[] {
    const watcher = this.watchers.get(typeKey(apiVersion, kind));
    if (!watcher) return [];
    const all = [...watcher.objects.values()];
    return options.namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === options.namespace);
  }

  listTracked(app: string): KubeObject[] {
    return [...(this.tracked.get(app)?.values() ?? [])];
  }

  close(): Promise<void> {
    this.closing ??= Promise.all([...this.watchers.values()].map((w) => w.stop())).then(() => {
      this.watchers.clear();
      this.tracked.clear();
    });
    return this.closing;
  }
}

/** Starts an empty watch cache on one cluster; kinds are added with `ensureWatched`. */
export function startWatchCache(client: ClusterClient, options: WatchCacheOptions = {}): WatchCache {
  return new Cache(client, options);
}
