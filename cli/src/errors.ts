/**
 * The CLI's errors. Every failure ends as one line `error <CODE>: <message>` on stderr (plus one
 * indented line per detail) and an exit code: 2 for usage errors, 1 for everything else.
 */
import { ErrorCode, FerryError } from '@ferry/contracts';

/** Exit codes of `ferry` (docs/cli.md). */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A local failure of the CLI, with optional detail lines (one per problem). */
export class CliError extends FerryError {
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: readonly string[] }) {
    super(code, message, options);
    this.details = options?.details ?? [];
  }
}

/** The command line is wrong. Code FERRY_ERR_CLI_USAGE, exit code 2. */
export class UsageError extends CliError {
  /** The command whose help the message points to (`app sync`), when known. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(ErrorCode.CliUsage, message);
    this.command = command;
  }
}

/**
 * Makes a command exit with `exitCode` on this error instead of the usual 1 (`ferry app diff`:
 * 1 means "differences found", so its errors exit 2, as kubectl diff's do). Printed as `error` is.
 */
export class ExitCodeError extends Error {
  readonly error: unknown;
  readonly exitCode: number;

  constructor(error: unknown, exitCode: number) {
    super(error instanceof Error ? error.message : String(error));
    this.name = 'ExitCodeError';
    this.error = error;
    this.exitCode = exitCode;
  }
}

/** One problem the api reported (`details[]` of its error body). */
export interface ApiProblem {
  path?: string;
  message: string;
  line?: number;
}

/**
 * The api answered with an error body `{ code, message, details? }`. `code` is whatever the server
 * sent (the api's own codes, FERRY_ERR_API_*, are registered by the api).
 */
export class ApiError extends Error {
  readonly code: string;
  /** HTTP status of the answer. */
  readonly status: number;
  readonly details: readonly ApiProblem[];

  constructor(code: string, status: number, message: string, details: readonly ApiProblem[] = []) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** The lines `ferry` prints for an error (without trailing newline); secrets are masked by the caller. */
export function formatError(error: unknown): string[] {
  if (error instanceof ExitCodeError) return formatError(error.error);
  if (error instanceof ApiError) {
    return [`error ${error.code}: ${error.message}`, ...error.details.map((d) => `  ${d.path ? `${d.path}: ` : ''}${d.message}`)];
  }
  if (error instanceof CliError) {
    const hint = error instanceof UsageError ? [`run 'ferry ${error.command ? `${error.command} ` : ''}--help' for usage`] : [];
    return [`error ${error.code}: ${error.message}`, ...error.details.map((d) => `  ${d}`), ...hint];
  }
  if (error instanceof FerryError) return [`error ${error.code}: ${error.message}`];
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return [`error ${typeof code === 'string' && code.startsWith('FERRY_ERR_') ? code : ErrorCode.CliInternal}: ${message}`];
}

/** Exit code for an error. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof ExitCodeError) return error.exitCode;
  return error instanceof UsageError ? ExitCode.Usage : ExitCode.Failure;
}
