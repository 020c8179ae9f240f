import { ErrorCode, HealthStatus, SyncStatus } from '@ferry/contracts';
import { parseSeconds, type CommandSpec } from '../args.js';
import { appDetails } from '../app-view.js';
import type { AppResource } from '../client.js';
import { sleep } from '../context.js';
import { CliError } from '../errors.js';
import { connect, emit, nameArg } from './shared.js';

export const DEFAULT_WAIT_TIMEOUT_S = 300;

/** What `app wait` waits for; both when neither flag is given (as argocd does). */
export interface WaitGoal {
  sync: boolean;
  health: boolean;
}

export function reached(app: AppResource, goal: WaitGoal): boolean {
  return (
    (!goal.sync || app.status?.sync.status === SyncStatus.Synced) && (!goal.health || app.status?.health.status === HealthStatus.Healthy)
  );
}

/** `ferry app wait <name> [--sync] [--health] [--timeout <s>]` — polls until Synced and/or Healthy. */
export const appWait: CommandSpec = {
  path: ['app', 'wait'],
  args: ['name'],
  summary: 'Wait until an application is Synced and/or Healthy',
  help: `With neither --sync nor --health, waits for both. Exits 1 with FERRY_ERR_CLI_TIMEOUT when the\ntimeout passes first (default ${DEFAULT_WAIT_TIMEOUT_S}s; argocd's default is no limit, which is --timeout 0).`,
  flags: {
    sync: { type: 'boolean', description: 'wait for sync status Synced' },
    health: { type: 'boolean', description: 'wait for health status Healthy' },
    timeout: {
      type: 'string',
      value: '<seconds>',
      description: `give up after this long (default ${DEFAULT_WAIT_TIMEOUT_S}; 0 = no limit)`,
    },
  },
  remote: true,
  output: true,
  async run(ctx, input) {
    const name = nameArg(input);
    const timeoutS = parseSeconds(input.values['timeout'], 'timeout', DEFAULT_WAIT_TIMEOUT_S, 'app wait');
    const explicit = input.values['sync'] === true || input.values['health'] === true;
    const goal: WaitGoal = explicit
      ? { sync: input.values['sync'] === true, health: input.values['health'] === true }
      : { sync: true, health: true };
    const client = await connect(ctx, input);
    const deadline = timeoutS === 0 ? Infinity : Date.now() + timeoutS * 1000;
    for (;;) {
      const app = await client.getApplication(name);
      if (reached(app, goal)) {
        emit(ctx, input, app, () => appDetails(app));
        return 0;
      }
      if (Date.now() >= deadline) {
        const wanted = [goal.sync ? 'Synced' : '', goal.health ? 'Healthy' : ''].filter(Boolean).join(' and ');
        throw new CliError(
          ErrorCode.CliTimeout,
          `application '${name}' was not ${wanted} within ${timeoutS}s (sync: ${app.status?.sync.status ?? 'Unknown'}, health: ${app.status?.health.status ?? 'Unknown'})`,
          { details: (app.status?.conditions ?? []).map((c) => `${c.type}: ${c.message}`) },
        );
      }
      await sleep(Math.min(ctx.pollIntervalMs, Math.max(0, deadline - Date.now())));
    }
  },
};
