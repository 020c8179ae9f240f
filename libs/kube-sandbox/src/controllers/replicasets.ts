/** The ReplicaSet controller: keeps spec.replicas pods and writes the ReplicaSet status. */
import type { KubeObject } from '../types.js';
import {
  ControllerName,
  CONTROLLER_MANAGER,
  isPodReady,
  isPodTerminal,
  matchesSelector,
  num,
  obj,
  owned,
  podAvailability,
  podFromTemplate,
  randomSuffix,
  spec,
  writeStatus,
  type Context,
  type Obj,
} from './runtime.js';

/** Deletion order when scaling down: unscheduled, then pending, then not ready, then the newest. */
function deletionRank(pod: KubeObject): number {
  const s = obj(pod['status']);
  if (!obj(pod['spec'])['nodeName']) return 0;
  if (s['phase'] !== 'Running') return 1;
  if (!isPodReady(pod)) return 2;
  return 3;
}

export function reconcileReplicaSet(ctx: Context, namespace: string | undefined, name: string): void {
  const rsType = ctx.resource('apps/v1', 'ReplicaSet');
  const podType = ctx.resource('v1', 'Pod');
  if (!rsType || !podType) return;
  const rs = ctx.api.get(rsType, namespace, name);
  if (!rs || rs.metadata.deletionTimestamp) return;
  const rsSpec = spec(rs);
  const desired = num(rsSpec['replicas'], 1);

  let active = owned(ctx, podType, rs).filter((p) => !isPodTerminal(p));
  if (active.length < desired) {
    for (let i = active.length; i < desired; i++) {
      const podName = `${name}-${randomSuffix()}`;
      ctx.api.create(podType, podFromTemplate(rsSpec['template'], rs, podName, { generateName: `${name}-` }), CONTROLLER_MANAGER);
      ctx.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`, 'replicaset-controller');
    }
  } else if (active.length > desired) {
    const victims = [...active]
      .sort(
        (a, b) =>
          deletionRank(a) - deletionRank(b) ||
          String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')),
      )
      .slice(0, active.length - desired);
    for (const pod of victims) {
      ctx.api.delete(podType, pod.metadata.namespace, pod.metadata.name ?? '');
      ctx.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name ?? ''}`, 'replicaset-controller');
    }
  }
  active = owned(ctx, podType, rs).filter((p) => !isPodTerminal(p));

  const minReadySeconds = num(rsSpec['minReadySeconds'], 0);
  const templateLabels = obj(obj(obj(rsSpec['template'])['metadata'])['labels']) as Record<string, string>;
  let ready = 0;
  let available = 0;
  let labeled = 0;
  let recheck: number | undefined;
  for (const pod of active) {
    if (matchesSelector(pod.metadata.labels, { matchLabels: templateLabels })) labeled++;
    if (isPodReady(pod)) ready++;
    const availability = podAvailability(ctx, pod, minReadySeconds);
    if (availability.available) available++;
    else if (availability.inMs !== undefined) recheck = Math.min(recheck ?? Infinity, availability.inMs);
  }
  const next: Obj = { replicas: active.length };
  if (labeled > 0) next['fullyLabeledReplicas'] = labeled;
  if (ready > 0) next['readyReplicas'] = ready;
  if (available > 0) next['availableReplicas'] = available;
  next['observedGeneration'] = rs.metadata.generation ?? 1;
  writeStatus(ctx, rsType, rs, next);
  if (recheck !== undefined) ctx.enqueue(ControllerName.replicaSet, namespace, name, recheck);
}
