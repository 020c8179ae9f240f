/**
 * What a comparison produces beyond the per-resource diff: the record the differ stores, the
 * fingerprint of an app's resource statuses, message ids, conditions, and the artifact's decoding.
 * Pure: no NATS, no cluster.
 */
import { createHash } from 'node:crypto';
import { ConditionType, ErrorCode, FerryError, SyncStatus } from '@ferry/contracts';
import type { AppCondition, ComparisonStatusRecord, ResourceComparison } from '@ferry/contracts';
import type { KubeObject } from '@ferry/kube';
import type { AppResourceDiff } from './compare.js';

/**
 * What the differ stores in `<prefix>-status-comparison`: the contract's record plus its own
 * bookkeeping, so that a restarted differ resumes (readers that do not know the extra fields ignore them).
 */
export interface StoredComparisonRecord extends ComparisonStatusRecord {
  /** W3C traceparent of the revision.detected this revision came with; drift comparisons join its trace. */
  traceparent?: string;
  /** detectedAt of that revision.detected: an older event (redelivered late) does not move the app back. */
  detectedAt?: string;
  /** Drift results published for this artifact so far; part of their message ids (see driftMessageId). */
  driftSequence: number;
  /** Fingerprint of `status` + `resources` (statusesHash) as last published. */
  statusesHash: string;
  /** Fingerprint of the `diffs.<app>` document last written (diffsHash): an unchanged one is not written again. */
  diffsHash?: string;
}

/** The wire form of a resource's result (the join key and differences stay inside the differ). */
export function toResourceComparison(r: AppResourceDiff): ResourceComparison {
  const out: ResourceComparison = {
    group: r.group,
    version: r.version,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    status: r.status,
    diffState: r.diffState,
  };
  if (r.requiresPruning) out.requiresPruning = true;
  return out;
}

/**
 * A short fingerprint (12 hex) of an app's sync status and its resources' identities and statuses
 * (Missing counted apart from OutOfSync), independent of order. Equal fingerprints = nothing to announce.
 */
export function statusesHash(syncStatus: SyncStatus, resources: readonly ResourceComparison[]): string {
  const rows = resources
    .map(
      (r) =>
        `${r.group}/${r.version}/${r.kind}/${r.namespace}/${r.name}=${r.status}${r.requiresPruning ? '!prune' : ''}${r.diffState === 'Missing' ? '!missing' : ''}`,
    )
    .sort();
  return createHash('sha256')
    .update(`${syncStatus}\n${rows.join('\n')}`)
    .digest('hex')
    .slice(0, 12);
}

/** `diff.computed:<app>:<artifactKey>:<hash>[:<requestId>]` for a comparison after revision.detected. */
export function revisionMessageId(app: string, artifactKey: string, hash: string, requestId?: string): string {
  return `diff.computed:${app}:${artifactKey}:${hash}${requestId === undefined ? '' : `:${requestId}`}`;
}

/**
 * `diff.computed:<app>:<artifactKey>:<hash>:drift-<n>` for the n-th drift result of an artifact. The
 * sequence keeps a later, equal result distinct (Synced → drift → self-heal → Synced again within the
 * stream's 2-minute duplicate window must reach the applier twice); a publish retried after a crash
 * before the record was written reuses n and is de-duplicated.
 */
export function driftMessageId(app: string, artifactKey: string, hash: string, sequence: number): string {
  return `diff.computed:${app}:${artifactKey}:${hash}:drift-${sequence}`;
}

/** `conditions` with the ComparisonError set to `message` (its lastTransitionTime kept when the message is unchanged). */
export function withComparisonError(conditions: readonly AppCondition[], message: string, now: string): AppCondition[] {
  const existing = conditions.find((c) => c.type === ConditionType.ComparisonError);
  const others = conditions.filter((c) => c.type !== ConditionType.ComparisonError);
  const lastTransitionTime = existing !== undefined && existing.message === message ? existing.lastTransitionTime : now;
  return [...others, { type: ConditionType.ComparisonError, message, lastTransitionTime }];
}

/** `conditions` without the ComparisonError. */
export function withoutComparisonError(conditions: readonly AppCondition[]): AppCondition[] {
  return conditions.filter((c) => c.type !== ConditionType.ComparisonError);
}

/** Thrown when a stored artifact is missing or not a rendered set; the app is reported Unknown. */
export class ArtifactError extends FerryError {
  readonly artifactKey: string;
  constructor(code: typeof ErrorCode.DiffArtifactMissing | typeof ErrorCode.DiffArtifactInvalid, artifactKey: string, message: string) {
    super(code, message);
    this.artifactKey = artifactKey;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The objects of a stored artifact (`{ app, revision, objects: [{ object, source }] }`), validated:
 * every object has string apiVersion and kind and a metadata.name. Throws ArtifactError
 * (FERRY_ERR_DIFF_ARTIFACT_MISSING when `value` is undefined, FERRY_ERR_DIFF_ARTIFACT_INVALID otherwise).
 */
export function parseArtifact(artifactKey: string, value: unknown): KubeObject[] {
  if (value === undefined) {
    throw new ArtifactError(ErrorCode.DiffArtifactMissing, artifactKey, `artifact ${artifactKey} is not in the artifact store`);
  }
  const invalid = (why: string): ArtifactError =>
    new ArtifactError(ErrorCode.DiffArtifactInvalid, artifactKey, `artifact ${artifactKey} is invalid: ${why}`);
  if (!isRecord(value) || !Array.isArray(value['objects'])) throw invalid('expected { objects: [...] }');
  return value['objects'].map((entry: unknown, i) => {
    const object = isRecord(entry) ? entry['object'] : undefined;
    if (!isRecord(object)) throw invalid(`objects[${i}].object is not an object`);
    const metadata = object['metadata'];
    if (
      typeof object['apiVersion'] !== 'string' ||
      typeof object['kind'] !== 'string' ||
      !isRecord(metadata) ||
      typeof metadata['name'] !== 'string' ||
      metadata['name'] === ''
    ) {
      throw invalid(`objects[${i}] needs apiVersion, kind and metadata.name`);
    }
    return object as KubeObject;
  });
}

/** The distinct kinds (apiVersion + kind) of a set of objects, in first-seen order. */
export function kindsOf(objects: readonly KubeObject[]): Array<{ apiVersion: string; kind: string }> {
  const out = new Map<string, { apiVersion: string; kind: string }>();
  for (const o of objects) out.set(`${o.apiVersion}/${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind });
  return [...out.values()];
}

/** The inputs of a record besides the comparison itself. */
export interface RecordContext {
  app: string;
  revision: string;
  artifactKey: string;
  now: string;
  previous: StoredComparisonRecord | undefined;
  traceparent: string | undefined;
  detectedAt: string | undefined;
}

/** The record of a successful comparison (any ComparisonError cleared). */
export function comparedRecord(
  ctx: RecordContext,
  syncStatus: SyncStatus,
  resources: ResourceComparison[],
  driftSequence: number,
): StoredComparisonRecord {
  return {
    app: ctx.app,
    revision: ctx.revision,
    artifactKey: ctx.artifactKey,
    status: syncStatus,
    resources,
    comparedAt: ctx.now,
    conditions: withoutComparisonError(ctx.previous?.conditions ?? []),
    ...(ctx.traceparent === undefined ? {} : { traceparent: ctx.traceparent }),
    ...(ctx.detectedAt === undefined ? {} : { detectedAt: ctx.detectedAt }),
    driftSequence,
    statusesHash: statusesHash(syncStatus, resources),
  };
}

/**
 * The record of a failed comparison: status Unknown, the ComparisonError condition carrying
 * `<code>: <message>`, the resources of the last good comparison kept with status Unknown (no diffState).
 */
export function failedRecord(ctx: RecordContext, error: { code: string; message: string }, driftSequence: number): StoredComparisonRecord {
  const resources = (ctx.previous?.artifactKey === ctx.artifactKey ? ctx.previous.resources : []).map(
    ({ diffState: _d, ...r }): ResourceComparison => ({ ...r, status: SyncStatus.Unknown }),
  );
  return {
    app: ctx.app,
    revision: ctx.revision,
    artifactKey: ctx.artifactKey,
    status: SyncStatus.Unknown,
    resources,
    comparedAt: ctx.now,
    conditions: withComparisonError(ctx.previous?.conditions ?? [], `${error.code}: ${error.message}`, ctx.now),
    ...(ctx.traceparent === undefined ? {} : { traceparent: ctx.traceparent }),
    ...(ctx.detectedAt === undefined ? {} : { detectedAt: ctx.detectedAt }),
    driftSequence,
    statusesHash: statusesHash(SyncStatus.Unknown, resources),
  };
}
