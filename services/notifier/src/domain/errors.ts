import { ErrorCode, FerryError } from '@ferry/contracts';

/** One problem in the notifier config file: where it is and what is wrong. */
export interface NotifierConfigProblem {
  /** The config file path as given (or `<inline>`). */
  readonly file: string;
  /** 1-based line of the offending node (of its nearest existing parent when the field is missing). */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** Dotted path of the field, `channels[1].url`; '' for the whole document. */
  readonly field: string;
  readonly message: string;
}

/**
 * The notifier config file is invalid. `problems` lists every problem found (not only the first),
 * each with file, line and field. Code: FERRY_ERR_NOTIFIER_CONFIG_INVALID. Secret values are never
 * part of the message: an unset `secretEnv` names the variable only.
 */
export class NotifierConfigError extends FerryError {
  readonly file: string;
  readonly problems: readonly NotifierConfigProblem[];

  constructor(file: string, problems: readonly NotifierConfigProblem[], options?: { cause?: unknown }) {
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
    super(
      ErrorCode.NotifierConfigInvalid,
      `invalid notifier config ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        sorted.map((p) => `  ${p.file}:${p.line}:${p.column} ${p.field === '' ? '(document)' : p.field}: ${p.message}`).join('\n'),
      options,
    );
    this.file = file;
    this.problems = Object.freeze(sorted);
  }
}
