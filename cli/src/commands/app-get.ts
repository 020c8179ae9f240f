import type { CommandSpec } from '../args.js';
import { appDetails } from '../app-view.js';
import { connect, emit, nameArg } from './shared.js';

/** `ferry app get <name>` — argocd's summary, conditions, last operation and resources. */
export const appGet: CommandSpec = {
  path: ['app', 'get'],
  args: ['name'],
  summary: 'Show an application: source, destination, sync and health status, resources, last operation',
  flags: {
    refresh: { type: 'boolean', description: 'ask for a refresh (re-read Git) before showing' },
    'hard-refresh': { type: 'boolean', description: 'ask for a hard refresh before showing' },
  },
  remote: true,
  output: true,
  async run(ctx, input) {
    const client = await connect(ctx, input);
    const refresh = input.values['hard-refresh'] ? 'hard' : input.values['refresh'] ? 'normal' : undefined;
    const app = await client.getApplication(nameArg(input), refresh);
    emit(ctx, input, app, () => appDetails(app));
    return 0;
  },
};
