/**
 * The machinery every simulated controller shares: a de-duplicating work queue fed by store events and
 * timers, the resolved configuration, and helpers for owner references, conditions and names.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ControllerApi, KubeObject, OwnerReference, ResourceType } from '../types.js';

export type Obj = Record<string, unknown>;

/** The resolved, frozen controller settings. */
export interface ControllerConfig {
  readonly rolloutMs: number;
  readonly progressDeadlineScaleMs: number;
}

/** The simulated node every pod runs on. */
export const NODE_NAME = 'sandbox-node';
export const NODE_IP = '172.18.0.2';
/** Field manager of the writes made by kube-controller-manager's controllers. */
export const CONTROLLER_MANAGER = 'kube-controller-manager';

/** Controller names; a queue key is `<controller>|<namespace>|<name>`. */
export const ControllerName = {
  deployment: 'deployment',
  replicaSet: 'replicaset',
  statefulSet: 'statefulset',
  daemonSet: 'daemonset',
  job: 'job',
  pod: 'pod',
  service: 'service',
  endpoints: 'endpoints',
  pvc: 'pvc',
  ingress: 'ingress',
  namespace: 'namespace',
  hpa: 'hpa',
  node: 'node',
} as const;
export type ControllerName = (typeof ControllerName)[keyof typeof ControllerName];

export type Reconcile = (ctx: Context, namespace: string | undefined, name: string) => void;

/** What a reconcile function gets. */
export interface Context {
  readonly api: ControllerApi;
  readonly config: ControllerConfig;
  now(): number;
  /** Queues a reconcile of one object by one controller, now or after `afterMs`. */
  enqueue(controller: ControllerName, namespace: string | undefined, name: string, afterMs?: number): void;
  /** The served resource type, or undefined (for example Ingress on a server that lacks it). */
  resource(apiVersion: string, kind: string): ResourceType | undefined;
  /** In-memory bookkeeping shared by controllers (lost on restart; every use has a fallback). */
  readonly memory: Memory;
  /** Live copies of Pods, ReplicaSets, Services and HPAs, kept current from change events. Read-only. */
  readonly index: ObjectIndex;
  /** Records a v1 Event about an object (best effort, never throws). */
  event(involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void;
}

/** `group/Kind` of a resource type, the index's kind key. */
export function kindKey(resource: { group: string; kind: string }): string {
  return `${resource.group}/${resource.kind}`;
}

/**
 * The objects the controllers look up by namespace or by owner on every reconcile, kept current from
 * the store's (synchronous) change events, so that a reconcile does not copy a whole namespace.
 * Objects are shared: callers must not mutate them.
 */
export class ObjectIndex {
  static readonly KINDS: ReadonlySet<string> = new Set(['/Pod', 'apps/ReplicaSet', '/Service', 'autoscaling/HorizontalPodAutoscaler']);
  private readonly objects = new Map<string, KubeObject>();
  private readonly byNamespace = new Map<string, Map<string, KubeObject>>();
  private readonly byOwner = new Map<string, Map<string, KubeObject>>();

  has(kind: string): boolean {
    return ObjectIndex.KINDS.has(kind);
  }

  put(kind: string, object: KubeObject): void {
    this.remove(kind, object);
    const name = object.metadata.name ?? '';
    const ns = object.metadata.namespace ?? '';
    this.objects.set(`${kind}|${ns}|${name}`, object);
    this.bucket(this.byNamespace, `${kind}|${ns}`).set(name, object);
    const owner = controllerOf(object);
    if (owner) this.bucket(this.byOwner, `${kind}|${owner.uid}`).set(`${ns}/${name}`, object);
  }

  remove(kind: string, object: KubeObject): void {
    const name = object.metadata.name ?? '';
    const ns = object.metadata.namespace ?? '';
    const key = `${kind}|${ns}|${name}`;
    const previous = this.objects.get(key);
    if (!previous) return;
    this.objects.delete(key);
    this.byNamespace.get(`${kind}|${ns}`)?.delete(name);
    const owner = controllerOf(previous);
    if (owner) {
      const bucket = this.byOwner.get(`${kind}|${owner.uid}`);
      bucket?.delete(`${ns}/${name}`);
      if (bucket?.size === 0) this.byOwner.delete(`${kind}|${owner.uid}`);
    }
  }

  inNamespace(kind: string, namespace: string | undefined): KubeObject[] {
    return [...(this.byNamespace.get(`${kind}|${namespace ?? ''}`)?.values() ?? [])];
  }

  ownedBy(kind: string, ownerUid: string): KubeObject[] {
    return [...(this.byOwner.get(`${kind}|${ownerUid}`)?.values() ?? [])];
  }

  private bucket(map: Map<string, Map<string, KubeObject>>, key: string): Map<string, KubeObject> {
    let bucket = map.get(key);
    if (!bucket) {
      bucket = new Map();
      map.set(key, bucket);
    }
    return bucket;
  }
}

export interface Memory {
  /** Pod uid -> ms at which its Ready condition became True. */
  readonly podReadyAt: Map<string, number>;
  /** Object uid -> ms it was first seen by a controller. */
  readonly firstSeen: Map<string, number>;
  /** Deployment uid -> ms of the last progress (Progressing lastUpdateTime, at ms precision). */
  readonly deploymentProgressAt: Map<string, number>;
  /** Counter behind pod IPs. */
  podIpCounter: number;
  /** Service uid -> load-balancer IP. */
  readonly loadBalancerIps: Map<string, string>;
  loadBalancerCounter: number;
}

export interface RuntimeHooks {
  /** Called when a reconcile failed for the last time (after retries); the default ignores it. */
  onError?: (error: unknown, key: string) => void;
}

const MAX_ATTEMPTS = 5;

/** The queue: keys are de-duplicated, processed in a later macrotask, delayed ones by one timer each. */
export class WorkQueue {
  private readonly pending = new Map<string, { controller: ControllerName; namespace: string | undefined; name: string }>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly attempts = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly reconcilers: ReadonlyMap<ControllerName, Reconcile>,
    private readonly makeContext: () => Context,
    private readonly hooks: RuntimeHooks,
  ) {}

  enqueue(controller: ControllerName, namespace: string | undefined, name: string, afterMs = 0): void {
    if (this.closed) return;
    const key = `${controller}|${namespace ?? ''}|${name}`;
    if (afterMs > 0) {
      const at = Date.now() + afterMs;
      const existing = this.delayed.get(key);
      if (existing && existing.at <= at) return;
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        this.delayed.delete(key);
        this.enqueue(controller, namespace, name);
      }, afterMs);
      timer.unref();
      this.delayed.set(key, { at, timer });
      return;
    }
    this.pending.set(key, { controller, namespace, name });
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), 0);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.closed) return;
    const batch = [...this.pending.entries()];
    this.pending.clear();
    const ctx = this.makeContext();
    for (const [key, item] of batch) {
      if (this.closed) return;
      const reconcile = this.reconcilers.get(item.controller);
      if (!reconcile) continue;
      try {
        reconcile(ctx, item.namespace, item.name);
        this.attempts.delete(key);
      } catch (error) {
        const attempt = (this.attempts.get(key) ?? 0) + 1;
        if (attempt >= MAX_ATTEMPTS) {
          this.attempts.delete(key);
          this.hooks.onError?.(error, key);
        } else {
          this.attempts.set(key, attempt);
          this.enqueue(item.controller, item.namespace, item.name, 10 * 2 ** attempt);
        }
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.pending.clear();
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

export function arr(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter(isObj) : [];
}

export function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export const deepEqual = isDeepStrictEqual;

/** Kubernetes timestamps: RFC 3339 at second precision. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function spec(object: KubeObject): Obj {
  return obj(object['spec']);
}

export function status(object: KubeObject): Obj {
  return obj(object['status']);
}

export function ownerReference(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function controllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

export function isControlledBy(object: KubeObject, owner: KubeObject): boolean {
  const ref = controllerOf(object);
  return ref !== undefined && ref.uid === owner.metadata.uid;
}

export function isDeleting(object: KubeObject): boolean {
  return typeof object.metadata.deletionTimestamp === 'string';
}

/** Objects of a type in a namespace controlled by `owner` and not being deleted. */
export function owned(ctx: Context, resource: ResourceType, owner: KubeObject): KubeObject[] {
  const kind = kindKey(resource);
  const candidates = ctx.index.has(kind) ? ctx.index.ownedBy(kind, owner.metadata.uid ?? '') : ctx.api.list(resource, owner.metadata.namespace);
  return candidates.filter((o) => isControlledBy(o, owner) && !isDeleting(o) && o.metadata.namespace === owner.metadata.namespace);
}

/** A copy fit for `api.update`: managedFields are the server's business. */
export function forUpdate(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  delete copy.metadata.managedFields;
  return copy;
}

/** Writes the status when it differs from the stored one. */
export function writeStatus(
  ctx: Context,
  resource: ResourceType,
  object: KubeObject,
  next: Obj,
): KubeObject | undefined {
  return ctx.api.updateStatus(resource, object.metadata.namespace, object.metadata.name ?? '', (current) =>
    deepEqual(current['status'] ?? {}, next) ? undefined : next,
  );
}

export interface Condition extends Obj {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
}

/**
 * Sets a condition as the real helpers do: lastTransitionTime moves only when the status changes;
 * an identical status+reason+message keeps the old condition untouched. Returns the new list.
 */
export function setCondition(
  conditions: readonly Obj[],
  next: Condition,
  now: number,
  options: { lastUpdateTime?: boolean; lastProbeTime?: boolean } = {},
): Obj[] {
  const current = conditions.find((c) => c['type'] === next.type);
  if (current && current['status'] === next.status && current['reason'] === next.reason && current['message'] === next.message) {
    return [...conditions];
  }
  const condition: Obj = { type: next.type, status: next.status };
  if (options.lastProbeTime) condition['lastProbeTime'] = null;
  if (options.lastUpdateTime) condition['lastUpdateTime'] = timestamp(now);
  condition['lastTransitionTime'] =
    current && current['status'] === next.status && typeof current['lastTransitionTime'] === 'string'
      ? current['lastTransitionTime']
      : timestamp(now);
  if (next.reason !== undefined) condition['reason'] = next.reason;
  if (next.message !== undefined) condition['message'] = next.message;
  return conditions.map((c) => (c === current ? condition : c)).concat(current ? [] : [condition]);
}

export function conditionOf(object: KubeObject, type: string): Obj | undefined {
  return arr(status(object)['conditions']).find((c) => c['type'] === type);
}

export function isPodReady(pod: KubeObject): boolean {
  return conditionOf(pod, 'Ready')?.['status'] === 'True';
}

export function isPodTerminal(pod: KubeObject): boolean {
  const phase = status(pod)['phase'];
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Whether a pod is available: ready for at least minReadySeconds (scaled to ms). Returns ms until it will be, if not yet. */
export function podAvailability(ctx: Context, pod: KubeObject, minReadySeconds: number): { available: boolean; inMs?: number } {
  if (!isPodReady(pod) || isDeleting(pod)) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const readyAt =
    ctx.memory.podReadyAt.get(pod.metadata.uid ?? '') ?? parseTime(conditionOf(pod, 'Ready')?.['lastTransitionTime']) ?? 0;
  const at = readyAt + minReadySeconds * ctx.config.progressDeadlineScaleMs;
  const now = ctx.now();
  return at <= now ? { available: true } : { available: false, inMs: at - now + 1 };
}

/** Whether labels match a LabelSelector (matchLabels and matchExpressions). */
export function matchesSelector(labels: Record<string, string> | undefined, selector: unknown): boolean {
  const sel = obj(selector);
  const have = labels ?? {};
  for (const [k, v] of Object.entries(obj(sel['matchLabels']))) if (have[k] !== v) return false;
  for (const expr of arr(sel['matchExpressions'])) {
    const key = String(expr['key']);
    const values = Array.isArray(expr['values']) ? (expr['values'] as unknown[]).map(String) : [];
    const value = have[key];
    switch (expr['operator']) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A random suffix like the API server's generateName (5 characters of the "safe" alphabet). */
export function randomSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE_ALPHABET[Math.floor(Math.random() * SAFE_ALPHABET.length)];
  return out;
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isObj(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined && value[k] !== null)
      .map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The pod-template-hash of a template, computed like the deployment controller's: FNV-32a, printed in
 * decimal and re-encoded with the safe alphabet (so it looks like `75dd4d49d5`). The hash label itself
 * is excluded, so a ReplicaSet's template hashes like its Deployment's, and null values are skipped
 * (`creationTimestamp: null`, which `kubectl rollout undo` sends, is a zero value to a Go server).
 */
export function templateHash(template: unknown): string {
  const copy = structuredClone(obj(template));
  const labels = obj(obj(copy['metadata'])['labels']);
  delete labels['pod-template-hash'];
  delete labels['controller-revision-hash'];
  const text = stableStringify(copy);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash >>> 0)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Resolves an IntOrString like maxSurge against a total ("25%" of 10 -> 3 rounding up, or down). */
export function resolveIntOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const percent = Number(value.slice(0, -1));
    if (Number.isNaN(percent)) return 0;
    const exact = (percent * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return 0;
}

/** Creates pods (or any object) as kube-controller-manager does; returns the stored object. */
export function createAs(ctx: Context, resource: ResourceType, object: KubeObject, manager = CONTROLLER_MANAGER): KubeObject {
  return ctx.api.create(resource, object, manager);
}

/** A pod built from a template, owned by `owner`. */
export function podFromTemplate(
  template: unknown,
  owner: KubeObject,
  name: string,
  extra: { labels?: Record<string, string>; annotations?: Record<string, string>; generateName?: string } = {},
): KubeObject {
  const t = structuredClone(obj(template));
  const meta = obj(t['metadata']);
  const labels = { ...(obj(meta['labels']) as Record<string, string>), ...(extra.labels ?? {}) };
  const annotations = { ...(obj(meta['annotations']) as Record<string, string>), ...(extra.annotations ?? {}) };
  const metadata: KubeObject['metadata'] = {
    name,
    namespace: owner.metadata.namespace,
    labels,
    ownerReferences: [ownerReference(owner)],
  };
  if (extra.generateName) metadata.generateName = extra.generateName;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  if (Array.isArray(meta['finalizers'])) metadata.finalizers = meta['finalizers'] as string[];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: obj(t['spec']) };
}
