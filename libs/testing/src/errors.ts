/**
 * Errors thrown by the test fixtures. They never cross a process boundary of Ferry itself, so they
 * carry no FERRY_ERR code; each keeps its context in readonly fields and `name` equals the class name.
 */

/** A tool the fixture needs (nats-server, git, kubectl) is not installed. `install` says how to get it. */
export class ToolNotFoundError extends Error {
  override readonly name = 'ToolNotFoundError';
  readonly tool: string;
  readonly install: string;
  constructor(tool: string, install: string) {
    super(`${tool} not found on PATH: ${install}`);
    this.tool = tool;
    this.install = install;
  }
}

/** A child process the fixture started (nats-server, git server, service) did not become ready. */
export class FixtureStartError extends Error {
  override readonly name = 'FixtureStartError';
  readonly fixture: string;
  /** The last lines the process wrote (stdout and stderr), for the test's failure message. */
  readonly output: string;
  constructor(fixture: string, message: string, output: string, options?: { cause?: unknown }) {
    super(`${fixture}: ${message}${output ? `\n--- last output ---\n${output}` : ''}`, options);
    this.fixture = fixture;
    this.output = output;
  }
}

/** `waitUntil` (or a receiver's `waitFor`) ran out of time. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly timeoutMs: number;
  /** The last value the check returned (undefined or false), or undefined if it threw. */
  readonly lastValue: unknown;
  constructor(message: string, timeoutMs: number, lastValue: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.timeoutMs = timeoutMs;
    this.lastValue = lastValue;
  }
}

/** A git command run by a fixture failed. */
export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  readonly args: readonly string[];
  readonly stderr: string;
  constructor(args: readonly string[], stderr: string, options?: { cause?: unknown }) {
    super(`git ${args.join(' ')} failed: ${stderr.trim()}`, options);
    this.args = args;
    this.stderr = stderr;
  }
}
