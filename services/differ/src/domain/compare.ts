/**
 * Desired (Git, prepared: namespace and tracking annotation set) against live (cluster) state.
 *
 * The comparison is the one server-side apply implies: every field Git declares must have that value
 * live; fields Git does not declare are the server's or another manager's (defaults, an HPA's
 * replicas, controller annotations) and are not drift; a field Ferry applied before and Git no
 * longer declares is drift (found through Ferry's entry in `managedFields`). `status` and
 * server-owned metadata are never compared.
 */
import type { KubeObject } from '@ferry/kube';
import { SyncStatus, type ResourceComparison } from '@ferry/contracts';
import { fieldsRemovedFromDesired } from './managed-fields.js';
import { sameQuantity } from './quantity.js';

export interface CompareOptions {
  /** Ferry's field manager (`ferry`): its managed fields tell what Git used to declare. */
  fieldManager: string;
  /** Annotations never compared (set by tools, not by users). */
  ignoreAnnotations?: readonly string[];
}

export interface ResourceDiff {
  status: SyncStatus;
  /** Dotted paths that differ (first few), for messages and logs. */
  differences: string[];
}

const DEFAULT_IGNORED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];
const MAX_DIFFERENCES = 20;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    (Array.isArray(value) && value.length === 0) ||
    (isRecord(value) && Object.keys(value).length === 0)
  );
}

function sameScalar(desired: unknown, live: unknown): boolean {
  if (desired === live) return true;
  // The server canonicalises quantities (0.5 -> 500m, 1000m -> 1) and may turn small numbers into strings in int-or-string fields.
  if ((typeof desired === 'string' || typeof desired === 'number') && (typeof live === 'string' || typeof live === 'number')) {
    return sameQuantity(desired, live);
  }
  return false;
}

/** Collects the paths where `desired` is not contained in `live`. */
function containedIn(desired: unknown, live: unknown, path: string, out: string[]): void {
  if (out.length >= MAX_DIFFERENCES) return;
  if (isRecord(desired)) {
    if (!isRecord(live)) {
      if (!(isEmpty(desired) && isEmpty(live))) out.push(path || '(root)');
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      const child = path ? `${path}.${key}` : key;
      if (!(key in live) || live[key] === undefined) {
        if (!isEmpty(value)) out.push(child);
        continue;
      }
      containedIn(value, live[key], child, out);
    }
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) {
      if (!(isEmpty(desired) && isEmpty(live))) out.push(path);
      return;
    }
    if (desired.length !== live.length) {
      out.push(`${path} (${desired.length} items in Git, ${live.length} live)`);
      return;
    }
    desired.forEach((item, i) => containedIn(item, live[i], `${path}[${i}]`, out));
    return;
  }
  if (desired === null && live === undefined) return;
  if (!sameScalar(desired, live)) out.push(path);
}

/** The comparable part of desired metadata: labels and annotations only. */
function comparableDesired(desired: KubeObject, ignored: ReadonlySet<string>): Record<string, unknown> {
  const { metadata, status: _status, ...rest } = desired;
  const annotations = Object.fromEntries(Object.entries(metadata.annotations ?? {}).filter(([k]) => !ignored.has(k)));
  const meta: Record<string, unknown> = {};
  if (metadata.labels && Object.keys(metadata.labels).length > 0) meta['labels'] = metadata.labels;
  if (Object.keys(annotations).length > 0) meta['annotations'] = annotations;
  return { ...rest, metadata: meta };
}

/** Compares one desired object with its live counterpart (undefined = missing in the cluster). */
export function compareResource(desired: KubeObject, live: KubeObject | undefined, options: CompareOptions): ResourceDiff {
  if (!live) return { status: SyncStatus.OutOfSync, differences: ['(missing in the cluster)'] };
  const ignored = new Set([...DEFAULT_IGNORED_ANNOTATIONS, ...(options.ignoreAnnotations ?? [])]);
  const differences: string[] = [];
  const wanted = comparableDesired(desired, ignored);
  const { apiVersion: _a, ...wantedWithoutVersion } = wanted;
  containedIn(wantedWithoutVersion, live, '', differences);
  for (const path of fieldsRemovedFromDesired(live, desired, options.fieldManager)) {
    if (differences.length >= MAX_DIFFERENCES) break;
    if (path.startsWith('metadata.annotations.') && ignored.has(path.slice('metadata.annotations.'.length))) continue;
    differences.push(`${path} (removed from Git)`);
  }
  return { status: differences.length === 0 ? SyncStatus.Synced : SyncStatus.OutOfSync, differences };
}

/** One entry of an app comparison, with the key used to join desired and live. */
export interface AppResourceDiff extends ResourceComparison {
  key: string;
  differences: string[];
}

export interface AppDiff {
  syncStatus: SyncStatus;
  resources: AppResourceDiff[];
}

function identity(object: KubeObject): Omit<ResourceComparison, 'status'> {
  const slash = object.apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : object.apiVersion.slice(0, slash),
    version: slash < 0 ? object.apiVersion : object.apiVersion.slice(slash + 1),
    kind: object.kind,
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name ?? '',
  };
}

/**
 * Compares an app: every desired object with the live object of the same key, and every live object
 * tracked by the app that Git no longer declares (requiresPruning). `keyOf` is the shared resource
 * key (group/kind/namespace/name). Resources are returned in a stable order (desired order, then extras).
 */
export function compareApp(
  desired: readonly KubeObject[],
  live: ReadonlyMap<string, KubeObject>,
  tracked: readonly KubeObject[],
  keyOf: (object: KubeObject) => string,
  options: CompareOptions,
): AppDiff {
  const resources: AppResourceDiff[] = [];
  const desiredKeys = new Set<string>();
  for (const object of desired) {
    const key = keyOf(object);
    desiredKeys.add(key);
    const diff = compareResource(object, live.get(key), options);
    resources.push({ ...identity(object), key, status: diff.status, differences: diff.differences });
  }
  const extras = tracked.filter((object) => !desiredKeys.has(keyOf(object)) && !object.metadata.deletionTimestamp);
  extras.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const object of extras) {
    resources.push({
      ...identity(object),
      key: keyOf(object),
      status: SyncStatus.OutOfSync,
      requiresPruning: true,
      differences: ['(not in Git)'],
    });
  }
  const syncStatus = resources.some((r) => r.status !== SyncStatus.Synced) ? SyncStatus.OutOfSync : SyncStatus.Synced;
  return { syncStatus, resources };
}
