import { ErrorCode, FerryError } from '@ferry/contracts';

/** Codes a {@link GitError} carries. */
export type GitErrorCode =
  typeof ErrorCode.GitUnreachable | typeof ErrorCode.GitAuth | typeof ErrorCode.GitRevisionNotFound | typeof ErrorCode.GitUrlUnsupported;

/**
 * A failure to list, fetch or read a Git repository. `repoURL` never carries credentials
 * (user:password@ is stripped), and neither does the message.
 */
export class GitError extends FerryError {
  declare readonly code: GitErrorCode;
  /** The repository URL or path, credentials removed. */
  readonly repoURL: string;
  /** The revision being resolved or checked out, when there was one. */
  readonly revision: string | undefined;

  constructor(
    code: GitErrorCode,
    message: string,
    context: { repoURL: string; revision?: string | undefined },
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.repoURL = context.repoURL;
    this.revision = context.revision;
  }
}

/** Codes a {@link RenderError} carries. */
export type RenderErrorCode =
  | typeof ErrorCode.RenderPathEscape
  | typeof ErrorCode.RenderPathNotFound
  | typeof ErrorCode.RenderToolMissing
  | typeof ErrorCode.RenderKustomize
  | typeof ErrorCode.RenderParse
  | typeof ErrorCode.RenderSourceInvalid;

/** A failure to turn a checkout into Kubernetes objects. `path` is the app path relative to the repository root. */
export class RenderError extends FerryError {
  declare readonly code: RenderErrorCode;
  /** The app path (`source.path`) relative to the repository root, `.` for the root. */
  readonly path: string | undefined;

  constructor(code: RenderErrorCode, message: string, context: { path?: string | undefined }, options?: { cause?: unknown }) {
    super(code, message, options);
    this.path = context.path;
  }
}

/** One problem found in one manifest file. */
export interface ManifestProblem {
  /** File path relative to the repository root (POSIX separators). */
  readonly file: string;
  /** 1-based line of the problem in that file; 0 when the problem concerns the whole file. */
  readonly line: number;
  /** What is wrong, one line. */
  readonly message: string;
}

/** How many problems the message of a {@link ManifestParseError} spells out; all are in `problems`. */
const MESSAGE_PROBLEM_LIMIT = 10;

/** Formats a problem as `file:line: message` (or `file: message` when line is 0). */
export function formatProblem(problem: ManifestProblem): string {
  return problem.line > 0 ? `${problem.file}:${problem.line}: ${problem.message}` : `${problem.file}: ${problem.message}`;
}

/**
 * Code FERRY_ERR_RENDER_PARSE: one or more documents did not parse or are not Kubernetes objects.
 * Every problem of the render is in `problems` (not just the first); nothing partial is returned.
 */
export class ManifestParseError extends RenderError {
  declare readonly code: typeof ErrorCode.RenderParse;
  readonly problems: readonly ManifestProblem[];

  constructor(problems: readonly ManifestProblem[], context: { path?: string | undefined }) {
    const shown = problems.slice(0, MESSAGE_PROBLEM_LIMIT).map(formatProblem);
    const more = problems.length > MESSAGE_PROBLEM_LIMIT ? `; and ${problems.length - MESSAGE_PROBLEM_LIMIT} more` : '';
    const noun = problems.length === 1 ? 'problem' : 'problems';
    super(ErrorCode.RenderParse, `${problems.length} manifest ${noun}: ${shown.join('; ')}${more}`, context);
    this.problems = Object.freeze([...problems]);
  }
}
