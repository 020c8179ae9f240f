/**
 * Health assessment of one Kubernetes object, following Argo CD's built-in rules
 * (gitops-engine `pkg/health`). The corpus in ../shared/corpus/argo-health is the reference;
 * docs/health.md lists where Ferry chose differently.
 */
import { HealthStatus } from './health-status.js';
import {
  FieldTypeError,
  getBool,
  getInt,
  getList,
  getObject,
  getObjectList,
  getString,
  getStringMap,
  isKubeObject,
  type KubeObject,
} from './fields.js';

/** The health of one object, with Argo CD's message for it when there is one. */
export interface HealthAssessment {
  readonly status: HealthStatus;
  /** Why, in Argo CD's words ("Waiting for rollout to finish: 1 of 2 updated replicas are available..."). */
  readonly message?: string;
}

/** Annotations and finalizers that change how an object's health is assessed or aggregated. */
export const HealthAnnotation = {
  /** Marks a resource hook (PreSync, Sync, PostSync, SyncFail, PostDelete; `Skip` alone is no hook). */
  Hook: 'argocd.argoproj.io/hook',
  /** A Helm hook, which Argo CD treats as a hook too (except `crd-install`). */
  HelmHook: 'helm.sh/hook',
  /** `"true"` on a non-hook Pod: assess it as if its restartPolicy were Always. */
  IgnoreRestartPolicy: 'argocd.argoproj.io/ignore-restart-policy',
  /** `"true"`: the resource keeps its own health but does not count in the app's health. */
  IgnoreHealthCheck: 'argocd.argoproj.io/ignore-healthcheck',
} as const;
export type HealthAnnotation = (typeof HealthAnnotation)[keyof typeof HealthAnnotation];

/** A hook being deleted that carries this finalizer is still assessed (its result matters to a sync). */
export const HookFinalizer = 'argocd.argoproj.io/hook-finalizer';

type Check = (object: KubeObject, version: string, kind: string) => HealthAssessment;

/** Splits `apps/v1` into group `apps` and version `v1`; `v1` is the core group `""`. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * True when Ferry has a built-in health check for this kind (by API group and kind, whatever the
 * version, as Argo CD decides). Objects of other kinds have no health of their own.
 */
export function hasHealthCheck(apiVersion: string, kind: string): boolean {
  return checks.has(checkKey(parseApiVersion(apiVersion).group, kind));
}

/**
 * True when the object is a resource hook in Argo CD's sense: it has the Argo CD hook annotation
 * (unless its only type is `Skip`), or a Helm hook annotation other than `crd-install`.
 * Hooks do not count in the app's health.
 */
export function isHook(object: unknown): boolean {
  if (!isKubeObject(object)) return false;
  let annotations: Readonly<Record<string, string>>;
  try {
    annotations = getStringMap(object, 'metadata.annotations');
  } catch {
    return false;
  }
  const argo = annotations[HealthAnnotation.Hook];
  if (argo !== undefined) {
    const types = argo.split(',').map((type) => type.trim()).filter((type) => type.length > 0);
    return !(types.length === 1 && types[0] === 'Skip');
  }
  const helm = annotations[HealthAnnotation.HelmHook];
  return helm !== undefined && helm !== 'crd-install';
}

/**
 * Assesses the health of one Kubernetes object (live, with its status).
 *
 * Returns undefined when the object's kind has no health check (Argo CD's `nil`: a ConfigMap, a
 * child Application, a custom resource). Never throws: an object that cannot be assessed (not a
 * mapping, an unsupported apiVersion of a known kind, a field of the wrong type) is Unknown with
 * the reason as message. An object being deleted is Progressing "Pending deletion", whatever its
 * kind, unless it is a hook that still carries Argo CD's hook finalizer.
 */
export function assessHealth(object: unknown): HealthAssessment | undefined {
  try {
    if (!isKubeObject(object)) {
      return { status: HealthStatus.Unknown, message: `not a Kubernetes object: expected a mapping, got ${describeValue(object)}` };
    }
    if (isBeingDeleted(object)) return { status: HealthStatus.Progressing, message: 'Pending deletion' };
    const apiVersion = getString(object, 'apiVersion');
    const kind = getString(object, 'kind');
    if (apiVersion === undefined || kind === undefined) return undefined;
    const { group, version } = parseApiVersion(apiVersion);
    const check = checks.get(checkKey(group, kind));
    if (check === undefined) return undefined;
    try {
      return check(object, version, kind);
    } catch (error) {
      if (error instanceof FieldTypeError) throw new Error(`invalid ${kind}: ${error.message}`, { cause: error });
      throw error;
    }
  } catch (error) {
    return { status: HealthStatus.Unknown, message: errorMessage(error) };
  }
}

function isBeingDeleted(object: KubeObject): boolean {
  const deletionTimestamp = getObject(object, 'metadata')?.['deletionTimestamp'];
  if (deletionTimestamp === undefined || deletionTimestamp === null || deletionTimestamp === '') return false;
  const finalizers = getList(object, 'metadata.finalizers');
  return !finalizers.includes(HookFinalizer);
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}

function checkKey(group: string, kind: string): string {
  return `${group}/${kind}`;
}

function health(status: HealthStatus, message?: string): HealthAssessment {
  return message === undefined || message === '' ? { status } : { status, message };
}

/** Argo CD checks most kinds only at the versions it knows; another version is an error (Unknown). */
function requireVersion(kind: string, group: string, version: string, supported: readonly string[]): void {
  if (!supported.includes(version)) {
    const apiVersion = group === '' ? version : `${group}/${version}`;
    throw new Error(`unsupported ${kind} apiVersion ${JSON.stringify(apiVersion)} (supported: ${supported.map((v) => (group === '' ? v : `${group}/${v}`)).join(', ')})`);
  }
}

interface Condition {
  readonly type: string | undefined;
  readonly status: string | undefined;
  readonly reason: string | undefined;
  readonly message: string | undefined;
}

function toCondition(item: KubeObject): Condition {
  return {
    type: getString(item, 'type'),
    status: getString(item, 'status'),
    reason: getString(item, 'reason'),
    message: getString(item, 'message'),
  };
}

function conditions(object: KubeObject, path = 'status.conditions'): Condition[] {
  return getObjectList(object, path).map(toCondition);
}

function nameOf(object: KubeObject): string {
  return getString(object, 'metadata.name') ?? '';
}

// --- apps ---------------------------------------------------------------------------------

function deploymentHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('Deployment', 'apps', version, ['v1']);
  if (getBool(object, 'spec.paused') === true) return health(HealthStatus.Suspended, 'Deployment is paused');
  const generation = getInt(object, 'metadata.generation') ?? 0;
  const observedGeneration = getInt(object, 'status.observedGeneration') ?? 0;
  if (generation > observedGeneration) {
    return health(HealthStatus.Progressing, 'Waiting for rollout to finish: observed deployment generation less than desired generation');
  }
  const progressing = conditions(object).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return health(HealthStatus.Degraded, `Deployment ${JSON.stringify(nameOf(object))} exceeded its progress deadline`);
  }
  const desired = getInt(object, 'spec.replicas');
  const replicas = getInt(object, 'status.replicas') ?? 0;
  const updated = getInt(object, 'status.updatedReplicas') ?? 0;
  const available = getInt(object, 'status.availableReplicas') ?? 0;
  if (desired !== undefined && updated < desired) {
    return health(HealthStatus.Progressing, `Waiting for rollout to finish: ${updated} out of ${desired} new replicas have been updated...`);
  }
  if (replicas > updated) {
    return health(HealthStatus.Progressing, `Waiting for rollout to finish: ${replicas - updated} old replicas are pending termination...`);
  }
  if (available < updated) {
    return health(HealthStatus.Progressing, `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
  }
  return health(HealthStatus.Healthy);
}

function statefulSetHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('StatefulSet', 'apps', version, ['v1']);
  const generation = getInt(object, 'metadata.generation') ?? 0;
  const observedGeneration = getInt(object, 'status.observedGeneration') ?? 0;
  if (observedGeneration === 0 || generation > observedGeneration) {
    return health(HealthStatus.Progressing, 'Waiting for statefulset spec update to be observed...');
  }
  const desired = getInt(object, 'spec.replicas');
  const ready = getInt(object, 'status.readyReplicas') ?? 0;
  const updated = getInt(object, 'status.updatedReplicas') ?? 0;
  if (desired !== undefined && ready < desired) {
    return health(HealthStatus.Progressing, `Waiting for ${desired - ready} pods to be ready...`);
  }
  const strategy = getString(object, 'spec.updateStrategy.type');
  const rollingUpdate = getObject(object, 'spec.updateStrategy.rollingUpdate');
  if (strategy === 'RollingUpdate' && rollingUpdate !== undefined) {
    const partition = getInt(object, 'spec.updateStrategy.rollingUpdate.partition');
    if (desired !== undefined && partition !== undefined && updated < desired - partition) {
      return health(
        HealthStatus.Progressing,
        `Waiting for partitioned roll out to finish: ${updated} out of ${desired - partition} new pods have been updated...`,
      );
    }
    return health(HealthStatus.Healthy, `partitioned roll out complete: ${updated} new pods have been updated...`);
  }
  if (strategy === 'OnDelete') return health(HealthStatus.Healthy, `statefulset has ${ready} ready pods`);
  const updateRevision = getString(object, 'status.updateRevision') ?? '';
  const currentRevision = getString(object, 'status.currentRevision') ?? '';
  if (updateRevision !== currentRevision) {
    return health(
      HealthStatus.Progressing,
      `waiting for statefulset rolling update to complete ${updated} pods at revision ${updateRevision}...`,
    );
  }
  const current = getInt(object, 'status.currentReplicas') ?? 0;
  return health(HealthStatus.Healthy, `statefulset rolling update complete ${current} pods at revision ${currentRevision}...`);
}

function daemonSetHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('DaemonSet', 'apps', version, ['v1']);
  const generation = getInt(object, 'metadata.generation') ?? 0;
  const observedGeneration = getInt(object, 'status.observedGeneration') ?? 0;
  if (generation > observedGeneration) {
    return health(HealthStatus.Progressing, 'Waiting for rollout to finish: observed daemon set generation less than desired generation');
  }
  const desired = getInt(object, 'status.desiredNumberScheduled') ?? 0;
  const updated = getInt(object, 'status.updatedNumberScheduled') ?? 0;
  const available = getInt(object, 'status.numberAvailable') ?? 0;
  if (getString(object, 'spec.updateStrategy.type') === 'OnDelete') {
    return health(HealthStatus.Healthy, `daemon set ${updated} out of ${desired} new pods have been updated`);
  }
  const name = JSON.stringify(nameOf(object));
  if (updated < desired) {
    return health(HealthStatus.Progressing, `Waiting for daemon set ${name} rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
  }
  if (available < desired) {
    return health(HealthStatus.Progressing, `Waiting for daemon set ${name} rollout to finish: ${available} of ${desired} updated pods are available...`);
  }
  return health(HealthStatus.Healthy);
}

function replicaSetHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('ReplicaSet', 'apps', version, ['v1']);
  const generation = getInt(object, 'metadata.generation') ?? 0;
  const observedGeneration = getInt(object, 'status.observedGeneration') ?? 0;
  if (generation > observedGeneration) {
    return health(HealthStatus.Progressing, 'Waiting for rollout to finish: observed replica set generation less than desired generation');
  }
  const failure = conditions(object).find((c) => c.type === 'ReplicaFailure');
  if (failure?.status === 'True') return health(HealthStatus.Degraded, failure.message);
  const desired = getInt(object, 'spec.replicas');
  const available = getInt(object, 'status.availableReplicas') ?? 0;
  if (desired !== undefined && available < desired) {
    return health(HealthStatus.Progressing, `Waiting for rollout to finish: ${available} out of ${desired} new replicas are available...`);
  }
  return health(HealthStatus.Healthy);
}

// --- core -----------------------------------------------------------------------------------

function serviceHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('Service', '', version, ['v1']);
  if (getString(object, 'spec.type') !== 'LoadBalancer') return health(HealthStatus.Healthy);
  return getList(object, 'status.loadBalancer.ingress').length > 0 ? health(HealthStatus.Healthy) : health(HealthStatus.Progressing);
}

function pvcHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('PersistentVolumeClaim', '', version, ['v1']);
  switch (getString(object, 'status.phase')) {
    case 'Lost':
      return health(HealthStatus.Degraded);
    case 'Pending':
      return health(HealthStatus.Progressing);
    case 'Bound':
      return health(HealthStatus.Healthy);
    default:
      return health(HealthStatus.Unknown);
  }
}

/** Waiting reasons that mean a container will not start by itself (CrashLoopBackOff, ErrImagePull, …). */
function isFailedWaitingReason(reason: string): boolean {
  return reason.startsWith('Err') || reason.endsWith('Error') || reason.endsWith('BackOff');
}

function podHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('Pod', '', version, ['v1']);
  const annotations = getStringMap(object, 'metadata.annotations');
  // The API server defaults restartPolicy to Always; a manifest without it means Always.
  let restartPolicy = getString(object, 'spec.restartPolicy') ?? 'Always';
  if (annotations[HealthAnnotation.IgnoreRestartPolicy] === 'true' && !isHook(object)) restartPolicy = 'Always';
  const message = getString(object, 'status.message');
  const containerStatuses = getObjectList(object, 'status.containerStatuses');

  // Only for Always: a hook Pod (Never/OnFailure) marked Degraded while its image is pulled would
  // fail its sync early, and then run anyway once the image arrives.
  if (restartPolicy === 'Always') {
    const waitingMessages: string[] = [];
    for (const status of containerStatuses) {
      const reason = getString(status, 'state.waiting.reason');
      if (reason !== undefined && isFailedWaitingReason(reason)) {
        waitingMessages.push(getString(status, 'state.waiting.message') ?? '');
      }
    }
    if (waitingMessages.length > 0) return health(HealthStatus.Degraded, waitingMessages.join(', '));
  }

  switch (getString(object, 'status.phase')) {
    case 'Pending':
      return health(HealthStatus.Progressing, message);
    case 'Succeeded':
      return health(HealthStatus.Healthy, message);
    case 'Failed': {
      if (message !== undefined && message !== '') return health(HealthStatus.Degraded, message);
      for (const status of [...getObjectList(object, 'status.initContainerStatuses'), ...containerStatuses]) {
        const failure = terminationMessage(status);
        if (failure !== undefined) return health(HealthStatus.Degraded, failure);
      }
      return health(HealthStatus.Degraded);
    }
    case 'Running': {
      if (restartPolicy === 'Always') {
        const ready = conditions(object).some((c) => c.type === 'Ready' && c.status === 'True');
        if (ready) return health(HealthStatus.Healthy, message);
        const restarted = containerStatuses.some((status) => getObject(status, 'lastState.terminated') !== undefined);
        return health(restarted ? HealthStatus.Degraded : HealthStatus.Progressing, message);
      }
      if (restartPolicy === 'OnFailure' || restartPolicy === 'Never') {
        // Pods with a finite life are typically hooks: Progressing until they end, never Healthy.
        return health(HealthStatus.Progressing, message);
      }
      return health(HealthStatus.Unknown, message);
    }
    default:
      return health(HealthStatus.Unknown, message);
  }
}

function terminationMessage(status: KubeObject): string | undefined {
  const terminated = getObject(status, 'state.terminated');
  if (terminated === undefined) return undefined;
  const message = getString(terminated, 'message');
  if (message !== undefined && message !== '') return message;
  if (getString(terminated, 'reason') === 'OOMKilled') return 'OOMKilled';
  const exitCode = getInt(terminated, 'exitCode') ?? 0;
  if (exitCode !== 0) return `container ${JSON.stringify(getString(status, 'name') ?? '')} failed with exit code ${exitCode}`;
  return undefined;
}

// --- networking -----------------------------------------------------------------------------

function ingressHealth(object: KubeObject): HealthAssessment {
  return getList(object, 'status.loadBalancer.ingress').length > 0 ? health(HealthStatus.Healthy) : health(HealthStatus.Progressing);
}

// --- batch ----------------------------------------------------------------------------------

function jobHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('Job', 'batch', version, ['v1']);
  let failed: Condition | undefined;
  let complete: Condition | undefined;
  let suspended: Condition | undefined;
  for (const condition of conditions(object)) {
    if (condition.type === 'Failed') failed = condition;
    else if (condition.type === 'Complete') complete = condition;
    // Argo CD counts a Suspended condition of any status as finished (a resumed Job would read
    // Healthy while it runs); Ferry counts it only while it is True.
    else if (condition.type === 'Suspended' && condition.status === 'True') suspended = condition;
  }
  if (failed !== undefined) return health(HealthStatus.Degraded, failed.message);
  if (suspended !== undefined) return health(HealthStatus.Suspended, suspended.message);
  if (complete !== undefined) return health(HealthStatus.Healthy, complete.message);
  return health(HealthStatus.Progressing);
}

// --- autoscaling ----------------------------------------------------------------------------

const hpaProgressing = health(HealthStatus.Progressing, 'Waiting to Autoscale');

/** Condition reasons that mean the autoscaler cannot do its job. */
const hpaDegradedReasons: Readonly<Record<string, readonly string[]>> = {
  AbleToScale: ['FailedGetScale', 'FailedUpdateScale'],
  ScalingActive: [
    'FailedGetResourceMetric',
    'FailedGetContainerResourceMetric',
    'FailedGetObjectMetric',
    'FailedGetPodsMetric',
    'FailedGetExternalMetric',
    'InvalidSelector',
  ],
};

function hpaHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('HorizontalPodAutoscaler', 'autoscaling', version, ['v1', 'v2beta1', 'v2beta2', 'v2']);
  let list: Condition[];
  if (version === 'v1') {
    // autoscaling/v1 has no status.conditions; the controller writes them to an annotation.
    const annotation = getStringMap(object, 'metadata.annotations')['autoscaling.alpha.kubernetes.io/conditions'];
    if (annotation === undefined || annotation.trim() === '') return hpaProgressing;
    let parsed: unknown;
    try {
      parsed = JSON.parse(annotation);
    } catch (error) {
      throw new Error(`failed to parse the autoscaling.alpha.kubernetes.io/conditions annotation: ${errorMessage(error)}`, { cause: error });
    }
    if (parsed === null) return hpaProgressing;
    list = conditions({ conditions: parsed }, 'conditions');
  } else {
    list = conditions(object);
  }
  // Every condition is checked for failure before any for health: a failing metric listed after
  // AbleToScale=True still makes the autoscaler Degraded.
  const degraded = list.find((c) => c.type !== undefined && c.reason !== undefined && (hpaDegradedReasons[c.type] ?? []).includes(c.reason));
  if (degraded !== undefined) return health(HealthStatus.Degraded, degraded.message);
  const healthy = list.find((c) => (c.type === 'AbleToScale' || c.type === 'ScalingLimited') && c.status === 'True');
  if (healthy !== undefined) return health(HealthStatus.Healthy, healthy.message);
  return hpaProgressing;
}

// --- apiregistration ------------------------------------------------------------------------

function apiServiceHealth(object: KubeObject, version: string): HealthAssessment {
  requireVersion('APIService', 'apiregistration.k8s.io', version, ['v1', 'v1beta1']);
  const available = conditions(object).find((c) => c.type === 'Available');
  if (available === undefined) return health(HealthStatus.Progressing, 'Waiting to be processed');
  const message = `${available.reason ?? ''}: ${available.message ?? ''}`;
  return health(available.status === 'True' ? HealthStatus.Healthy : HealthStatus.Progressing, message);
}

// --- argoproj.io ----------------------------------------------------------------------------

function workflowHealth(object: KubeObject): HealthAssessment {
  const message = getString(object, 'status.message');
  switch (getString(object, 'status.phase') ?? '') {
    case '':
    case 'Pending':
    case 'Running':
      return health(HealthStatus.Progressing, message);
    case 'Succeeded':
      return health(HealthStatus.Healthy, message);
    case 'Failed':
    case 'Error':
      return health(HealthStatus.Degraded, message);
    default:
      return health(HealthStatus.Unknown, message);
  }
}

/**
 * Built-in checks by API group and kind. Argo CD's own Application has none on purpose (since
 * Argo CD 1.8 a child app's health does not roll up unless the user configures a check).
 */
const checks: ReadonlyMap<string, Check> = new Map<string, Check>([
  [checkKey('apps', 'Deployment'), deploymentHealth],
  [checkKey('apps', 'StatefulSet'), statefulSetHealth],
  [checkKey('apps', 'DaemonSet'), daemonSetHealth],
  [checkKey('apps', 'ReplicaSet'), replicaSetHealth],
  [checkKey('', 'Service'), serviceHealth],
  [checkKey('', 'PersistentVolumeClaim'), pvcHealth],
  [checkKey('', 'Pod'), podHealth],
  [checkKey('extensions', 'Ingress'), ingressHealth],
  [checkKey('networking.k8s.io', 'Ingress'), ingressHealth],
  [checkKey('batch', 'Job'), jobHealth],
  [checkKey('autoscaling', 'HorizontalPodAutoscaler'), hpaHealth],
  [checkKey('apiregistration.k8s.io', 'APIService'), apiServiceHealth],
  [checkKey('argoproj.io', 'Workflow'), workflowHealth],
]);
