/**
 * `meta.k8s.io/v1` Table rendering for `kubectl get` (Accept: application/json;as=Table;…): the columns
 * a real server prints for the common kinds, `additionalPrinterColumns` for custom resources, and
 * NAME/AGE for everything else.
 */
import type { KubeObject, ResourceType } from './types.js';

type Obj = Record<string, unknown>;

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  format?: string;
  priority?: number;
  cell: (o: KubeObject, now: number) => unknown;
}

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Human duration as kubectl prints ages (k8s.io/apimachinery/pkg/util/duration.HumanDuration). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name ?? '' };
const age: Column = {
  name: 'Age',
  type: 'string',
  cell: (o, now) => (o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : '<unknown>'),
};
const col = (n: string, cell: Column['cell'], type: Column['type'] = 'string', priority = 0): Column => ({ name: n, type, priority, cell });

function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const status = obj(o.status);
  let reason = typeof status.reason === 'string' ? status.reason : typeof status.phase === 'string' ? status.phase : 'Pending';
  for (const c of arr(status.initContainerStatuses)) {
    const st = obj(c.state);
    if (obj(st.terminated).exitCode === 0) continue;
    if (st.waiting && typeof obj(st.waiting).reason === 'string' && obj(st.waiting).reason !== 'PodInitializing')
      return `Init:${String(obj(st.waiting).reason)}`;
    if (st.terminated) return `Init:${String(obj(st.terminated).reason ?? 'Error')}`;
  }
  for (const c of arr(status.containerStatuses)) {
    const st = obj(c.state);
    if (typeof obj(st.waiting).reason === 'string') reason = String(obj(st.waiting).reason);
    else if (typeof obj(st.terminated).reason === 'string') reason = String(obj(st.terminated).reason);
  }
  return reason;
}

const BUILTIN: Record<string, Column[]> = {
  '/Pod': [
    name,
    col('Ready', (o) => {
      const cs = arr(obj(o.status).containerStatuses);
      const total = arr(obj(o.spec).containers).length;
      return `${cs.filter((c) => c.ready === true).length}/${total}`;
    }),
    col('Status', podStatus),
    col('Restarts', (o) => arr(obj(o.status).containerStatuses).reduce((n, c) => n + num(c.restartCount), 0), 'integer'),
    age,
    col('IP', (o) => obj(o.status).podIP ?? '<none>', 'string', 1),
    col('Node', (o) => obj(o.spec).nodeName ?? '<none>', 'string', 1),
  ],
  'apps/Deployment': [
    name,
    col('Ready', (o) => `${num(obj(o.status).readyReplicas)}/${num(obj(o.spec).replicas)}`),
    col('Up-to-date', (o) => num(obj(o.status).updatedReplicas), 'integer'),
    col('Available', (o) => num(obj(o.status).availableReplicas), 'integer'),
    age,
  ],
  'apps/ReplicaSet': [
    name,
    col('Desired', (o) => num(obj(o.spec).replicas), 'integer'),
    col('Current', (o) => num(obj(o.status).replicas), 'integer'),
    col('Ready', (o) => num(obj(o.status).readyReplicas), 'integer'),
    age,
  ],
  'apps/StatefulSet': [name, col('Ready', (o) => `${num(obj(o.status).readyReplicas)}/${num(obj(o.spec).replicas)}`), age],
  'apps/DaemonSet': [
    name,
    col('Desired', (o) => num(obj(o.status).desiredNumberScheduled), 'integer'),
    col('Current', (o) => num(obj(o.status).currentNumberScheduled), 'integer'),
    col('Ready', (o) => num(obj(o.status).numberReady), 'integer'),
    col('Up-to-date', (o) => num(obj(o.status).updatedNumberScheduled), 'integer'),
    col('Available', (o) => num(obj(o.status).numberAvailable), 'integer'),
    age,
  ],
  'batch/Job': [
    name,
    col('Status', (o) => {
      const conds = arr(obj(o.status).conditions).filter((c) => c.status === 'True');
      if (conds.some((c) => c.type === 'Complete')) return 'Complete';
      if (conds.some((c) => c.type === 'Failed')) return 'Failed';
      if (conds.some((c) => c.type === 'Suspended')) return 'Suspended';
      return 'Running';
    }),
    col('Completions', (o) => `${num(obj(o.status).succeeded)}/${num(obj(o.spec).completions) || 1}`),
    age,
  ],
  'batch/CronJob': [
    name,
    col('Schedule', (o) => obj(o.spec).schedule ?? ''),
    col('Suspend', (o) => String(obj(o.spec).suspend ?? false)),
    col('Active', (o) => arr(obj(o.status).active).length, 'integer'),
    age,
  ],
  '/Service': [
    name,
    col('Type', (o) => obj(o.spec).type ?? 'ClusterIP'),
    col('Cluster-IP', (o) => obj(o.spec).clusterIP ?? '<none>'),
    col('External-IP', (o) => {
      const ing = arr(obj(obj(o.status).loadBalancer).ingress).map((i) => i.ip ?? i.hostname);
      if (ing.length > 0) return ing.join(',');
      const ext = obj(o.spec).externalName;
      return typeof ext === 'string' ? ext : obj(o.spec).type === 'LoadBalancer' ? '<pending>' : '<none>';
    }),
    col('Port(s)', (o) => {
      const ports = arr(obj(o.spec).ports).map(
        (p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`,
      );
      return ports.length > 0 ? ports.join(',') : '<none>';
    }),
    age,
  ],
  '/Namespace': [name, col('Status', (o) => obj(o.status).phase ?? 'Active'), age],
  '/ConfigMap': [name, col('Data', (o) => Object.keys(obj(o.data)).length + Object.keys(obj(o.binaryData)).length, 'integer'), age],
  '/Secret': [name, col('Type', (o) => o.type ?? 'Opaque'), col('Data', (o) => Object.keys(obj(o.data)).length, 'integer'), age],
  '/ServiceAccount': [name, col('Secrets', (o) => arr(o.secrets).length, 'integer'), age],
  '/PersistentVolumeClaim': [
    name,
    col('Status', (o) => obj(o.status).phase ?? 'Pending'),
    col('Volume', (o) => obj(o.spec).volumeName ?? ''),
    col('Capacity', (o) => obj(obj(o.status).capacity).storage ?? ''),
    col('Access Modes', (o) =>
      Array.isArray(obj(o.spec).accessModes) ? (obj(o.spec).accessModes as string[]).map((m) => m.replace(/[a-z]/g, '')).join(',') : '',
    ),
    col('StorageClass', (o) => obj(o.spec).storageClassName ?? '<unset>'),
    age,
  ],
  '/Event': [
    col('Last Seen', (o, now) => {
      const t = (o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp) as string | undefined;
      return t ? humanDuration(now - Date.parse(t)) : '<unknown>';
    }),
    col('Type', (o) => o.type ?? ''),
    col('Reason', (o) => o.reason ?? ''),
    col('Object', (o) => `${String(obj(o.involvedObject).kind ?? '').toLowerCase()}/${String(obj(o.involvedObject).name ?? '')}`),
    col('Message', (o) => o.message ?? ''),
  ],
  '/Node': [
    name,
    col('Status', (o) => (arr(obj(o.status).conditions).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Ready' : 'NotReady')),
    col('Roles', () => '<none>'),
    age,
    col('Version', (o) => obj(obj(o.status).nodeInfo).kubeletVersion ?? ''),
  ],
  'networking.k8s.io/Ingress': [
    name,
    col('Class', (o) => obj(o.spec).ingressClassName ?? '<none>'),
    col(
      'Hosts',
      (o) =>
        arr(obj(o.spec).rules)
          .map((r) => r.host ?? '*')
          .join(',') || '*',
    ),
    col('Address', (o) =>
      arr(obj(obj(o.status).loadBalancer).ingress)
        .map((i) => i.ip ?? i.hostname)
        .join(','),
    ),
    age,
  ],
  'autoscaling/HorizontalPodAutoscaler': [
    name,
    col('Reference', (o) => `${String(obj(obj(o.spec).scaleTargetRef).kind)}/${String(obj(obj(o.spec).scaleTargetRef).name)}`),
    col('MinPods', (o) => num(obj(o.spec).minReplicas) || 1, 'integer'),
    col('MaxPods', (o) => num(obj(o.spec).maxReplicas), 'integer'),
    col('Replicas', (o) => num(obj(o.status).currentReplicas), 'integer'),
    age,
  ],
  'apiextensions.k8s.io/CustomResourceDefinition': [name, col('Created At', (o) => o.metadata.creationTimestamp ?? '', 'date')],
};

/** Reads a simple JSONPath (`.spec.replicas`, `.status.conditions[0].type`) as printer columns use. */
function jsonPath(o: unknown, path: string): unknown {
  const parts = path.replace(/^\./, '').match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: unknown = o;
  for (const p of parts) {
    if (p.startsWith('[')) cur = Array.isArray(cur) ? cur[Number(p.slice(1, -1))] : undefined;
    else cur = obj(cur)[p];
    if (cur === undefined) return undefined;
  }
  return cur;
}

function customColumns(printerColumns: unknown): Column[] | undefined {
  const defs = arr(printerColumns);
  if (defs.length === 0) return undefined;
  const cols: Column[] = [name];
  for (const d of defs) {
    const path = String(d.jsonPath ?? '');
    const type = (['integer', 'number', 'boolean', 'date'].includes(String(d.type)) ? d.type : 'string') as Column['type'];
    cols.push({
      name: String(d.name ?? path),
      type,
      priority: num(d.priority),
      cell: (o, now) => {
        const v = jsonPath(o, path);
        if (v === undefined || v === null) return '<none>';
        if (type === 'date' && typeof v === 'string') return humanDuration(now - Date.parse(v));
        return typeof v === 'object' ? JSON.stringify(v) : v;
      },
    });
  }
  if (!defs.some((d) => d.jsonPath === '.metadata.creationTimestamp')) cols.push(age);
  return cols;
}

/** The Table for `objects` of resource `r`; `printerColumns` comes from a CRD version. */
export function renderTable(
  r: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  printerColumns?: unknown,
  extraMeta?: Obj,
): Obj {
  const cols = customColumns(printerColumns) ?? BUILTIN[`${r.group}/${r.kind}`] ?? [name, age];
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(extraMeta ?? {}) },
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { ...o.metadata, managedFields: undefined } },
    })),
  };
}

/** True when the Accept header asks for a meta.k8s.io Table. */
export function wantsTable(accept: string | undefined): boolean {
  return typeof accept === 'string' && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}
