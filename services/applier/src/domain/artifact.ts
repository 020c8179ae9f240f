/**
 * The rendered set the poller stores under an artifact key:
 * `{ app, revision, objects: [{ object, source: { file, line } }] }`.
 */
import type { KubeObject } from '@ferry/kube';

export type ArtifactParse = { ok: true; objects: KubeObject[] } | { ok: false; problem: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The Kubernetes objects of a stored artifact, or what is wrong with it (first problem). */
export function parseArtifact(value: unknown): ArtifactParse {
  if (!isObject(value) || !Array.isArray(value['objects'])) return { ok: false, problem: 'artifact has no objects list' };
  const objects: KubeObject[] = [];
  for (const [i, entry] of (value['objects'] as unknown[]).entries()) {
    const object = isObject(entry) ? entry['object'] : undefined;
    if (
      !isObject(object) ||
      typeof object['apiVersion'] !== 'string' ||
      typeof object['kind'] !== 'string' ||
      !isObject(object['metadata']) ||
      typeof object['metadata']['name'] !== 'string' ||
      object['metadata']['name'] === ''
    ) {
      return { ok: false, problem: `artifact objects[${i}] is not a Kubernetes object with apiVersion, kind and metadata.name` };
    }
    objects.push(object as unknown as KubeObject);
  }
  return { ok: true, objects };
}
