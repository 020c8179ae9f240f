import { existsSync } from 'node:fs';
import { ErrorCode, FerryError } from '@ferry/contracts';
import { NatsAuth } from './nats.js';

/** One problem found while reading configuration: which variable, its raw value, what is wrong. */
export interface ConfigProblem {
  readonly name: string;
  readonly value: string | undefined;
  readonly problem: string;
}

/**
 * Thrown by `EnvReader.finish()` when at least one variable was invalid. `problems` lists every one
 * (not only the first); the message names each variable and what is wrong with it.
 * Code: FERRY_ERR_CONFIG_INVALID.
 */
export class ConfigError extends FerryError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      ErrorCode.ConfigInvalid,
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${p.name}=${p.value === undefined ? '(unset)' : JSON.stringify(p.value)}: ${p.problem}`).join('\n'),
    );
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * Reads typed values from an environment map. Every reader records problems instead of throwing and
 * returns the default (or a placeholder) so that all problems are found in one pass; `finish()`
 * throws one ConfigError listing them all. An empty string counts as unset.
 */
export interface EnvReader {
  /** A string; `undefined` when unset and no default. */
  string(name: string): string | undefined;
  string(name: string, defaultValue: string): string;
  /** A string that must be set (non-empty). Records a problem (returns '') when unset. */
  requiredString(name: string): string;
  /** A base-10 integer within [min, max] (inclusive, when given). */
  int(name: string, defaultValue: number, range?: { min?: number; max?: number }): number;
  /** true/false, also 1/0, yes/no, on/off (case-insensitive). */
  bool(name: string, defaultValue: boolean): boolean;
  /** A comma-separated list; items trimmed, empty items dropped. Unset → the default. */
  list(name: string, defaultValue: readonly string[]): string[];
  /** An absolute URL (parsed by WHATWG URL). Unset → the default (or undefined). */
  url(name: string): string | undefined;
  url(name: string, defaultValue: string): string;
  /** One of `values` (exact match). */
  enumOf<const V extends string>(name: string, values: readonly V[], defaultValue: V): V;
  /** Records a problem found by the caller's own validation (cross-field checks). */
  problem(name: string, problem: string): void;
  /** Problems recorded so far. */
  problems(): readonly ConfigProblem[];
  /** Throws ConfigError (FERRY_ERR_CONFIG_INVALID) if any problem was recorded. */
  finish(): void;
}

/** Creates an EnvReader over `env` (usually `process.env`, read only in main.ts). */
export function createEnvReader(env: Record<string, string | undefined>): EnvReader {
  const problems: ConfigProblem[] = [];
  const raw = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const add = (name: string, value: string | undefined, problem: string): void => {
    problems.push({ name, value, problem });
  };

  function string(name: string): string | undefined;
  function string(name: string, defaultValue: string): string;
  function string(name: string, defaultValue?: string): string | undefined {
    return raw(name) ?? defaultValue;
  }

  function url(name: string): string | undefined;
  function url(name: string, defaultValue: string): string;
  function url(name: string, defaultValue?: string): string | undefined {
    const v = raw(name);
    if (v === undefined) return defaultValue;
    try {
      new URL(v);
      return v;
    } catch {
      add(name, redactForProblem(v), 'must be an absolute URL (scheme://host…)');
      return defaultValue;
    }
  }

  const reader: EnvReader = {
    string,
    url,
    requiredString(name) {
      const v = raw(name);
      if (v === undefined) {
        add(name, undefined, 'is required');
        return '';
      }
      return v;
    },
    int(name, defaultValue, range = {}) {
      const v = raw(name);
      if (v === undefined) return defaultValue;
      if (!/^[-+]?\d+$/.test(v)) {
        add(name, v, 'must be an integer');
        return defaultValue;
      }
      const n = Number.parseInt(v, 10);
      if (!Number.isSafeInteger(n)) {
        add(name, v, 'is out of range for an integer');
        return defaultValue;
      }
      if (range.min !== undefined && n < range.min) {
        add(name, v, `must be >= ${range.min}`);
        return defaultValue;
      }
      if (range.max !== undefined && n > range.max) {
        add(name, v, `must be <= ${range.max}`);
        return defaultValue;
      }
      return n;
    },
    bool(name, defaultValue) {
      const v = raw(name);
      if (v === undefined) return defaultValue;
      const l = v.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(l)) return true;
      if (['false', '0', 'no', 'off'].includes(l)) return false;
      add(name, v, 'must be true or false');
      return defaultValue;
    },
    list(name, defaultValue) {
      const v = raw(name);
      if (v === undefined) return [...defaultValue];
      return v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    },
    enumOf(name, values, defaultValue) {
      const v = raw(name);
      if (v === undefined) return defaultValue;
      const found = values.find((x) => x === v);
      if (found === undefined) {
        add(name, v, `must be one of ${values.join(', ')}`);
        return defaultValue;
      }
      return found;
    },
    problem(name, problem) {
      add(name, raw(name), problem);
    },
    problems() {
      return [...problems];
    },
    finish() {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
  return reader;
}

function redactForProblem(v: string): string {
  // A URL that failed to parse may still carry credentials; never echo a password.
  return v.replace(/\/\/[^/@\s]*@/, '//***@');
}

/** Log levels accepted by FERRY_LOG_LEVEL. */
export const LogLevel = {
  Fatal: 'fatal',
  Error: 'error',
  Warn: 'warn',
  Info: 'info',
  Debug: 'debug',
  Trace: 'trace',
  Silent: 'silent',
} as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Settings every service shares. Frozen. */
export interface CommonConfig {
  /** The service's name (logger name, OTel service.name, metrics label, NATS connection name). */
  readonly serviceName: string;
  /** FERRY_NATS_URL, comma-separated; default `nats://127.0.0.1:4222`. */
  readonly natsServers: readonly string[];
  /** FERRY_SUBJECT_PREFIX; default `gitops`. */
  readonly subjectPrefix: string;
  /** FERRY_STREAM; default `FERRY_EVENTS`. */
  readonly streamName: string;
  /** FERRY_BUCKET_PREFIX; default `ferry`. */
  readonly bucketPrefix: string;
  /** FERRY_HTTP_HOST; default `127.0.0.1`. */
  readonly httpHost: string;
  /** FERRY_HTTP_PORT; default 0 (any free port) unless the service passes its own default. */
  readonly httpPort: number;
  /** FERRY_LOG_LEVEL; default `info`. */
  readonly logLevel: LogLevel;
  /** OTEL_EXPORTER_OTLP_ENDPOINT (base URL; `/v1/traces` is appended). Unset: spans are made but not exported. */
  readonly otlpEndpoint?: string;
  /** FERRY_SHUTDOWN_GRACE_MS; default 10000. How long close() waits for in-flight work. */
  readonly shutdownGraceMs: number;
  /**
   * FERRY_JETSTREAM_REPLICAS; default 1 (1-5). Replicas of the event stream, every KV bucket and the
   * artifact store in a NATS cluster. Give every service the same value: each provisions at start.
   */
  readonly jetStreamReplicas: number;
  /** FERRY_NATS_CREDS, or FERRY_NATS_USER + FERRY_NATS_PASSWORD, or FERRY_NATS_TOKEN (at most one form); none by default. */
  readonly natsAuth?: NatsAuth;
  /** FERRY_NATS_CA_FILE: CA bundle for `tls://` servers; the system CAs otherwise. */
  readonly natsCaFile?: string;
}

export interface CommonConfigOptions {
  /** Default for FERRY_HTTP_PORT (a service may want a fixed well-known port). Default 0. */
  defaultHttpPort?: number;
  /**
   * A reader to record problems into (so that a service's own options and the common ones are
   * reported in one error). When given, `finish()` is NOT called: the caller calls it after reading
   * its own options. When omitted, a fresh reader is used and finished here.
   */
  reader?: EnvReader;
}

const NAME_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Reads the common settings from `env`. Throws ConfigError (FERRY_ERR_CONFIG_INVALID) listing all
 * problems, unless `options.reader` is given (then the caller finishes the reader).
 */
export function loadCommonConfig(
  env: Record<string, string | undefined>,
  serviceName: string,
  options: CommonConfigOptions = {},
): CommonConfig {
  const r = options.reader ?? createEnvReader(env);
  const natsServers = r.list('FERRY_NATS_URL', ['nats://127.0.0.1:4222']);
  if (natsServers.length === 0) r.problem('FERRY_NATS_URL', 'must name at least one server');
  for (const s of natsServers) {
    if (!/^(nats|tls|ws|wss):\/\/|^[^:/]+(:\d+)?$/.test(s)) {
      r.problem('FERRY_NATS_URL', `"${redactForProblem(s)}" is not a NATS URL (nats://host:port)`);
    }
  }
  const subjectPrefix = r.string('FERRY_SUBJECT_PREFIX', 'gitops');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subjectPrefix)) {
    r.problem('FERRY_SUBJECT_PREFIX', 'must be dot-separated tokens of letters, digits, _ or - (no wildcards)');
  }
  const streamName = r.string('FERRY_STREAM', 'FERRY_EVENTS');
  if (!NAME_TOKEN.test(streamName)) r.problem('FERRY_STREAM', 'must be letters, digits, _ or -');
  const bucketPrefix = r.string('FERRY_BUCKET_PREFIX', 'ferry');
  if (!NAME_TOKEN.test(bucketPrefix)) r.problem('FERRY_BUCKET_PREFIX', 'must be letters, digits, _ or -');
  const httpHost = r.string('FERRY_HTTP_HOST', '127.0.0.1');
  const httpPort = r.int('FERRY_HTTP_PORT', options.defaultHttpPort ?? 0, { min: 0, max: 65535 });
  const logLevel = r.enumOf('FERRY_LOG_LEVEL', Object.values(LogLevel), LogLevel.Info);
  const otlpEndpoint = r.url('OTEL_EXPORTER_OTLP_ENDPOINT');
  const shutdownGraceMs = r.int('FERRY_SHUTDOWN_GRACE_MS', 10_000, { min: 0, max: 600_000 });
  const jetStreamReplicas = r.int('FERRY_JETSTREAM_REPLICAS', 1, { min: 1, max: 5 });
  const natsAuth = readNatsAuth(r);
  const natsCaFile = r.string('FERRY_NATS_CA_FILE');
  if (natsCaFile !== undefined && !existsSync(natsCaFile)) r.problem('FERRY_NATS_CA_FILE', 'no such file');
  if (options.reader === undefined) r.finish();
  const config: CommonConfig = {
    serviceName,
    natsServers: Object.freeze(natsServers),
    subjectPrefix,
    streamName,
    bucketPrefix,
    httpHost,
    httpPort,
    logLevel,
    ...(otlpEndpoint === undefined ? {} : { otlpEndpoint }),
    shutdownGraceMs,
    jetStreamReplicas,
    ...(natsAuth === undefined ? {} : { natsAuth }),
    ...(natsCaFile === undefined ? {} : { natsCaFile }),
  };
  return Object.freeze(config);
}

/** The NATS credentials the environment gives, recording a problem when it mixes forms or half-gives one. */
function readNatsAuth(r: EnvReader): NatsAuth | undefined {
  const creds = r.string('FERRY_NATS_CREDS');
  const user = r.string('FERRY_NATS_USER');
  const password = r.string('FERRY_NATS_PASSWORD');
  const token = r.string('FERRY_NATS_TOKEN');
  const forms = [creds !== undefined, user !== undefined || password !== undefined, token !== undefined].filter(Boolean).length;
  if (forms > 1) {
    r.problem('FERRY_NATS_CREDS', 'give one of FERRY_NATS_CREDS, FERRY_NATS_USER+FERRY_NATS_PASSWORD or FERRY_NATS_TOKEN');
    return undefined;
  }
  if (creds !== undefined) {
    if (!existsSync(creds)) r.problem('FERRY_NATS_CREDS', 'no such file');
    return NatsAuth.creds(creds);
  }
  if (user !== undefined || password !== undefined) {
    if (user === undefined) r.problem('FERRY_NATS_USER', 'is required with FERRY_NATS_PASSWORD');
    if (password === undefined) r.problem('FERRY_NATS_PASSWORD', 'is required with FERRY_NATS_USER');
    return NatsAuth.user(user ?? '', password ?? '');
  }
  return token === undefined ? undefined : NatsAuth.token(token);
}
