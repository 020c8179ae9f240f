import type { KubeObject } from '../types.js';
import { withTracking } from './tracking.js';

/** How to tell whether a kind is namespaced: discovery's answer, or undefined when the cluster does not serve it yet. */
export type NamespacedLookup = (apiVersion: string, kind: string) => boolean | undefined;

/**
 * The desired set of an app as Ferry applies and compares it: each object with its namespace filled
 * from the destination when it is namespaced and names none (cluster-scoped objects lose any
 * namespace), and the app's tracking annotation. A kind the cluster does not serve yet is scoped by
 * a CustomResourceDefinition in the same set, else taken as namespaced (Argo CD does the same).
 * Pure: the inputs are not modified.
 */
export function prepareDesired(
  app: string,
  objects: readonly KubeObject[],
  options: { defaultNamespace: string; isNamespaced: NamespacedLookup },
): KubeObject[] {
  const crdScopes = new Map<string, boolean>();
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const spec = o['spec'] as { group?: string; names?: { kind?: string }; scope?: string } | undefined;
    if (spec?.group && spec.names?.kind) crdScopes.set(`${spec.group}/${spec.names.kind}`, spec.scope !== 'Cluster');
  }
  return objects.map((object) => {
    const group = object.apiVersion.includes('/') ? object.apiVersion.slice(0, object.apiVersion.indexOf('/')) : '';
    const namespaced = options.isNamespaced(object.apiVersion, object.kind) ?? crdScopes.get(`${group}/${object.kind}`) ?? true;
    const metadata = { ...object.metadata };
    if (namespaced) {
      if (!metadata.namespace) metadata.namespace = options.defaultNamespace || 'default';
    } else {
      delete metadata.namespace;
    }
    return withTracking(app, { ...object, metadata });
  });
}
