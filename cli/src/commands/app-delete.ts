import type { CommandSpec } from '../args.js';
import { connect, emit, nameArg } from './shared.js';

/** `ferry app delete <name> [-y]` — asks for confirmation on a terminal unless `-y`. */
export const appDelete: CommandSpec = {
  path: ['app', 'delete'],
  args: ['name'],
  summary: 'Delete an application (its spec; status records are left to their writers)',
  flags: { yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' } },
  remote: true,
  output: true,
  async run(ctx, input) {
    const name = nameArg(input);
    const client = await connect(ctx, input);
    if (ctx.interactive && !input.values['yes']) {
      if (!(await ctx.confirm(`Are you sure you want to delete application '${name}'? [y/n] `))) {
        ctx.stderr(`application '${name}' not deleted\n`);
        return 1;
      }
    }
    await client.deleteApplication(name);
    emit(ctx, input, { name, deleted: true }, () => `application '${name}' deleted`);
    return 0;
  },
};
