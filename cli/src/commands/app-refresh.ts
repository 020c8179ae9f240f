import type { CommandSpec } from '../args.js';
import { connect, emit, nameArg } from './shared.js';

/** `ferry app refresh <name>` — asks the poller to re-read Git now. */
export const appRefresh: CommandSpec = {
  path: ['app', 'refresh'],
  args: ['name'],
  summary: "Ask Ferry to re-read the application's Git source now",
  flags: {},
  remote: true,
  output: true,
  async run(ctx, input) {
    const client = await connect(ctx, input);
    const name = nameArg(input);
    const { requestId } = await client.refreshApplication(name);
    emit(ctx, input, { name, requestId }, () => `refresh requested for application '${name}' (request ${requestId})`);
    return 0;
  },
};
