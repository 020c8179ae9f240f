/**
 * The read-only half of a sync: discovery, the desired set as Ferry applies it, the live objects it
 * needs, and the task plan. Writes nothing, so a transient failure here is a retry, not a failed sync.
 */
import { ErrorCode, type Application, type ResourceComparison, type SyncIntent } from '@ferry/contracts';
import {
  KubeError,
  TRACKING_ANNOTATION,
  discoverScopes,
  groupOf,
  isTrackedBy,
  prepareDesired,
  resourceKey,
  type ClusterClient,
  type KubeObject,
} from '@ferry/kube';
import { hookTypesOf, isHookAnnotated } from '../domain/hooks.js';
import { operationOptions } from '../domain/sync-options.js';
import { planSyncTasks, type SyncTaskPlan } from '../domain/sync-tasks.js';
import type { KindRef } from '../domain/tracked-kinds.js';
import { createIgnoreTransform } from './ignore.js';

export interface PrepareSyncInput {
  client: ClusterClient;
  app: Application;
  /** The rendered objects of the revision (the artifact's). */
  objects: readonly KubeObject[];
  /** Kinds to look in for the app's tracked objects besides the desired ones (marked for pruning, touched by the last sync). */
  extraKinds?: readonly KindRef[];
  /** The comparison's per-resource statuses (ApplyOutOfSyncOnly). */
  comparisons: readonly ResourceComparison[];
  /** Prune tracked objects no longer in Git (the policy's, or the request's). */
  prune: boolean;
  /** The manual request, if any: dryRun, resources, syncOptions. */
  intent?: SyncIntent;
}

export interface PreparedSync {
  client: ClusterClient;
  app: Application;
  plan: SyncTaskPlan;
  /** CreateNamespace=true: the destination namespace, created first when missing. */
  createNamespace?: string;
  /** Change nothing; report what would change. */
  dryRun: boolean;
  /** Keys (resourceKey) of every live object the sync saw, tracked or not. */
  liveKeys: ReadonlySet<string>;
}

function withoutTracking(object: KubeObject): KubeObject {
  const annotations = { ...(object.metadata.annotations ?? {}) };
  delete annotations[TRACKING_ANNOTATION];
  return { ...object, metadata: { ...object.metadata, annotations } };
}

export async function prepareSync(input: PrepareSyncInput): Promise<PreparedSync> {
  const { client, app } = input;
  const name = app.metadata.name;
  const isNamespaced = await discoverScopes(client, input.objects);
  // Hooks run once per sync and are not part of the app's resources: they carry no tracking id.
  const desired = prepareDesired(name, input.objects, {
    defaultNamespace: app.spec.destination.namespace || 'default',
    isNamespaced,
  }).map((o) => (hookTypesOf(o).types.length > 0 ? withoutTracking(o) : o));

  const unservedKinds = new Set<string>();
  const kinds = new Map<string, KindRef>();
  for (const o of desired) {
    const groupKind = `${groupOf(o.apiVersion)}/${o.kind}`;
    if (isNamespaced(o.apiVersion, o.kind) === undefined) unservedKinds.add(groupKind);
    else if (!kinds.has(groupKind)) kinds.set(groupKind, { apiVersion: o.apiVersion, kind: o.kind });
  }
  for (const k of input.extraKinds ?? []) {
    const groupKind = `${groupOf(k.apiVersion)}/${k.kind}`;
    if (!kinds.has(groupKind) && !unservedKinds.has(groupKind)) kinds.set(groupKind, k);
  }
  const allLive: KubeObject[] = [];
  for (const kind of kinds.values()) {
    try {
      allLive.push(...(await client.list(kind.apiVersion, kind.kind)));
    } catch (error) {
      if (error instanceof KubeError && error.code === ErrorCode.KubeKindUnknown) continue; // kind gone from the cluster: nothing live
      throw error;
    }
  }
  const desiredKeys = new Set(desired.filter((o) => o.metadata.name).map((o) => resourceKey(o)));
  const live = new Map<string, KubeObject>();
  for (const o of allLive) {
    const key = resourceKey(o);
    if (desiredKeys.has(key)) live.set(key, o);
  }
  const tracked = allLive.filter((o) => isTrackedBy(name, o) && !isHookAnnotated(o));

  const operation = operationOptions(app, input.intent?.syncOptions);
  const destination = app.spec.destination.namespace;
  const createNamespace = operation.options.get('CreateNamespace') === 'true' && destination ? destination : undefined;
  const namespaces = new Set<string>(desired.map((o) => o.metadata.namespace ?? '').filter((ns) => ns !== ''));
  if (createNamespace) namespaces.add(createNamespace);
  const missingNamespaces = new Set<string>();
  for (const ns of namespaces) {
    if (!(await client.get({ apiVersion: 'v1', kind: 'Namespace', name: ns }))) missingNamespaces.add(ns);
  }

  const plan = planSyncTasks({
    app,
    operation: operation.options,
    desired,
    tracked,
    live,
    comparisons: input.comparisons,
    prune: input.prune,
    ...(input.intent?.resources ? { selection: input.intent.resources } : {}),
    unservedKinds,
    missingNamespaces,
    ...(createNamespace ? { createNamespace } : {}),
    keyOf: resourceKey,
  });
  plan.problems.unshift(...operation.problems);

  // RespectIgnoreDifferences: live values of ignored fields go into the apply (only when live exists).
  const wantsIgnore = plan.steps.some((s) => s.creates.some((t) => t.type === 'apply' && t.live && t.options.respectIgnoreDifferences));
  if (wantsIgnore) {
    const transform = createIgnoreTransform(app.spec.ignoreDifferences ?? []);
    if (!transform.ok) plan.problems.push(`spec.ignoreDifferences: ${transform.problem}`);
    else {
      for (const step of plan.steps) {
        for (const task of step.creates) {
          if (task.type === 'apply' && task.live && task.options.respectIgnoreDifferences)
            task.object = transform.apply(task.object, task.live);
        }
      }
    }
  }

  return {
    client,
    app,
    plan,
    ...(createNamespace ? { createNamespace } : {}),
    dryRun: input.intent?.dryRun === true,
    liveKeys: new Set(allLive.map((o) => resourceKey(o))),
  };
}
