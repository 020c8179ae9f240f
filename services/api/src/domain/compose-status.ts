/**
 * Composes Argo CD's `Application.status` from the four status records, each written by one service
 * (poller: source, differ: comparison, applier: operation, health: health). Pure: records in, status out.
 */
import { ConditionType, HealthStatus, SyncStatus } from '@ferry/contracts';
import type {
  AppCondition,
  Application,
  ApplicationStatus,
  ComparisonStatusRecord,
  HealthStatusRecord,
  OperationStatusRecord,
  ResourceHealth,
  SourceStatusRecord,
} from '@ferry/contracts';

/** What is known about one app: its spec and whichever status records exist (absent before the writer's first run). */
export interface StatusRecords {
  source?: SourceStatusRecord | undefined;
  comparison?: ComparisonStatusRecord | undefined;
  operation?: OperationStatusRecord | undefined;
  health?: HealthStatusRecord | undefined;
}

/** The message of `status.health` before the health service assessed the app for the first time. */
export const HEALTH_NOT_ASSESSED = 'health not assessed yet';

/**
 * Argo CD's status shape, composed:
 * - `sync` from the comparison record (`Unknown` without one). While the source record carries an
 *   error (the revision did not resolve or render), `sync.status` is `Unknown`, as Argo CD reports a
 *   failed manifest generation; the previous comparison's resources are kept.
 * - `health` from the health record (`Unknown` with {@link HEALTH_NOT_ASSESSED} before the first one).
 * - `resources`: the comparison's resources, each joined with its health by group/kind/namespace/name.
 * - `history`, `operationState` from the operation record; `conditions` = source + comparison +
 *   operation conditions (duplicates of type and message dropped), plus a ComparisonError while the
 *   revision a sync request named (`sync --revision`, a rollback) failed to resolve or render
 *   (`source.requested.error`; gone at the next poll of the target); `reconciledAt` = the latest time of
 *   any record; `sourceType` from the source record.
 */
export function composeStatus(app: Application, records: StatusRecords): ApplicationStatus {
  const { source, comparison, operation, health } = records;
  const sourceFailed = source?.error !== undefined;

  const sync: ApplicationStatus['sync'] = { status: comparison?.status ?? SyncStatus.Unknown };
  const revision = sourceFailed ? (source?.error?.revision ?? comparison?.revision) : comparison?.revision;
  if (sourceFailed) sync.status = SyncStatus.Unknown;
  if (revision !== undefined) sync.revision = revision;
  if (comparison !== undefined || sourceFailed) {
    sync.comparedTo = { source: app.spec.source, destination: app.spec.destination };
  }

  const healthPart: ApplicationStatus['health'] =
    health === undefined
      ? { status: HealthStatus.Unknown, message: HEALTH_NOT_ASSESSED }
      : { status: health.status, ...(health.message ? { message: health.message } : {}) };

  const healthByResource = new Map<string, ResourceHealth>();
  for (const r of health?.resources ?? []) healthByResource.set(resourceKey(r), r);
  const resources: ApplicationStatus['resources'] = (comparison?.resources ?? []).map((r) => {
    const h = healthByResource.get(resourceKey(r));
    if (h === undefined) return { ...r };
    return { ...r, health: { status: h.status, ...(h.message ? { message: h.message } : {}) } };
  });

  const status: ApplicationStatus = {
    sync,
    health: healthPart,
    resources,
    history: [...(operation?.history ?? [])],
    conditions: mergeConditions(source?.conditions, requestedConditions(source), comparison?.conditions, operation?.conditions),
    summary: {},
  };
  if (operation?.operationState !== undefined) status.operationState = operation.operationState;
  const reconciledAt = latest([
    source?.resolvedAt,
    comparison?.comparedAt,
    health?.assessedAt,
    operation?.operationState?.finishedAt ?? operation?.operationState?.startedAt,
  ]);
  if (reconciledAt !== undefined) status.reconciledAt = reconciledAt;
  if (source?.sourceType !== undefined) status.sourceType = source.sourceType;
  return status;
}

/** A ComparisonError for a requested revision that failed (the target's own status is not degraded by it). */
function requestedConditions(source: SourceStatusRecord | undefined): AppCondition[] {
  const requested = source?.requested;
  if (requested?.error === undefined) return [];
  return [
    {
      type: ConditionType.ComparisonError,
      message: `requested revision ${requested.revision} (request ${requested.requestId}): ${requested.error.code}: ${requested.error.message}`,
      lastTransitionTime: requested.resolvedAt,
    },
  ];
}

/** Identity of a resource for joining comparison and health: group/kind/namespace/name (the version may differ). */
export function resourceKey(r: { group: string; kind: string; namespace: string; name: string }): string {
  return `${r.group}/${r.kind}/${r.namespace}/${r.name}`;
}

function mergeConditions(...lists: Array<readonly AppCondition[] | undefined>): AppCondition[] {
  const seen = new Set<string>();
  const out: AppCondition[] = [];
  for (const list of lists) {
    for (const c of list ?? []) {
      const key = `${c.type}\u0000${c.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(c);
    }
  }
  return out;
}

function latest(times: Array<string | undefined>): string | undefined {
  let best: string | undefined;
  let bestMs = -Infinity;
  for (const t of times) {
    if (t === undefined) continue;
    const ms = Date.parse(t);
    if (Number.isNaN(ms)) continue;
    if (ms > bestMs) {
      bestMs = ms;
      best = t;
    }
  }
  return best;
}

/**
 * The status of an app whose stored manifest no longer validates (written to KV by something other
 * than the api, or by an older Ferry): nothing can be compared, and an `InvalidSpecError` condition says why.
 */
export function invalidSpecStatus(message: string, records: StatusRecords, now: Date): ApplicationStatus {
  const status: ApplicationStatus = {
    sync: { status: SyncStatus.Unknown },
    health:
      records.health === undefined ? { status: HealthStatus.Unknown, message: HEALTH_NOT_ASSESSED } : { status: records.health.status },
    resources: [],
    history: [...(records.operation?.history ?? [])],
    conditions: [{ type: ConditionType.InvalidSpecError, message, lastTransitionTime: now.toISOString() }],
    summary: {},
  };
  if (records.operation?.operationState !== undefined) status.operationState = records.operation.operationState;
  return status;
}
