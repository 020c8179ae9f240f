import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createEnvReader, loadCommonConfig } from '@ferry/runtime';
import type { CommonConfig, EnvReader } from '@ferry/runtime';
import type { GitCredentials } from './git/git-client.js';

/**
 * Git credentials by URL prefix, from FERRY_GIT_CREDENTIALS_FILE. The secrets are held in a closure:
 * the object serialises (JSON, util.inspect, pino) as the list of prefixes only.
 */
export interface GitCredentialStore {
  /** URL prefixes that have credentials, longest first. */
  readonly prefixes: readonly string[];
  /** Credentials of the longest prefix of `repoURL` (credential-free URL), or undefined. */
  lookup(repoURL: string): GitCredentials | undefined;
  toJSON(): unknown;
}

/** The poller's resolved configuration (frozen). docs/configuration.md lists every variable. */
export interface PollerConfig extends CommonConfig {
  /** FERRY_POLL_INTERVAL_MS: time between poll cycles of every app. Default 180000 (3 min). */
  readonly pollIntervalMs: number;
  /** FERRY_POLL_JITTER: each interval is varied by up to ± this fraction (0 ≤ j < 1). Default 0.1. */
  readonly pollJitter: number;
  /**
   * FERRY_POLL_CONCURRENCY: apps resolved/rendered at once (cycles and refresh requests each).
   * Default 8: with listings shared per repository, more polls waiting at once share each listing
   * (200 refreshes of one repository: ~110 listings at 4, ~65 at 8, ~34 at 16); beyond 8, renders
   * compete for CPU on a 2-core machine (docs/configuration.md has the measurements).
   */
  readonly pollConcurrency: number;
  /** FERRY_GIT_CACHE_DIR: mirrors and checked-out trees. Default `<os tmpdir>/ferry-git-cache`. */
  readonly gitCacheDir: string;
  /** FERRY_GIT_CREDENTIALS_FILE: path of the credentials file, when set. */
  readonly gitCredentialsFile?: string;
  /** The credentials read from that file (empty store when unset). */
  readonly gitCredentials: GitCredentialStore;
}

/** Creates a credential store from prefix → credentials (exported for tests and embedding). */
export function createGitCredentialStore(entries: Readonly<Record<string, GitCredentials>>): GitCredentialStore {
  const table = Object.entries(entries)
    .map(([prefix, c]) => [prefix.trim(), Object.freeze({ username: c.username, password: c.password })] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const prefixes = Object.freeze(table.map(([p]) => p));
  return Object.freeze({
    prefixes,
    lookup(repoURL: string): GitCredentials | undefined {
      for (const [prefix, credentials] of table) if (repoURL.startsWith(prefix)) return credentials;
      return undefined;
    },
    toJSON: () => ({ prefixes }),
    [Symbol.for('nodejs.util.inspect.custom')]: () => `GitCredentialStore(${prefixes.join(', ')})`,
  });
}

/**
 * Reads the credentials file: a YAML (or JSON) mapping of URL prefix → `{ username, password }`:
 * ```yaml
 * https://git.example.com/platform/: { username: ferry, password: s3cret }
 * ```
 * Problems are recorded on `reader` without ever echoing a value.
 */
function readCredentialsFile(reader: EnvReader, path: string): GitCredentialStore {
  const name = 'FERRY_GIT_CREDENTIALS_FILE';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    reader.problem(name, `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return createGitCredentialStore({});
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    const line = (error as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    reader.problem(name, `is not valid YAML or JSON${line === undefined ? '' : ` (line ${line})`}`);
    return createGitCredentialStore({});
  }
  if (doc === null || doc === undefined) return createGitCredentialStore({});
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    reader.problem(name, 'must hold a mapping of URL prefix to { username, password }');
    return createGitCredentialStore({});
  }
  const entries: Record<string, GitCredentials> = {};
  for (const [prefix, value] of Object.entries(doc as Record<string, unknown>)) {
    if (!/^https?:\/\//i.test(prefix)) {
      reader.problem(name, `entry "${prefix}": the key must be an http(s):// URL prefix`);
      continue;
    }
    if (/\/\/[^/]*@/.test(prefix)) {
      reader.problem(name, 'an entry key carries credentials in the URL; put them in username/password');
      continue;
    }
    const v = value as { username?: unknown; password?: unknown } | null;
    if (v === null || typeof v !== 'object' || typeof v.username !== 'string' || typeof v.password !== 'string') {
      reader.problem(name, `entry "${prefix}": needs string username and password`);
      continue;
    }
    entries[prefix] = { username: v.username, password: v.password };
  }
  return createGitCredentialStore(entries);
}

function readJitter(reader: EnvReader, env: Record<string, string | undefined>): number {
  const name = 'FERRY_POLL_JITTER';
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return 0.1;
  const percent = raw.endsWith('%');
  const n = Number(percent ? raw.slice(0, -1) : raw);
  const value = percent ? n / 100 : n;
  if (!Number.isFinite(value) || value < 0 || value >= 1) {
    reader.problem(name, 'must be a fraction from 0 to below 1 (0.1) or a percentage (10%)');
    return 0.1;
  }
  return value;
}

/**
 * Reads the poller's configuration from `env`. Throws ConfigError (FERRY_ERR_CONFIG_INVALID)
 * listing every problem (common and poller-specific) at once. Reads FERRY_GIT_CREDENTIALS_FILE
 * when set; its contents never appear in a message.
 */
export function loadConfig(env: Record<string, string | undefined>): PollerConfig {
  const reader = createEnvReader(env);
  const common = loadCommonConfig(env, 'poller', { reader });
  const pollIntervalMs = reader.int('FERRY_POLL_INTERVAL_MS', 180_000, { min: 100, max: 86_400_000 });
  const pollJitter = readJitter(reader, env);
  const pollConcurrency = reader.int('FERRY_POLL_CONCURRENCY', 8, { min: 1, max: 64 });
  const cacheRaw = reader.string('FERRY_GIT_CACHE_DIR', join(tmpdir(), 'ferry-git-cache'));
  const gitCacheDir = isAbsolute(cacheRaw) ? cacheRaw : resolve(cacheRaw);
  const credentialsFile = reader.string('FERRY_GIT_CREDENTIALS_FILE');
  const gitCredentials = credentialsFile === undefined ? createGitCredentialStore({}) : readCredentialsFile(reader, credentialsFile);
  reader.finish();
  return Object.freeze({
    ...common,
    pollIntervalMs,
    pollJitter,
    pollConcurrency,
    gitCacheDir,
    ...(credentialsFile === undefined ? {} : { gitCredentialsFile: credentialsFile }),
    gitCredentials,
  });
}
