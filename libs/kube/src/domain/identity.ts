import type { KubeObject, ObjectRef } from '../types.js';

/** The API group of an apiVersion: `apps/v1` → `apps`, `v1` → '' (core). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The version of an apiVersion: `apps/v1` → `v1`, `v1` → `v1`. */
export function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

/** The reference naming an object (namespace omitted when the object has none). */
export function refOf(object: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name ?? '' };
  if (object.metadata.namespace) ref.namespace = object.metadata.namespace;
  return ref;
}

function isObject(target: KubeObject | ObjectRef): target is KubeObject {
  return typeof (target as KubeObject).metadata === 'object' && (target as KubeObject).metadata !== null;
}

/**
 * `group/kind/namespace/name` — the identity of an object regardless of API version, used as a map
 * key everywhere (desired set, live cache, results). Core group and cluster scope are empty segments:
 * `/Service/default/web`, `/Namespace//web`, `apps/Deployment/default/web`.
 */
export function resourceKey(target: KubeObject | ObjectRef): string {
  const ref = isObject(target) ? refOf(target) : target;
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** Human form for messages and logs: `apps/Deployment default/web`, `Namespace web`. */
export function describeRef(target: KubeObject | ObjectRef): string {
  const ref = isObject(target) ? refOf(target) : target;
  const group = groupOf(ref.apiVersion);
  const type = group ? `${group}/${ref.kind}` : ref.kind;
  return ref.namespace ? `${type} ${ref.namespace}/${ref.name}` : `${type} ${ref.name}`;
}
