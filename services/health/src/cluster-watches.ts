/**
 * One watch cache per cluster, created on first use, and the set of kinds each one watches. Kinds the
 * cluster does not serve are remembered (their objects cannot exist: Missing, not Unknown).
 */
import { ErrorCode } from '@ferry/contracts';
import type { ApplicationDestination } from '@ferry/contracts';
import { KubeError, startWatchCache } from '@ferry/kube';
import type { ClusterClient, ClusterRegistry, KubeObject, WatchCache, WatchEvent } from '@ferry/kube';
import type { Logger } from '@ferry/runtime';
import { LiveState } from './app-health.js';

export interface ClusterWatch {
  readonly name: string;
  readonly client: ClusterClient;
  readonly cache: WatchCache;
  /** Starts watching every kind (once each); resolves when each initial list is done or failed. Failures are logged, not thrown. */
  ensureKinds(kinds: Iterable<KindRef>): Promise<{ failed: KindRef[] }>;
  liveState(apiVersion: string, kind: string): LiveState;
}

export interface KindRef {
  apiVersion: string;
  kind: string;
}

export interface ClusterWatches {
  /** The watch of the cluster an app's destination names; throws the registry's KubeError when it names none. */
  forDestination(destination: ApplicationDestination): ClusterWatch;
  /** Every cluster watch created so far. */
  all(): ClusterWatch[];
  /** Stops every watch cache (not the registry). Idempotent. */
  close(): Promise<void>;
}

export interface ClusterWatchesOptions {
  registry: ClusterRegistry;
  logger: Logger;
  /** Called for every change a cache applied, with the cluster it happened in. */
  onEvent(cluster: string, event: WatchEvent): void;
}

export function createClusterWatches(options: ClusterWatchesOptions): ClusterWatches {
  const { registry, logger } = options;
  const watches = new Map<string, ClusterWatch>();
  let closing: Promise<void> | undefined;

  function create(client: ClusterClient): ClusterWatch {
    const log = logger.child({ cluster: client.name });
    const unknownKinds = new Set<string>();
    const cache = startWatchCache(client, {
      logger: log,
      onEvent: (event) => options.onEvent(client.name, event),
    });
    const typeKey = (apiVersion: string, kind: string): string => `${apiVersion}/${kind}`;
    return {
      name: client.name,
      client,
      cache,
      async ensureKinds(kinds) {
        const unique = new Map<string, KindRef>();
        for (const k of kinds) unique.set(typeKey(k.apiVersion, k.kind), k);
        const failed: KindRef[] = [];
        await Promise.all(
          [...unique.values()].map(async (k) => {
            if (cache.isWatched(k.apiVersion, k.kind)) return;
            try {
              await cache.ensureWatched(k.apiVersion, k.kind);
              unknownKinds.delete(typeKey(k.apiVersion, k.kind));
            } catch (error) {
              if (error instanceof KubeError && error.code === ErrorCode.KubeKindUnknown) {
                unknownKinds.add(typeKey(k.apiVersion, k.kind));
                log.debug({ apiVersion: k.apiVersion, kind: k.kind }, 'kind not served by the cluster');
                return;
              }
              failed.push(k);
              if (!closing) log.warn({ err: error, apiVersion: k.apiVersion, kind: k.kind, code: (error as KubeError).code }, 'cannot watch kind; retrying at the next resync');
            }
          }),
        );
        return { failed };
      },
      liveState(apiVersion, kind) {
        if (cache.isWatched(apiVersion, kind)) return LiveState.Watched;
        if (unknownKinds.has(typeKey(apiVersion, kind))) return LiveState.KindUnknown;
        return LiveState.Unavailable;
      },
    };
  }

  return {
    forDestination(destination) {
      const client = registry.forDestination(destination);
      let watch = watches.get(client.name);
      if (!watch) {
        if (closing) throw new KubeError(ErrorCode.KubeRequest, `failed to watch cluster ${client.name}: the service is closing`, { cluster: client.name, operation: 'watch' });
        watch = create(client);
        watches.set(client.name, watch);
      }
      return watch;
    },
    all() {
      return [...watches.values()];
    },
    close() {
      closing ??= Promise.allSettled([...watches.values()].map((w) => w.cache.close())).then(() => undefined);
      return closing;
    },
  };
}

export type { KubeObject };
