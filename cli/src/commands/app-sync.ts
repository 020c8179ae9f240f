import {
  ConditionType,
  ErrorCode,
  isOperationCompleted,
  OperationPhase,
  type AppCondition,
  type HistoryEntry,
  type OperationState,
} from '@ferry/contracts';
import { parseSeconds, type CommandSpec } from '../args.js';
import { appSummary, operationSummary, resultsTable } from '../app-view.js';
import type { AppResource } from '../client.js';
import { sleep } from '../context.js';
import { CliError } from '../errors.js';
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

/**
 * `ferry app sync <name> [--prune] [--async] [--timeout <s>]` — asks for a sync (the applier
 * resolves the target revision afresh) and, unless --async, waits for that operation to finish.
 */
export const appSync: CommandSpec = {
  path: ['app', 'sync'],
  args: ['name'],
  summary: 'Sync an application to its target revision (resolved afresh) and wait for the result',
  help: [
    'Waits for the operation this request started (a manual operation that was not the current one',
    'before the request) and prints its result; exits 1 when it ends Failed or Error, or on timeout.',
  ].join('\n'),
  flags: {
    prune: { type: 'boolean', description: 'delete tracked resources that are no longer in Git' },
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
    const client = await connect(ctx, input);
    const current = await client.getApplication(name);
    const before = {
      syncId: current.status?.operationState?.syncId,
      maxHistoryId: Math.max(-1, ...(current.status?.history ?? []).map((h) => h.id)),
    };
    const requestedAt = Date.now();
    const { requestId } = await client.syncApplication(name, { prune: input.values['prune'] === true });
    if (input.values['async']) {
      emit(ctx, input, { name, requestId }, () => `sync requested for application '${name}' (request ${requestId})`);
      return 0;
    }
    const deadline = timeoutS === 0 ? Infinity : Date.now() + timeoutS * 1000;
    let app = current;
    let outcome: Outcome | undefined;
    for (;;) {
      app = await client.getApplication(name);
      outcome = findOutcome(app, before);
      if (completed(outcome) || Date.now() >= deadline) break;
      const blocking = outcome ? [] : newErrorConditions(app, requestedAt);
      if (blocking.length > 0) {
        emit(ctx, input, app, () => appSummary(app));
        throw new CliError(
          ErrorCode.CliSyncFailed,
          `sync of '${name}' (request ${requestId}) could not start: the source or comparison failed`,
          {
            details: [
              ...blocking.map((c) => `${c.type}: ${c.message}`),
              `fix the source and sync again; ferry app get ${name} shows the state`,
            ],
          },
        );
      }
      await sleep(Math.min(ctx.pollIntervalMs, Math.max(0, deadline - Date.now())));
    }
    if (!outcome || !completed(outcome)) {
      emit(ctx, input, app, () => appSummary(app));
      const state = outcome
        ? `the operation is still ${outcome.kind === 'operation' ? outcome.op.phase : 'running'}`
        : 'no operation has started for it yet';
      const conditions = (app.status?.conditions ?? []).map((c) => `${c.type}: ${c.message}`);
      throw new CliError(ErrorCode.CliTimeout, `sync of '${name}' (request ${requestId}) did not finish within ${timeoutS}s: ${state}`, {
        details: [...conditions, `it may still complete: ferry app get ${name}`],
      });
    }
    const phase = outcome.kind === 'operation' ? outcome.op.phase : outcome.entry.phase;
    const message = outcome.kind === 'operation' ? outcome.op.message : '';
    emit(ctx, input, app, () => {
      if (outcome.kind === 'operation') {
        return [appSummary(app), operationSummary(outcome.op), resultsTable(outcome.op.syncResult?.resources ?? [])].join('\n\n');
      }
      const h = outcome.entry;
      const block = keyValues([
        ['Operation', 'Sync'],
        ['Sync Revision', h.revision],
        ['Phase', h.phase],
        ['Start', formatTime(h.deployStartedAt)],
        ['Finished', formatTime(h.deployedAt)],
        ['History ID', String(h.id)],
      ]);
      return [appSummary(app), block, resultsTable(h.resources)].join('\n\n');
    });
    if (phase === OperationPhase.Succeeded) return 0;
    throw new CliError(ErrorCode.CliSyncFailed, `sync of '${name}' ended ${phase}${message ? `: ${message}` : ''}`);
  },
};
