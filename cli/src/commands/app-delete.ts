import type { CommandSpec } from '../args.js';
import type { DeleteOptions } from '../client.js';
import { UsageError } from '../errors.js';
import { connect, emit, nameArg } from './shared.js';

const POLICIES = ['foreground', 'background', 'orphan'] as const;

/**
 * `ferry app delete <name> [-y] [--cascade=false] [--propagation-policy foreground|background|orphan]`
 * — asks for confirmation on a terminal unless `-y`.
 */
export const appDelete: CommandSpec = {
  path: ['app', 'delete'],
  args: ['name'],
  summary: 'Delete an application and (unless --cascade=false) the resources it manages',
  help: [
    "As argocd app delete: by default the app's resources are deleted too (cascade, foreground);",
    '--cascade=false leaves them in the cluster (orphaned); resources annotated with the sync option',
    'Delete=false are always left.',
  ].join('\n'),
  flags: {
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
    cascade: { type: 'boolean', description: 'delete the resources too (default; --cascade=false orphans them)' },
    'propagation-policy': {
      type: 'string',
      value: '<policy>',
      description: 'how resources are deleted: foreground (default), background or orphan',
    },
  },
  remote: true,
  output: true,
  async run(ctx, input) {
    const name = nameArg(input);
    const policy = input.values['propagation-policy'];
    if (policy !== undefined && !POLICIES.includes(policy as (typeof POLICIES)[number])) {
      throw new UsageError(`--propagation-policy must be foreground, background or orphan, got '${String(policy)}'`, 'app delete');
    }
    const cascade = input.values['cascade'] !== false;
    if (!cascade && policy !== undefined && policy !== 'orphan') {
      throw new UsageError('--propagation-policy cannot be set with --cascade=false', 'app delete');
    }
    const options: DeleteOptions = {
      ...(cascade ? {} : { cascade: false }),
      ...(policy === undefined ? {} : { propagationPolicy: policy as (typeof POLICIES)[number] }),
    };
    const client = await connect(ctx, input);
    if (ctx.interactive && !input.values['yes']) {
      const what = cascade ? ' and the resources it manages' : ' (its resources stay in the cluster)';
      if (!(await ctx.confirm(`Are you sure you want to delete application '${name}'${what}? [y/n] `))) {
        ctx.stderr(`application '${name}' not deleted\n`);
        return 1;
      }
    }
    await client.deleteApplication(name, options);
    emit(ctx, input, { name, deleted: true, cascade }, () => `application '${name}' deleted`);
    return 0;
  },
};
