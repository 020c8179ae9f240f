/**
 * Shared shapes of the sandbox cluster. The API server core (store, HTTP, patch, apply, watch)
 * and the simulated controllers and defaulting are written against these types.
 */

/** Any Kubernetes object as stored and served (JSON). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** A servable resource type (built in, or from a CRD). */
export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  verbs: readonly string[];
  subresources: { status: boolean; scale: boolean };
  /** Discovery categories (e.g. "all"); absent means none. */
  categories?: readonly string[];
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  resource: ResourceType;
  /** A copy of the object after the change (for DELETED, the last state). */
  object: KubeObject;
}

/**
 * What the simulated controllers may do. They act as real controllers do, through the API
 * server's rules: every write bumps resourceVersion, defaulting and garbage collection apply,
 * objects returned are copies. Writes throw the server's own error type on failure.
 */
export interface ControllerApi {
  /** The resource type for an apiVersion ('apps/v1', 'v1') and kind, if served. */
  resourceFor(apiVersion: string, kind: string): ResourceType | undefined;
  get(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  list(resource: ResourceType, namespace?: string): KubeObject[];
  /** Creates an object (name or generateName required), as a controller would (manager name given). */
  create(resource: ResourceType, object: KubeObject, manager: string): KubeObject;
  /** Replaces metadata and spec of an existing object (no resourceVersion check when it is absent). */
  update(resource: ResourceType, object: KubeObject, manager: string): KubeObject;
  /**
   * Read-modify-write of the status subresource: `mutate` receives a copy of the object and returns the new
   * status (or undefined to leave it unchanged). Returns the stored object, or undefined if it is gone.
   */
  updateStatus(
    resource: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (object: KubeObject) => Record<string, unknown> | undefined,
  ): KubeObject | undefined;
  /** Deletes with background propagation; missing objects are ignored. */
  delete(resource: ResourceType, namespace: string | undefined, name: string): void;
  /** Called synchronously after every stored change; returns an unsubscribe function. */
  onChange(listener: (event: StoreEvent) => void): () => void;
}

export interface ControllerOptions {
  /** How long a simulated rollout step takes (pod start, readiness), in ms. Default 200. */
  rolloutMs: number;
  /**
   * Progress deadlines are scaled: a Deployment's progressDeadlineSeconds (default 600) becomes
   * progressDeadlineSeconds * progressDeadlineScaleMs milliseconds. Default 5 (600 s -> 3 s).
   */
  progressDeadlineScaleMs: number;
}

export interface Controllers {
  /** Stops every timer and listener; idempotent. */
  close(): void;
}
