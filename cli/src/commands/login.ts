import type { CommandSpec } from '../args.js';
import { createClient } from '../client.js';
import { normalizeServer, writeLoginFile } from '../config.js';
import { UsageError } from '../errors.js';
import { emit } from './shared.js';

/**
 * `ferry login [server] --server <url> --token <t>` — checks the token against the api
 * (GET /api/v1/applications) and writes the login file (mode 0600), as `argocd login` does.
 * Server and token come from the flags (or positional server), else FERRY_SERVER / FERRY_TOKEN;
 * never from the file being replaced.
 */
export const login: CommandSpec = {
  path: ['login'],
  args: ['server?'],
  summary: 'Check a server URL and token and save them in the login file',
  help: 'The file is $XDG_CONFIG_HOME/ferry/config.json (default ~/.config/ferry/config.json), mode 0600.\nThe token may also come from FERRY_TOKEN; it is never printed.',
  flags: {},
  remote: true,
  output: true,
  async run(ctx, input) {
    const rawServer = input.server ?? input.positionals[0] ?? ctx.env['FERRY_SERVER'];
    const token = input.token ?? ctx.env['FERRY_TOKEN'];
    if (!rawServer) throw new UsageError('login needs a server: --server <url> (or FERRY_SERVER)', 'login');
    if (!token) throw new UsageError('login needs a token: --token <token> (or FERRY_TOKEN)', 'login');
    const server = normalizeServer(rawServer, input.server ? '--server' : input.positionals[0] ? 'the argument' : 'FERRY_SERVER');
    await createClient({ server, token }).listApplications();
    const path = await writeLoginFile(ctx.env, { server, token });
    emit(ctx, input, { server, loginFile: path }, () => `logged in to ${server}; login saved in ${path}`);
    return 0;
  },
};
