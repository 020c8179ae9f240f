/** Helpers every remote command uses: connecting with the resolved login, printing a result. */
import type { ParsedCommand } from '../args.js';
import { OutputFormat } from '../args.js';
import { createClient, type FerryClient } from '../client.js';
import { resolveLogin } from '../config.js';
import type { CommandContext } from '../context.js';
import { serialize } from '../output.js';

/** A client for the resolved login. @throws CliError FERRY_ERR_CLI_NOT_LOGGED_IN */
export async function connect(ctx: CommandContext, input: ParsedCommand): Promise<FerryClient> {
  const login = await resolveLogin({ server: input.server, token: input.token }, ctx.env);
  return createClient({ server: login.server, token: login.token });
}

/** Prints `value` as JSON/YAML, or `text()` for the text format. */
export function emit(ctx: CommandContext, input: ParsedCommand, value: unknown, text: () => string): void {
  const out = input.output === OutputFormat.Text ? text() : serialize(input.output, value);
  if (out !== '') ctx.print(out);
}

/** The first positional (commands declare it required, so it is there). */
export function nameArg(input: ParsedCommand): string {
  return input.positionals[0] ?? '';
}
