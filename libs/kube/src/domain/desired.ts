import type { KubeObject } from '../types.js';
import { groupOf } from './identity.js';
import { withTracking } from './tracking.js';

/** Built-in cluster-scoped kinds by `group/kind`, used when discovery cannot answer. */
const CLUSTER_SCOPED: ReadonlySet<string> = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  '/ComponentStatus',
  'storage.k8s.io/StorageClass',
  'storage.k8s.io/CSIDriver',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'networking.k8s.io/IngressClass',
  'scheduling.k8s.io/PriorityClass',
  'node.k8s.io/RuntimeClass',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'certificates.k8s.io/CertificateSigningRequest',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'policy/PodSecurityPolicy',
]);

/** Whether the cluster serves a kind as namespaced; undefined when it does not know the kind. */
export type NamespacedLookup = (apiVersion: string, kind: string) => boolean | undefined;

export interface PrepareDesiredOptions {
  /** The app's `destination.namespace`: given to namespaced objects that name none. */
  defaultNamespace: string;
  /**
   * Whether the cluster serves the kind as namespaced (from discovery); undefined when unknown
   * (a CRD not created yet). Unknown kinds are scoped by a CRD in the same set, then by the
   * built-in table, else taken as namespaced.
   */
  isNamespaced: NamespacedLookup;
}

function crdScopes(objects: readonly KubeObject[]): Map<string, boolean> {
  const scopes = new Map<string, boolean>();
  for (const object of objects) {
    if (object.kind !== 'CustomResourceDefinition' || groupOf(object.apiVersion) !== 'apiextensions.k8s.io') continue;
    const spec = object.spec as { group?: unknown; scope?: unknown; names?: { kind?: unknown } } | undefined;
    if (typeof spec?.group === 'string' && typeof spec.names?.kind === 'string') {
      scopes.set(`${spec.group}/${spec.names.kind}`, spec.scope !== 'Cluster');
    }
  }
  return scopes;
}

/**
 * The desired set as Ferry applies and compares it: namespaced objects without a namespace get the
 * destination's, cluster-scoped objects lose any namespace, and every object carries the app's
 * tracking annotation (computed after the namespace is settled, so it matches the live object).
 * Returns new objects; the input is not modified.
 */
export function prepareDesired(app: string, objects: readonly KubeObject[], options: PrepareDesiredOptions): KubeObject[] {
  const fromCrds = crdScopes(objects);
  return objects.map((object) => {
    const groupKind = `${groupOf(object.apiVersion)}/${object.kind}`;
    const namespaced = options.isNamespaced(object.apiVersion, object.kind) ?? fromCrds.get(groupKind) ?? !CLUSTER_SCOPED.has(groupKind);
    const metadata = { ...object.metadata };
    if (namespaced) metadata.namespace = metadata.namespace || options.defaultNamespace;
    else delete metadata.namespace;
    return withTracking(app, { ...object, metadata });
  });
}
