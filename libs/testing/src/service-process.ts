import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { FixtureStartError } from './errors.js';
import { LineBuffer, isRunning, terminate, trackChild, type ExitInfo } from './child-process.js';
import { tempDir } from './temp-dir.js';
import { tsxImport } from './tsx-path.js';

export interface ServiceProcessOptions {
  /** Name used in errors and the log file name. */
  name: string;
  /** The service's main.ts (absolute, or relative to `cwd`). Run as `node --import tsx <entry>`. */
  entry: string;
  /** Environment of the process, on top of this process's environment (see `inheritEnv`). */
  env: Record<string, string>;
  /** Working directory. Default: this process's cwd. */
  cwd?: string;
  /** Ready when a line on stdout or stderr matches. Default /"msg":"ready"/ (a pino `ready` log line). */
  readyPattern?: RegExp;
  /** Milliseconds to wait for readiness before SIGKILL and rejection. Default 15000. */
  timeoutMs?: number;
  /** Start from this process's environment (PATH, HOME…) and add `env`. Default true. */
  inheritEnv?: boolean;
  /** Extra node arguments placed before the entry (e.g. `['--import', './otel.ts']`). */
  nodeArgs?: readonly string[];
  /** Lines kept in memory for logs(). Default 5000 (the log file keeps everything). */
  maxLogLines?: number;
}

/** A service running as its own node process. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** File receiving everything the process writes (stdout and stderr); kept after exit for post-mortems. */
  readonly logFile: string;
  /** True until the process exits. */
  readonly running: boolean;
  /** Resolves when the process exits, with its code or signal. */
  readonly exited: Promise<ExitInfo>;
  /** The last lines written (stdout and stderr interleaved). */
  logs(): string;
  /** Resolves with the first line (already written or coming) matching `pattern`; rejects on timeout (default 5000) or exit. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM), waits up to `timeoutMs` (default 5000), then SIGKILLs. Resolves with how it ended. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
  /** SIGKILL (a crash), waits for the exit. */
  kill(): Promise<ExitInfo>;
}

/**
 * Spawns `node --import tsx <entry>` and resolves once it logs a line matching `readyPattern`.
 * Rejects with FixtureStartError (carrying the last output) if it exits first or times out.
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const cwd = options.cwd ?? process.cwd();
  const entry = resolve(cwd, options.entry);
  const readyPattern = options.readyPattern ?? /"msg":"ready"/;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const env: NodeJS.ProcessEnv = options.inheritEnv === false ? {} : { ...process.env };
  delete env['NODE_TEST_CONTEXT']; // set by node --test; would turn the child into a test reporter
  Object.assign(env, options.env);

  const dir = await tempDir(`ferry-svc-${options.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  const logFile = join(dir.path, `${options.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
  const file = createWriteStream(logFile);
  const buffer = new LineBuffer(options.maxLogLines ?? 5000);
  const lineListeners = new Set<(line: string) => void>();

  const child = spawn(process.execPath, ['--import', tsxImport(), ...(options.nodeArgs ?? []), entry], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = trackChild(child);
  void exited.then(() => file.end());
  const onChunk = (chunk: string): void => {
    file.write(chunk);
    for (const line of buffer.push(chunk)) for (const listener of lineListeners) listener(line);
  };
  child.stdout.setEncoding('utf8').on('data', onChunk);
  child.stderr.setEncoding('utf8').on('data', onChunk);

  const waitForLog = (pattern: RegExp, ms = 5000, what = 'log line'): Promise<string> => {
    const existing = buffer
      .text()
      .split('\n')
      .find((line) => pattern.test(line));
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise<string>((resolvePromise, reject) => {
      const cleanup = () => {
        lineListeners.delete(listener);
        clearTimeout(timer);
      };
      const listener = (line: string) => {
        if (!pattern.test(line)) return;
        cleanup();
        resolvePromise(line);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new FixtureStartError(options.name, `no ${what} matching ${pattern} within ${ms} ms`, buffer.tail()));
      }, ms);
      timer.unref();
      lineListeners.add(listener);
      void exited.then((info) => {
        if (!lineListeners.has(listener)) return;
        cleanup();
        reject(
          new FixtureStartError(
            options.name,
            `exited (code ${info.code}, signal ${info.signal}) before a ${what} matching ${pattern}`,
            buffer.tail(),
          ),
        );
      });
    });
  };

  try {
    await new Promise<void>((resolvePromise, reject) => {
      child.once('error', reject);
      waitForLog(readyPattern, timeoutMs, 'ready line').then(() => resolvePromise(), reject);
    });
  } catch (error) {
    await terminate(child, exited, 'SIGKILL');
    if (error instanceof FixtureStartError) throw error;
    throw new FixtureStartError(options.name, 'failed to start', buffer.tail(), { cause: error });
  }

  return {
    name: options.name,
    pid: child.pid ?? 0,
    logFile,
    get running() {
      return isRunning(child);
    },
    exited,
    logs: () => buffer.text(),
    waitForLog: (pattern, ms) => waitForLog(pattern, ms),
    stop: (signal = 'SIGTERM', ms = 5000) => terminate(child, exited, signal, ms),
    kill: () => terminate(child, exited, 'SIGKILL'),
  };
}
