/** What a command gets from the process: environment, output streams and a few effects (injected for tests). */

export interface CliIo {
  /** The process environment (FERRY_SERVER, FERRY_TOKEN, XDG_CONFIG_HOME, HOME, FERRY_CLI_POLL_INTERVAL_MS). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stdin is a terminal (confirmations are asked only then). */
  readonly interactive: boolean;
  /** Asks a yes/no question on the terminal. */
  readonly confirm: (question: string) => Promise<boolean>;
}

export interface CommandContext extends CliIo {
  /** Milliseconds between polls of `app sync` and `app wait`. */
  readonly pollIntervalMs: number;
  /** Prints one line (or several) on stdout. */
  readonly print: (text: string) => void;
}

/** Default poll interval of `app sync` / `app wait` (FERRY_CLI_POLL_INTERVAL_MS overrides). */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

export function createContext(io: CliIo): CommandContext {
  const configured = Number(io.env['FERRY_CLI_POLL_INTERVAL_MS']);
  return {
    ...io,
    pollIntervalMs: Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_POLL_INTERVAL_MS,
    print: (text) => io.stdout(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/**
 * Waits `ms`. Unlike the services' timers this one keeps the process alive: in a CLI the wait is
 * the only pending work, and an unref'd timer would let node exit mid-command.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
