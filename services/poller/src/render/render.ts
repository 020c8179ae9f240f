import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { ErrorCode } from '@ferry/contracts';
import { ManifestParseError, RenderError } from '../domain/errors.js';
import type { ManifestProblem } from '../domain/errors.js';
import { parseManifests } from '../domain/manifests.js';
import type { RenderedObject } from '../domain/manifests.js';
import { canonical, normaliseAppPath, sha256, sourceSettingsHash } from '../domain/source.js';
import type { SourceSpec } from '../domain/source.js';
import { selectManifestFiles } from './files.js';
import { findKustomizeTool, installHint, KUSTOMIZATION_FILES, runKustomize } from './kustomize.js';

/** How a source was rendered. */
export const Renderer = { Directory: 'directory', Kustomize: 'kustomize' } as const;
export type Renderer = (typeof Renderer)[keyof typeof Renderer];

/** Options of {@link render}. */
export interface RenderOptions {
  /** PATH searched for `kustomize` / `kubectl`. Default `process.env.PATH`. */
  pathEnv?: string;
  /** Kill Kustomize after this long, in milliseconds. Default 60 000. */
  kustomizeTimeoutMs?: number;
  /** Largest Kustomize output accepted, in bytes. Default 64 MiB. */
  maxOutputBytes?: number;
}

/** The rendered set of one source at one commit. */
export interface RenderResult {
  /** Objects in a deterministic order: files in walk order, documents in file order, List items in order; Kustomize's own order. */
  readonly objects: RenderedObject[];
  /** SHA-256 (hex) of the canonical source settings (path, directory, kustomize) — the hash `artifactKey` uses a prefix of. */
  readonly sourceHash: string;
  /** SHA-256 (hex) of the canonical JSON of the objects (sources excluded): equal when the rendered set is equal. */
  readonly contentHash: string;
  /** `directory` or `kustomize`. */
  readonly renderer: Renderer;
  /** For Kustomize: the tool that ran (`kustomize` or `kubectl`). */
  readonly tool?: 'kustomize' | 'kubectl';
}

/**
 * Renders `source` from the checkout in `dir` (a tree from `GitClient.checkout`):
 * - `source.path` must stay inside `dir` (no `..`, not absolute, no symlink out):
 *   FERRY_ERR_RENDER_PATH_ESCAPE; it must exist and be a directory: FERRY_ERR_RENDER_PATH_NOT_FOUND;
 * - `kustomize` set, or a kustomization file present and `directory` not set: Kustomize
 *   (FERRY_ERR_RENDER_TOOL_MISSING, FERRY_ERR_RENDER_KUSTOMIZE);
 * - otherwise a plain directory of YAML/JSON files (see `selectManifestFiles`, `parseManifests`).
 * Any unparsable document or non-object throws one {@link ManifestParseError} listing all problems;
 * nothing partial is returned. `directory` and `kustomize` together: FERRY_ERR_RENDER_SOURCE_INVALID.
 */
export async function render(dir: string, source: SourceSpec, options: RenderOptions = {}): Promise<RenderResult> {
  const appPath = normaliseAppPath(source.path);
  if (source.directory !== undefined && source.kustomize !== undefined) {
    throw new RenderError(ErrorCode.RenderSourceInvalid, 'source sets both directory and kustomize; choose one', { path: appPath });
  }
  const rootReal = await realpath(dir);
  const appAbsolute = appPath === '.' ? rootReal : join(rootReal, ...appPath.split('/'));
  let appReal: string;
  try {
    appReal = await realpath(appAbsolute);
  } catch (error) {
    throw new RenderError(
      ErrorCode.RenderPathNotFound,
      `path '${appPath}' does not exist in the repository`,
      { path: appPath },
      { cause: error },
    );
  }
  if (appReal !== rootReal && !appReal.startsWith(rootReal + sep)) {
    throw new RenderError(ErrorCode.RenderPathEscape, `path '${appPath}' resolves (through a symlink) outside the repository`, {
      path: appPath,
    });
  }
  if (!(await stat(appReal)).isDirectory()) {
    throw new RenderError(ErrorCode.RenderPathNotFound, `path '${appPath}' is not a directory`, { path: appPath });
  }
  const sourceHash = sourceSettingsHash(source);

  const kustomization = source.directory === undefined ? await findKustomization(appReal) : undefined;
  if (source.kustomize !== undefined || kustomization !== undefined) {
    const pathEnv = options.pathEnv ?? process.env['PATH'];
    const tool = await findKustomizeTool(pathEnv);
    if (tool === undefined) {
      throw new RenderError(ErrorCode.RenderToolMissing, `path '${appPath}' is a Kustomize directory: ${installHint()}`, { path: appPath });
    }
    const output = await runKustomize(tool, appReal, {
      cwd: rootReal,
      env: childEnv(pathEnv),
      timeoutMs: options.kustomizeTimeoutMs ?? 60_000,
      maxOutputBytes: options.maxOutputBytes ?? 64 * 1024 * 1024,
      appPath,
    });
    const file = appPath === '.' ? (kustomization ?? 'kustomization.yaml') : `${appPath}/${kustomization ?? 'kustomization.yaml'}`;
    const parsed = parseManifests([{ file, format: 'yaml', content: output }]);
    if (parsed.problems.length > 0) {
      throw new ManifestParseError(
        parsed.problems.map((p) => ({ ...p, message: `in ${tool.name} output: ${p.message}` })),
        { path: appPath },
      );
    }
    const objects = parsed.objects.map((o) => ({ object: o.object, source: { file, line: 0 } }));
    return { objects, sourceHash, contentHash: contentHash(objects), renderer: Renderer.Kustomize, tool: tool.name };
  }

  const selection = await selectManifestFiles(rootReal, appAbsolute, appPath, source.directory);
  const texts = await Promise.all(
    selection.files.map(async (f) => ({ file: f.file, format: f.format, content: await readFile(f.absolute, 'utf8') })),
  );
  const parsed = parseManifests(texts);
  const problems: ManifestProblem[] = [...selection.problems, ...parsed.problems].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line,
  );
  if (problems.length > 0) throw new ManifestParseError(problems, { path: appPath });
  return { objects: parsed.objects, sourceHash, contentHash: contentHash(parsed.objects), renderer: Renderer.Directory };
}

async function findKustomization(appReal: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const info = await lstat(join(appReal, name)).catch(() => undefined);
    if (info !== undefined && !info.isDirectory()) return name;
  }
  return undefined;
}

/** Kustomize gets PATH and HOME only: the poller's environment may hold secrets it has no use for. */
function childEnv(pathEnv: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: pathEnv ?? '' };
  if (process.env['HOME'] !== undefined) env['HOME'] = process.env['HOME'];
  return env;
}

function contentHash(objects: readonly RenderedObject[]): string {
  return sha256(JSON.stringify(objects.map((o) => canonical(o.object))));
}
