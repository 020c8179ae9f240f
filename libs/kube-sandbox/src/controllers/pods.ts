/**
 * The scheduler and the kubelet of the one simulated node. A pod is bound to `sandbox-node`, then its
 * status is a pure function of its spec and of the time since it was first seen, so every reconcile
 * writes the same status for the same moment (and nothing when nothing changed).
 *
 * Image tag conventions (the part after the last `:`): `crashloop`, `imagepullbackoff` and `fail`
 * make a container fail the way a real kubelet reports it; any other tag starts and becomes ready.
 */
import type { KubeObject } from '../types.js';
import {
  ControllerName,
  NODE_IP,
  NODE_NAME,
  arr,
  forUpdate,
  num,
  obj,
  parseTime,
  setCondition,
  sha256,
  spec,
  status,
  str,
  timestamp,
  writeStatus,
  type Context,
  type Obj,
} from './runtime.js';

/** How a container behaves, from its image tag. */
export const ContainerBehavior = {
  ok: 'ok',
  crashLoop: 'crashloop',
  imagePullBackOff: 'imagepullbackoff',
  fail: 'fail',
} as const;
export type ContainerBehavior = (typeof ContainerBehavior)[keyof typeof ContainerBehavior];

export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', slash + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}

export function behaviorOf(image: string): ContainerBehavior {
  switch (imageTag(image)) {
    case 'crashloop':
      return ContainerBehavior.crashLoop;
    case 'imagepullbackoff':
      return ContainerBehavior.imagePullBackOff;
    case 'fail':
      return ContainerBehavior.fail;
    default:
      return ContainerBehavior.ok;
  }
}

/** The fully qualified reference containerd reports (`docker.io/library/nginx:1.25`). */
export function normalizeImage(image: string): string {
  const first = image.split('/')[0] ?? '';
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let ref = hasRegistry ? image : image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
  if (!ref.includes('@') && imageTag(ref) === undefined) ref = `${ref}:latest`;
  return ref;
}

function imageId(image: string): string {
  const ref = normalizeImage(image);
  const repo = ref.split('@')[0]!.replace(/:[^:/]+$/, '');
  return `${repo}@sha256:${sha256(ref)}`;
}

/** Crash-loop restart times (ms after the pod was first seen): R, then back-off doubling, capped at 8R. */
function restartTimes(rolloutMs: number, elapsed: number): { count: number; last: number; next: number } {
  let at = rolloutMs;
  let count = 0;
  let last = 0;
  while (at <= elapsed) {
    count += 1;
    last = at;
    at += rolloutMs * Math.min(2 ** (count - 1), 8);
  }
  return { count, last, next: at };
}

interface ContainerResult {
  status: Obj;
  ready: boolean;
  running: boolean;
  terminated?: { exitCode: number };
  restarted: boolean;
  /** ms (since start) of the next change, if any. */
  next?: number;
}

function simulateContainer(
  container: Obj,
  pod: KubeObject,
  restartPolicy: string,
  elapsed: number,
  startMs: number,
  rolloutMs: number,
): ContainerResult {
  const name = str(container['name']) ?? '';
  const image = str(container['image']) ?? '';
  const behavior = behaviorOf(image);
  const uid = pod.metadata.uid ?? '';
  const containerId = (restart: number): string => `containerd://${sha256(`${uid}/${name}/${restart}`)}`;
  const base = (s: Obj): Obj => ({ name, image, imageID: '', ...s });
  const R = rolloutMs;

  if (elapsed < R) {
    return {
      status: base({ lastState: {}, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } }),
      ready: false,
      running: false,
      restarted: false,
      next: R,
    };
  }
  const started = (s: Obj): Obj => ({ name, image: normalizeImage(image), imageID: imageId(image), ...s });

  if (behavior === ContainerBehavior.imagePullBackOff) {
    const ref = normalizeImage(image);
    const pulling = elapsed < 2 * R;
    const waiting = pulling
      ? {
          reason: 'ErrImagePull',
          message: `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`,
        }
      : { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` };
    return {
      status: base({ lastState: {}, ready: false, restartCount: 0, started: false, state: { waiting } }),
      ready: false,
      running: false,
      restarted: false,
      ...(pulling ? { next: 2 * R } : {}),
    };
  }

  const failing = behavior === ContainerBehavior.crashLoop || behavior === ContainerBehavior.fail;
  const runsToCompletion = restartPolicy === 'Never' || restartPolicy === 'OnFailure';
  const terminatesForGood =
    failing && (restartPolicy === 'Never' || (restartPolicy === 'OnFailure' && behavior === ContainerBehavior.fail));

  if (terminatesForGood) {
    return {
      status: started({
        containerID: containerId(0),
        lastState: {},
        ready: false,
        restartCount: 0,
        started: false,
        state: {
          terminated: {
            containerID: containerId(0),
            exitCode: 1,
            reason: 'Error',
            startedAt: timestamp(startMs + R),
            finishedAt: timestamp(startMs + R),
          },
        },
      }),
      ready: false,
      running: false,
      terminated: { exitCode: 1 },
      restarted: false,
    };
  }

  if (failing) {
    const { count, last, next } = restartTimes(R, elapsed);
    const backoffSeconds = Math.min(10 * 2 ** (count - 1), 300);
    return {
      status: started({
        containerID: containerId(count - 1),
        lastState: {
          terminated: {
            containerID: containerId(count - 1),
            exitCode: 1,
            reason: 'Error',
            startedAt: timestamp(startMs + last),
            finishedAt: timestamp(startMs + last),
          },
        },
        ready: false,
        restartCount: count,
        started: false,
        state: {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${backoffSeconds}s restarting failed container=${name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${uid})`,
          },
        },
      }),
      ready: false,
      running: false,
      restarted: true,
      next,
    };
  }

  if (runsToCompletion && elapsed >= 2 * R) {
    return {
      status: started({
        containerID: containerId(0),
        lastState: {},
        ready: false,
        restartCount: 0,
        started: false,
        state: {
          terminated: {
            containerID: containerId(0),
            exitCode: 0,
            reason: 'Completed',
            startedAt: timestamp(startMs + R),
            finishedAt: timestamp(startMs + 2 * R),
          },
        },
      }),
      ready: false,
      running: false,
      terminated: { exitCode: 0 },
      restarted: false,
    };
  }

  return {
    status: started({
      containerID: containerId(0),
      lastState: {},
      ready: true,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: timestamp(startMs + R) } },
    }),
    ready: true,
    running: true,
    restarted: false,
    ...(runsToCompletion ? { next: 2 * R } : {}),
  };
}

/** Init containers run to completion at once unless their image fails; a failing one blocks the pod. */
function simulateInit(
  containers: Obj[],
  pod: KubeObject,
  restartPolicy: string,
  elapsed: number,
  startMs: number,
  rolloutMs: number,
): { statuses: Obj[]; blockedBy: string[]; failed: boolean; next?: number } {
  const statuses: Obj[] = [];
  const blockedBy: string[] = [];
  let failed = false;
  let next: number | undefined;
  for (const container of containers) {
    const name = str(container['name']) ?? '';
    const image = str(container['image']) ?? '';
    if (blockedBy.length > 0) {
      statuses.push({ name, image, imageID: '', lastState: {}, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'PodInitializing' } } });
      blockedBy.push(name);
      continue;
    }
    if (behaviorOf(image) === ContainerBehavior.ok) {
      statuses.push({
        name,
        image: normalizeImage(image),
        imageID: imageId(image),
        containerID: `containerd://${sha256(`${pod.metadata.uid ?? ''}/${name}/0`)}`,
        lastState: {},
        ready: true,
        restartCount: 0,
        started: false,
        state: {
          terminated: {
            containerID: `containerd://${sha256(`${pod.metadata.uid ?? ''}/${name}/0`)}`,
            exitCode: 0,
            reason: 'Completed',
            startedAt: timestamp(startMs),
            finishedAt: timestamp(startMs),
          },
        },
      });
      continue;
    }
    // An init container fails like a regular one; with Always it restarts (OnFailure semantics).
    const policy = restartPolicy === 'Always' ? 'OnFailure' : restartPolicy;
    const result = simulateContainer(container, pod, policy, elapsed, startMs, rolloutMs);
    statuses.push({ ...result.status, ready: false });
    blockedBy.push(name);
    if (result.terminated) failed = true;
    next = result.next;
  }
  return { statuses, blockedBy, failed, ...(next !== undefined ? { next } : {}) };
}

function qosClass(podSpec: Obj): string {
  const containers = [...arr(podSpec['containers']), ...arr(podSpec['initContainers'])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const resources = obj(c['resources']);
    const limits = obj(resources['limits']);
    const requests = { ...limits, ...obj(resources['requests']) };
    if (Object.keys(limits).length > 0 || Object.keys(requests).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      if (limits[r] === undefined || String(requests[r]) !== String(limits[r])) guaranteed = false;
    }
  }
  if (guaranteed) return 'Guaranteed';
  return any ? 'Burstable' : 'BestEffort';
}

function allocatePodIp(ctx: Context): string {
  const n = ctx.memory.podIpCounter++;
  return `10.244.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
}

export function reconcilePod(ctx: Context, namespace: string | undefined, name: string): void {
  const podType = ctx.resource('v1', 'Pod');
  if (!podType) return;
  let pod = ctx.api.get(podType, namespace, name);
  if (!pod || pod.metadata.deletionTimestamp) return;
  let podSpec = spec(pod);
  const uid = pod.metadata.uid ?? '';

  // The scheduler binds first (a real one writes the binding subresource).
  if (!str(podSpec['nodeName'])) {
    const bound = forUpdate(pod);
    (bound['spec'] as Obj)['nodeName'] = NODE_NAME;
    pod = ctx.api.update(podType, bound, 'kube-scheduler');
    podSpec = spec(pod);
    ctx.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace ?? ''}/${name} to ${NODE_NAME}`, 'default-scheduler');
  }

  const now = ctx.now();
  const previous = status(pod);
  let startMs = ctx.memory.firstSeen.get(uid);
  if (startMs === undefined) {
    // A pod that already has a start time (after a restart with --state) resumes from it.
    startMs = parseTime(previous['startTime']) ?? now;
    ctx.memory.firstSeen.set(uid, startMs);
  }
  const elapsed = now - startMs;
  const R = ctx.config.rolloutMs;
  const restartPolicy = str(podSpec['restartPolicy']) ?? 'Always';
  const podIp = str(previous['podIP']) ?? allocatePodIp(ctx);

  const init = simulateInit(arr(podSpec['initContainers']), pod, restartPolicy, elapsed, startMs, R);
  const results = arr(podSpec['containers']).map((c) =>
    init.blockedBy.length > 0
      ? ({
          status: { name: c['name'], image: c['image'], imageID: '', lastState: {}, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'PodInitializing' } } },
          ready: false,
          running: false,
          restarted: false,
        } satisfies ContainerResult)
      : simulateContainer(c, pod, restartPolicy, elapsed, startMs, R),
  );

  let phase: string;
  if (init.failed) phase = 'Failed';
  else if (init.blockedBy.length > 0 || elapsed < R) phase = 'Pending';
  else if (results.length > 0 && results.every((r) => r.terminated)) {
    phase = results.every((r) => r.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  } else if (results.some((r) => r.running || r.restarted || r.terminated)) phase = 'Running';
  else phase = 'Pending';

  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const allReady = results.length > 0 && results.every((r) => r.ready);
  const unready = results.filter((r) => !r.ready).map((r) => String(r.status['name']));
  const conditionOpts = { lastProbeTime: true };
  let conditions: Obj[] = arr(previous['conditions']);
  conditions = setCondition(conditions, { type: 'PodReadyToStartContainers', status: terminal ? 'False' : 'True' }, now, conditionOpts);
  conditions = setCondition(
    conditions,
    init.blockedBy.length > 0
      ? {
          type: 'Initialized',
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${init.blockedBy.join(' ')}]`,
        }
      : { type: 'Initialized', status: 'True' },
    now,
    conditionOpts,
  );
  for (const type of ['Ready', 'ContainersReady']) {
    conditions = setCondition(
      conditions,
      allReady
        ? { type, status: 'True' }
        : terminal
          ? { type, status: 'False', reason: 'PodCompleted' }
          : { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` },
      now,
      conditionOpts,
    );
  }
  conditions = setCondition(conditions, { type: 'PodScheduled', status: 'True' }, now, conditionOpts);
  const order = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];
  conditions.sort((a, b) => order.indexOf(String(a['type'])) - order.indexOf(String(b['type'])));

  const next: Obj = {
    phase,
    conditions,
    hostIP: NODE_IP,
    hostIPs: [{ ip: NODE_IP }],
    podIP: podIp,
    podIPs: [{ ip: podIp }],
    startTime: timestamp(startMs),
    ...(init.statuses.length > 0 ? { initContainerStatuses: init.statuses } : {}),
    containerStatuses: results.map((r) => r.status),
    qosClass: qosClass(podSpec),
  };
  // Keep anything else a user or another writer put in status (nominatedNodeName, message, ...).
  for (const [k, v] of Object.entries(previous)) if (!(k in next)) next[k] = v;

  const stored = writeStatus(ctx, podType, pod, next);
  if (stored) {
    kubeletEvents(ctx, stored, [...arr(previous['initContainerStatuses']), ...arr(previous['containerStatuses'])], [
      ...init.statuses,
      ...results.map((r) => r.status),
    ]);
  }
  if (allReady && !ctx.memory.podReadyAt.has(uid)) {
    ctx.memory.podReadyAt.set(uid, startMs + R);
  }
  if (!allReady) ctx.memory.podReadyAt.delete(uid);
  if (stored === undefined) return;

  const nextChanges = [init.next, ...results.map((r) => r.next)].filter((n): n is number => n !== undefined);
  if (nextChanges.length > 0) {
    const at = Math.min(...nextChanges);
    ctx.enqueue(ControllerName.pod, namespace, name, Math.max(1, startMs + at - now));
  }
}

function stateOf(cs: Obj | undefined): { kind: string; reason?: string } {
  const state = obj(cs?.['state']);
  if (state['running']) return { kind: 'running' };
  if (state['terminated']) return { kind: 'terminated' };
  const reason = str(obj(state['waiting'])['reason']);
  return reason !== undefined ? { kind: 'waiting', reason } : { kind: 'none' };
}

/** The events a kubelet records for container transitions between two statuses of a pod. */
function kubeletEvents(ctx: Context, pod: KubeObject, before: Obj[], after: Obj[]): void {
  const specImages = new Map<string, string>();
  for (const c of [...arr(spec(pod)['initContainers']), ...arr(spec(pod)['containers'])]) specImages.set(String(c['name']), String(c['image']));
  for (const cs of after) {
    const name = String(cs['name']);
    const image = specImages.get(name) ?? String(cs['image']);
    const prev = before.find((b) => b['name'] === name);
    const was = stateOf(prev);
    const now = stateOf(cs);
    const record = (type: 'Normal' | 'Warning', reason: string, message: string): void => ctx.event(pod, type, reason, message, 'kubelet');
    const wasStarted = was.kind === 'running' || was.kind === 'terminated' || num(prev?.['restartCount'], 0) > 0;
    if ((now.kind === 'running' || now.kind === 'terminated' || now.reason === 'CrashLoopBackOff') && !wasStarted) {
      record('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      record('Normal', 'Created', `Created container ${name}`);
      record('Normal', 'Started', `Started container ${name}`);
    }
    if (now.reason === 'CrashLoopBackOff' && num(cs['restartCount'], 0) > num(prev?.['restartCount'], 0)) {
      record('Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`);
    }
    if (now.reason === 'ErrImagePull' && was.reason !== 'ErrImagePull') {
      record('Normal', 'Pulling', `Pulling image "${image}"`);
      record('Warning', 'Failed', `Failed to pull image "${image}": ${String(obj(obj(cs['state'])['waiting'])['message'])}`);
      record('Warning', 'Failed', 'Error: ErrImagePull');
    }
    if (now.reason === 'ImagePullBackOff' && was.reason !== 'ImagePullBackOff') {
      record('Normal', 'BackOff', `Back-off pulling image "${image}"`);
      record('Warning', 'Failed', 'Error: ImagePullBackOff');
    }
  }
}
