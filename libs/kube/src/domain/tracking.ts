import type { KubeObject } from '../types.js';
import { groupOf } from './identity.js';

/** The annotation naming the app that manages an object (Argo CD's annotation tracking, Ferry's key). */
export const TRACKING_ANNOTATION = 'ferry.dev/tracking-id';

/** A parsed tracking id. `namespace` is '' for cluster-scoped objects; `group` is '' for the core group. */
export interface TrackingId {
  app: string;
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * The tracking id of an object for an app, in Argo CD's format
 * `<app>:<group>/<kind>:<namespace>/<name>` (`shop:apps/Deployment:default/web`, `shop:/Namespace:/shop`).
 * Set the object's namespace before computing it: the id must match the live object.
 */
export function trackingId(app: string, object: KubeObject): string {
  return `${app}:${groupOf(object.apiVersion)}/${object.kind}:${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

/** Parses a tracking id; undefined when the value is not in the `<app>:<group>/<kind>:<namespace>/<name>` form. */
export function parseTrackingId(value: string): TrackingId | undefined {
  const parts = value.split(':');
  if (parts.length !== 3) return undefined;
  const [app, groupKind, namespaceName] = parts as [string, string, string];
  const gk = groupKind.split('/');
  const nn = namespaceName.split('/');
  if (!app || gk.length !== 2 || nn.length !== 2) return undefined;
  const [group, kind] = gk as [string, string];
  const [namespace, name] = nn as [string, string];
  if (!kind || !name) return undefined;
  return { app, group, kind, namespace, name };
}

/** A copy of the object (metadata and annotations copied, the rest shared) carrying the app's tracking id. */
export function withTracking(app: string, object: KubeObject): KubeObject {
  return {
    ...object,
    metadata: {
      ...object.metadata,
      annotations: { ...(object.metadata.annotations ?? {}), [TRACKING_ANNOTATION]: trackingId(app, object) },
    },
  };
}

/** The app named by the object's tracking annotation, when it is well-formed and matches the object itself. */
export function trackingApp(object: KubeObject): string | undefined {
  const value = object.metadata.annotations?.[TRACKING_ANNOTATION];
  if (value === undefined) return undefined;
  const id = parseTrackingId(value);
  if (!id) return undefined;
  if (
    id.group !== groupOf(object.apiVersion) ||
    id.kind !== object.kind ||
    id.namespace !== (object.metadata.namespace ?? '') ||
    id.name !== (object.metadata.name ?? '')
  ) {
    return undefined; // copied from another object (kubectl get -o yaml | sed | apply): not ours
  }
  return id.app;
}

/**
 * True only when the tracking annotation names this app AND this object's own identity, so an
 * object copied from a managed one (annotation and all) is not claimed — and never pruned.
 */
export function isTrackedBy(app: string, object: KubeObject): boolean {
  return trackingApp(object) === app;
}
