import { readFileSync } from 'node:fs';
import type { CommandSpec } from '../args.js';
import { createClient } from '../client.js';
import { resolveLogin } from '../config.js';
import { CliError } from '../errors.js';
import { ErrorCode } from '@ferry/contracts';
import { emit } from './shared.js';

/** The CLI's version (cli/package.json). */
export function clientVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** `ferry version [--client]` — the CLI's version and, when a login resolves, the server's. */
export const version: CommandSpec = {
  path: ['version'],
  args: [],
  summary: "Print the CLI's version and the server's (when logged in)",
  flags: { client: { type: 'boolean', description: "only the CLI's version; do not contact the server" } },
  remote: true,
  output: true,
  async run(ctx, input) {
    const client = clientVersion();
    if (input.values['client']) {
      emit(ctx, input, { client }, () => `ferry: ${client}`);
      return 0;
    }
    let login;
    try {
      login = await resolveLogin({ server: input.server, token: input.token }, ctx.env);
    } catch (error) {
      if (!(error instanceof CliError) || error.code !== ErrorCode.CliNotLoggedIn) throw error;
      emit(ctx, input, { client }, () => `ferry: ${client}\nserver: (not logged in)`);
      return 0;
    }
    const { version: server } = await createClient({ server: login.server, token: login.token }).version();
    emit(ctx, input, { client, server, url: login.server }, () => `ferry: ${client}\nserver: ${server} (${login.server})`);
    return 0;
  },
};
