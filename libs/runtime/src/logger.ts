import { pino, stdSerializers, stdTimeFunctions } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** Logger name (usually the service name); appears as `name` on every line. */
  name: string;
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  level: string;
  /** Where lines go; default stdout. Tests pass a stream to capture output. */
  destination?: DestinationStream;
}

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

const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/** Strips `user:pass@` from every URL inside a string (messages, error texts). */
export function redactUrlsInText(text: string): string {
  return text.includes('@') ? text.replace(URL_USERINFO, '$1') : text;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactUrlsInText(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value; // the err serializer scrubs errors
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth - 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth - 1);
  return out;
}

function errSerializer(error: unknown): unknown {
  if (!(error instanceof Error)) return scrub(error, 4);
  return scrub({ ...stdSerializers.err(error) }, 4);
}

/**
 * Creates the process's root logger: JSON lines, ISO time, level as a word, secrets redacted by
 * path (REDACT_PATHS) and `user:pass@` stripped from URLs in messages, fields and errors.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const opts: LoggerOptions = {
    name: options.name,
    level: options.level,
    timestamp: stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => scrub(obj, 5) as Record<string, unknown>,
    },
    serializers: {
      err: errSerializer,
      error: errSerializer,
    },
    hooks: {
      logMethod(args, method) {
        const cleaned = args.map((a) => (typeof a === 'string' ? redactUrlsInText(a) : a)) as typeof args;
        method.apply(this, cleaned);
      },
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
