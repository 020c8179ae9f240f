/**
 * One app's health from its resources: which resources belong to it, how each is assessed, and the
 * aggregate. Pure (no NATS, no cluster): the live state comes in through `live` and `liveState`.
 */
import type { ResourceHealth, ResourceId } from '@ferry/contracts';
import { assessHealth, isHook } from './domain/assess.js';
import { aggregateHealth, type ResourceHealthInput } from './domain/aggregate.js';
import { HealthStatus } from './domain/health-status.js';
import { HealthAnnotation } from './domain/assess.js';

/** A live object as the watch cache holds it. */
export interface LiveObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string>; [field: string]: unknown };
  [field: string]: unknown;
}

/** Whether the live state of a resource's kind can be known. */
export const LiveState = {
  /** The kind is listed and watched: an absent object is really absent. */
  Watched: 'watched',
  /** The cluster serves no such kind: the object cannot exist. */
  KindUnknown: 'kind-unknown',
  /** The kind is not watched (yet): the object's state is not known. */
  Unavailable: 'unavailable',
} as const;
export type LiveState = (typeof LiveState)[keyof typeof LiveState];

export interface AppHealthInput {
  /** The resources Git declares for the app (the latest comparison's resources). */
  readonly desired: readonly ResourceId[];
  /** Live objects tracked by the app (its tracking annotation names it). */
  readonly tracked: readonly LiveObject[];
  /** The live object a desired resource names, if it exists. */
  live(resource: ResourceId): LiveObject | undefined;
  /** Whether the cluster's state of that resource's kind is known. */
  liveState(resource: ResourceId): LiveState;
  /** The app's cluster could not be used at all (unknown cluster, bad credentials): every resource is Unknown with this message. */
  clusterError?: string;
}

export interface AppHealth {
  readonly status: HealthStatus;
  /** Why the app is not Healthy: the first worst resource and its message. */
  readonly message?: string;
  /** Per-resource health, sorted by identity; resources without a health of their own are left out. */
  readonly resources: ResourceHealth[];
}

export function apiVersionOf(resource: Pick<ResourceId, 'group' | 'version'>): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

export function resourceIdOf(object: LiveObject): ResourceId {
  const slash = object.apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : object.apiVersion.slice(0, slash),
    version: slash < 0 ? object.apiVersion : object.apiVersion.slice(slash + 1),
    kind: object.kind,
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name ?? '',
  };
}

/** `group/kind/namespace/name`: identity regardless of version (as libs/kube's resourceKey). */
export function resourceIdKey(resource: ResourceId): string {
  return `${resource.group}/${resource.kind}/${resource.namespace}/${resource.name}`;
}

function describe(resource: ResourceId): string {
  const type = resource.group ? `${resource.group}/${resource.kind}` : resource.kind;
  return resource.namespace ? `${type} ${resource.namespace}/${resource.name}` : `${type} ${resource.name}`;
}

interface Entry {
  id: ResourceId;
  object: LiveObject | undefined;
  state: LiveState;
}

/**
 * Assesses an app: every desired resource (Missing when absent from a watched kind, Unknown when its
 * kind's live state is not known) and every tracked live object (also those no longer in Git), each
 * with the domain's `assessHealth`; the app's status is `aggregateHealth` of them.
 */
export function assessApp(input: AppHealthInput): AppHealth {
  const entries = new Map<string, Entry>();
  for (const id of input.desired) {
    const key = resourceIdKey(id);
    if (entries.has(key)) continue;
    entries.set(key, { id, object: input.live(id), state: input.liveState(id) });
  }
  for (const object of input.tracked) {
    const id = resourceIdOf(object);
    const key = resourceIdKey(id);
    const existing = entries.get(key);
    if (existing) {
      if (existing.object === undefined) entries.set(key, { ...existing, object, state: LiveState.Watched });
      continue;
    }
    entries.set(key, { id, object, state: LiveState.Watched });
  }

  const inputs: ResourceHealthInput[] = [];
  const resources: ResourceHealth[] = [];
  for (const { id, object, state } of [...entries.values()].sort((a, b) => compareIds(a.id, b.id))) {
    const apiVersion = apiVersionOf(id);
    let status: HealthStatus | undefined;
    let message: string | undefined;
    let hook = false;
    let ignore = false;
    if (input.clusterError !== undefined) {
      status = HealthStatus.Unknown;
      message = input.clusterError;
    } else if (object !== undefined) {
      hook = isHook(object);
      ignore = object.metadata.annotations?.[HealthAnnotation.IgnoreHealthCheck] === 'true';
      const assessment = assessHealth(object);
      status = assessment?.status;
      message = assessment?.message;
    } else if (state === LiveState.Unavailable) {
      status = HealthStatus.Unknown;
      message = 'live state not available: the kind is not watched yet';
    } else {
      status = HealthStatus.Missing;
    }
    // Argo CD leaves hooks out of the app's resources' health altogether.
    if (hook) continue;
    inputs.push({ status, hook, ignoreHealthCheck: ignore, apiVersion, kind: id.kind });
    if (status !== undefined) resources.push({ ...id, status, ...(message ? { message } : {}) });
  }

  const status = aggregateHealth(inputs);
  if (status === HealthStatus.Healthy) return { status, resources };
  const culprit = resources.find((r) => r.status === status);
  const message = culprit ? `${describe(culprit)}: ${culprit.message ?? culprit.status}` : undefined;
  return message === undefined ? { status, resources } : { status, message, resources };
}

function compareIds(a: ResourceId, b: ResourceId): number {
  return resourceIdKey(a) < resourceIdKey(b) ? -1 : resourceIdKey(a) > resourceIdKey(b) ? 1 : 0;
}
