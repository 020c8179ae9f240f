import { FerryError, type ErrorCode } from '@ferry/contracts';

/** A sync that cannot run as asked (artifact missing or invalid); reported as a failed sync with its code. */
export class SyncError extends FerryError {
  readonly app: string;
  readonly revision: string;

  constructor(code: ErrorCode, message: string, context: { app: string; revision: string }, options?: { cause?: unknown }) {
    super(code, message, options);
    this.app = context.app;
    this.revision = context.revision;
  }
}

/** Thrown inside a sync when it must stop before its end (the service is closing, or the app's lease was lost). */
export class SyncAbortedError extends Error {
  readonly app: string;

  constructor(app: string, why: string) {
    super(`sync of ${app} stopped: ${why}`);
    this.name = 'SyncAbortedError';
    this.app = app;
  }
}
