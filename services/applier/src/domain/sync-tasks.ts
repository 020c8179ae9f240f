/**
 * The plan of one sync as Argo CD's gitops-engine orders it: phases PreSync → Sync → PostSync (and
 * SyncFail, run only when the sync fails); inside a phase, waves ascending (`argocd.argoproj.io/sync-wave`,
 * default 0); inside a wave, prunes first, then applies and hooks in Argo CD's kind order. Prune waves
 * are mirrored (the highest wave of the objects being pruned is pruned first) and PruneLast prunes
 * form one more wave after the last Sync wave. Pure: plain data in, a plan out.
 */
import { ResourceAnnotation, type Application, type ResourceComparison, type SyncIntent } from '@ferry/contracts';
import { groupOf, sortForApply, trackingApp, type KubeObject } from '@ferry/kube';
import { HookType, deletePoliciesOf, hookTypesOf, type HookDeletePolicy, type SyncHookType } from './hooks.js';
import { describeObject, resourceOptions, type ResourceSyncOptions } from './sync-options.js';

export type SyncPhase = 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail';
export const SYNC_PHASES: readonly SyncPhase[] = ['PreSync', 'Sync', 'PostSync'];

/** One unit of work: apply a desired object, create a hook, or prune a live object. */
export interface SyncTask {
  type: 'apply' | 'hook' | 'prune';
  phase: SyncPhase;
  wave: number;
  /** The desired object (apply, hook) or the live one (prune). */
  object: KubeObject;
  /** The live object with the same identity, when there is one (apply). */
  live?: KubeObject;
  options: ResourceSyncOptions;
  hookType?: SyncHookType;
  deletePolicies?: HookDeletePolicy[];
  /** Why the pre-sync dry run skips this task (kind not served yet, namespace created by this sync). */
  skipDryRun?: string;
  /** The kind is not served yet and a CRD of this sync defines it: the apply waits until it is served. */
  crdInSync?: boolean;
}

/** One wave of one phase. */
export interface SyncStep {
  phase: SyncPhase;
  wave: number;
  prunes: SyncTask[];
  /** Applies and hooks, in Argo CD's kind order then name. */
  creates: SyncTask[];
}

export interface SyncTaskInput {
  app: Application;
  /** App-level options of this operation (app's, then the request's). */
  operation: ReadonlyMap<string, string>;
  /** The prepared desired set (namespaces settled, tracking annotation), hooks and Skip objects included. */
  desired: readonly KubeObject[];
  /** Live objects tracked by the app (hooks excluded). */
  tracked: readonly KubeObject[];
  /** Live objects with the identity of a desired object, whoever manages them, by keyOf. */
  live: ReadonlyMap<string, KubeObject>;
  /** The comparison's per-resource statuses (ApplyOutOfSyncOnly). */
  comparisons: readonly ResourceComparison[];
  /** Prune tracked objects no longer in Git. */
  prune: boolean;
  /** A selective sync: only these resources are applied and pruned, and no hooks run. */
  selection?: SyncIntent['resources'];
  /** `group/kind` of desired kinds the cluster does not serve (yet). */
  unservedKinds: ReadonlySet<string>;
  /** Namespaces that do not exist in the cluster. */
  missingNamespaces: ReadonlySet<string>;
  /** The destination namespace CreateNamespace creates, if any. */
  createNamespace?: string;
  keyOf: (object: KubeObject) => string;
}

export interface SyncTaskPlan {
  /** Invalid annotations or options, each naming resource and option: the sync fails before anything is written. */
  problems: string[];
  /** Tasks that cannot run (kind not served, resource of another app with FailOnSharedResource): the sync fails, nothing is written. */
  invalid: Array<{ task: SyncTask; message: string }>;
  /** Set when the sync must not run (it would prune every resource without allowEmpty). */
  refusal?: string;
  steps: SyncStep[];
  /** SyncFail hooks, by wave; run only when the sync fails. */
  syncFail: SyncStep[];
  /** Objects that should be pruned but are not, with why (prune off, Prune=false, Prune=confirm). */
  pruneSkipped: Array<{ object: KubeObject; wave: number; message: string }>;
  /** Desired objects left alone because the comparison says they are Synced (ApplyOutOfSyncOnly). */
  skippedInSync: number;
}

/** The wave of an object (`argocd.argoproj.io/sync-wave`, default 0), or a problem naming it. */
export function waveOf(object: KubeObject): { wave: number; problem?: string } {
  const raw = object.metadata.annotations?.[ResourceAnnotation.SyncWave];
  if (raw === undefined || raw.trim() === '') return { wave: 0 };
  const text = raw.trim();
  if (!/^[-+]?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    return { wave: 0, problem: `${describeObject(object)}: annotation ${ResourceAnnotation.SyncWave}: "${raw}" is not an integer` };
  }
  return { wave: Number(text) };
}

function identity(group: string, kind: string, namespace: string, name: string): string {
  return `${group}/${kind}/${namespace}/${name}`;
}

function identityOf(object: KubeObject): string {
  return identity(groupOf(object.apiVersion), object.kind, object.metadata.namespace ?? '', object.metadata.name ?? '');
}

function selected(selection: SyncIntent['resources'], object: KubeObject): boolean {
  if (selection === undefined) return true;
  return selection.some(
    (s) =>
      s.group === groupOf(object.apiVersion) &&
      s.kind === object.kind &&
      s.name === object.metadata.name &&
      (s.namespace === undefined || s.namespace === '' || s.namespace === (object.metadata.namespace ?? '')),
  );
}

/** `group/kind` of the custom resources defined by CRDs in the set. */
function crdKinds(objects: readonly KubeObject[]): Set<string> {
  const kinds = new Set<string>();
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition' || groupOf(o.apiVersion) !== 'apiextensions.k8s.io') continue;
    const spec = o['spec'] as { group?: unknown; names?: { kind?: unknown } } | undefined;
    if (typeof spec?.group === 'string' && typeof spec.names?.kind === 'string') kinds.add(`${spec.group}/${spec.names.kind}`);
  }
  return kinds;
}

function addTo(steps: Map<string, SyncStep>, task: SyncTask): void {
  const id = `${task.phase}\n${task.wave}`;
  let step = steps.get(id);
  if (!step) {
    step = { phase: task.phase, wave: task.wave, prunes: [], creates: [] };
    steps.set(id, step);
  }
  if (task.type === 'prune') step.prunes.push(task);
  else step.creates.push(task);
}

const PHASE_RANK: Readonly<Record<SyncPhase, number>> = { PreSync: 0, Sync: 1, PostSync: 2, SyncFail: 3 };

function ordered(steps: Map<string, SyncStep>): SyncStep[] {
  const list = [...steps.values()].sort((a, b) => PHASE_RANK[a.phase] - PHASE_RANK[b.phase] || a.wave - b.wave);
  for (const step of list) {
    step.creates = sortTasks(step.creates);
    step.prunes = sortTasks(step.prunes).reverse();
  }
  return list;
}

function sortTasks(tasks: readonly SyncTask[]): SyncTask[] {
  const byObject = new Map<KubeObject, SyncTask[]>();
  for (const t of tasks) byObject.set(t.object, [...(byObject.get(t.object) ?? []), t]);
  return sortForApply([...byObject.keys()]).flatMap((o) => byObject.get(o) ?? []);
}

export function planSyncTasks(input: SyncTaskInput): SyncTaskPlan {
  const problems: string[] = [];
  const invalid: SyncTaskPlan['invalid'] = [];
  const steps = new Map<string, SyncStep>();
  const failSteps = new Map<string, SyncStep>();
  const pruneSkipped: SyncTaskPlan['pruneSkipped'] = [];
  const crds = crdKinds(input.desired);
  const inSync = new Set(
    input.comparisons.filter((c) => (c.diffState ?? c.status) === 'Synced').map((c) => identity(c.group, c.kind, c.namespace, c.name)),
  );
  /** Identities that are never pruned: everything Git declares, hooks and Skip objects included. */
  const declared = new Set<string>();
  let resources = 0;
  let skippedInSync = 0;

  for (const object of input.desired) {
    declared.add(identityOf(object));
    const hooks = hookTypesOf(object);
    const { options, problems: optionProblems } = resourceOptions(input.operation, object);
    const { wave, problem: waveProblem } = waveOf(object);
    problems.push(...hooks.problems, ...optionProblems, ...(waveProblem ? [waveProblem] : []));
    if (hooks.types.includes(HookType.Skip)) continue;
    const isHook = hooks.types.length > 0 || hooks.problems.length > 0;
    if (!isHook) resources++;
    if (!selected(input.selection, object) || (isHook && input.selection !== undefined)) continue;

    const groupKind = `${groupOf(object.apiVersion)}/${object.kind}`;
    let skipDryRun: string | undefined;
    const namespace = object.metadata.namespace;
    if (input.unservedKinds.has(groupKind)) {
      if (crds.has(groupKind)) skipDryRun = `${object.apiVersion} ${object.kind} is not served yet (its CRD is in this sync)`;
      else if (options.skipDryRunOnMissingResource)
        skipDryRun = `${object.apiVersion} ${object.kind} is not served (SkipDryRunOnMissingResource=true)`;
    } else if (
      namespace &&
      input.missingNamespaces.has(namespace) &&
      (namespace === input.createNamespace ||
        input.desired.some((o) => o.kind === 'Namespace' && o.apiVersion === 'v1' && o.metadata.name === namespace))
    ) {
      skipDryRun = `namespace ${namespace} does not exist yet (this sync creates it)`;
    }

    if (isHook) {
      const { policies, problems: policyProblems } = deletePoliciesOf(object);
      problems.push(...policyProblems);
      for (const type of hooks.types) {
        if (type !== HookType.PreSync && type !== HookType.Sync && type !== HookType.PostSync && type !== HookType.SyncFail) continue;
        const live = object.metadata.name ? input.live.get(input.keyOf(object)) : undefined;
        const task: SyncTask = {
          type: 'hook',
          phase: type,
          wave,
          object,
          ...(live ? { live } : {}),
          options,
          hookType: type,
          deletePolicies: policies,
          ...(skipDryRun ? { skipDryRun } : {}),
        };
        addTo(type === HookType.SyncFail ? failSteps : steps, task);
      }
      continue;
    }

    const live = input.live.get(input.keyOf(object));
    const crdInSync = input.unservedKinds.has(groupKind) && crds.has(groupKind);
    const task: SyncTask = {
      ...(crdInSync ? { crdInSync } : {}),
      type: 'apply',
      phase: 'Sync',
      wave,
      object,
      options,
      ...(live ? { live } : {}),
      ...(skipDryRun ? { skipDryRun } : {}),
    };
    if (input.unservedKinds.has(groupKind) && !skipDryRun) {
      invalid.push({
        task,
        message: `the server could not find the requested resource: the cluster does not serve ${object.kind} in ${object.apiVersion} (no CRD for it in this sync; SkipDryRunOnMissingResource=true skips this check)`,
      });
      continue;
    }
    if (options.failOnSharedResource && live) {
      const owner = trackingApp(live);
      if (owner !== undefined && owner !== input.app.metadata.name) {
        invalid.push({
          task,
          message: `shared resource found: ${describeObject(object)} is already part of application ${owner} (FailOnSharedResource=true)`,
        });
        continue;
      }
    }
    if (options.applyOutOfSyncOnly && inSync.has(identityOf(object))) {
      skippedInSync++;
      continue;
    }
    addTo(steps, task);
  }

  // Prunes: tracked objects Git no longer declares.
  const extras = input.tracked.filter((o) => !declared.has(identityOf(o)) && !o.metadata.deletionTimestamp);
  const prunes: SyncTask[] = [];
  for (const live of extras) {
    if (!selected(input.selection, live)) continue;
    const { options, problems: optionProblems } = resourceOptions(input.operation, live);
    const { wave, problem: waveProblem } = waveOf(live);
    problems.push(...optionProblems, ...(waveProblem ? [waveProblem] : []));
    if (!input.prune) pruneSkipped.push({ object: live, wave, message: 'ignored (requires pruning)' });
    else if (options.prune === 'false') pruneSkipped.push({ object: live, wave, message: 'ignored (Prune=false)' });
    else if (options.prune === 'confirm')
      pruneSkipped.push({
        object: live,
        wave,
        message: 'not pruned: Prune=confirm needs a confirmation, which Ferry does not offer; delete it by hand or drop the option',
      });
    else prunes.push({ type: 'prune', phase: 'Sync', wave, object: live, options });
  }
  // Mirror prune waves (gitops-engine): the highest wave among pruned objects goes first.
  const pruneWaves = [...new Set(prunes.map((t) => t.wave))].sort((a, b) => a - b);
  const mirrored = new Map(pruneWaves.map((w, i) => [w, pruneWaves[pruneWaves.length - 1 - i] ?? w]));
  for (const task of prunes) task.wave = mirrored.get(task.wave) ?? task.wave;
  let lastSyncWave = 0;
  for (const step of steps.values()) if (step.phase === 'Sync') lastSyncWave = Math.max(lastSyncWave, step.wave);
  for (const task of prunes) if (task.phase === 'Sync') lastSyncWave = Math.max(lastSyncWave, task.wave);
  for (const task of prunes) {
    if (task.options.pruneLast) task.wave = lastSyncWave + 1;
    addTo(steps, task);
  }

  const plan: SyncTaskPlan = { problems, invalid, steps: ordered(steps), syncFail: ordered(failSteps), pruneSkipped, skippedInSync };
  const allowEmpty = input.app.spec.syncPolicy?.automated?.allowEmpty === true;
  if (input.prune && resources === 0 && extras.length > 0 && !allowEmpty) {
    plan.refusal = `refusing to prune all ${extras.length} resources of the app: its source renders nothing and allowEmpty is false`;
  }
  return plan;
}
