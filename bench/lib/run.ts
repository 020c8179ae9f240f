// What every bench does around its measurements: progress on stderr, ordered clean-up, machine facts.
import { cpus, loadavg, totalmem } from 'node:os';
import { round } from './stats.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A progress printer: `[<label> 12.3s] message` on stderr, seconds since `start` (performance.now()). */
export function progressLogger(label: string, start: number): (message: string) => void {
  return (message) => process.stderr.write(`[${label} ${((performance.now() - start) / 1000).toFixed(1)}s] ${message}\n`);
}

/** Clean-up steps run once, last added first; a failing step is reported and the rest still run. */
export function createCleanups(progress: (message: string) => void): {
  push(part: { name: string; run: () => Promise<unknown> }): void;
  run(): Promise<void>;
} {
  const parts: Array<{ name: string; run: () => Promise<unknown> }> = [];
  let running: Promise<void> | undefined;
  return {
    push: (part) => void parts.push(part),
    run() {
      running ??= (async () => {
        for (const part of parts.reverse()) {
          try {
            await part.run();
          } catch (error) {
            progress(`cleanup of ${part.name} failed: ${(error as Error).message}`);
          }
        }
      })();
      return running;
    },
  };
}

/** The machine the figures were taken on. */
export function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    node: process.version,
    loadavg1m: round(loadavg()[0] ?? 0, 2),
    date: new Date().toISOString(),
  };
}
