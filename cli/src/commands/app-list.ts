import type { CommandSpec } from '../args.js';
import { LIST_HEADERS, listRow } from '../app-view.js';
import { table } from '../output.js';
import { connect, emit } from './shared.js';

/** `ferry app list [--project <p>]` — argocd's columns; `-o json` prints the array of applications. */
export const appList: CommandSpec = {
  path: ['app', 'list'],
  args: [],
  summary: 'List applications',
  flags: { project: { type: 'string', short: 'p', value: '<project>', description: 'only apps of this project' } },
  remote: true,
  output: true,
  async run(ctx, input) {
    const client = await connect(ctx, input);
    const project = input.values['project'];
    const apps = (await client.listApplications(typeof project === 'string' ? project : undefined)).sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
    emit(ctx, input, apps, () => table(LIST_HEADERS, apps.map(listRow)));
    return 0;
  },
};
