/** Runs the real bin (`node cli/bin/ferry.mjs …`) as a child process with a clean environment. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../bin/ferry.mjs', import.meta.url).pathname;

export interface FerryResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temp home (HOME and XDG_CONFIG_HOME) for one test; `cleanup()` removes it. */
export function tempHome(): { dir: string; configHome: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-test-'));
  return { dir, configHome: join(dir, 'config'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `ferry <args>` with only PATH from the parent environment (no FERRY_* leaks in), TZ=UTC,
 * HOME and XDG_CONFIG_HOME in `home`, a fast poll interval, plus `env`.
 */
export function ferry(
  args: readonly string[],
  options: { home: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number },
): Promise<FerryResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 20_000,
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: options.home,
          XDG_CONFIG_HOME: join(options.home, 'config'),
          TZ: 'UTC',
          FERRY_CLI_POLL_INTERVAL_MS: '50',
          ...options.env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
