/**
 * Command definitions and argument parsing (node:util parseArgs only). Each command declares its
 * flags and positionals; the global flags (`--server`, `--token`, `-o`, `-h`) are added by
 * {@link parseCommandLine} where the command uses them.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { CommandContext } from './context.js';

/** Output formats of `-o`. `text` (tables, the default) is for people; `json`/`yaml` for machines. */
export const OutputFormat = {
  Text: 'text',
  Json: 'json',
  Yaml: 'yaml',
} as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Name of the value in help (`<file>`). */
  value?: string;
  description: string;
}

export interface CommandSpec {
  /** Words after `ferry`: `['app', 'sync']`. */
  readonly path: readonly string[];
  /** Positional arguments, in order; `?` suffix = optional (`server?`). */
  readonly args: readonly string[];
  readonly summary: string;
  /** Extra help text (examples, notes). */
  readonly help?: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /** Adds `--server`/`--token`: the command talks to the api. */
  readonly remote: boolean;
  /** Adds `-o`. */
  readonly output: boolean;
  run(ctx: CommandContext, input: ParsedCommand): Promise<number>;
}

/** A parsed command line. */
export interface ParsedCommand {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly output: OutputFormat;
  readonly server: string | undefined;
  readonly token: string | undefined;
}

const globalRemoteFlags: Record<string, FlagSpec> = {
  server: { type: 'string', value: '<url>', description: 'api URL (else FERRY_SERVER, else the login file)' },
  token: { type: 'string', value: '<token>', description: 'api token (else FERRY_TOKEN, else the login file)' },
};
const outputFlag: Record<string, FlagSpec> = {
  output: { type: 'string', short: 'o', value: '<format>', description: 'output format: text (default), json or yaml' },
};
const helpFlag: Record<string, FlagSpec> = { help: { type: 'boolean', short: 'h', description: 'show this help' } };

function allFlags(spec: CommandSpec): Record<string, FlagSpec> {
  return { ...spec.flags, ...(spec.output ? outputFlag : {}), ...(spec.remote ? globalRemoteFlags : {}), ...helpFlag };
}

/** True when the arguments ask for help (`-h`/`--help` anywhere before `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '-h' || arg === '--help') return true;
  }
  return false;
}

/** Parses the arguments after the command words. @throws UsageError */
export function parseCommandLine(spec: CommandSpec, args: readonly string[]): ParsedCommand {
  const name = spec.path.join(' ');
  const flags = allFlags(spec);
  // Boolean flags also take `--flag=true|false` (argocd's `--cascade=false`).
  const explicitFalse = new Set<string>();
  const normalized: string[] = [];
  let afterDashes = false;
  for (const arg of args) {
    const m = afterDashes ? null : /^--([A-Za-z][\w-]*)=(true|false)$/.exec(arg);
    if (arg === '--') afterDashes = true;
    if (m && flags[m[1] ?? '']?.type === 'boolean') {
      if (m[2] === 'true') normalized.push(`--${m[1]}`);
      else explicitFalse.add(m[1] ?? '');
    } else {
      normalized.push(arg);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: normalized,
      options: Object.fromEntries(
        Object.entries(flags).map(([key, f]) => [
          key,
          { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''), name);
  }
  const required = spec.args.filter((a) => !a.endsWith('?'));
  if (parsed.positionals.length < required.length) {
    throw new UsageError(
      `missing ${required
        .slice(parsed.positionals.length)
        .map((a) => `<${a}>`)
        .join(' ')}`,
      name,
    );
  }
  if (parsed.positionals.length > spec.args.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[spec.args.length]}'`, name);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  for (const flag of explicitFalse) if (values[flag] === undefined) values[flag] = false;
  const output = values['output'] ?? OutputFormat.Text;
  if (!Object.values(OutputFormat).includes(output as OutputFormat)) {
    throw new UsageError(`unknown output format '${String(output)}' (use text, json or yaml)`, name);
  }
  return {
    positionals: parsed.positionals,
    values,
    output: output as OutputFormat,
    server: typeof values['server'] === 'string' ? values['server'] : undefined,
    token: typeof values['token'] === 'string' ? values['token'] : undefined,
  };
}

/** Parses `--timeout <seconds>`: a non-negative number; 0 = no limit. @throws UsageError */
export function parseSeconds(value: unknown, flag: string, fallback: number, command: string): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new UsageError(`--${flag} must be a number of seconds (0 = no limit), got '${String(value)}'`, command);
  }
  return seconds;
}

/** The help text of one command. */
export function commandHelp(spec: CommandSpec): string {
  const flags = allFlags(spec);
  const args = spec.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : `<${a}>`)).join(' ');
  const rows = Object.entries(flags).map(([key, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${key}${f.value ? ` ${f.value}` : ''}`;
    return [left, f.description + (f.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    spec.summary,
    '',
    `Usage: ferry ${spec.path.join(' ')}${args ? ` ${args}` : ''} [flags]`,
    '',
    'Flags:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    ...(spec.help ? ['', spec.help.trimEnd()] : []),
    '',
  ].join('\n');
}

/** The help text listing commands (all of them, or those under `group`). */
export function groupHelp(specs: readonly CommandSpec[], group?: string): string {
  const shown = specs.filter((s) => group === undefined || s.path[0] === group);
  const names = shown.map(
    (s) =>
      `${s.path.join(' ')}${s.args.length ? ` ${s.args.map((a) => (a.endsWith('?') ? `[${a.slice(0, -1)}]` : `<${a}>`)).join(' ')}` : ''}`,
  );
  const width = Math.max(...names.map((n) => n.length));
  return [
    group === undefined
      ? 'ferry: the command-line client of Ferry, GitOps continuous delivery on NATS.'
      : `ferry ${group}: manage applications.`,
    '',
    `Usage: ferry ${group ?? '<command>'}${group === undefined ? '' : ' <command>'} [flags]`,
    '',
    'Commands:',
    ...shown.map((s, i) => `  ${(names[i] ?? '').padEnd(width)}  ${s.summary}`),
    '',
    `Run 'ferry <command> --help' for a command's flags. Login: --server/--token, FERRY_SERVER/FERRY_TOKEN,`,
    `or the login file written by 'ferry login' (and by npm start). docs/cli.md has the details.`,
    '',
  ].join('\n');
}
