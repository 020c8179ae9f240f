import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { CommandSpec } from '../args.js';
import { UsageError, formatError } from '../errors.js';
import { table } from '../output.js';
import { emit } from './shared.js';

/** One row of `ferry health -o json`. */
export interface HealthRow {
  file: string;
  line?: number;
  kind: string;
  name: string;
  namespace?: string;
  status: string;
  message?: string;
}

const manifestExtensions = new Set(['.yaml', '.yml', '.json']);

/**
 * The files `assessFiles` would read for `path`, in the same order (a file as given; a directory
 * walked for .yaml/.yml/.json in name order, dot entries skipped), so that each file is assessed
 * on its own and one broken file does not hide the others. Unreadable paths are returned as-is
 * (assessFiles then reports them).
 */
async function expand(path: string, explicit: boolean, out: string[]): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    out.push(path);
    return;
  }
  if (info.isDirectory()) {
    let entries: string[];
    try {
      entries = (await readdir(path)).sort();
    } catch {
      out.push(path);
      return;
    }
    for (const entry of entries) if (!entry.startsWith('.')) await expand(join(path, entry), false, out);
  } else if (explicit || manifestExtensions.has(extname(path).toLowerCase())) {
    out.push(path);
  }
}

/** `ferry health -f <file or directory>…` — offline: the health Ferry assigns to each object found. */
export const health: CommandSpec = {
  path: ['health'],
  args: [],
  summary: 'Offline: show the health Ferry assigns to every object in manifest files (no server needed)',
  help: [
    'Reads YAML (multi-document) and JSON files; a directory is walked for .yaml, .yml and .json files.',
    'Objects whose kind has no health check show None. Files that do not parse are reported',
    'as <file>:<line>:<column>: <problem> and make the command exit 1; the others are still shown.',
  ].join('\n'),
  flags: { file: { type: 'string', short: 'f', multiple: true, value: '<path>', description: 'manifest file or directory' } },
  remote: false,
  output: true,
  async run(ctx, input) {
    const paths = (input.values['file'] as string[] | undefined) ?? [];
    if (paths.length === 0) throw new UsageError('give at least one file or directory with -f <path>', 'health');
    // Loaded here, not at the top: @ferry/health's index pulls in its service (NATS, fastify) and
    // takes ~1 s to import; the other commands should not pay for it.
    const { assessFiles } = await import('@ferry/health');
    const files: string[] = [];
    for (const path of paths) await expand(path, true, files);
    const rows: HealthRow[] = [];
    let failures = 0;
    for (const file of files) {
      try {
        for (const found of await assessFiles([file])) {
          rows.push({
            file: found.file,
            ...(found.line === undefined ? {} : { line: found.line }),
            kind: found.kind,
            name: found.name,
            ...(found.namespace === undefined ? {} : { namespace: found.namespace }),
            status: found.status,
            ...(found.message === undefined ? {} : { message: found.message }),
          });
        }
      } catch (error) {
        failures++;
        ctx.stderr(`${formatError(error).join('\n')}\n`);
      }
    }
    emit(ctx, input, rows, () =>
      table(
        ['FILE', 'KIND', 'NAMESPACE', 'NAME', 'HEALTH', 'MESSAGE'],
        rows.map((r) => [
          `${r.file}${r.line ? `:${r.line}` : ''}`,
          r.kind,
          r.namespace ?? '',
          r.name,
          r.status,
          (r.message ?? '').replace(/\s*\n\s*/g, ' '),
        ]),
      ),
    );
    return failures > 0 ? 1 : 0;
  },
};
