/**
 * Desired (Git, prepared: namespace and tracking annotation set) against live (cluster) state.
 *
 * The comparison predicts what a server-side apply of the desired object (field manager `ferry`) would
 * make of the live one, and compares that with the live object:
 * 1. both sides lose the fields `spec.ignoreDifferences` ignores (each side its own pointers;
 *    managedFieldsManagers fields read from the live managedFields);
 * 2. fields Ferry applied before (its Apply entry in `managedFields`) that Git no longer declares are
 *    removed, unless another manager owns them too;
 * 3. the desired fields are merged in: objects key by key, keyed lists (items with `name`, `port`,
 *    `containerPort`, …) item by item, other lists index by index when the lengths agree (else the
 *    desired list replaces the live one); a scalar equal by value to the live one (`0.5` vs `500m`, `80`
 *    vs `"80"`) keeps the live spelling; empty or null desired values the live object lacks add nothing;
 *    of metadata only labels and annotations are declared;
 * 4. both are normalised (status, server-owned metadata, tool annotations removed) and compared: equal
 *    = Synced. The difference is also returned as the two normalised documents (for the YAML diff and
 *    the JSON patch).
 * Fields Git does not declare (server defaults, an HPA's replicas, other controllers' annotations) are
 * therefore never drift. test/domain/dry-run-equivalence.test.ts proves on the sandbox that Synced here
 * ⇔ a server-side dry-run apply would change nothing.
 */
import type { CompiledIgnoreRules, KubeObject } from '@ferry/kube';
import { ResourceAnnotation, SyncStatus, type ResourceComparison } from '@ferry/contracts';
import { removePointers, withoutIgnored } from '@ferry/kube';
import { fieldsRemovedFromDesired } from './managed-fields.js';
import { jsonPatch, type JsonPatchOperation } from './json-patch.js';
import { sameQuantity } from './quantity.js';

export interface CompareOptions {
  /** Ferry's field manager (`ferry`): its managed fields tell what Git used to declare. */
  fieldManager: string;
  /** Annotations never compared (set by tools, not by users), besides the defaults. */
  ignoreAnnotations?: readonly string[];
  /** The app's compiled `spec.ignoreDifferences` (compileIgnoreDifferences from @ferry/kube). */
  ignore?: CompiledIgnoreRules;
}

/** Finer than the sync status (Argo CD's diff view): Missing = in Git, not live; Extra = tracked live, not in Git. */
export const DiffState = {
  Synced: 'Synced',
  OutOfSync: 'OutOfSync',
  Missing: 'Missing',
  Extra: 'Extra',
} as const;
export type DiffState = (typeof DiffState)[keyof typeof DiffState];

export interface ResourceDiff {
  status: SyncStatus;
  diffState: DiffState;
  /** What differs (`replace /spec/replicas`, first few), for messages and logs. */
  differences: string[];
  /** Normalised live object (null when missing). */
  live: Record<string, unknown> | null;
  /** Normalised live object as the apply would leave it (null for an extra object about to be pruned). */
  target: Record<string, unknown> | null;
  /** RFC 6902 operations turning `live` into `target`. */
  patch: JsonPatchOperation[];
}

const DEFAULT_IGNORED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];
const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
/** Keys that identify list items, in the order they are tried (the first one every item carries wins). */
const LIST_KEYS = ['name', 'containerPort', 'port', 'mountPath', 'devicePath', 'ip', 'topologyKey', 'type', 'uid'];
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
  // The server canonicalises quantities (0.5 -> 500m, 1000m -> 1) and int-or-string fields may come back as the other type.
  if ((typeof desired === 'string' || typeof desired === 'number') && (typeof live === 'string' || typeof live === 'number')) {
    return sameQuantity(desired, live);
  }
  return false;
}

function listKey(desired: readonly unknown[], live: readonly unknown[]): string | undefined {
  const all = [...desired, ...live];
  if (desired.length === 0 || !all.every(isRecord)) return undefined;
  return LIST_KEYS.find((key) => {
    if (!all.every((item) => (item as Record<string, unknown>)[key] !== undefined)) return false;
    const values = desired.map((item) => String((item as Record<string, unknown>)[key]));
    return new Set(values).size === values.length;
  });
}

/** `desired` merged into `live` as server-side apply would (see the module comment). Returns a new value. */
function merge(live: unknown, desired: unknown): unknown {
  if (isRecord(desired)) {
    if (!isRecord(live)) return structuredClone(desired);
    const out: Record<string, unknown> = { ...live };
    for (const [key, value] of Object.entries(desired)) {
      if (isEmpty(value) && (live[key] === undefined || isEmpty(live[key]))) continue;
      out[key] = merge(live[key], value);
    }
    return out;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return structuredClone(desired);
    const key = listKey(desired, live);
    if (key !== undefined) {
      const byKey = new Map(live.map((item) => [String((item as Record<string, unknown>)[key]), item]));
      const declared = new Set<string>();
      const out = desired.map((item) => {
        const k = String((item as Record<string, unknown>)[key]);
        declared.add(k);
        return merge(byKey.get(k), item);
      });
      // Items another manager added stay (Ferry's own dropped items were removed before the merge).
      for (const item of live) if (!declared.has(String((item as Record<string, unknown>)[key]))) out.push(item);
      // Server-side apply keeps the live order of items it already has.
      const order = new Map(live.map((item, i) => [String((item as Record<string, unknown>)[key]), i]));
      const rank = (item: unknown): number => order.get(String((item as Record<string, unknown>)[key])) ?? live.length;
      return out
        .map((item, i) => ({ item, i }))
        .sort((a, b) => rank(a.item) - rank(b.item) || a.i - b.i)
        .map((x) => x.item);
    }
    if (desired.length === live.length) return desired.map((item, i) => merge(live[i], item));
    return structuredClone(desired);
  }
  if (desired === null || desired === undefined) return live;
  return live !== undefined && sameScalar(desired, live) ? live : desired;
}

/** The object without status, server-owned metadata and tool annotations (a new value). */
export function normalizeObject(object: KubeObject, ignoredAnnotations: ReadonlySet<string>): Record<string, unknown> {
  const { status: _status, ...rest } = object;
  const metadata: Record<string, unknown> = { ...object.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  if (isRecord(metadata['annotations'])) {
    const annotations = Object.fromEntries(Object.entries(metadata['annotations']).filter(([k]) => !ignoredAnnotations.has(k)));
    if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations;
    else delete metadata['annotations'];
  }
  if (isRecord(metadata['labels']) && Object.keys(metadata['labels']).length === 0) delete metadata['labels'];
  return { ...rest, metadata } as Record<string, unknown>;
}

/** What the next apply of `desired` would make of `live` (before normalisation). */
function predictApplied(desired: KubeObject, live: KubeObject, fieldManager: string, ignored: ReadonlySet<string>): KubeObject {
  // merge() copies what it changes and shares the rest; nothing below mutates `live`.
  let base: KubeObject = live;
  const removed = fieldsRemovedFromDesired(live, desired, fieldManager).filter(
    (f) => !f.pointer.startsWith('/metadata/annotations/') || !ignored.has(decodeLast(f.pointer)),
  );
  if (removed.length > 0)
    base = removePointers(
      base,
      removed.map((f) => f.pointer),
    );
  const { apiVersion: _a, kind: _k, metadata, status: _s, ...body } = desired;
  const declaredMeta: Record<string, unknown> = {};
  if (metadata.labels) declaredMeta['labels'] = metadata.labels;
  if (metadata.annotations)
    declaredMeta['annotations'] = Object.fromEntries(Object.entries(metadata.annotations).filter(([k]) => !ignored.has(k)));
  return merge(base, { ...body, metadata: declaredMeta }) as KubeObject;
}

function decodeLast(pointer: string): string {
  return (pointer.split('/').pop() ?? '').replaceAll('~1', '/').replaceAll('~0', '~');
}

function describe(op: JsonPatchOperation): string {
  return `${op.op} ${op.path || '/'}`;
}

/** Compares one desired object with its live counterpart (undefined = missing in the cluster). */
export function compareResource(desired: KubeObject, live: KubeObject | undefined, options: CompareOptions): ResourceDiff {
  const ignoredAnnotations = new Set([...DEFAULT_IGNORED_ANNOTATIONS, ...(options.ignoreAnnotations ?? [])]);
  const sides = options.ignore ? withoutIgnored(options.ignore, desired, live) : { desired, live };
  if (!sides.live) {
    const target = normalizeObject(sides.desired, ignoredAnnotations);
    return {
      status: SyncStatus.OutOfSync,
      diffState: DiffState.Missing,
      differences: ['(missing in the cluster)'],
      live: null,
      target,
      patch: jsonPatch(null, target),
    };
  }
  const predicted = predictApplied(sides.desired, sides.live, options.fieldManager, ignoredAnnotations);
  const liveNorm = normalizeObject(sides.live, ignoredAnnotations);
  const target = normalizeObject({ ...predicted, apiVersion: sides.live.apiVersion, kind: sides.live.kind }, ignoredAnnotations);
  const patch = jsonPatch(liveNorm, target);
  const synced = patch.length === 0;
  return {
    status: synced ? SyncStatus.Synced : SyncStatus.OutOfSync,
    diffState: synced ? DiffState.Synced : DiffState.OutOfSync,
    differences: patch.slice(0, MAX_DIFFERENCES).map(describe),
    live: liveNorm,
    target,
    patch,
  };
}

/** One entry of an app comparison, with the key used to join desired and live. */
export interface AppResourceDiff extends ResourceComparison {
  key: string;
  diffState: DiffState;
  differences: string[];
  live: Record<string, unknown> | null;
  target: Record<string, unknown> | null;
  patch: JsonPatchOperation[];
  /** An extra object annotated `compare-options: IgnoreExtraneous`: shown, but not making the app OutOfSync. */
  ignoreExtraneous?: boolean;
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

/** True for an Argo CD hook (`argocd.argoproj.io/hook`, any value including Skip): not part of the desired set. */
export function isHook(object: KubeObject): boolean {
  return object.metadata.annotations?.[ResourceAnnotation.Hook] !== undefined;
}

/**
 * The options of `argocd.argoproj.io/compare-options` (`IgnoreExtraneous`, `ServerSideDiff=true`), as a
 * map of name → value ('' when the option has no `=value`).
 */
export function compareOptionsOf(object: KubeObject): Map<string, string> {
  const raw = object.metadata.annotations?.[ResourceAnnotation.CompareOptions] ?? '';
  const out = new Map<string, string>();
  for (const part of raw.split(',')) {
    const option = part.trim();
    if (option === '') continue;
    const eq = option.indexOf('=');
    out.set(eq < 0 ? option : option.slice(0, eq), eq < 0 ? '' : option.slice(eq + 1));
  }
  return out;
}

/**
 * Compares an app: every desired object (hooks excluded) with the live object of the same key, and every
 * live object tracked by the app that Git no longer declares (Extra, requiresPruning; hooks and objects
 * being deleted excluded). Extras annotated `compare-options: IgnoreExtraneous` do not make the app
 * OutOfSync. `keyOf` is the shared resource key (group/kind/namespace/name). Resources are returned in a
 * stable order (desired order, then extras by key).
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
  const hookKeys = new Set<string>();
  for (const object of desired) {
    const key = keyOf(object);
    if (isHook(object)) {
      hookKeys.add(key);
      continue;
    }
    desiredKeys.add(key);
    const diff = compareResource(object, live.get(key), options);
    resources.push({ ...identity(object), key, ...diff });
  }
  const ignoredAnnotations = new Set([...DEFAULT_IGNORED_ANNOTATIONS, ...(options.ignoreAnnotations ?? [])]);
  const extras = tracked.filter(
    (o) => !desiredKeys.has(keyOf(o)) && !hookKeys.has(keyOf(o)) && !isHook(o) && !o.metadata.deletionTimestamp,
  );
  extras.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const object of extras) {
    const liveNorm = normalizeObject(object, ignoredAnnotations);
    const ignoreExtraneous = compareOptionsOf(object).has('IgnoreExtraneous');
    resources.push({
      ...identity(object),
      key: keyOf(object),
      status: SyncStatus.OutOfSync,
      requiresPruning: true,
      diffState: DiffState.Extra,
      differences: ['(not in Git)'],
      live: liveNorm,
      target: null,
      patch: jsonPatch(liveNorm, null),
      ...(ignoreExtraneous ? { ignoreExtraneous } : {}),
    });
  }
  const syncStatus = resources.some((r) => r.status !== SyncStatus.Synced && !r.ignoreExtraneous)
    ? SyncStatus.OutOfSync
    : SyncStatus.Synced;
  return { syncStatus, resources };
}
