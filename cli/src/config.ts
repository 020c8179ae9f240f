/**
 * Login resolution: where the api's URL and token come from. Each of server and token is taken
 * from the first place that has it: the flag (`--server`, `--token`), the environment
 * (`FERRY_SERVER`, `FERRY_TOKEN`), the login file `$XDG_CONFIG_HOME/ferry/config.json`
 * (default `~/.config/ferry/config.json`, JSON `{ server, token }`, written by `ferry login` and
 * by the quick start).
 */
import { mkdir, readFile, rename, writeFile, chmod } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCode } from '@ferry/contracts';
import { CliError } from './errors.js';

/** Where a login value came from. */
export const LoginSource = {
  Flag: 'flag',
  Env: 'env',
  File: 'file',
} as const;
export type LoginSource = (typeof LoginSource)[keyof typeof LoginSource];

export interface LoginOptions {
  server?: string | undefined;
  token?: string | undefined;
}

/** The resolved login (never print `token`). */
export interface LoginConfig {
  readonly server: string;
  readonly token: string;
  readonly serverSource: LoginSource;
  readonly tokenSource: LoginSource;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The login file's path for this environment. */
export function loginFilePath(env: Env): string {
  const base = nonEmpty(env['XDG_CONFIG_HOME']) ?? join(nonEmpty(env['HOME']) ?? homedir(), '.config');
  return join(base, 'ferry', 'config.json');
}

/** `host:port` → `http://host:port`; trailing slashes removed. @throws CliError (FERRY_ERR_CONFIG_INVALID) for a URL that does not parse. */
export function normalizeServer(server: string, from: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(ErrorCode.ConfigInvalid, `server '${server}' (from ${from}) is not a URL; expected e.g. http://127.0.0.1:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(ErrorCode.ConfigInvalid, `server '${server}' (from ${from}) must be an http:// or https:// URL`);
  }
  return withScheme.replace(/\/+$/, '');
}

interface LoginFile {
  server?: string;
  token?: string;
}

async function readLoginFile(path: string): Promise<LoginFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new CliError(ErrorCode.ConfigInvalid, `cannot read the login file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(ErrorCode.ConfigInvalid, `the login file ${path} is not valid JSON; run 'ferry login' again`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(ErrorCode.ConfigInvalid, `the login file ${path} must hold a JSON object { "server", "token" }`);
  }
  const record = value as Record<string, unknown>;
  return {
    ...(typeof record['server'] === 'string' && record['server'] !== '' ? { server: record['server'] } : {}),
    ...(typeof record['token'] === 'string' && record['token'] !== '' ? { token: record['token'] } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Resolves server and token. The login file is read only when a flag or variable is missing.
 * @throws CliError FERRY_ERR_CLI_NOT_LOGGED_IN when either is missing everywhere (the message says how to log in);
 *   FERRY_ERR_CONFIG_INVALID when the login file or a server URL is malformed.
 */
export async function resolveLogin(options: LoginOptions, env: Env): Promise<LoginConfig> {
  let server = nonEmpty(options.server);
  let serverSource: LoginSource = LoginSource.Flag;
  if (server === undefined && nonEmpty(env['FERRY_SERVER']) !== undefined) {
    server = env['FERRY_SERVER'];
    serverSource = LoginSource.Env;
  }
  let token = nonEmpty(options.token);
  let tokenSource: LoginSource = LoginSource.Flag;
  if (token === undefined && nonEmpty(env['FERRY_TOKEN']) !== undefined) {
    token = env['FERRY_TOKEN'];
    tokenSource = LoginSource.Env;
  }
  const path = loginFilePath(env);
  if (server === undefined || token === undefined) {
    const file = await readLoginFile(path);
    if (server === undefined && file?.server !== undefined) {
      server = file.server;
      serverSource = LoginSource.File;
    }
    if (token === undefined && file?.token !== undefined) {
      token = file.token;
      tokenSource = LoginSource.File;
    }
  }
  const missing = [server === undefined ? 'server' : undefined, token === undefined ? 'token' : undefined].filter((m) => m !== undefined);
  if (server === undefined || token === undefined) {
    throw new CliError(ErrorCode.CliNotLoggedIn, `not logged in: no api ${missing.join(' and no ')} given`, {
      details: [
        `log in with: ferry login --server http://127.0.0.1:8080 --token <token>   (writes ${path})`,
        'or pass --server and --token, or set FERRY_SERVER and FERRY_TOKEN',
        'npm start runs Ferry locally and logs the CLI in',
      ],
    });
  }
  const from = serverSource === LoginSource.Flag ? '--server' : serverSource === LoginSource.Env ? 'FERRY_SERVER' : path;
  return { server: normalizeServer(server, from), token, serverSource, tokenSource };
}

/** Writes the login file (directory 0700, file 0600, replaced atomically). Returns its path. */
export async function writeLoginFile(env: Env, login: { server: string; token: string }): Promise<string> {
  const path = loginFilePath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify({ server: login.server, token: login.token }, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
  return path;
}
