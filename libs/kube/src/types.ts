/**
 * Shapes shared by every part of @ferry/kube. Objects are plain JSON as the API server sends them
 * (no class instances, no Date fields), so they compare, hash and serialise as they are.
 */

/** Metadata of any Kubernetes object. Only the fields Ferry reads are named. */
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
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  finalizers?: string[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** Any Kubernetes object (desired from Git, or live from the cluster). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Names one object. `namespace` is omitted (or '') for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** One resource type the cluster serves, from discovery. */
export interface ApiResource {
  /** API group; '' for the core group. */
  group: string;
  version: string;
  /** `group/version`, or `version` for the core group (`v1`). */
  apiVersion: string;
  kind: string;
  /** URL segment: `deployments`. */
  plural: string;
  namespaced: boolean;
  verbs: readonly string[];
}

/** Watch event types Ferry acts on (BOOKMARK and ERROR are handled inside the watch cache). */
export const WatchEventType = {
  Added: 'ADDED',
  Modified: 'MODIFIED',
  Deleted: 'DELETED',
} as const;
export type WatchEventType = (typeof WatchEventType)[keyof typeof WatchEventType];

/** A change seen by a watch, after the cache has applied it. */
export interface WatchEvent {
  type: WatchEventType;
  /** The object after the change; for DELETED, its last state. */
  object: KubeObject;
}

/**
 * The logger shape @ferry/kube writes to (a pino logger fits). Injected, never global; omitted means silent.
 */
export interface KubeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
