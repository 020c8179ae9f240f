import type { CommandSpec } from '../args.js';
import { historyTable } from '../app-view.js';
import { connect, emit, nameArg } from './shared.js';

/** `ferry app history <name>` — ID DATE REVISION RESULT, oldest first (argocd's order). */
export const appHistory: CommandSpec = {
  path: ['app', 'history'],
  args: ['name'],
  summary: 'Show the deployment history of an application',
  flags: {},
  remote: true,
  output: true,
  async run(ctx, input) {
    const client = await connect(ctx, input);
    const items = await client.history(nameArg(input));
    emit(ctx, input, items, () => historyTable(items));
    return 0;
  },
};
