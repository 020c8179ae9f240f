/**
 * Deleting an app's managed resources when the app is deleted (Argo CD's cascading delete):
 *
 *   app re-created meanwhile? → stop (its objects are its own again) → app lease → list the app's
 *   tracked objects (every kind its syncs touched) → delete them in reverse kind order, skipping
 *   `Delete=false` ones (and a tracked Namespace that still holds a kept object) → foreground: wait
 *   until they are gone → delete the operation record → release the lease.
 *
 * `cascade: orphan` (`--cascade=false`) deletes no object and leaves them as they are (tracking
 * annotation included, as Argo CD leaves its tracking label); only the record goes. Kept objects
 * (`Delete=false`) also keep their annotation. Every step is idempotent: a redelivery re-lists and
 * finds less to do.
 */
import {
  ErrorCode,
  IN_CLUSTER_SERVER,
  ResourceAnnotation,
  parseSyncOptions,
  type AppDeleted,
  type Application,
  type ApplicationDestination,
  type ResourceId,
} from '@ferry/contracts';
import {
  KubeError,
  isTrackedBy,
  isTransient,
  resourceKey,
  sortForPrune,
  type ClusterClient,
  type ClusterRegistry,
  type KubeObject,
  type ObjectRef,
} from '@ferry/kube';
import { acquireLease, HandlerResult, type JsonKv, type Lease, type Logger } from '@ferry/runtime';
import type { StoredOperationRecord } from './domain/operation.js';

export interface DeleterOptions {
  logger: Logger;
  operationKv: JsonKv<StoredOperationRecord>;
  leasesKv: JsonKv<Lease>;
  clusters: ClusterRegistry;
  /** True when the app exists in ferry-apps now (read through, not from a cache). */
  exists(name: string): Promise<boolean>;
  /** The last manifest this process saw for the app (its destination, when the event carries none). */
  lastKnown(name: string): Application | undefined;
  holder: string;
  syncLeaseTtlMs: number;
  /** nak delay when the lease is held or the cluster is unavailable. */
  retryMs: number;
  /** How long a foreground delete waits for the objects to be gone before asking again (nak). Default 30 s. */
  foregroundWaitMs?: number;
  /** Poll interval of that wait. Default 100 ms. */
  pollMs?: number;
}

export interface AppDeleter {
  onAppDeleted(event: AppDeleted): Promise<HandlerResult>;
}

/** What one deletion did. */
export interface DeletionPlan {
  deletes: KubeObject[];
  /** `Delete=false` objects, and tracked Namespaces holding one. */
  kept: KubeObject[];
}

function apiVersionOf(id: Pick<ResourceId, 'group' | 'version'>): string {
  return id.group ? `${id.group}/${id.version}` : id.version;
}

/** True when the object carries `argocd.argoproj.io/sync-options: Delete=false`. */
export function isDeleteDisabled(object: KubeObject): boolean {
  const value = parseSyncOptions(object.metadata.annotations?.[ResourceAnnotation.SyncOptions]).get('Delete');
  // Delete=confirm asks for a confirmation Ferry has no flow for yet: such objects are kept, as Prune=confirm ones are never pruned.
  return value === 'false' || value === 'confirm';
}

/**
 * Which tracked objects to delete (reverse kind order) and which to keep: `Delete=false` ones, and
 * a tracked Namespace holding a kept object (deleting it would delete the object with it).
 */
export function planDeletion(tracked: readonly KubeObject[], cascade: AppDeleted['cascade']): DeletionPlan {
  const live = tracked.filter((o) => !o.metadata.deletionTimestamp);
  if (cascade === 'orphan') return { deletes: [], kept: [...live] };
  const kept = live.filter(isDeleteDisabled);
  const keptNamespaces = new Set(kept.map((o) => o.metadata.namespace).filter((ns): ns is string => Boolean(ns)));
  for (const o of live) {
    if (o.apiVersion === 'v1' && o.kind === 'Namespace' && keptNamespaces.has(o.metadata.name ?? '') && !kept.includes(o)) kept.push(o);
  }
  return { deletes: sortForPrune(live.filter((o) => !kept.includes(o))), kept };
}

/** The kinds the app's syncs touched (history and the latest operation), one API version per group/kind. */
export function recordedKinds(record: StoredOperationRecord | undefined): Array<{ apiVersion: string; kind: string }> {
  const kinds = new Map<string, { apiVersion: string; kind: string }>();
  const resources = [...(record?.operationState?.syncResult?.resources ?? []), ...(record?.history ?? []).flatMap((h) => h.resources)];
  for (const r of resources) {
    const key = `${r.group}/${r.kind}`;
    if (!kinds.has(key)) kinds.set(key, { apiVersion: apiVersionOf(r), kind: r.kind });
  }
  return [...kinds.values()];
}

function refOf(object: KubeObject): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    name: object.metadata.name ?? '',
  };
}

function describe(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name ?? ''}`;
}

async function sleep(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}

export function createDeleter(options: DeleterOptions): AppDeleter {
  const { logger, operationKv, leasesKv, clusters } = options;
  const foregroundWaitMs = options.foregroundWaitMs ?? 30_000;
  const pollMs = options.pollMs ?? 100;

  function destinationOf(event: AppDeleted): ApplicationDestination {
    return event.destination ?? options.lastKnown(event.app)?.spec.destination ?? { server: IN_CLUSTER_SERVER };
  }

  async function listTracked(client: ClusterClient, app: string, record: StoredOperationRecord | undefined): Promise<KubeObject[]> {
    const found: KubeObject[] = [];
    for (const kind of recordedKinds(record)) {
      try {
        found.push(...(await client.list(kind.apiVersion, kind.kind)).filter((o) => isTrackedBy(app, o)));
      } catch (error) {
        if (error instanceof KubeError && error.code === ErrorCode.KubeKindUnknown) continue; // its CRD is gone: nothing left of that kind
        throw error;
      }
    }
    const unique = new Map(found.map((o) => [resourceKey(o), o]));
    return [...unique.values()];
  }

  async function waitGone(client: ClusterClient, objects: readonly KubeObject[]): Promise<KubeObject[]> {
    const deadline = Date.now() + foregroundWaitMs;
    let remaining = [...objects];
    for (;;) {
      const still: KubeObject[] = [];
      for (const o of remaining) if ((await client.get(refOf(o))) !== undefined) still.push(o);
      remaining = still;
      if (remaining.length === 0 || Date.now() >= deadline) return remaining;
      await sleep(pollMs);
    }
  }

  return {
    async onAppDeleted(event) {
      const app = event.app;
      const cascade = event.cascade ?? 'foreground';
      const log = logger.child({ app, cascade });
      if (await options.exists(app)) {
        log.info('the app exists again (re-created after its deletion): its objects are left to it');
        return HandlerResult.ack();
      }
      const lease = await acquireLease(leasesKv, app, options.holder, options.syncLeaseTtlMs);
      if (!lease) {
        log.debug('another applier holds the app lease; deleting later');
        return HandlerResult.nak(options.retryMs);
      }
      try {
        const record = (await operationKv.get(app))?.value;
        const client = clusters.forDestination(destinationOf(event));
        const tracked = await listTracked(client, app, record);
        const plan = planDeletion(tracked, cascade);
        for (const object of plan.deletes) {
          await client.delete(refOf(object), { propagationPolicy: cascade === 'background' ? 'Background' : 'Foreground' });
        }
        if (cascade === 'foreground' && plan.deletes.length > 0) {
          const remaining = await waitGone(client, plan.deletes);
          if (remaining.length > 0) {
            log.info({ remaining: remaining.map(describe) }, 'objects still being deleted (foreground); checking again later');
            return HandlerResult.nak(options.retryMs);
          }
        }
        await operationKv.delete(app);
        log.info(
          { deleted: plan.deletes.map(describe), kept: plan.kept.map(describe) },
          cascade === 'orphan' ? 'app deleted; its objects are left in the cluster (orphan)' : 'app deleted with its objects',
        );
        return HandlerResult.ack();
      } catch (error) {
        if (error instanceof KubeError && isTransient(error)) {
          log.warn({ err: error }, 'cluster unavailable while deleting the app; retrying later');
          return HandlerResult.nak(options.retryMs);
        }
        throw error;
      } finally {
        await lease.release().catch((error: unknown) => log.warn({ err: error }, 'failed to release the app lease; it expires by itself'));
      }
    },
  };
}
