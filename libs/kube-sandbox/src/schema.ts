/**
 * What the sandbox knows of the built-in types' schemas: which lists are associative (and by which
 * keys) for server-side apply and strategic merge patch, and which objects are maps (not structs).
 * Custom resources use their CRD's `x-kubernetes-list-type`/`x-kubernetes-list-map-keys` when present.
 */

/** How a list field merges: by keys (associative), as a set of scalars, or atomically. */
export type ListKind = { type: 'map'; keys: string[]; smpKey: string } | { type: 'set' } | { type: 'atomic' };

/** Schema lookups that depend on the object's kind; custom resources supply `custom`. */
export interface SchemaContext {
  kind: string;
  builtin: boolean;
  /** For custom resources: the list kind declared in the CRD schema at a path of field names, if any. */
  custom?: (path: readonly string[]) => ListKind | undefined;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

const ATOMIC: ListKind = { type: 'atomic' };

function mapKeys(keys: string[], smpKey?: string): ListKind {
  return { type: 'map', keys, smpKey: smpKey ?? keys[0]! };
}

/** Defaults for key fields that a list item may omit (SSA fills them in when computing its key). */
export const KEY_DEFAULTS: Record<string, unknown> = { protocol: 'TCP' };

export function listKind(ctx: SchemaContext, path: readonly string[]): ListKind {
  const name = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  // metadata lists are the same for every kind
  if (path.length === 2 && path[0] === 'metadata') {
    if (name === 'ownerReferences') return mapKeys(['uid']);
    if (name === 'finalizers') return { type: 'set' };
    return ATOMIC;
  }
  if (!ctx.builtin) return ctx.custom?.(path) ?? ATOMIC;
  if (CONTAINER_LISTS.has(name)) return mapKeys(['name']);
  switch (name) {
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
    case 'resourceClaims':
    case 'schedulingGates':
      return mapKeys(['name']);
    case 'ports':
      if (CONTAINER_LISTS.has(parent) || path.includes('containers') || path.includes('initContainers'))
        return mapKeys(['containerPort', 'protocol'], 'containerPort');
      if (ctx.kind === 'Service' && path.length === 2 && path[0] === 'spec') return mapKeys(['port', 'protocol'], 'port');
      return ATOMIC;
    case 'volumeMounts':
      return mapKeys(['mountPath']);
    case 'volumeDevices':
      return mapKeys(['devicePath']);
    case 'conditions':
      return mapKeys(['type']);
    case 'hostAliases':
      return mapKeys(['ip']);
    case 'topologySpreadConstraints':
      return mapKeys(['topologyKey', 'whenUnsatisfiable'], 'topologyKey');
    case 'finalizers':
      return path.length === 2 && path[0] === 'spec' && ctx.kind === 'Namespace' ? { type: 'set' } : ATOMIC;
    default:
      return ATOMIC;
  }
}

const ALWAYS_MAPS = new Set([
  'labels',
  'annotations',
  'matchLabels',
  'nodeSelector',
  'limits',
  'requests',
  'capacity',
  'allocatable',
  'hard',
  'used',
]);
const TOP_MAPS = new Set(['data', 'binaryData', 'stringData']);

/** True when the object at `path` is a map (its own membership "." is tracked), not a struct. */
export function isMapField(ctx: SchemaContext, path: readonly string[]): boolean {
  const name = path[path.length - 1] ?? '';
  if (path.length === 2 && path[0] === 'metadata') return name === 'labels' || name === 'annotations';
  if (path.length === 1 && TOP_MAPS.has(name)) return true;
  if (!ctx.builtin) return false;
  if (ALWAYS_MAPS.has(name)) return true;
  if (name === 'selector' && path.length === 2 && path[0] === 'spec' && (ctx.kind === 'Service' || ctx.kind === 'ReplicationController'))
    return true;
  return false;
}

/** Reads list kinds from a CRD version's openAPIV3Schema (x-kubernetes-list-type / -list-map-keys). */
export function customListKinds(schema: unknown): (path: readonly string[]) => ListKind | undefined {
  return (path) => {
    let node = schema as Record<string, unknown> | undefined;
    for (const seg of path) {
      if (!node || typeof node !== 'object') return undefined;
      if (node.type === 'array') node = node.items as Record<string, unknown> | undefined;
      const props = node?.properties as Record<string, Record<string, unknown>> | undefined;
      node = props?.[seg] ?? (node?.additionalProperties as Record<string, unknown> | undefined);
    }
    if (!node) return undefined;
    const lt = node['x-kubernetes-list-type'];
    if (lt === 'set') return { type: 'set' };
    if (lt === 'map') {
      const keys = node['x-kubernetes-list-map-keys'];
      if (Array.isArray(keys) && keys.length > 0) return mapKeys(keys.map(String));
    }
    if (lt === 'atomic') return ATOMIC;
    return undefined;
  };
}
