/**
 * The Deployment controller: one ReplicaSet per pod template (`<name>-<pod-template-hash>`), rolling
 * updates within maxSurge/maxUnavailable, Recreate, revision annotations, history cleanup, and the
 * status with the Available and Progressing conditions the real controller writes.
 */
import type { KubeObject, ResourceType } from '../types.js';
import {
  ControllerName,
  CONTROLLER_MANAGER,
  arr,
  forUpdate,
  num,
  obj,
  owned,
  ownerReference,
  parseTime,
  resolveIntOrPercent,
  setCondition,
  spec,
  status,
  templateHash,
  timestamp,
  writeStatus,
  type Context,
  type Obj,
} from './runtime.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const DESIRED_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
const MAX_ANNOTATION = 'deployment.kubernetes.io/max-replicas';

function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
}

function replicasOf(rs: KubeObject): number {
  return num(spec(rs)['replicas'], 0);
}

function statusCount(rs: KubeObject, field: string): number {
  return num(status(rs)[field], 0);
}

function scaleReplicaSet(ctx: Context, rsType: ResourceType, d: KubeObject, rs: KubeObject, replicas: number, desired: number, maxSurge: number): void {
  const annotations = rs.metadata.annotations ?? {};
  if (
    replicasOf(rs) === replicas &&
    annotations[DESIRED_ANNOTATION] === String(desired) &&
    annotations[MAX_ANNOTATION] === String(desired + maxSurge)
  ) {
    return;
  }
  const copy = forUpdate(rs);
  (copy['spec'] as Obj)['replicas'] = replicas;
  copy.metadata.annotations = { ...annotations, [DESIRED_ANNOTATION]: String(desired), [MAX_ANNOTATION]: String(desired + maxSurge) };
  ctx.api.update(rsType, copy, CONTROLLER_MANAGER);
  const from = replicasOf(rs);
  if (from !== replicas) {
    const direction = replicas > from ? 'up' : 'down';
    ctx.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${rs.metadata.name ?? ''} from ${from} to ${replicas}`, 'deployment-controller');
  }
}

export function reconcileDeployment(ctx: Context, namespace: string | undefined, name: string): void {
  const deployType = ctx.resource('apps/v1', 'Deployment');
  const rsType = ctx.resource('apps/v1', 'ReplicaSet');
  if (!deployType || !rsType) return;
  let d = ctx.api.get(deployType, namespace, name);
  if (!d || d.metadata.deletionTimestamp) return;
  const now = ctx.now();
  const dSpec = spec(d);
  const desired = num(dSpec['replicas'], 1);
  const paused = dSpec['paused'] === true;
  const strategy = obj(dSpec['strategy']);
  const recreate = strategy['type'] === 'Recreate';
  const rolling = obj(strategy['rollingUpdate']);
  const maxSurge = recreate ? 0 : resolveIntOrPercent(rolling['maxSurge'] ?? '25%', desired, true);
  let maxUnavailable = recreate ? 0 : resolveIntOrPercent(rolling['maxUnavailable'] ?? '25%', desired, false);
  if (!recreate && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  const template = obj(dSpec['template']);
  const hash = templateHash(template);
  const previousConditions = arr(status(d)['conditions']);

  let all = owned(ctx, rsType, d);
  let newRs = all.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
  let progressing: { reason: string; message: string } | undefined;

  if (!paused) {
    const olds = all.filter((rs) => rs !== newRs);
    const maxOldRevision = Math.max(0, ...olds.map(revisionOf));
    if (!newRs) {
      const rsName = `${name}-${hash}`;
      const rsTemplate = structuredClone(template);
      const tMeta = obj(rsTemplate['metadata']);
      rsTemplate['metadata'] = tMeta;
      tMeta['labels'] = { ...(obj(tMeta['labels']) as Record<string, string>), 'pod-template-hash': hash };
      const selector = structuredClone(obj(dSpec['selector']));
      selector['matchLabels'] = { ...(obj(selector['matchLabels']) as Record<string, string>), 'pod-template-hash': hash };
      const anyOldPods = olds.some((rs) => replicasOf(rs) > 0 || statusCount(rs, 'replicas') > 0);
      const initial = olds.length === 0 || !anyOldPods ? desired : recreate ? 0 : Math.min(desired, Math.max(0, desired + maxSurge - olds.reduce((n, rs) => n + replicasOf(rs), 0)));
      const rsObject: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rsName,
          namespace,
          labels: { ...(obj(obj(template['metadata'])['labels']) as Record<string, string>), 'pod-template-hash': hash },
          annotations: {
            [DESIRED_ANNOTATION]: String(desired),
            [MAX_ANNOTATION]: String(desired + maxSurge),
            [REVISION_ANNOTATION]: String(maxOldRevision + 1),
          },
          ownerReferences: [ownerReference(d)],
        },
        spec: {
          replicas: initial,
          ...(dSpec['minReadySeconds'] !== undefined ? { minReadySeconds: dSpec['minReadySeconds'] } : {}),
          selector,
          template: rsTemplate,
        },
      };
      newRs = ctx.api.create(rsType, rsObject, CONTROLLER_MANAGER);
      if (initial > 0) ctx.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rsName} from 0 to ${initial}`, 'deployment-controller');
      progressing = { reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` };
    } else if (revisionOf(newRs) <= maxOldRevision) {
      // A rollback to an older template: that ReplicaSet becomes the newest revision.
      const copy = forUpdate(newRs);
      copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [REVISION_ANNOTATION]: String(maxOldRevision + 1) };
      newRs = ctx.api.update(rsType, copy, CONTROLLER_MANAGER);
    }

    // Scaling.
    const current = newRs;
    const oldSets = all.filter((rs) => rs.metadata.uid !== current.metadata.uid).sort((a, b) => revisionOf(a) - revisionOf(b));
    const oldActive = oldSets.filter((rs) => replicasOf(rs) > 0);
    if (oldActive.length === 0) {
      scaleReplicaSet(ctx, rsType, d, current, desired, desired, maxSurge);
    } else if (recreate) {
      for (const rs of oldActive) scaleReplicaSet(ctx, rsType, d, rs, 0, desired, maxSurge);
      if (oldSets.every((rs) => statusCount(rs, 'replicas') === 0)) scaleReplicaSet(ctx, rsType, d, current, desired, desired, maxSurge);
    } else {
      const total = [current, ...oldSets].reduce((n, rs) => n + replicasOf(rs), 0);
      let newReplicas = replicasOf(current);
      if (newReplicas < desired) newReplicas += Math.min(desired - newReplicas, Math.max(0, desired + maxSurge - total));
      else if (newReplicas > desired) newReplicas = desired;
      scaleReplicaSet(ctx, rsType, d, current, newReplicas, desired, maxSurge);
      // Scale old ReplicaSets down while keeping desired - maxUnavailable pods available.
      const minAvailable = desired - maxUnavailable;
      const newUnavailable = Math.max(0, replicasOf(current) - statusCount(current, 'availableReplicas'));
      const totalAfter = newReplicas + oldSets.reduce((n, rs) => n + replicasOf(rs), 0);
      let budget = totalAfter - minAvailable - newUnavailable;
      const oldScaled = new Map<KubeObject, number>(oldSets.map((rs) => [rs, replicasOf(rs)]));
      for (const rs of oldActive) {
        if (budget <= 0) break;
        const unhealthy = Math.max(0, replicasOf(rs) - statusCount(rs, 'availableReplicas'));
        const cut = Math.min(unhealthy, budget);
        oldScaled.set(rs, replicasOf(rs) - cut);
        budget -= cut;
      }
      const availableAll = [current, ...oldSets].reduce((n, rs) => n + statusCount(rs, 'availableReplicas'), 0);
      let canRemove = Math.min(budget, availableAll - minAvailable);
      for (const rs of oldActive) {
        if (canRemove <= 0) break;
        const left = oldScaled.get(rs) ?? 0;
        const cut = Math.min(left, canRemove);
        oldScaled.set(rs, left - cut);
        canRemove -= cut;
      }
      for (const [rs, replicas] of oldScaled) if (replicas !== replicasOf(rs)) scaleReplicaSet(ctx, rsType, d, rs, replicas, desired, maxSurge);
    }

    // History: old ReplicaSets without pods beyond revisionHistoryLimit are deleted, oldest first.
    const limit = num(dSpec['revisionHistoryLimit'], 10);
    all = owned(ctx, rsType, d);
    const idle = all
      .filter((rs) => rs.metadata.uid !== current.metadata.uid && replicasOf(rs) === 0 && statusCount(rs, 'replicas') === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) ctx.api.delete(rsType, rs.metadata.namespace, rs.metadata.name ?? '');

    // The Deployment carries the revision of its newest ReplicaSet.
    d = ctx.api.get(deployType, namespace, name) ?? d;
    const revision = String(revisionOf(ctx.api.get(rsType, namespace, current.metadata.name ?? '') ?? current));
    if (d.metadata.annotations?.[REVISION_ANNOTATION] !== revision) {
      const copy = forUpdate(d);
      copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision };
      d = ctx.api.update(deployType, copy, CONTROLLER_MANAGER);
    }
  }

  // Status.
  all = owned(ctx, rsType, d);
  newRs = all.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
  const sum = (field: string): number => all.reduce((n, rs) => n + statusCount(rs, field), 0);
  const replicas = sum('replicas');
  const updated = newRs ? statusCount(newRs, 'replicas') : 0;
  const ready = sum('readyReplicas');
  const available = sum('availableReplicas');
  const totalSpec = all.reduce((n, rs) => n + replicasOf(rs), 0);
  const unavailable = Math.max(0, totalSpec - available);
  const generation = d.metadata.generation ?? 1;

  const prev = status(d);
  const rsName = newRs?.metadata.name ?? `${name}-${hash}`;
  let conditions: Obj[] = previousConditions;
  conditions = setCondition(
    conditions,
    available >= desired - maxUnavailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
    now,
    { lastUpdateTime: true },
  );

  const uid = d.metadata.uid ?? '';
  const deadlineMs = num(dSpec['progressDeadlineSeconds'], 600) * ctx.config.progressDeadlineScaleMs;
  const progressCond = conditions.find((c) => c['type'] === 'Progressing');
  const markProgress = (reason: string, message: string): void => {
    // Progress moves lastUpdateTime even when the reason stays (the real controller special-cases this).
    const keepTransition = progressCond?.['status'] === 'True' ? progressCond['lastTransitionTime'] : undefined;
    const condition: Obj = {
      type: 'Progressing',
      status: 'True',
      lastUpdateTime: timestamp(now),
      lastTransitionTime: typeof keepTransition === 'string' ? keepTransition : timestamp(now),
      reason,
      message,
    };
    conditions = conditions.filter((c) => c['type'] !== 'Progressing').concat([condition]);
    ctx.memory.deploymentProgressAt.set(uid, now);
  };
  let recheckMs: number | undefined;
  if (paused) {
    if (progressCond?.['reason'] !== 'DeploymentPaused') {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, now, { lastUpdateTime: true });
    }
  } else {
    if (progressCond?.['reason'] === 'DeploymentPaused') {
      conditions = setCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' }, now, { lastUpdateTime: true });
      ctx.memory.deploymentProgressAt.set(uid, now);
    }
    if (progressing) {
      markProgress(progressing.reason, progressing.message);
    } else if (!progressCond) {
      markProgress('FoundNewReplicaSet', `Found new replica set "${rsName}"`);
    }
    const complete = updated === desired && replicas === desired && available === desired;
    const oldReplicas = replicas - updated;
    const prevOldReplicas = num(prev['replicas'], 0) - num(prev['updatedReplicas'], 0);
    const madeProgress =
      updated > num(prev['updatedReplicas'], 0) ||
      oldReplicas < prevOldReplicas ||
      ready > num(prev['readyReplicas'], 0) ||
      available > num(prev['availableReplicas'], 0);
    const current = conditions.find((c) => c['type'] === 'Progressing');
    if (complete) {
      if (current?.['reason'] !== 'NewReplicaSetAvailable' || current['status'] !== 'True') {
        markProgress('NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`);
      }
    } else if (madeProgress && !progressing) {
      markProgress('ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
    } else if (current && current['reason'] !== 'NewReplicaSetAvailable' && current['reason'] !== 'ProgressDeadlineExceeded') {
      const since = ctx.memory.deploymentProgressAt.get(uid) ?? parseTime(current['lastUpdateTime']) ?? now;
      if (since + deadlineMs < now) {
        conditions = setCondition(
          conditions,
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` },
          now,
          { lastUpdateTime: true },
        );
      } else {
        recheckMs = since + deadlineMs - now + 1;
      }
    }
    const after = conditions.find((c) => c['type'] === 'Progressing');
    if (!complete && after && after['reason'] !== 'ProgressDeadlineExceeded' && after['reason'] !== 'NewReplicaSetAvailable' && recheckMs === undefined) {
      recheckMs = deadlineMs + 1;
    }
  }
  const order = ['Available', 'Progressing'];
  conditions.sort((a, b) => rank(order, a) - rank(order, b));

  const next: Obj = { observedGeneration: generation };
  if (replicas > 0) next['replicas'] = replicas;
  if (updated > 0) next['updatedReplicas'] = updated;
  if (ready > 0) next['readyReplicas'] = ready;
  if (available > 0) next['availableReplicas'] = available;
  if (unavailable > 0) next['unavailableReplicas'] = unavailable;
  next['conditions'] = conditions;
  if (prev['collisionCount'] !== undefined) next['collisionCount'] = prev['collisionCount'];
  writeStatus(ctx, deployType, d, next);
  if (recheckMs !== undefined) ctx.enqueue(ControllerName.deployment, namespace, name, recheckMs);
}

function rank(order: string[], condition: Obj): number {
  const i = order.indexOf(String(condition['type']));
  return i < 0 ? order.length : i;
}
