/** How an application is shown in text: list rows, the `app get` summary, operation and resource tables. */
import type { AppCondition, HistoryEntry, OperationState, ResourceResult } from '@ferry/contracts';
import type { AppResource } from './client.js';
import { NONE, durationBetween, formatTime, keyValues, shortRevision, table } from './output.js';

export const LIST_HEADERS = [
  'NAME',
  'CLUSTER',
  'NAMESPACE',
  'PROJECT',
  'STATUS',
  'HEALTH',
  'SYNCPOLICY',
  'CONDITIONS',
  'REPO',
  'PATH',
  'TARGET',
] as const;

/** `Manual`, `Auto` or `Auto-Prune` (argocd's SYNCPOLICY column). */
export function syncPolicyOf(app: AppResource): string {
  const automated = app.spec.syncPolicy?.automated;
  if (!automated) return 'Manual';
  return automated.prune ? 'Auto-Prune' : 'Auto';
}

/** `SyncError,ComparisonError(2)` or `<none>` (argocd's CONDITIONS column). */
export function conditionsSummary(conditions: readonly AppCondition[] | undefined): string {
  if (!conditions || conditions.length === 0) return NONE;
  const counts = new Map<string, number>();
  for (const c of conditions) counts.set(c.type, (counts.get(c.type) ?? 0) + 1);
  return [...counts].map(([type, n]) => (n > 1 ? `${type}(${n})` : type)).join(',');
}

export function clusterOf(app: AppResource): string {
  return app.spec.destination.server ?? app.spec.destination.name ?? '';
}

export function targetOf(app: AppResource): string {
  return app.spec.source.targetRevision || 'HEAD';
}

export function listRow(app: AppResource): string[] {
  return [
    app.metadata.name,
    clusterOf(app),
    app.spec.destination.namespace ?? '',
    app.spec.project ?? 'default',
    app.status?.sync.status ?? 'Unknown',
    app.status?.health.status ?? 'Unknown',
    syncPolicyOf(app),
    conditionsSummary(app.status?.conditions),
    app.spec.source.repoURL,
    app.spec.source.path ?? '',
    targetOf(app),
  ];
}

/** `Synced to main (1a2b3c4)` / `OutOfSync from main (1a2b3c4)` / `Unknown`. */
export function syncStatusLine(app: AppResource): string {
  const status = app.status?.sync.status ?? 'Unknown';
  const revision = app.status?.sync.revision;
  if (!revision) return status;
  return `${status} ${status === 'Synced' ? 'to' : 'from'} ${targetOf(app)} (${shortRevision(revision)})`;
}

/** The header block of `app get` (Name … Health Status). */
export function appSummary(app: AppResource): string {
  const health = app.status?.health;
  const automated = app.spec.syncPolicy?.automated;
  const policy = automated
    ? ['Automated', automated.prune ? 'Prune' : '', automated.selfHeal ? 'SelfHeal' : '', automated.allowEmpty ? 'AllowEmpty' : '']
        .filter(Boolean)
        .join(' ')
    : NONE;
  return keyValues([
    ['Name', app.metadata.name],
    ['Project', app.spec.project ?? 'default'],
    ['Server', clusterOf(app)],
    ['Namespace', app.spec.destination.namespace ?? ''],
    ['Repo', app.spec.source.repoURL],
    ['Target', targetOf(app)],
    ['Path', app.spec.source.path ?? ''],
    ...(app.status?.sourceType ? [['Source Type', app.status.sourceType] as const] : []),
    ['Sync Policy', policy],
    ...((app.spec.syncPolicy?.syncOptions ?? []).length
      ? [['Sync Options', (app.spec.syncPolicy?.syncOptions ?? []).join(',')] as const]
      : []),
    ['Sync Status', syncStatusLine(app)],
    ['Health Status', `${health?.status ?? 'Unknown'}${health?.message ? ` (${health.message})` : ''}`],
    ['Conditions', conditionsSummary(app.status?.conditions)],
    ...(app.status?.reconciledAt ? [['Reconciled At', formatTime(app.status.reconciledAt)] as const] : []),
  ]);
}

/** The last (or a given) operation, argocd's `Operation:` block. */
export function operationSummary(op: OperationState): string {
  const by = op.operation.initiatedBy;
  return keyValues([
    ['Operation', 'Sync'],
    ['Sync Revision', op.syncResult?.revision ?? op.operation.sync.revision],
    ['Phase', op.phase],
    ['Start', formatTime(op.startedAt)],
    ['Finished', formatTime(op.finishedAt)],
    ['Duration', durationBetween(op.startedAt, op.finishedAt)],
    ['Message', op.message],
    ['Initiated By', by.automated ? 'automated sync policy' : (by.username ?? '')],
    ['Prune', op.operation.sync.prune ? 'true' : 'false'],
  ]);
}

export function conditionsTable(conditions: readonly AppCondition[]): string {
  return table(
    ['CONDITION', 'MESSAGE', 'LAST TRANSITION'],
    conditions.map((c) => [c.type, oneLine(c.message), formatTime(c.lastTransitionTime)]),
  );
}

/** `app get`'s resources: comparison joined with health, message from health or the last sync's result. */
export function resourcesTable(app: AppResource): string {
  const results = app.status?.operationState?.syncResult?.resources ?? [];
  const rows = (app.status?.resources ?? []).map((r) => {
    const result = results.find((x) => x.group === r.group && x.kind === r.kind && x.namespace === r.namespace && x.name === r.name);
    const message = r.health?.message ?? result?.message ?? '';
    return [
      r.group,
      r.kind,
      r.namespace,
      r.name,
      r.requiresPruning ? `${r.status} (requires pruning)` : r.status,
      r.health?.status ?? '',
      oneLine(message),
    ];
  });
  return table(['GROUP', 'KIND', 'NAMESPACE', 'NAME', 'STATUS', 'HEALTH', 'MESSAGE'], rows);
}

/** A sync's per-resource results (`app sync`). */
export function resultsTable(results: readonly ResourceResult[]): string {
  return table(
    ['GROUP', 'KIND', 'NAMESPACE', 'NAME', 'STATUS', 'MESSAGE'],
    results.map((r) => [r.group, r.kind, r.namespace, r.name, r.status, oneLine(r.message)]),
  );
}

/** The full `app get` view. */
export function appDetails(app: AppResource): string {
  const parts = [appSummary(app)];
  const conditions = app.status?.conditions ?? [];
  if (conditions.length) parts.push(conditionsTable(conditions));
  if (app.status?.operationState) parts.push(operationSummary(app.status.operationState));
  parts.push(resourcesTable(app));
  return parts.join('\n\n');
}

export function historyTable(entries: readonly HistoryEntry[]): string {
  return table(
    ['ID', 'DATE', 'REVISION', 'RESULT'],
    [...entries]
      .sort((a, b) => a.id - b.id)
      .map((h) => [
        String(h.id),
        formatTime(h.deployedAt || h.deployStartedAt),
        `${h.source?.targetRevision || 'HEAD'} (${shortRevision(h.revision)})`,
        h.phase,
      ]),
  );
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
