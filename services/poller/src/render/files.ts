import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { ErrorCode } from '@ferry/contracts';
import { RenderError } from '../domain/errors.js';
import type { ManifestProblem } from '../domain/errors.js';
import { compileGlob } from '../domain/glob.js';
import type { DirectorySourceOptions } from '../domain/source.js';

/** A manifest file chosen for rendering. */
export interface ManifestFile {
  /** Path relative to the repository root (POSIX), used in sources and problems. */
  readonly file: string;
  /** Absolute path to read (a symlink's target once resolved). */
  readonly absolute: string;
  readonly format: 'yaml' | 'json';
}

/** Files chosen, and files that can never render (Jsonnet), reported as problems. */
export interface ManifestFileSelection {
  readonly files: ManifestFile[];
  readonly problems: ManifestProblem[];
}

const MANIFEST_NAME = /\.(ya?ml|json|jsonnet)$/;

/**
 * Chooses the manifest files of a plain directory as Argo CD does:
 * - names ending in `.yaml`, `.yml`, `.json` (and `.jsonnet`, which Ferry reports as unsupported);
 * - the app directory only, or every subdirectory too with `recurse` (directories named `.git` excepted);
 * - `exclude` then `include` matched against the path relative to the app path;
 * - a symlinked file is read through its target when that stays inside the repository (else
 *   FERRY_ERR_RENDER_PATH_ESCAPE), skipped when dangling or not a regular file; symlinked
 *   directories are not followed;
 * - entries sorted by name (code point order), depth first, so the order is the same everywhere.
 */
export async function selectManifestFiles(
  rootReal: string,
  appAbsolute: string,
  appPath: string,
  directory: DirectorySourceOptions | undefined,
): Promise<ManifestFileSelection> {
  const recurse = directory?.recurse === true;
  const include = directory?.include ? compileGlob(directory.include) : undefined;
  const exclude = directory?.exclude ? compileGlob(directory.exclude) : undefined;
  const files: ManifestFile[] = [];
  const problems: ManifestProblem[] = [];
  const repoRelative = (rel: string): string => (appPath === '.' ? rel : `${appPath}/${rel}`);

  async function walk(dir: string, relDir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      const absolute = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recurse && entry.name !== '.git') await walk(absolute, rel);
        continue;
      }
      if (!MANIFEST_NAME.test(entry.name)) continue;
      let target = absolute;
      if (entry.isSymbolicLink()) {
        let real: string;
        try {
          real = await realpath(absolute);
        } catch {
          continue; // dangling: Argo CD skips it with a warning
        }
        if (real !== rootReal && !real.startsWith(rootReal + sep)) {
          throw new RenderError(ErrorCode.RenderPathEscape, `symlink ${repoRelative(rel)} points outside the repository`, {
            path: appPath,
          });
        }
        const info = await stat(real);
        if (!info.isFile()) continue;
        target = real;
      } else if (!entry.isFile()) {
        continue;
      }
      if (exclude?.match(rel)) continue;
      if (include !== undefined && !include.match(rel)) continue;
      if (entry.name.endsWith('.jsonnet')) {
        problems.push({
          file: repoRelative(rel),
          line: 0,
          message: 'Jsonnet is not supported by Ferry; render it to YAML or JSON, or exclude it',
        });
        continue;
      }
      files.push({ file: repoRelative(rel), absolute: target, format: entry.name.endsWith('.json') ? 'json' : 'yaml' });
    }
  }

  await walk(appAbsolute, '');
  return { files, problems };
}
