/**
 * The StatefulSet and DaemonSet controllers. A StatefulSet runs pods `<name>-0..n-1` (in order, one at a
 * time, for OrderedReady), with one PVC per claim template and ordinal; a rolling update replaces pods
 * from the highest ordinal down to the partition. A DaemonSet runs one pod on the one node.
 */
import type { KubeObject } from '../types.js';
import {
  ControllerName,
  CONTROLLER_MANAGER,
  NODE_NAME,
  arr,
  isPodReady,
  isPodTerminal,
  num,
  obj,
  owned,
  podAvailability,
  podFromTemplate,
  randomSuffix,
  spec,
  status,
  str,
  templateHash,
  writeStatus,
  type Context,
  type Obj,
} from './runtime.js';

const REVISION_LABEL = 'controller-revision-hash';

function ordinalOf(setName: string, pod: KubeObject): number | undefined {
  const podName = pod.metadata.name ?? '';
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const n = Number(podName.slice(setName.length + 1));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function reconcileStatefulSet(ctx: Context, namespace: string | undefined, name: string): void {
  const stsType = ctx.resource('apps/v1', 'StatefulSet');
  const podType = ctx.resource('v1', 'Pod');
  const pvcType = ctx.resource('v1', 'PersistentVolumeClaim');
  if (!stsType || !podType) return;
  const sts = ctx.api.get(stsType, namespace, name);
  if (!sts || sts.metadata.deletionTimestamp) return;
  const sSpec = spec(sts);
  const replicas = num(sSpec['replicas'], 1);
  const parallel = sSpec['podManagementPolicy'] === 'Parallel';
  const strategy = obj(sSpec['updateStrategy']);
  const partition = strategy['type'] === 'OnDelete' ? Infinity : num(obj(strategy['rollingUpdate'])['partition'], 0);
  const updateRevision = `${name}-${templateHash(sSpec['template'])}`;
  const prev = status(sts);
  let currentRevision = str(prev['currentRevision']) ?? updateRevision;
  const claims = arr(sSpec['volumeClaimTemplates']);
  const minReadySeconds = num(sSpec['minReadySeconds'], 0);

  const list = (): Map<number, KubeObject> => {
    const byOrdinal = new Map<number, KubeObject>();
    for (const pod of owned(ctx, podType, sts)) {
      const ordinal = ordinalOf(name, pod);
      if (ordinal !== undefined) byOrdinal.set(ordinal, pod);
    }
    return byOrdinal;
  };
  let pods = list();

  // Failed pods are replaced (a StatefulSet deletes and recreates them).
  for (const pod of pods.values()) if (isPodTerminal(pod)) ctx.api.delete(podType, namespace, pod.metadata.name ?? '');
  pods = list();

  // Scale up.
  for (let i = 0; i < replicas; i++) {
    if (pods.has(i)) continue;
    if (!parallel) {
      const lowerReady = [...Array(i).keys()].every((j) => {
        const p = pods.get(j);
        return p !== undefined && isPodReady(p);
      });
      if (!lowerReady) break;
    }
    const podName = `${name}-${i}`;
    const labels = {
      [REVISION_LABEL]: updateRevision,
      'statefulset.kubernetes.io/pod-name': podName,
      'apps.kubernetes.io/pod-index': String(i),
    };
    const pod = podFromTemplate(sSpec['template'], sts, podName, { labels, generateName: `${name}-` });
    const podSpec = pod['spec'] as Obj;
    podSpec['hostname'] = podName;
    if (typeof sSpec['serviceName'] === 'string' && sSpec['serviceName'] !== '') podSpec['subdomain'] = sSpec['serviceName'];
    const volumes = arr(podSpec['volumes']);
    for (const claim of claims) {
      const claimName = str(obj(claim['metadata'])['name']) ?? 'data';
      const pvcName = `${claimName}-${name}-${i}`;
      if (pvcType && !ctx.api.get(pvcType, namespace, pvcName)) {
        const claimMeta = obj(claim['metadata']);
        ctx.api.create(
          pvcType,
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: {
              name: pvcName,
              namespace,
              labels: { ...(obj(obj(sSpec['selector'])['matchLabels']) as Record<string, string>), ...(obj(claimMeta['labels']) as Record<string, string>) },
              ...(claimMeta['annotations'] ? { annotations: claimMeta['annotations'] as Record<string, string> } : {}),
            },
            spec: structuredClone(obj(claim['spec'])),
          },
          CONTROLLER_MANAGER,
        );
        ctx.event(sts, 'Normal', 'SuccessfulCreate', `create Claim ${pvcName} Pod ${podName} in StatefulSet ${name} success`, 'statefulset-controller');
      }
      if (!volumes.some((v) => v['name'] === claimName)) volumes.push({ name: claimName, persistentVolumeClaim: { claimName: pvcName } });
    }
    if (volumes.length > 0) podSpec['volumes'] = volumes;
    ctx.api.create(podType, pod, CONTROLLER_MANAGER);
    ctx.event(sts, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${name} successful`, 'statefulset-controller');
    pods = list();
    if (!parallel) break;
  }

  // Scale down: highest ordinal first (one at a time for OrderedReady).
  const extra = [...pods.keys()].filter((i) => i >= replicas).sort((a, b) => b - a);
  for (const i of parallel ? extra : extra.slice(0, 1)) {
    ctx.api.delete(podType, namespace, `${name}-${i}`);
    ctx.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${name}-${i} in StatefulSet ${name} successful`, 'statefulset-controller');
  }
  pods = list();

  // Rolling update: when every pod is ready, replace the highest outdated ordinal >= partition.
  const inRange = [...pods.entries()].filter(([i]) => i < replicas);
  if (inRange.length === replicas && inRange.every(([, p]) => isPodReady(p))) {
    const outdated = inRange
      .filter(([i, p]) => i >= partition && p.metadata.labels?.[REVISION_LABEL] !== updateRevision)
      .sort(([a], [b]) => b - a);
    const first = outdated[0];
    if (first) {
      ctx.api.delete(podType, namespace, first[1].metadata.name ?? '');
      pods = list();
    }
  }

  // Status.
  const active = [...pods.values()];
  let ready = 0;
  let available = 0;
  let updated = 0;
  let current = 0;
  let recheck: number | undefined;
  for (const pod of active) {
    if (isPodReady(pod)) ready++;
    const a = podAvailability(ctx, pod, minReadySeconds);
    if (a.available) available++;
    else if (a.inMs !== undefined) recheck = Math.min(recheck ?? Infinity, a.inMs);
    const revision = pod.metadata.labels?.[REVISION_LABEL];
    if (revision === updateRevision) updated++;
    if (revision === currentRevision) current++;
  }
  if (updated === replicas && active.length === replicas && ready === replicas) {
    currentRevision = updateRevision;
    current = updated;
  }
  const next: Obj = { observedGeneration: sts.metadata.generation ?? 1, replicas: active.length };
  if (ready > 0) next['readyReplicas'] = ready;
  if (current > 0) next['currentReplicas'] = current;
  if (updated > 0) next['updatedReplicas'] = updated;
  next['currentRevision'] = currentRevision;
  next['updateRevision'] = updateRevision;
  next['collisionCount'] = 0;
  next['availableReplicas'] = available;
  writeStatus(ctx, stsType, sts, next);
  if (recheck !== undefined) ctx.enqueue(ControllerName.statefulSet, namespace, name, recheck);
}

const DAEMON_TOLERATIONS: Obj[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export function reconcileDaemonSet(ctx: Context, namespace: string | undefined, name: string): void {
  const dsType = ctx.resource('apps/v1', 'DaemonSet');
  const podType = ctx.resource('v1', 'Pod');
  if (!dsType || !podType) return;
  const ds = ctx.api.get(dsType, namespace, name);
  if (!ds || ds.metadata.deletionTimestamp) return;
  const dSpec = spec(ds);
  const hash = templateHash(dSpec['template']);
  const rollingUpdate = obj(dSpec['updateStrategy'])['type'] !== 'OnDelete';

  let pods = owned(ctx, podType, ds);
  for (const pod of pods) {
    const outdated = pod.metadata.labels?.[REVISION_LABEL] !== hash;
    if (isPodTerminal(pod) || (rollingUpdate && outdated)) ctx.api.delete(podType, namespace, pod.metadata.name ?? '');
  }
  pods = owned(ctx, podType, ds);
  if (pods.length === 0) {
    const pod = podFromTemplate(dSpec['template'], ds, `${name}-${randomSuffix()}`, {
      generateName: `${name}-`,
      labels: { [REVISION_LABEL]: hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
    });
    const podSpec = pod['spec'] as Obj;
    if (!podSpec['affinity']) {
      podSpec['affinity'] = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [NODE_NAME] }] }],
          },
        },
      };
    }
    const tolerations = arr(podSpec['tolerations']);
    for (const t of DAEMON_TOLERATIONS) if (!tolerations.some((x) => x['key'] === t['key'])) tolerations.push({ ...t });
    podSpec['tolerations'] = tolerations;
    ctx.api.create(podType, pod, CONTROLLER_MANAGER);
    ctx.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name ?? ''}`, 'daemonset-controller');
    pods = owned(ctx, podType, ds);
  }

  const minReadySeconds = num(dSpec['minReadySeconds'], 0);
  const scheduled = Math.min(1, pods.length);
  const ready = pods.filter(isPodReady).length > 0 ? 1 : 0;
  let recheck: number | undefined;
  let available = 0;
  for (const pod of pods) {
    const a = podAvailability(ctx, pod, minReadySeconds);
    if (a.available) available = 1;
    else if (a.inMs !== undefined) recheck = a.inMs;
  }
  const updated = pods.some((p) => p.metadata.labels?.[REVISION_LABEL] === hash) ? 1 : 0;
  const next: Obj = {
    currentNumberScheduled: scheduled,
    desiredNumberScheduled: 1,
    numberMisscheduled: 0,
    numberReady: ready,
    observedGeneration: ds.metadata.generation ?? 1,
  };
  if (available > 0) next['numberAvailable'] = available;
  if (available < 1) next['numberUnavailable'] = 1 - available;
  if (updated > 0) next['updatedNumberScheduled'] = updated;
  writeStatus(ctx, dsType, ds, next);
  if (recheck !== undefined) ctx.enqueue(ControllerName.daemonSet, namespace, name, recheck);
}
