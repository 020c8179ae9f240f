import { pino, stdSerializers, stdTimeFunctions } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions_ {
  /** Logger name (usually the service name); appears as `name` on every line. */
  name: string;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  level: string;
  /** Where lines go; default stdout. Tests pass a stream to capture output. */
  destination?: DestinationStream;
}
export type CreateLoggerOptions = LoggerOptions_;

/**
 * Paths pino censors (value replaced by `[Redacted]`). Covers top-level and one level of nesting;
 * URLs carrying userinfo are not found by path — pass them through `redactUrl()` before logging.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  'token',
  'password',
  'secret',
  'credentials',
  'authorization',
  'apiToken',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'request.headers.authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.credentials',
  '*.apiToken',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-hub-signature-256"]',
  '*.headers["x-gitlab-token"]',
]);

/** Creates the process's root logger: JSON lines, ISO time, secrets redacted. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const opts: LoggerOptions = {
    name: options.name,
    level: options.level,
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
    formatters: {
      level: (label) => ({ level: label }),
    },
    serializers: {
      err: stdSerializers.err,
      error: stdSerializers.err,
    },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/**
 * Removes userinfo (user:password@) from a URL so it can be logged. Non-URL strings are returned with
 * any `//user:pass@` sequence masked, so a malformed URL never leaks a password either.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/g, '//');
  }
}
