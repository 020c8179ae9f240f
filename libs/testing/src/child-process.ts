import type { ChildProcess } from 'node:child_process';

/** How a child process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Remembers a child so that it is SIGKILLed if the test process exits while it still runs (a crashed
 * or cancelled test must not leave nats-server or a service behind). Returns a promise of its exit.
 */
export function trackChild(child: ChildProcess): Promise<ExitInfo> {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
    // The test runner cancels a file with SIGTERM (and a user with SIGINT), which skips 'exit'. When
    // nobody else handles the signal the process is about to die: kill the children, then die by
    // the signal as before. When someone does (a quick start shutting down gracefully), leave it to them.
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const onSignal = (): void => {
        if (process.listenerCount(signal) > 1) return;
        killAll();
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      };
      process.on(signal, onSignal);
    }
  }
  live.add(child);
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      // spawn failure: no 'exit' follows
      if (child.pid === undefined) {
        live.delete(child);
        resolve({ code: null, signal: null });
      }
    });
  });
  return exited;
}

/** True while the child has neither exited nor been killed by a signal. */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

/**
 * Sends `signal`, waits up to `timeoutMs` for the exit, then SIGKILLs and waits again. Resolves with
 * how it ended; resolves at once if it had already ended.
 */
export async function terminate(
  child: ChildProcess,
  exited: Promise<ExitInfo>,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 5000,
): Promise<ExitInfo> {
  if (!isRunning(child)) return exited;
  child.kill(signal);
  if (signal === 'SIGKILL') return exited;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  const result = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (result !== 'timeout') return result;
  child.kill('SIGKILL');
  return exited;
}

/** Keeps the last `maxLines` lines written by a process (stdout and stderr interleaved). */
export class LineBuffer {
  readonly #lines: string[] = [];
  readonly #maxLines: number;
  #partial = '';
  constructor(maxLines = 2000) {
    this.#maxLines = maxLines;
  }
  /** Appends a chunk; returns the complete lines it finished. */
  push(chunk: string): string[] {
    const text = this.#partial + chunk;
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#add(line);
    return parts;
  }
  #add(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#maxLines) this.#lines.splice(0, this.#lines.length - this.#maxLines);
  }
  /** Everything kept, newline-joined (an unfinished last line included). */
  text(): string {
    return this.#partial ? [...this.#lines, this.#partial].join('\n') : this.#lines.join('\n');
  }
  /** The last `n` lines, for error messages. */
  tail(n = 40): string {
    const all = this.#partial ? [...this.#lines, this.#partial] : this.#lines;
    return all.slice(-n).join('\n');
  }
}
