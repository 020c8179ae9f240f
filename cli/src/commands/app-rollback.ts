import { ErrorCode } from '@ferry/contracts';
import { parseSeconds, type CommandSpec } from '../args.js';
import { CliError, UsageError } from '../errors.js';
import { DEFAULT_SYNC_TIMEOUT_S, baselineOf, waitForOperation } from './app-sync.js';
import { connect, emit, nameArg } from './shared.js';

/**
 * `ferry app rollback <name> [historyId] [--prune] [--disable-auto-sync] [--dry-run] [--async] [--timeout <s>]`
 * — syncs the revision of a history entry (argocd app rollback), then waits like `app sync`.
 */
export const appRollback: CommandSpec = {
  path: ['app', 'rollback'],
  args: ['name', 'historyId?'],
  summary: 'Roll an application back to the revision of a history entry and wait for the result',
  help: [
    'Without a history id, rolls back to the entry before the newest (argocd app rollback does the same).',
    'Refused while automated sync is on (FERRY_ERR_API_ROLLBACK_AUTOSYNC), as Argo CD refuses it:',
    '--disable-auto-sync removes spec.syncPolicy.automated from the app first, in the same request.',
    'Waits for the rollback operation and prints its result, as ferry app sync does.',
  ].join('\n'),
  flags: {
    prune: { type: 'boolean', description: 'delete tracked resources that are not in that revision' },
    'disable-auto-sync': { type: 'boolean', description: 'turn automated sync off first (a rollback is refused while it is on)' },
    'dry-run': { type: 'boolean', description: 'report what would change; change nothing' },
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
    const timeoutS = parseSeconds(input.values['timeout'], 'timeout', DEFAULT_SYNC_TIMEOUT_S, 'app rollback');
    const idArg = input.positionals[1];
    if (idArg !== undefined && !/^\d+$/.test(idArg)) {
      throw new UsageError(`history id must be a non-negative integer (see ferry app history ${name}), got '${idArg}'`, 'app rollback');
    }
    const client = await connect(ctx, input);
    const current = await client.getApplication(name);
    let id = idArg === undefined ? undefined : Number(idArg);
    if (id === undefined) {
      const ids = (current.status?.history ?? []).map((h) => h.id).sort((a, b) => a - b);
      id = ids.at(-2);
      if (id === undefined) {
        throw new CliError(ErrorCode.ApiHistoryNotFound, `application '${name}' has no earlier history entry to roll back to`, {
          details: [`ferry app history ${name} lists the entries`],
        });
      }
    }
    const before = baselineOf(current);
    const requestedAt = Date.now();
    const result = await client.rollbackApplication(name, {
      id,
      prune: input.values['prune'] === true,
      ...(input.values['dry-run'] === true ? { dryRun: true } : {}),
      ...(input.values['disable-auto-sync'] === true ? { disableAutoSync: true } : {}),
    });
    if (input.values['async']) {
      emit(
        ctx,
        input,
        { name, requestId: result.requestId, id: result.id, revision: result.revision },
        () =>
          `rollback of application '${name}' to history ${result.id} (${result.revision.slice(0, 7)}) requested (request ${result.requestId})`,
      );
      return 0;
    }
    return waitForOperation(ctx, input, client, { name, requestId: result.requestId, what: 'rollback', before, requestedAt, timeoutS });
  },
};
