/** The built-in resource types the sandbox serves, and the registry that CRDs extend. */
import type { ResourceType } from './types.js';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

interface Def {
  gv: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  short?: string[];
  status?: boolean;
  scale?: boolean;
}

const defs: Def[] = [
  { gv: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, short: ['ns'], status: true },
  { gv: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, short: ['cm'] },
  { gv: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { gv: 'v1', kind: 'Service', plural: 'services', namespaced: true, short: ['svc'], status: true },
  { gv: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, short: ['sa'] },
  { gv: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, short: ['po'], status: true },
  { gv: 'v1', kind: 'Event', plural: 'events', namespaced: true, short: ['ev'] },
  { gv: 'v1', kind: 'Endpoints', plural: 'endpoints', namespaced: true, short: ['ep'] },
  { gv: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, short: ['pvc'], status: true },
  { gv: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, short: ['pv'], status: true },
  { gv: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, short: ['no'], status: true },
  { gv: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true, short: ['limits'] },
  { gv: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, short: ['quota'], status: true },
  { gv: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true, short: ['deploy'], status: true, scale: true },
  { gv: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, short: ['rs'], status: true, scale: true },
  { gv: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, short: ['sts'], status: true, scale: true },
  { gv: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, short: ['ds'], status: true },
  { gv: 'apps/v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true },
  { gv: 'batch/v1', kind: 'Job', plural: 'jobs', namespaced: true, status: true },
  { gv: 'batch/v1', kind: 'CronJob', plural: 'cronjobs', namespaced: true, short: ['cj'], status: true },
  { gv: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true, short: ['ing'], status: true },
  { gv: 'networking.k8s.io/v1', kind: 'IngressClass', plural: 'ingressclasses', namespaced: false },
  { gv: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true, short: ['netpol'] },
  {
    gv: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    short: ['hpa'],
    status: true,
  },
  { gv: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, short: ['pdb'], status: true },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles', namespaced: true },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
  { gv: 'storage.k8s.io/v1', kind: 'StorageClass', plural: 'storageclasses', namespaced: false, short: ['sc'] },
  { gv: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true },
  {
    gv: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
    short: ['crd', 'crds'],
    status: true,
  },
];

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function builtinResources(): ResourceType[] {
  return defs.map((d) => {
    const { group, version } = splitApiVersion(d.gv);
    return {
      group,
      version,
      kind: d.kind,
      plural: d.plural,
      singular: d.kind.toLowerCase(),
      namespaced: d.namespaced,
      shortNames: d.short ?? [],
      verbs: ALL_VERBS,
      subresources: { status: d.status ?? false, scale: d.scale ?? false },
    };
  });
}

export const CRD_GROUP = 'apiextensions.k8s.io';

/** Key of a resource's storage (all versions of one group+plural share storage). */
export function storageKey(r: { group: string; plural: string }): string {
  return `${r.plural}.${r.group}`;
}

/** Resource types by group/version/plural and by apiVersion+kind; CRDs add and remove entries. */
export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceType>();
  private readonly byGvk = new Map<string, ResourceType>();
  /** group -> versions in preference order */
  private readonly groups = new Map<string, string[]>();
  private readonly crdOwned = new Map<string, ResourceType[]>();

  constructor() {
    for (const r of builtinResources()) this.add(r);
  }

  add(r: ResourceType): void {
    this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
    this.byGvk.set(`${apiVersionOf(r)}/${r.kind}`, r);
    const versions = this.groups.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    this.groups.set(r.group, versions);
  }

  private remove(r: ResourceType): void {
    this.byPath.delete(`${r.group}/${r.version}/${r.plural}`);
    this.byGvk.delete(`${apiVersionOf(r)}/${r.kind}`);
    const stillUsed = [...this.byPath.values()].some((x) => x.group === r.group && x.version === r.version);
    if (!stillUsed) {
      const versions = (this.groups.get(r.group) ?? []).filter((v) => v !== r.version);
      if (versions.length === 0) this.groups.delete(r.group);
      else this.groups.set(r.group, versions);
    }
  }

  /** Replaces the types served for one CRD (by CRD name). */
  setCrd(crdName: string, types: ResourceType[]): void {
    for (const r of this.crdOwned.get(crdName) ?? []) this.remove(r);
    this.crdOwned.delete(crdName);
    if (types.length === 0) return;
    for (const r of types) this.add(r);
    this.crdOwned.set(crdName, types);
  }

  isCustom(r: ResourceType): boolean {
    for (const types of this.crdOwned.values()) if (types.includes(r)) return true;
    return false;
  }

  byGroupVersionPlural(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  byApiVersionKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.byGvk.get(`${apiVersion}/${kind}`);
  }

  /** Every version served for a group+plural (storage shares them). */
  versionsOf(group: string, plural: string): ResourceType[] {
    return [...this.byPath.values()].filter((r) => r.group === group && r.plural === plural);
  }

  groupVersions(): { group: string; versions: string[] }[] {
    return [...this.groups.entries()].map(([group, versions]) => ({ group, versions: [...versions] }));
  }

  resourcesIn(group: string, version: string): ResourceType[] {
    return [...this.byPath.values()].filter((r) => r.group === group && r.version === version);
  }

  all(): ResourceType[] {
    return [...this.byPath.values()];
  }
}
