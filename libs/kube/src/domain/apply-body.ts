import type { KubeObject, ObjectMeta } from '../types.js';

/** Metadata fields the server owns; a server-side apply body carrying them is rejected or misleads. */
const SERVER_METADATA: readonly string[] = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

/**
 * The body of a server-side apply: the object without `status` and without server-owned metadata
 * (`managedFields`, `resourceVersion`, `uid`, `creationTimestamp`, `generation`, …). With
 * `clusterScoped`, `metadata.namespace` is dropped too. The input is not modified.
 */
export function applyBody(object: KubeObject, options: { clusterScoped?: boolean } = {}): KubeObject {
  const { status: _status, ...rest } = object;
  const metadata: ObjectMeta = { ...object.metadata };
  for (const field of SERVER_METADATA) delete metadata[field];
  if (options.clusterScoped) delete metadata.namespace;
  return { ...rest, metadata } as KubeObject;
}
