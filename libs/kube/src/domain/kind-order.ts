import type { KubeObject } from '../types.js';

/**
 * Argo CD's apply order of kinds (gitops-engine `pkg/sync/sync_tasks.go`, after Helm's kind sorter):
 * kinds listed here go first, in this order; every other kind (custom resources included) comes after.
 */
export const KIND_ORDER: readonly string[] = Object.freeze([
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
]);

const orderIndex: ReadonlyMap<string, number> = new Map(KIND_ORDER.map((kind, index) => [kind, index]));

/** The apply rank of a kind: its index in KIND_ORDER, or KIND_ORDER.length for any other kind. */
export function kindOrder(kind: string): number {
  return orderIndex.get(kind) ?? KIND_ORDER.length;
}

function byKindThenName(a: KubeObject, b: KubeObject): number {
  const d = kindOrder(a.kind) - kindOrder(b.kind);
  if (d !== 0) return d;
  const an = a.metadata.name ?? '';
  const bn = b.metadata.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/**
 * A new array in apply order: Argo CD's kind order, then name (as Argo CD does inside a wave);
 * objects equal on both keep their input order. Waves and phases are the caller's (sort per wave).
 */
export function sortForApply<T extends KubeObject>(objects: readonly T[]): T[] {
  return [...objects].sort(byKindThenName);
}

/** A new array in prune order: the reverse of the apply order (workloads before their namespace). */
export function sortForPrune<T extends KubeObject>(objects: readonly T[]): T[] {
  return [...objects].sort((a, b) => byKindThenName(b, a));
}
