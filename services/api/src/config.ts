import { readFileSync } from 'node:fs';
import { ConfigError, createEnvReader, loadCommonConfig } from '@ferry/runtime';
import type { CommonConfig, ConfigProblem } from '@ferry/runtime';
import { ambiguousTokens, parseTokenFile, parseTokenList } from './domain/tokens.js';
import type { ApiToken } from './domain/tokens.js';

/** The api's default port (as the quick start and the CLI expect). */
export const DEFAULT_API_PORT = 8080;
/** Default FERRY_API_MAX_BODY_BYTES: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** The api's resolved configuration (frozen). docs/configuration.md lists every variable. */
export interface ApiConfig extends CommonConfig {
  /**
   * FERRY_API_TOKENS (comma-separated `name=token`, a bare token is `admin`) and FERRY_API_TOKENS_FILE
   * (one `name=token` per line, `#` comments): both are read when both are set. Only SHA-256 digests
   * are kept. At least one token is required.
   */
  readonly tokens: readonly ApiToken[];
  /** FERRY_API_MAX_BODY_BYTES: largest accepted request body, bytes. Default 1048576 (1 MiB). Larger → 413. */
  readonly maxBodyBytes: number;
  /** FERRY_API_SSE_KEEPALIVE_MS: a comment line is sent on idle event streams this often. Default 15000. */
  readonly sseKeepAliveMs: number;
  /**
   * FERRY_API_WEBHOOK_SECRET: the shared secret Git webhooks are signed with (HMAC-SHA256; GitLab sends
   * it as its token). Unset: `POST /api/webhook` is disabled (404). Never logged.
   */
  readonly webhookSecret?: string;
  /** The version `/api/version` reports. */
  readonly version: string;
}

export interface LoadConfigOptions {
  /** Reads the tokens file (tests); default `readFileSync(path, 'utf8')`. */
  readFile?: (path: string) => string;
}

/**
 * Reads the api's configuration from `env`. Throws ConfigError (FERRY_ERR_CONFIG_INVALID) listing every
 * problem (common and api) at once. Token values never appear in a problem: entries are named by
 * position (`entry 2`, `line 3`).
 */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): ApiConfig {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const reader = createEnvReader(env);
  const common = loadCommonConfig(env, 'api', { reader, defaultHttpPort: DEFAULT_API_PORT });
  const maxBodyBytes = reader.int('FERRY_API_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, { min: 1024, max: 64 * 1024 * 1024 });
  const sseKeepAliveMs = reader.int('FERRY_API_SSE_KEEPALIVE_MS', 15_000, { min: 10, max: 600_000 });
  const tokensFile = reader.string('FERRY_API_TOKENS_FILE');
  const webhookSecret =
    env['FERRY_API_WEBHOOK_SECRET'] === undefined || env['FERRY_API_WEBHOOK_SECRET'] === '' ? undefined : env['FERRY_API_WEBHOOK_SECRET'];

  // Problems about token values are recorded here, with the value hidden (reader.problem would echo it).
  const secretProblems: ConfigProblem[] = [];
  const tokens: ApiToken[] = [];
  const inline = env['FERRY_API_TOKENS'];
  if (inline !== undefined && inline.trim() !== '') {
    const parsed = parseTokenList(inline);
    tokens.push(...parsed.tokens);
    for (const p of parsed.problems)
      secretProblems.push({ name: 'FERRY_API_TOKENS', value: '[redacted]', problem: `${p.where} ${p.problem}` });
  }
  if (tokensFile !== undefined) {
    let text: string | undefined;
    try {
      text = readFile(tokensFile);
    } catch (error) {
      reader.problem('FERRY_API_TOKENS_FILE', `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (text !== undefined) {
      const parsed = parseTokenFile(text);
      tokens.push(...parsed.tokens);
      for (const p of parsed.problems) reader.problem('FERRY_API_TOKENS_FILE', `${p.where} ${p.problem}`);
      if (parsed.tokens.length === 0 && parsed.problems.length === 0) reader.problem('FERRY_API_TOKENS_FILE', 'holds no token');
    }
  }
  for (const names of ambiguousTokens(tokens)) {
    secretProblems.push({ name: 'FERRY_API_TOKENS', value: '[redacted]', problem: `the same token is configured for ${names}` });
  }
  if (tokens.length === 0 && secretProblems.length === 0 && reader.problems().every((p) => p.name !== 'FERRY_API_TOKENS_FILE')) {
    secretProblems.push({
      name: 'FERRY_API_TOKENS',
      value: undefined,
      problem: 'no API token configured: set FERRY_API_TOKENS (name=token,…) or FERRY_API_TOKENS_FILE (one name=token per line)',
    });
  }
  if (webhookSecret !== undefined && webhookSecret.trim().length < 8) {
    secretProblems.push({ name: 'FERRY_API_WEBHOOK_SECRET', value: '[redacted]', problem: 'must be at least 8 characters' });
  }
  const problems = [...reader.problems(), ...secretProblems];
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    ...common,
    tokens: Object.freeze(tokens.map((t) => Object.freeze(t))),
    maxBodyBytes,
    sseKeepAliveMs,
    ...(webhookSecret === undefined ? {} : { webhookSecret }),
    version: API_VERSION,
  });
}

/** Ferry's version, as `/api/version` reports it (the workspace version). */
export const API_VERSION = '0.1.0';
