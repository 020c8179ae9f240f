/**
 * One watch cache per cluster (created on first use) and the kinds each one watches. A kind the
 * cluster does not serve yet (a CRD in the same desired set) is remembered as unknown: its objects
 * count as missing, and watching it is retried later.
 */
import { ErrorCode } from '@ferry/contracts';
import type { ApplicationDestination } from '@ferry/contracts';
import { KubeError, startWatchCache } from '@ferry/kube';
import type { ClusterClient, ClusterRegistry, WatchCache, WatchEvent } from '@ferry/kube';
import type { Logger } from '@ferry/runtime';

export interface KindRef {
  apiVersion: string;
  kind: string;
}

/** What ensureKinds found: kinds the cluster does not serve, and kinds whose initial list failed (with why). */
export interface EnsureKindsResult {
  unknown: KindRef[];
  failed: Array<{ kind: KindRef; error: unknown }>;
}

export interface ClusterCache {
  readonly name: string;
  readonly client: ClusterClient;
  readonly cache: WatchCache;
  /** Starts watching every kind (once each); resolves when each initial list is done or failed. Never rejects. */
  ensureKinds(kinds: Iterable<KindRef>): Promise<EnsureKindsResult>;
}

export interface ClusterCaches {
  /** The cache of the cluster an app's destination names; throws the registry's KubeError when it names none. */
  forDestination(destination: ApplicationDestination): ClusterCache;
  /** Stops every watch cache (not the registry). Idempotent. */
  close(): Promise<void>;
}

export interface ClusterCachesOptions {
  registry: ClusterRegistry;
  logger: Logger;
  /** Called for every change a cache applied, with the cluster it happened in. */
  onEvent(cluster: string, event: WatchEvent): void;
}

export function createClusterCaches(options: ClusterCachesOptions): ClusterCaches {
  const { registry, logger } = options;
  const caches = new Map<string, ClusterCache>();
  let closing: Promise<void> | undefined;

  function create(client: ClusterClient): ClusterCache {
    const log = logger.child({ cluster: client.name });
    const cache = startWatchCache(client, { logger: log, onEvent: (event) => options.onEvent(client.name, event) });
    return {
      name: client.name,
      client,
      cache,
      async ensureKinds(kinds) {
        const unique = new Map<string, KindRef>();
        for (const k of kinds) unique.set(`${k.apiVersion}/${k.kind}`, k);
        const result: EnsureKindsResult = { unknown: [], failed: [] };
        await Promise.all(
          [...unique.values()].map(async (k) => {
            if (cache.isWatched(k.apiVersion, k.kind)) return;
            try {
              await cache.ensureWatched(k.apiVersion, k.kind);
            } catch (error) {
              if (error instanceof KubeError && error.code === ErrorCode.KubeKindUnknown) {
                result.unknown.push(k);
                log.debug({ apiVersion: k.apiVersion, kind: k.kind }, 'kind not served by the cluster (yet)');
              } else {
                result.failed.push({ kind: k, error });
              }
            }
          }),
        );
        return result;
      },
    };
  }

  return {
    forDestination(destination) {
      const client = registry.forDestination(destination);
      let entry = caches.get(client.name);
      if (!entry) {
        if (closing)
          throw new KubeError(ErrorCode.KubeRequest, `failed to watch cluster ${client.name}: the differ is closing`, {
            cluster: client.name,
            operation: 'watch',
          });
        entry = create(client);
        caches.set(client.name, entry);
      }
      return entry;
    },
    close() {
      closing ??= Promise.allSettled([...caches.values()].map((c) => c.cache.close())).then(() => undefined);
      return closing;
    },
  };
}
