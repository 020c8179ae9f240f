/**
 * Sync options as one sync uses them: the app's `syncPolicy.syncOptions`, overridden by the extra
 * options of a manual request, overridden per resource by its `argocd.argoproj.io/sync-options`
 * annotation (Argo CD: "setting a sync option on the resource always overrides the application").
 * An option Ferry does not know, or a bad value, is a problem naming it — never ignored.
 */
import { ResourceAnnotation, parseSyncOptions, syncOptionProblems, type Application } from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';

/** Deletion propagation of a prune, as the API's DeleteOptions spell it. */
export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

/** The options that decide how one resource is applied or pruned. */
export interface ResourceSyncOptions {
  /** Prune after every other wave, as a final wave (PruneLast=true). */
  pruneLast: boolean;
  /** Skip the apply when the comparison says the resource is Synced (ApplyOutOfSyncOnly=true). */
  applyOutOfSyncOnly: boolean;
  /** PUT (create when missing) instead of server-side apply (Replace=true). */
  replace: boolean;
  /** With replace: delete and create again (Force=true). */
  force: boolean;
  /** Prune=true (default) | false (never pruned) | confirm (not pruned: no confirmation flow, see docs/sync.md). */
  prune: 'true' | 'false' | 'confirm';
  /** PrunePropagationPolicy; default Foreground (Argo CD's default). */
  propagationPolicy: PropagationPolicy;
  /** Validate=false sends fieldValidation=Ignore. Default true. */
  validate: boolean;
  /** Do not fail the pre-sync dry run when the kind is not served yet. */
  skipDryRunOnMissingResource: boolean;
  /** Fail when the live object is tracked by another app. */
  failOnSharedResource: boolean;
  /** Carry live values of ignored fields (spec.ignoreDifferences) into the apply. */
  respectIgnoreDifferences: boolean;
  /** ServerSideApply=false is accepted; Ferry applies server-side either way (docs/sync.md). */
  serverSideApply: boolean;
}

/** App-level options of one operation (app's list, then the request's extra options) and their problems. */
export interface OperationOptions {
  options: ReadonlyMap<string, string>;
  problems: string[];
}

export function operationOptions(app: Application, extra: readonly string[] | undefined): OperationOptions {
  const problems = [
    ...syncOptionProblems(app.spec.syncPolicy?.syncOptions, 'spec.syncPolicy.syncOptions'),
    ...syncOptionProblems(extra, 'sync request syncOptions'),
  ].map((p) => `${p.path}: ${p.message}`);
  const options = new Map(parseSyncOptions(app.spec.syncPolicy?.syncOptions));
  for (const [key, value] of parseSyncOptions(extra)) options.set(key, value);
  return { options, problems };
}

const PROPAGATION: Readonly<Record<string, PropagationPolicy>> = {
  foreground: 'Foreground',
  background: 'Background',
  orphan: 'Orphan',
};

function describeObject(object: KubeObject): string {
  const ns = object.metadata.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind}/${ns}${object.metadata.name || object.metadata.generateName || ''}`;
}

/**
 * The options of one resource: app-level ones overridden by its annotation. `problems` names the
 * resource and each unknown option or bad value of the annotation.
 */
export function resourceOptions(
  operation: ReadonlyMap<string, string>,
  object: KubeObject,
): { options: ResourceSyncOptions; problems: string[] } {
  const annotation = object.metadata.annotations?.[ResourceAnnotation.SyncOptions];
  const problems = syncOptionProblems(annotation, ResourceAnnotation.SyncOptions).map(
    (p) => `${describeObject(object)}: annotation ${p.path}: ${p.message}`,
  );
  const merged = new Map(operation);
  if (problems.length === 0) for (const [key, value] of parseSyncOptions(annotation)) merged.set(key, value);
  const on = (key: string): boolean => merged.get(key) === 'true';
  const prune = merged.get('Prune');
  return {
    options: {
      pruneLast: on('PruneLast'),
      applyOutOfSyncOnly: on('ApplyOutOfSyncOnly'),
      replace: on('Replace'),
      force: on('Force'),
      prune: prune === 'false' || prune === 'confirm' ? prune : 'true',
      propagationPolicy: PROPAGATION[merged.get('PrunePropagationPolicy') ?? 'foreground'] ?? 'Foreground',
      validate: merged.get('Validate') !== 'false',
      skipDryRunOnMissingResource: on('SkipDryRunOnMissingResource'),
      failOnSharedResource: on('FailOnSharedResource'),
      respectIgnoreDifferences: on('RespectIgnoreDifferences'),
      serverSideApply: merged.get('ServerSideApply') !== 'false',
    },
    problems,
  };
}

export { describeObject };
