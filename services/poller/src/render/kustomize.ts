import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { ErrorCode } from '@ferry/contracts';
import { RenderError } from '../domain/errors.js';

/** The Kustomize runner found on PATH: `kustomize build <dir>` or `kubectl kustomize <dir>`. */
export interface KustomizeTool {
  /** `kustomize` or `kubectl`. */
  readonly name: 'kustomize' | 'kubectl';
  /** Absolute path of the executable. */
  readonly command: string;
  /** Arguments before the directory. */
  readonly args: readonly string[];
}

/** File names that make a directory a Kustomize directory, as Kustomize itself looks for them. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/**
 * Finds a Kustomize runner on `pathEnv` (a PATH-style list). A standalone `kustomize` wins over
 * `kubectl kustomize`: it is what Argo CD runs, and teams that install it do so to pin the version
 * they render with; kubectl's embedded copy is the fallback. Undefined when neither is found.
 */
export async function findKustomizeTool(pathEnv: string | undefined): Promise<KustomizeTool | undefined> {
  const kustomize = await findExecutable('kustomize', pathEnv);
  if (kustomize !== undefined) return { name: 'kustomize', command: kustomize, args: ['build'] };
  const kubectl = await findExecutable('kubectl', pathEnv);
  if (kubectl !== undefined) return { name: 'kubectl', command: kubectl, args: ['kustomize'] };
  return undefined;
}

/** The first executable file called `name` in the PATH-style list. */
export async function findExecutable(name: string, pathEnv: string | undefined): Promise<string | undefined> {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Options of {@link runKustomize}. */
export interface RunKustomizeOptions {
  /** Working directory (the checkout root); also stripped from messages so paths read repo-relative. */
  cwd: string;
  /** Environment of the child process. */
  env: NodeJS.ProcessEnv;
  /** Kill the tool after this many milliseconds. */
  timeoutMs: number;
  /** Largest stdout accepted, in bytes. */
  maxOutputBytes: number;
  /** App path relative to the checkout, for error context. */
  appPath: string;
}

/**
 * Runs the tool on `dir` and returns its stdout (a YAML stream). A non-zero exit, a timeout or an
 * oversized output throw FERRY_ERR_RENDER_KUSTOMIZE carrying the tool's trimmed stderr; a tool that
 * vanished throws FERRY_ERR_RENDER_TOOL_MISSING.
 */
export function runKustomize(tool: KustomizeTool, dir: string, options: RunKustomizeOptions): Promise<string> {
  const relative = (text: string): string => text.split(`${options.cwd}/`).join('').split(options.cwd).join('.').trim();
  return new Promise((resolve, reject) => {
    execFile(
      tool.command,
      [...tool.args, dir],
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs,
        maxBuffer: options.maxOutputBytes,
        encoding: 'utf8',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        const label = `${tool.name} ${tool.args.join(' ')}`;
        if (e.code === 'ENOENT') {
          return reject(
            new RenderError(
              ErrorCode.RenderToolMissing,
              `${tool.command} disappeared: ${installHint()}`,
              { path: options.appPath },
              { cause: error },
            ),
          );
        }
        let why: string;
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') why = `output larger than ${options.maxOutputBytes} bytes`;
        else if (e.killed === true || e.signal) why = `timed out after ${options.timeoutMs} ms`;
        else why = relative(stderr) || `exit code ${String(e.code)}`;
        reject(
          new RenderError(
            ErrorCode.RenderKustomize,
            `${label} ${options.appPath} failed: ${why}`,
            { path: options.appPath },
            { cause: error },
          ),
        );
      },
    );
  });
}

/** What to install when no Kustomize runner is on PATH. */
export function installHint(): string {
  return 'install kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl 1.14+ (which has `kubectl kustomize`) and put it on the PATH of the poller';
}
