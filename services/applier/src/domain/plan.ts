/**
 * The plan of one sync: what to apply (in Argo CD's kind order), what to prune (reverse order), which
 * namespace to create — or a refusal, when pruning would empty an app that does not allow it.
 */
import { ResourceResultStatus, syncOption, type Application, type ResourceId, type ResourceResult } from '@ferry/contracts';
import { sortForApply, sortForPrune, type KubeObject } from '@ferry/kube';

export interface PlanInput {
  app: Application;
  /** The prepared desired set (namespaces filled, tracking annotation set). */
  desired: readonly KubeObject[];
  /** Live objects tracked by the app. */
  tracked: readonly KubeObject[];
  /** Prune tracked objects no longer in Git (the policy's `prune`, or the manual request's). */
  prune: boolean;
  keyOf: (object: KubeObject) => string;
}

export interface SyncPlan {
  /** The destination namespace to create first (CreateNamespace=true), if any. */
  createNamespace?: string;
  applies: KubeObject[];
  prunes: KubeObject[];
  /** Objects that should be pruned but are not (prune off): reported as PruneSkipped. */
  pruneSkipped: KubeObject[];
  /** Set when the sync must not run; the message says why. */
  refusal?: string;
}

export function planSync(input: PlanInput): SyncPlan {
  const desiredKeys = new Set(input.desired.map(input.keyOf));
  const extras = input.tracked.filter((o) => !desiredKeys.has(input.keyOf(o)) && !o.metadata.deletionTimestamp);
  const plan: SyncPlan = {
    applies: sortForApply([...input.desired]),
    prunes: input.prune ? sortForPrune([...extras]) : [],
    pruneSkipped: input.prune ? [] : extras,
  };
  if (syncOption(input.app, 'CreateNamespace') === 'true' && input.app.spec.destination.namespace) {
    plan.createNamespace = input.app.spec.destination.namespace;
  }
  const allowEmpty = input.app.spec.syncPolicy?.automated?.allowEmpty === true;
  if (input.prune && input.desired.length === 0 && extras.length > 0 && !allowEmpty) {
    plan.refusal = `refusing to prune all ${extras.length} resources of the app: its source renders nothing and allowEmpty is false`;
  }
  return plan;
}

export function resourceIdOf(object: KubeObject): ResourceId {
  const slash = object.apiVersion.indexOf('/');
  return {
    group: slash < 0 ? '' : object.apiVersion.slice(0, slash),
    version: slash < 0 ? object.apiVersion : object.apiVersion.slice(slash + 1),
    kind: object.kind,
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name ?? '',
  };
}

export function resourceResult(object: KubeObject, status: ResourceResultStatus, message: string): ResourceResult {
  return { ...resourceIdOf(object), status, message };
}

export { ResourceResultStatus };
