import {
  ConditionType,
  ErrorCode,
  isOperationCompleted,
  OperationPhase,
  type AppCondition,
  type HistoryEntry,
  type OperationState,
} from '@ferry/contracts';
import { syncOptionProblems } from '@ferry/contracts';
import { parseSeconds, type CommandSpec, type ParsedCommand } from '../args.js';
import { appSummary, operationSummary, resultsTable } from '../app-view.js';
import type { AppResource, FerryClient, SyncResource } from '../client.js';
import { sleep, type CommandContext } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { keyValues, formatTime } from '../output.js';
import { connect, emit, nameArg } from './shared.js';

export const DEFAULT_SYNC_TIMEOUT_S = 300;

/** The operation a sync request produced, once it is visible: the live operationState or, if a later one replaced it, its history entry. */
type Outcome = { kind: 'operation'; op: OperationState } | { kind: 'history'; entry: HistoryEntry };

/**
 * Finds the operation triggered by our request: a manual operation that was not the current one
 * before the request (another syncId), or a manual history entry newer than the newest before it.
 */
export function findOutcome(app: AppResource, before: { syncId: string | undefined; maxHistoryId: number }): Outcome | undefined {
  const op = app.status?.operationState;
  if (op && op.syncId !== before.syncId && op.trigger === 'manual') return { kind: 'operation', op };
  const entry = (app.status?.history ?? [])
    .filter((h) => h.id > before.maxHistoryId && h.initiatedBy?.automated !== true)
    .sort((a, b) => a.id - b.id)[0];
  return entry ? { kind: 'history', entry } : undefined;
}

/** Error conditions that appeared after the request: the refresh it caused failed, so no operation will start. */
export function newErrorConditions(app: AppResource, since: number): AppCondition[] {
  return (app.status?.conditions ?? []).filter(
    (c) =>
      (c.type === ConditionType.ComparisonError || c.type === ConditionType.InvalidSpecError) && Date.parse(c.lastTransitionTime) >= since,
  );
}

function completed(outcome: Outcome | undefined): boolean {
  if (!outcome) return false;
  return outcome.kind === 'history' || isOperationCompleted(outcome.op.phase);
}

/** What was current before a request: the operation it must not be mistaken for, the newest history id. */
export interface OperationBaseline {
  syncId: string | undefined;
  maxHistoryId: number;
}

export function baselineOf(app: AppResource): OperationBaseline {
  return {
    syncId: app.status?.operationState?.syncId,
    maxHistoryId: Math.max(-1, ...(app.status?.history ?? []).map((h) => h.id)),
  };
}

/**
 * Polls the app until the operation `requestId` started completes, prints it (app summary,
 * Operation block, results) and returns 0 when it Succeeded. @throws CliError FERRY_ERR_CLI_SYNC_FAILED
 * (it ended Failed/Error, or the refresh it caused failed first), FERRY_ERR_CLI_TIMEOUT.
 */
export async function waitForOperation(
  ctx: CommandContext,
  input: ParsedCommand,
  client: FerryClient,
  request: { name: string; requestId: string; what: string; before: OperationBaseline; requestedAt: number; timeoutS: number },
): Promise<number> {
  const { name, requestId, what, before, requestedAt, timeoutS } = request;
  const deadline = timeoutS === 0 ? Infinity : Date.now() + timeoutS * 1000;
  let app: AppResource | undefined;
  let outcome: Outcome | undefined;
  for (;;) {
    app = await client.getApplication(name);
    outcome = findOutcome(app, before);
    if (completed(outcome) || Date.now() >= deadline) break;
    const blocking = outcome ? [] : newErrorConditions(app, requestedAt);
    if (blocking.length > 0) {
      const shown = app;
      emit(ctx, input, shown, () => appSummary(shown));
      throw new CliError(
        ErrorCode.CliSyncFailed,
        `${what} of '${name}' (request ${requestId}) could not start: the source or comparison failed`,
        {
          details: [
            ...blocking.map((c) => `${c.type}: ${c.message}`),
            `fix the source and try again; ferry app get ${name} shows the state`,
          ],
        },
      );
    }
    await sleep(Math.min(ctx.pollIntervalMs, Math.max(0, deadline - Date.now())));
  }
  const final = app;
  if (!outcome || !completed(outcome)) {
    emit(ctx, input, final, () => appSummary(final));
    const state = outcome
      ? `the operation is still ${outcome.kind === 'operation' ? outcome.op.phase : 'running'}`
      : 'no operation has started for it yet';
    const conditions = (final.status?.conditions ?? []).map((c) => `${c.type}: ${c.message}`);
    throw new CliError(ErrorCode.CliTimeout, `${what} of '${name}' (request ${requestId}) did not finish within ${timeoutS}s: ${state}`, {
      details: [...conditions, `it may still complete: ferry app get ${name}`],
    });
  }
  const done = outcome;
  const phase = done.kind === 'operation' ? done.op.phase : done.entry.phase;
  const message = done.kind === 'operation' ? done.op.message : '';
  emit(ctx, input, final, () => {
    if (done.kind === 'operation') {
      return [appSummary(final), operationSummary(done.op), resultsTable(done.op.syncResult?.resources ?? [])].join('\n\n');
    }
    const h = done.entry;
    const block = keyValues([
      ['Operation', 'Sync'],
      ['Sync Revision', h.revision],
      ['Phase', h.phase],
      ['Start', formatTime(h.deployStartedAt)],
      ['Finished', formatTime(h.deployedAt)],
      ['History ID', String(h.id)],
    ]);
    return [appSummary(final), block, resultsTable(h.resources)].join('\n\n');
  });
  if (phase === OperationPhase.Succeeded) return 0;
  throw new CliError(ErrorCode.CliSyncFailed, `${what} of '${name}' ended ${phase}${message ? `: ${message}` : ''}`);
}

/**
 * Parses argocd's `--resource` forms: `GROUP:KIND:NAME` or `GROUP:KIND:NAMESPACE/NAME` (GROUP empty for
 * the core group: `:Service:web`). @throws UsageError
 */
export function parseResourceFlag(value: string, command: string): SyncResource {
  const fields = value.split(':');
  const [group, kind, rest] = fields;
  if (fields.length !== 3 || kind === undefined || kind === '' || rest === undefined || rest === '') {
    throw new UsageError(
      `--resource '${value}' must be GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME (GROUP empty for core: :Service:web)`,
      command,
    );
  }
  const slash = rest.indexOf('/');
  const namespace = slash < 0 ? undefined : rest.slice(0, slash);
  const name = slash < 0 ? rest : rest.slice(slash + 1);
  if (name === '' || name.includes('/') || namespace === '') {
    throw new UsageError(`--resource '${value}' must be GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME`, command);
  }
  if ([group, kind, namespace, name].some((v) => v?.includes('*'))) {
    throw new UsageError(`--resource '${value}': wildcards are not supported; name each resource`, command);
  }
  return { group: group ?? '', kind, ...(namespace === undefined ? {} : { namespace }), name };
}

/** `--sync-option Key=value` values, checked against the supported options. @throws UsageError naming each bad one */
export function parseSyncOptionFlags(values: readonly string[], command: string): string[] {
  const options = values.map((v) => v.trim()).filter((v) => v !== '');
  const problems = syncOptionProblems(options, '--sync-option');
  if (problems.length > 0) {
    throw new UsageError(
      problems.map((p) => `--sync-option ${options[Number(/\[(\d+)\]/.exec(p.path)?.[1] ?? 0)] ?? ''}: ${p.message}`).join('; '),
      command,
    );
  }
  return options;
}

const listOf = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/**
 * `ferry app sync <name> [--revision R] [--prune] [--dry-run] [--resource G:K:[NS/]N]… [--sync-option K=v]…
 * [--async] [--timeout <s>]` — asks for a sync (the applier resolves the revision afresh) and,
 * unless --async, waits for that operation to finish.
 */
export const appSync: CommandSpec = {
  path: ['app', 'sync'],
  args: ['name'],
  summary: 'Sync an application (its target revision, resolved afresh, or --revision) and wait for the result',
  help: [
    'Waits for the operation this request started (a manual operation that was not the current one',
    'before the request) and prints its result; exits 1 when it ends Failed or Error, or on timeout.',
    '',
    'Examples:',
    '  ferry app sync web --revision v1.2.0 --prune',
    '  ferry app sync web --dry-run',
    '  ferry app sync web --resource apps:Deployment:web --resource :Service:default/web',
    '  ferry app sync web --sync-option PruneLast=true --sync-option CreateNamespace=true',
  ].join('\n'),
  flags: {
    revision: { type: 'string', value: '<revision>', description: 'sync this branch, tag or commit SHA instead of the target revision' },
    prune: { type: 'boolean', description: 'delete tracked resources that are no longer in Git' },
    'dry-run': { type: 'boolean', description: 'report what would change; change nothing' },
    resource: {
      type: 'string',
      multiple: true,
      value: '<GROUP:KIND:[NAMESPACE/]NAME>',
      description: 'sync only this resource (GROUP empty for the core group: :Service:web)',
    },
    'sync-option': { type: 'string', multiple: true, value: '<Key=value>', description: 'a sync option for this operation (docs/sync.md)' },
    async: { type: 'boolean', description: 'do not wait for the operation; print the request id' },
    timeout: {
      type: 'string',
      value: '<seconds>',
      description: `give up waiting after this long (default ${DEFAULT_SYNC_TIMEOUT_S}; 0 = no limit)`,
    },
  },
  remote: true,
  output: true,
  async run(ctx, input) {
    const name = nameArg(input);
    const timeoutS = parseSeconds(input.values['timeout'], 'timeout', DEFAULT_SYNC_TIMEOUT_S, 'app sync');
    const revisionFlag = input.values['revision'];
    const revision = typeof revisionFlag === 'string' ? revisionFlag.trim() : undefined;
    if (revision === '') throw new UsageError('--revision must not be empty', 'app sync');
    const resources = listOf(input.values['resource']).map((r) => parseResourceFlag(r, 'app sync'));
    const syncOptions = parseSyncOptionFlags(listOf(input.values['sync-option']), 'app sync');
    const client = await connect(ctx, input);
    const current = await client.getApplication(name);
    const before = baselineOf(current);
    const requestedAt = Date.now();
    const { requestId } = await client.syncApplication(name, {
      prune: input.values['prune'] === true,
      ...(revision === undefined ? {} : { revision }),
      ...(input.values['dry-run'] === true ? { dryRun: true } : {}),
      resources,
      syncOptions,
    });
    if (input.values['async']) {
      emit(ctx, input, { name, requestId }, () => `sync requested for application '${name}' (request ${requestId})`);
      return 0;
    }
    return waitForOperation(ctx, input, client, { name, requestId, what: 'sync', before, requestedAt, timeoutS });
  },
};
