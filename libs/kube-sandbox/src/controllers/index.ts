/**
 * The simulated controllers of the sandbox cluster: they watch the store through `api.onChange`, and
 * write through `api` only, what kube-controller-manager, the scheduler and a kubelet would write.
 * See docs/sandbox-controllers.md for the conventions (image tags that fail, timings).
 */
import type { ControllerApi, ControllerOptions, Controllers, StoreEvent } from '../types.js';
import { reconcileHpa, reconcileNamespace, reconcileNode, reconcilePvc, hpasTargeting } from './cluster.js';
import { reconcileDeployment } from './deployments.js';
import { EventRecorder } from './events.js';
import { reconcileJob } from './jobs.js';
import { reconcileEndpoints, reconcileIngress, reconcileService } from './network.js';
import { reconcilePod } from './pods.js';
import { reconcileReplicaSet } from './replicasets.js';
import { ControllerName, ObjectIndex, WorkQueue, controllerOf, isObj, kindKey, matchesSelector, spec, type Context, type ControllerConfig, type Memory, type Reconcile, type RuntimeHooks } from './runtime.js';
import { reconcileDaemonSet, reconcileStatefulSet } from './statefulsets.js';

export type { ControllerConfig, RuntimeHooks as ControllerHooks } from './runtime.js';
export { ContainerBehavior, behaviorOf } from './pods.js';
export { HPA_MANAGER } from './cluster.js';
export { NODE_NAME, NODE_IP, CONTROLLER_MANAGER } from './runtime.js';

/** Defaults of ControllerOptions: a 200 ms rollout step, progress deadlines at 5 ms per second. */
export const DEFAULT_CONTROLLER_OPTIONS: Readonly<ControllerOptions> = Object.freeze({ rolloutMs: 200, progressDeadlineScaleMs: 5 });

/** Resolves options into the frozen config (missing fields take the defaults; negative values are rejected). */
export function resolveControllerConfig(options: Partial<ControllerOptions> = {}): ControllerConfig {
  const rolloutMs = options.rolloutMs ?? DEFAULT_CONTROLLER_OPTIONS.rolloutMs;
  const progressDeadlineScaleMs = options.progressDeadlineScaleMs ?? DEFAULT_CONTROLLER_OPTIONS.progressDeadlineScaleMs;
  const problems: string[] = [];
  if (!Number.isFinite(rolloutMs) || rolloutMs < 0) problems.push(`rolloutMs must be a number >= 0, got ${String(rolloutMs)}`);
  if (!Number.isFinite(progressDeadlineScaleMs) || progressDeadlineScaleMs < 0) {
    problems.push(`progressDeadlineScaleMs must be a number >= 0, got ${String(progressDeadlineScaleMs)}`);
  }
  if (problems.length > 0) throw new RangeError(`invalid controller options: ${problems.join('; ')}`);
  return Object.freeze({ rolloutMs, progressDeadlineScaleMs });
}

const RECONCILERS = new Map<ControllerName, Reconcile>([
  [ControllerName.deployment, reconcileDeployment],
  [ControllerName.replicaSet, reconcileReplicaSet],
  [ControllerName.statefulSet, reconcileStatefulSet],
  [ControllerName.daemonSet, reconcileDaemonSet],
  [ControllerName.job, reconcileJob],
  [ControllerName.pod, reconcilePod],
  [ControllerName.service, reconcileService],
  [ControllerName.endpoints, reconcileEndpoints],
  [ControllerName.pvc, reconcilePvc],
  [ControllerName.ingress, reconcileIngress],
  [ControllerName.namespace, reconcileNamespace],
  [ControllerName.hpa, reconcileHpa],
  [ControllerName.node, (ctx) => reconcileNode(ctx)],
]);

/** Which controller owns which kind's objects, and which owner kinds a child's change wakes. */
const OWNER_CONTROLLERS: Record<string, ControllerName> = {
  Deployment: ControllerName.deployment,
  ReplicaSet: ControllerName.replicaSet,
  StatefulSet: ControllerName.statefulSet,
  DaemonSet: ControllerName.daemonSet,
  Job: ControllerName.job,
};

const SELF: Record<string, ControllerName> = {
  'apps/Deployment': ControllerName.deployment,
  'apps/ReplicaSet': ControllerName.replicaSet,
  'apps/StatefulSet': ControllerName.statefulSet,
  'apps/DaemonSet': ControllerName.daemonSet,
  'batch/Job': ControllerName.job,
  '/Pod': ControllerName.pod,
  '/Service': ControllerName.service,
  '/PersistentVolumeClaim': ControllerName.pvc,
  'networking.k8s.io/Ingress': ControllerName.ingress,
  '/Namespace': ControllerName.namespace,
  'autoscaling/HorizontalPodAutoscaler': ControllerName.hpa,
};

/**
 * Starts the controllers. `options` may omit fields (see DEFAULT_CONTROLLER_OPTIONS). `hooks.onError`
 * hears about a reconcile that still failed after its retries (the default ignores it: the next event
 * for the object retries anyway). The returned `close()` stops every timer and the listener; idempotent.
 */
export function startControllers(api: ControllerApi, options: Partial<ControllerOptions> = {}, hooks: RuntimeHooks = {}): Controllers {
  const config = resolveControllerConfig(options);
  const memory: Memory = {
    podReadyAt: new Map(),
    firstSeen: new Map(),
    deploymentProgressAt: new Map(),
    podIpCounter: 0,
    loadBalancerIps: new Map(),
    loadBalancerCounter: 0,
  };
  const resources = new Map<string, ReturnType<ControllerApi['resourceFor']>>();
  let queue: WorkQueue;
  const index = new ObjectIndex();
  const events = new EventRecorder();
  /** Pod uid -> names of the Services that selected it when last seen. */
  const podServices = new Map<string, Set<string>>();
  const ctx: Context = {
    api,
    config,
    now: () => Date.now(),
    enqueue: (controller, namespace, name, afterMs) => queue.enqueue(controller, namespace, name, afterMs),
    resource: (apiVersion, kind) => {
      // CRDs come and go, built-in types do not: cache only hits.
      const key = `${apiVersion}/${kind}`;
      const cached = resources.get(key);
      if (cached) return cached;
      const found = api.resourceFor(apiVersion, kind);
      if (found) resources.set(key, found);
      return found;
    },
    memory,
    index,
    event: (involved, type, reason, message, component) => events.record(ctx, involved, type, reason, message, component),
  };
  queue = new WorkQueue(RECONCILERS, () => ctx, hooks);

  const onEvent = (event: StoreEvent): void => {
    const { resource, type } = event;
    const kind = `${resource.group}/${resource.kind}`;
    // Most objects (ConfigMaps, Secrets, custom resources, ...) concern no controller: do not even copy them.
    if (!(kind in SELF)) return;
    const object = event.object;
    if (index.has(kind)) {
      if (type === 'DELETED') index.remove(kind, object);
      else index.put(kind, object);
    }
    const namespace = object.metadata.namespace;
    const name = object.metadata.name ?? '';
    if (type === 'DELETED') {
      const uid = object.metadata.uid ?? '';
      memory.firstSeen.delete(uid);
      memory.podReadyAt.delete(uid);
      memory.deploymentProgressAt.delete(uid);
      memory.loadBalancerIps.delete(uid);
    }
    const self = SELF[kind];
    if (self && type !== 'DELETED') queue.enqueue(self, namespace, name);
    // A child's change wakes its controller (pods -> ReplicaSet/StatefulSet/DaemonSet/Job, ReplicaSets -> Deployment).
    const owner = controllerOf(object);
    const ownerController = owner ? OWNER_CONTROLLERS[owner.kind] : undefined;
    if (owner && ownerController) queue.enqueue(ownerController, namespace, owner.name);
    if (kind === '/Service') queue.enqueue(ControllerName.endpoints, namespace, name);
    if (kind === '/Pod') {
      // Services selecting the pod now, or when it was last seen, need their Endpoints recomputed.
      const uid = object.metadata.uid ?? '';
      const matched = new Set<string>();
      if (type !== 'DELETED') {
        for (const svc of index.inNamespace('/Service', namespace)) {
          const selector = spec(svc)['selector'];
          if (isObj(selector) && Object.keys(selector).length > 0 && matchesSelector(object.metadata.labels, { matchLabels: selector })) {
            matched.add(svc.metadata.name ?? '');
          }
        }
      }
      for (const svc of new Set([...matched, ...(podServices.get(uid) ?? [])])) queue.enqueue(ControllerName.endpoints, namespace, svc);
      if (type === 'DELETED' || matched.size === 0) podServices.delete(uid);
      else podServices.set(uid, matched);
    }
    if ((kind === 'apps/Deployment' || kind === 'apps/StatefulSet' || kind === 'apps/ReplicaSet') && type !== 'DELETED') {
      for (const hpa of hpasTargeting(ctx, object)) queue.enqueue(ControllerName.hpa, namespace, hpa.metadata.name ?? '');
    }
  };
  const unsubscribe = api.onChange(onEvent);

  // Catch up with what the store already holds (a restart with --state), and create the node.
  queue.enqueue(ControllerName.node, undefined, NODE_KEY);
  for (const [kind, controller] of Object.entries(SELF)) {
    const [group, k] = kind.split('/') as [string, string];
    const apiVersion = group === '' ? 'v1' : group === 'apps' ? 'apps/v1' : group === 'batch' ? 'batch/v1' : group === 'autoscaling' ? 'autoscaling/v2' : `${group}/v1`;
    const resource = ctx.resource(apiVersion, k);
    if (!resource) continue;
    for (const object of api.list(resource)) {
      if (index.has(kindKey(resource))) index.put(kindKey(resource), object);
      queue.enqueue(controller, object.metadata.namespace, object.metadata.name ?? '');
      if (k === 'Service') queue.enqueue(ControllerName.endpoints, object.metadata.namespace, object.metadata.name ?? '');
    }
  }

  let closed = false;
  return {
    close(): void {
      if (closed) return;
      closed = true;
      unsubscribe();
      queue.close();
    },
  };
}

const NODE_KEY = 'sandbox-node';
