/**
 * Small controllers: PVC binding (as a dynamic provisioner plus the PV binder would), Namespace phase,
 * the HorizontalPodAutoscaler (with simulated metrics that sit exactly at target), and the one Node.
 */
import type { KubeObject } from '../types.js';
import {
  ControllerName,
  CONTROLLER_MANAGER,
  NODE_IP,
  NODE_NAME,
  arr,
  forUpdate,
  isDeleting,
  kindKey,
  num,
  obj,
  setCondition,
  spec,
  status,
  str,
  timestamp,
  writeStatus,
  type Condition,
  type Context,
  type Obj,
} from './runtime.js';

/** Field manager of the autoscaler's writes to its target's replicas. */
export const HPA_MANAGER = 'horizontal-pod-autoscaler';

export function reconcilePvc(ctx: Context, namespace: string | undefined, name: string): void {
  const pvcType = ctx.resource('v1', 'PersistentVolumeClaim');
  if (!pvcType) return;
  let pvc = ctx.api.get(pvcType, namespace, name);
  if (!pvc || isDeleting(pvc)) return;
  const prev = status(pvc);
  if (prev['phase'] === 'Bound') return;
  const uid = pvc.metadata.uid ?? '';
  let seen = ctx.memory.firstSeen.get(uid);
  if (seen === undefined) {
    seen = ctx.now();
    ctx.memory.firstSeen.set(uid, seen);
  }
  const wait = seen + ctx.config.rolloutMs - ctx.now();
  if (wait > 0) {
    if (prev['phase'] !== 'Pending') writeStatus(ctx, pvcType, pvc, { ...prev, phase: 'Pending' });
    ctx.enqueue(ControllerName.pvc, namespace, name, wait);
    return;
  }
  const pvcSpec = spec(pvc);
  const volumeName = str(pvcSpec['volumeName']) ?? `pvc-${uid}`;
  const annotations = pvc.metadata.annotations ?? {};
  if (pvcSpec['volumeName'] !== volumeName || annotations['pv.kubernetes.io/bind-completed'] !== 'yes') {
    const copy = forUpdate(pvc);
    (copy['spec'] as Obj)['volumeName'] = volumeName;
    copy.metadata.annotations = {
      ...annotations,
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    };
    pvc = ctx.api.update(pvcType, copy, CONTROLLER_MANAGER);
  }
  const requested = obj(obj(spec(pvc)['resources'])['requests']);
  const next: Obj = { ...prev, phase: 'Bound', accessModes: spec(pvc)['accessModes'] ?? ['ReadWriteOnce'] };
  if (requested['storage'] !== undefined) next['capacity'] = { storage: requested['storage'] };
  writeStatus(ctx, pvcType, pvc, next);
}

export function reconcileNamespace(ctx: Context, _namespace: string | undefined, name: string): void {
  const nsType = ctx.resource('v1', 'Namespace');
  if (!nsType) return;
  const ns = ctx.api.get(nsType, undefined, name);
  if (!ns) return;
  const phase = isDeleting(ns) ? 'Terminating' : 'Active';
  if (status(ns)['phase'] !== phase) writeStatus(ctx, nsType, ns, { ...status(ns), phase });
}

/** The message real HPAs give for the metric they computed from. */
function metricMessage(metric: Obj | undefined): string {
  const type = metric?.['type'];
  if (type === 'Resource' || type === 'ContainerResource') {
    const source = obj(metric?.[type === 'Resource' ? 'resource' : 'containerResource']);
    const target = obj(source['target']);
    const container = type === 'ContainerResource' ? 'container ' : '';
    return target['type'] === 'Utilization'
      ? `the HPA was able to successfully calculate a replica count from ${String(source['name'])} ${container}resource utilization (percentage of request)`
      : `the HPA was able to successfully calculate a replica count from ${String(source['name'])} ${container}resource`;
  }
  if (type === 'Pods') return `the HPA was able to successfully calculate a replica count from pods metric ${String(obj(obj(metric?.['pods'])['metric'])['name'])}`;
  if (type === 'Object') {
    const o = obj(metric?.['object']);
    return `the HPA was able to successfully calculate a replica count from ${String(obj(o['describedObject'])['kind'])} metric ${String(obj(o['metric'])['name'])}`;
  }
  if (type === 'External') return `the HPA was able to successfully calculate a replica count from external metric ${String(obj(obj(metric?.['external'])['metric'])['name'])}`;
  return 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)';
}

/** Current values equal to each metric's target: the simulated load is exactly what the HPA aims for. */
function currentMetrics(metrics: Obj[]): Obj[] {
  const out: Obj[] = [];
  for (const m of metrics) {
    if (m['type'] !== 'Resource') continue;
    const source = obj(m['resource']);
    const target = obj(source['target']);
    const current: Obj = {};
    if (typeof target['averageUtilization'] === 'number') current['averageUtilization'] = target['averageUtilization'];
    if (target['averageValue'] !== undefined) current['averageValue'] = target['averageValue'];
    out.push({ type: 'Resource', resource: { name: source['name'], current } });
  }
  return out;
}

export function reconcileHpa(ctx: Context, namespace: string | undefined, name: string): void {
  const hpaType = ctx.resource('autoscaling/v2', 'HorizontalPodAutoscaler');
  if (!hpaType) return;
  const hpa = ctx.api.get(hpaType, namespace, name);
  if (!hpa || isDeleting(hpa)) return;
  const now = ctx.now();
  const hSpec = spec(hpa);
  const prev = status(hpa);
  const ref = obj(hSpec['scaleTargetRef']);
  const apiVersion = str(ref['apiVersion']) ?? 'apps/v1';
  const kind = str(ref['kind']) ?? 'Deployment';
  const targetName = str(ref['name']) ?? '';
  const targetType = ctx.resource(apiVersion, kind);
  let target = targetType?.subresources.scale ? ctx.api.get(targetType, namespace, targetName) : undefined;
  let conditions = arr(prev['conditions']);
  const set = (c: Condition): void => {
    conditions = setCondition(conditions, c, now);
  };

  if (!targetType || !target) {
    const resourceName = targetType ? `${targetType.plural}${targetType.group ? `.${targetType.group}` : ''}` : `${kind.toLowerCase()}s`;
    set({
      type: 'AbleToScale',
      status: 'False',
      reason: 'FailedGetScale',
      message: `the HPA controller was unable to get the target's current scale: ${resourceName} "${targetName}" not found`,
    });
    const next: Obj = { ...prev, conditions, currentReplicas: num(prev['currentReplicas'], 0), desiredReplicas: num(prev['desiredReplicas'], 0) };
    writeStatus(ctx, hpaType, hpa, next);
    return;
  }

  const specReplicas = num(spec(target)['replicas'], 1);
  const minReplicas = num(hSpec['minReplicas'], 1);
  const maxReplicas = num(hSpec['maxReplicas'], minReplicas);
  const metrics = arr(hSpec['metrics']);
  let desired = specReplicas;
  let lastScaleTime = prev['lastScaleTime'];
  if (specReplicas === 0 && minReplicas > 0) {
    set({ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' });
    set({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    desired = 0;
  } else {
    desired = Math.min(maxReplicas, Math.max(minReplicas, specReplicas));
    set({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: metricMessage(metrics[0]) });
    if (desired !== specReplicas) {
      // Real HPAs write through the scale subresource; the sandbox writes spec.replicas with the HPA's field manager.
      const copy = forUpdate(target);
      (copy['spec'] as Obj)['replicas'] = desired;
      target = ctx.api.update(targetType, copy, HPA_MANAGER);
      lastScaleTime = timestamp(now);
      const why = specReplicas < minReplicas ? 'Current number of replicas below Spec.MinReplicas' : 'Current number of replicas above Spec.MaxReplicas';
      ctx.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${why}`, 'horizontal-pod-autoscaler');
      set({ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` });
    } else {
      set({ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
    }
    if (specReplicas < minReplicas) {
      set({ type: 'ScalingLimited', status: 'True', reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' });
    } else if (specReplicas > maxReplicas) {
      set({ type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
    } else {
      set({ type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
    }
  }
  const order = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
  conditions.sort((a, b) => order.indexOf(String(a['type'])) - order.indexOf(String(b['type'])));
  const next: Obj = {
    conditions,
    currentMetrics: currentMetrics(metrics),
    currentReplicas: num(status(target)['replicas'], specReplicas),
    desiredReplicas: desired,
    observedGeneration: hpa.metadata.generation ?? 1,
  };
  if (lastScaleTime !== undefined) next['lastScaleTime'] = lastScaleTime;
  writeStatus(ctx, hpaType, hpa, next);
}

/** HPAs in a namespace whose scaleTargetRef names this object. */
export function hpasTargeting(ctx: Context, object: KubeObject): KubeObject[] {
  const hpaType = ctx.resource('autoscaling/v2', 'HorizontalPodAutoscaler');
  if (!hpaType) return [];
  return ctx.index.inNamespace(kindKey(hpaType), object.metadata.namespace).filter((h) => {
    const ref = obj(spec(h)['scaleTargetRef']);
    return ref['kind'] === object.kind && ref['name'] === object.metadata.name;
  });
}

/** Creates the simulated node when the server serves Nodes and it does not exist yet. */
export function reconcileNode(ctx: Context): void {
  const nodeType = ctx.resource('v1', 'Node');
  if (!nodeType) return;
  let node = ctx.api.get(nodeType, undefined, NODE_NAME);
  if (!node) {
    node = ctx.api.create(
      nodeType,
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: NODE_NAME,
          labels: {
            'beta.kubernetes.io/arch': 'amd64',
            'beta.kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/hostname': NODE_NAME,
            'kubernetes.io/os': 'linux',
            'node-role.kubernetes.io/control-plane': '',
          },
        },
        spec: { podCIDR: '10.244.0.0/16', podCIDRs: ['10.244.0.0/16'], providerID: `sandbox://${NODE_NAME}` },
      },
      'kubelet',
    );
  }
  const now = timestamp(ctx.now());
  const condition = (type: string, st: string, reason: string, message: string): Obj => ({
    type,
    status: st,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  if (arr(status(node)['conditions']).length > 0) return;
  const capacity = { cpu: '8', 'ephemeral-storage': '100Gi', memory: '16Gi', pods: '110' };
  writeStatus(ctx, nodeType, node, {
    addresses: [
      { type: 'InternalIP', address: NODE_IP },
      { type: 'Hostname', address: NODE_NAME },
    ],
    allocatable: capacity,
    capacity,
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      architecture: 'amd64',
      bootID: '',
      containerRuntimeVersion: 'containerd://1.7.24',
      kernelVersion: '6.1.0',
      kubeProxyVersion: 'v1.32.0',
      kubeletVersion: 'v1.32.0',
      machineID: '',
      operatingSystem: 'linux',
      osImage: 'Ferry sandbox',
      systemUUID: '',
    },
  });
}
