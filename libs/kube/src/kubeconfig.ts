/**
 * Ferry's own kubeconfig loader: reads kubeconfig files (merged as kubectl merges a KUBECONFIG list)
 * and in-cluster credentials into a ClusterAccessConfig, with `yaml` and Node only — no
 * client-node, whose root import costs ~125 MiB (its generated models). Users with
 * `exec` or `auth-provider` are resolved here too but authenticated by client-node, loaded lazily
 * (plugin-auth.ts), only for them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { isIPv6 } from 'node:net';
import { parse } from 'yaml';
import { ErrorCode } from '@ferry/contracts';
import { KubeError } from './errors.js';

/** Where Kubernetes mounts a pod's service-account credentials. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How requests to a cluster authenticate (besides a client certificate, which is TLS). */
export const ClusterAuthType = {
  /** No Authorization header (client certificate only, or anonymous). */
  None: 'none',
  /** `token`: a static bearer token. */
  Token: 'token',
  /** `tokenFile` or in-cluster: a bearer token re-read from a file (rotated projected tokens). */
  TokenFile: 'token-file',
  /** `username` + `password`: HTTP basic auth. */
  Basic: 'basic',
  /** `exec` or `auth-provider`: delegated to client-node, loaded lazily. */
  Plugin: 'plugin',
} as const;
export type ClusterAuthType = (typeof ClusterAuthType)[keyof typeof ClusterAuthType];

export type ClusterAuth =
  | { type: typeof ClusterAuthType.None }
  | { type: typeof ClusterAuthType.Token; token: string }
  | { type: typeof ClusterAuthType.TokenFile; path: string; token: string }
  | { type: typeof ClusterAuthType.Basic; username: string; password: string }
  | {
      type: typeof ClusterAuthType.Plugin;
      /** The user's name in the kubeconfig. */
      userName: string;
      /** `exec` as written (command made absolute when it was a relative path with a separator). */
      exec: Record<string, unknown> | undefined;
      /** `auth-provider` as written. */
      authProvider: Record<string, unknown> | undefined;
    };

/** TLS settings of one cluster. Buffers hold PEM. */
export interface ClusterTlsConfig {
  /** `certificate-authority(-data)`; undefined = the system's roots. */
  ca: Buffer | undefined;
  /** `client-certificate(-data)`. */
  cert: Buffer | undefined;
  /** `client-key(-data)`. */
  key: Buffer | undefined;
  /** `insecure-skip-tls-verify`. */
  insecureSkipTlsVerify: boolean;
  /** `tls-server-name`: the name checked in the server's certificate (and sent as SNI). */
  serverName: string | undefined;
}

/** Everything needed to reach one cluster, resolved from a kubeconfig context or in-cluster credentials. */
export interface ClusterAccessConfig {
  /** API server URL without a trailing `/` (a path prefix is kept). */
  server: string;
  /** The context used (`in-cluster` for in-cluster credentials). */
  context: string;
  /** The context's namespace (in-cluster: the pod's), if any. */
  namespace: string | undefined;
  /** Where it came from: `<file>[:<file>…] (context <name>)`, or `in-cluster`. */
  source: string;
  tls: ClusterTlsConfig;
  auth: ClusterAuth;
  /** Impersonation headers (`as`, `as-uid`, `as-groups`, `as-user-extra`) sent with every request. */
  headers: Readonly<Record<string, string>>;
}

/** One problem in a kubeconfig: the file, the field (`users[alice].client-key`) and what is wrong. */
export interface KubeconfigProblem {
  file: string;
  field: string;
  message: string;
}

/**
 * A kubeconfig (or in-cluster credentials) that cannot be used. `file` and `field` are the first
 * problem's; `problems` lists them all. Code FERRY_ERR_KUBE_CONFIG_INVALID.
 */
export class KubeconfigError extends KubeError {
  readonly file: string;
  readonly field: string;
  readonly problems: readonly KubeconfigProblem[];

  constructor(problems: readonly KubeconfigProblem[], options: { cause?: unknown } = {}) {
    const first = problems[0] ?? { file: '', field: '', message: 'invalid kubeconfig' };
    const text = problems.map((p) => `${p.file}${p.field ? `: ${p.field}` : ''}: ${p.message}`).join('; ');
    super(ErrorCode.KubeConfigInvalid, `failed to load kubeconfig: ${text}`, {
      operation: 'configure',
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.file = first.file;
    this.field = first.field;
    this.problems = problems;
  }
}

type Json = Record<string, unknown>;

interface Entry {
  name: string;
  /** The `cluster` / `user` / `context` object. */
  value: Json;
  /** The file it came from (relative paths are relative to its directory). */
  file: string;
  /** Position for messages: `clusters[name]`. */
  field: string;
}

/** A KUBECONFIG list merged as kubectl merges it: per name, the first file that defines it wins. */
export interface MergedKubeconfig {
  files: readonly string[];
  currentContext: string | undefined;
  clusters: ReadonlyMap<string, Entry>;
  users: ReadonlyMap<string, Entry>;
  contexts: ReadonlyMap<string, Entry>;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(file: string, field: string, message: string): never {
  throw new KubeconfigError([{ file, field, message }]);
}

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code ?? (error instanceof Error ? error.message : String(error));
}

function readKubeconfigFile(file: string): Json {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(file, '', `cannot read the file (${errnoText(error)})`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    fail(file, '', `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  if (doc === null || doc === undefined) return {}; // an empty file is an empty config, as for kubectl
  if (!isObject(doc)) fail(file, '', 'is not a kubeconfig (the document is not a mapping)');
  return doc;
}

function collect(doc: Json, file: string, list: 'clusters' | 'users' | 'contexts', into: Map<string, Entry>): void {
  const items = doc[list];
  if (items === undefined || items === null) return;
  if (!Array.isArray(items)) fail(file, list, 'must be a list');
  const inner = list.slice(0, -1); // cluster, user, context
  items.forEach((item: unknown, i) => {
    if (!isObject(item)) fail(file, `${list}[${i}]`, 'must be a mapping with name and ' + inner);
    const name = item.name;
    if (typeof name !== 'string' || !name) fail(file, `${list}[${i}].name`, 'is missing');
    const value = item[inner] ?? {};
    if (!isObject(value)) fail(file, `${list}[${name}].${inner}`, 'must be a mapping');
    if (!into.has(name)) into.set(name, { name, value, file, field: `${list}[${name}]` });
  });
}

/**
 * Reads and merges kubeconfig files with kubectl's rules: files in order, duplicates ignored; for each
 * cluster, user and context name the first file that defines it wins; `current-context` comes from the
 * first file that sets one. Throws KubeconfigError naming the file (unreadable, not YAML, malformed lists).
 */
export function mergeKubeconfigFiles(paths: readonly string[]): MergedKubeconfig {
  const files = [...new Set(paths.map((p) => resolve(p)))];
  const clusters = new Map<string, Entry>();
  const users = new Map<string, Entry>();
  const contexts = new Map<string, Entry>();
  let currentContext: string | undefined;
  for (const file of files) {
    const doc = readKubeconfigFile(file);
    collect(doc, file, 'clusters', clusters);
    collect(doc, file, 'users', users);
    collect(doc, file, 'contexts', contexts);
    const current = doc['current-context'];
    if (current !== undefined && current !== null && typeof current !== 'string') fail(file, 'current-context', 'must be a string');
    if (currentContext === undefined && current) currentContext = current;
  }
  return { files, currentContext, clusters, users, contexts };
}

/**
 * The kubeconfig files kubectl would read: `KUBECONFIG` (a `:`-separated list; files that do not exist
 * are skipped, as kubectl skips them), else `~/.kube/config`. May return an empty list.
 */
export function defaultKubeconfigPaths(env: Readonly<Record<string, string | undefined>>): string[] {
  if (env.KUBECONFIG) {
    return env.KUBECONFIG.split(delimiter).filter((p) => p && existsSync(p));
  }
  return [join(env.HOME ?? homedir(), '.kube', 'config')];
}

/** Collects problems of one context so they are reported together. */
class Problems {
  readonly list: KubeconfigProblem[] = [];
  add(file: string, field: string, message: string): void {
    this.list.push({ file, field, message });
  }
}

function pathOf(entry: Entry, path: string): string {
  return isAbsolute(path) ? path : resolve(dirname(entry.file), path);
}

function optionalString(entry: Entry, key: string, problems: Problems): string | undefined {
  const value = entry.value[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    problems.add(entry.file, `${entry.field}.${key}`, 'must be a string');
    return undefined;
  }
  return value;
}

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/** Reads `<key>` (a file path) or `<key>-data` (base64 PEM); the file wins when both are set, as in client-go. */
function pemOf(entry: Entry, key: string, problems: Problems): Buffer | undefined {
  const file = optionalString(entry, key, problems);
  const data = optionalString(entry, `${key}-data`, problems);
  if (file !== undefined) {
    const path = pathOf(entry, file);
    try {
      const pem = readFileSync(path);
      if (!PEM.test(pem.toString('latin1'))) problems.add(entry.file, `${entry.field}.${key}`, `${path} holds no PEM block`);
      return pem;
    } catch (error) {
      problems.add(entry.file, `${entry.field}.${key}`, `cannot read ${path} (${errnoText(error)})`);
      return undefined;
    }
  }
  if (data !== undefined) {
    const pem = Buffer.from(data, 'base64');
    if (!PEM.test(pem.toString('latin1'))) problems.add(entry.file, `${entry.field}.${key}-data`, 'is not base64 of a PEM block');
    return pem;
  }
  return undefined;
}

function normalizeServerUrl(entry: Entry, problems: Problems): string {
  const raw = entry.value.server;
  if (typeof raw !== 'string' || !raw) {
    problems.add(entry.file, `${entry.field}.server`, 'is missing');
    return '';
  }
  // kubectl accepts `host:port` without a scheme and means https.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    problems.add(entry.file, `${entry.field}.server`, `"${raw}" is not a URL`);
    return '';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    problems.add(entry.file, `${entry.field}.server`, `"${raw}" is not an http(s) URL`);
    return '';
  }
  if (url.username || url.password) problems.add(entry.file, `${entry.field}.server`, 'must not carry credentials (use the user entry)');
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function clusterTls(entry: Entry, problems: Problems): { server: string; tls: Omit<ClusterTlsConfig, 'cert' | 'key'> } {
  const server = normalizeServerUrl(entry, problems);
  const insecure = entry.value['insecure-skip-tls-verify'];
  if (insecure !== undefined && insecure !== null && typeof insecure !== 'boolean') {
    problems.add(entry.file, `${entry.field}.insecure-skip-tls-verify`, 'must be true or false');
  }
  const ca = pemOf(entry, 'certificate-authority', problems);
  if (insecure === true && ca) {
    // client-go refuses this combination too.
    problems.add(entry.file, `${entry.field}.insecure-skip-tls-verify`, 'cannot be true together with certificate-authority(-data)');
  }
  const proxy = optionalString(entry, 'proxy-url', problems);
  if (proxy !== undefined) {
    problems.add(entry.file, `${entry.field}.proxy-url`, `proxies are not supported by Ferry (${proxy}); reach the API server directly`);
  }
  return {
    server,
    tls: { ca, insecureSkipTlsVerify: insecure === true, serverName: optionalString(entry, 'tls-server-name', problems) },
  };
}

function impersonationHeaders(entry: Entry, problems: Problems): Record<string, string> {
  const headers: Record<string, string> = {};
  const as = optionalString(entry, 'as', problems);
  if (as !== undefined) headers['Impersonate-User'] = as;
  const uid = optionalString(entry, 'as-uid', problems);
  if (uid !== undefined) headers['Impersonate-Uid'] = uid;
  const groups = entry.value['as-groups'];
  if (groups !== undefined && groups !== null) {
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
      problems.add(entry.file, `${entry.field}.as-groups`, 'must be a list of strings');
    } else if (groups.length > 0) headers['Impersonate-Group'] = groups.join(', ');
  }
  const extra = entry.value['as-user-extra'];
  if (extra !== undefined && extra !== null) {
    if (!isObject(extra)) problems.add(entry.file, `${entry.field}.as-user-extra`, 'must be a mapping of lists');
    else {
      for (const [key, values] of Object.entries(extra)) {
        const list = Array.isArray(values) ? values : [values];
        headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = list.map(String).join(', ');
      }
    }
  }
  return headers;
}

function userAuth(entry: Entry, problems: Problems): { auth: ClusterAuth; cert: Buffer | undefined; key: Buffer | undefined } {
  const cert = pemOf(entry, 'client-certificate', problems);
  const key = pemOf(entry, 'client-key', problems);
  const hasCert = entry.value['client-certificate'] !== undefined || entry.value['client-certificate-data'] !== undefined;
  const hasKey = entry.value['client-key'] !== undefined || entry.value['client-key-data'] !== undefined;
  if (hasCert && !hasKey) problems.add(entry.file, `${entry.field}.client-key`, 'is missing (client-certificate needs its key)');
  if (hasKey && !hasCert) problems.add(entry.file, `${entry.field}.client-certificate`, 'is missing (client-key needs its certificate)');

  const token = optionalString(entry, 'token', problems);
  // `tokenFile` is kubectl's spelling; `token-file` is what client-node read, kept so those files still work.
  const tokenFileKey = entry.value.tokenFile !== undefined ? 'tokenFile' : 'token-file';
  const tokenFile = optionalString(entry, tokenFileKey, problems);
  const username = optionalString(entry, 'username', problems);
  const password = optionalString(entry, 'password', problems);
  const exec = entry.value.exec;
  const authProvider = entry.value['auth-provider'];

  const methods = [
    token !== undefined || tokenFile !== undefined ? 'token' : '',
    username !== undefined || password !== undefined ? 'basic auth' : '',
  ].filter(Boolean);
  if (methods.length > 1)
    problems.add(entry.file, entry.field, `more than one authentication method (${methods.join(', ')}); only one is allowed`);

  if (exec !== undefined && exec !== null) {
    if (!isObject(exec)) problems.add(entry.file, `${entry.field}.exec`, 'must be a mapping');
    else if (typeof exec.command !== 'string' || !exec.command) problems.add(entry.file, `${entry.field}.exec.command`, 'is missing');
    if (authProvider !== undefined && authProvider !== null)
      problems.add(entry.file, `${entry.field}.auth-provider`, 'cannot be combined with exec');
    if (methods.includes('basic auth')) problems.add(entry.file, `${entry.field}.exec`, 'cannot be combined with basic auth');
    if (isObject(exec) && typeof exec.command === 'string' && exec.command) {
      // kubectl: a relative command with a path separator is relative to the kubeconfig's directory.
      const command = exec.command.includes(sep) && !isAbsolute(exec.command) ? pathOf(entry, exec.command) : exec.command;
      return {
        auth: { type: ClusterAuthType.Plugin, userName: entry.name, exec: { ...exec, command }, authProvider: undefined },
        cert,
        key,
      };
    }
  } else if (authProvider !== undefined && authProvider !== null) {
    if (!isObject(authProvider) || typeof authProvider.name !== 'string')
      problems.add(entry.file, `${entry.field}.auth-provider.name`, 'is missing');
    else return { auth: { type: ClusterAuthType.Plugin, userName: entry.name, exec: undefined, authProvider }, cert, key };
  }

  if (token !== undefined) return { auth: { type: ClusterAuthType.Token, token }, cert, key };
  if (tokenFile !== undefined) {
    const path = pathOf(entry, tokenFile);
    try {
      return { auth: { type: ClusterAuthType.TokenFile, path, token: readFileSync(path, 'utf8').trim() }, cert, key };
    } catch (error) {
      problems.add(entry.file, `${entry.field}.${tokenFileKey}`, `cannot read ${path} (${errnoText(error)})`);
    }
  }
  if (username !== undefined || password !== undefined) {
    return { auth: { type: ClusterAuthType.Basic, username: username ?? '', password: password ?? '' }, cert, key };
  }
  return { auth: { type: ClusterAuthType.None }, cert, key };
}

/**
 * Resolves one context of merged kubeconfigs (default its current-context) into what a transport
 * needs: server, TLS material (files read now, relative to the file that names them), auth, headers.
 * Only the chosen context, its cluster and its user are checked; every problem found is reported
 * together in one KubeconfigError.
 */
export function resolveKubeconfig(merged: MergedKubeconfig, context?: string): ClusterAccessConfig {
  const where = merged.files.join(delimiter);
  const contextName = context ?? merged.currentContext;
  if (!contextName) fail(where, 'current-context', 'is not set (and no context was chosen)');
  const ctx = merged.contexts.get(contextName);
  if (!ctx) {
    const known = [...merged.contexts.keys()].join(', ') || 'none';
    fail(where, context === undefined ? 'current-context' : 'contexts', `context "${contextName}" is not defined (known: ${known})`);
  }
  const problems = new Problems();
  const clusterName = optionalString(ctx, 'cluster', problems);
  const userName = optionalString(ctx, 'user', problems);
  const namespace = optionalString(ctx, 'namespace', problems);
  const cluster = clusterName === undefined ? undefined : merged.clusters.get(clusterName);
  if (clusterName === undefined) problems.add(ctx.file, `${ctx.field}.cluster`, 'is missing');
  else if (!cluster) problems.add(ctx.file, `${ctx.field}.cluster`, `cluster "${clusterName}" is not defined`);
  const user = userName === undefined ? undefined : merged.users.get(userName);
  if (userName !== undefined && !user) problems.add(ctx.file, `${ctx.field}.user`, `user "${userName}" is not defined`);

  const { server, tls } = cluster
    ? clusterTls(cluster, problems)
    : { server: '', tls: { ca: undefined, insecureSkipTlsVerify: false, serverName: undefined } };
  const { auth, cert, key } = user
    ? userAuth(user, problems)
    : { auth: { type: ClusterAuthType.None } as const, cert: undefined, key: undefined };
  const headers = user ? impersonationHeaders(user, problems) : {};
  if (problems.list.length > 0) throw new KubeconfigError(problems.list);
  return {
    server,
    context: contextName,
    namespace,
    source: `${where} (context ${contextName})`,
    tls: { ...tls, cert, key },
    auth,
    headers,
  };
}

/** mergeKubeconfigFiles + resolveKubeconfig: the cluster access of `paths` at `context` (default its current one). */
export function loadKubeconfig(paths: readonly string[], context?: string): ClusterAccessConfig {
  if (paths.length === 0) fail('', 'KUBECONFIG', 'no kubeconfig file');
  return resolveKubeconfig(mergeKubeconfigFiles(paths), context);
}

/**
 * In-cluster credentials, as client-go reads them: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`
 * (port default 443, IPv6 hosts bracketed), the service-account `token` (re-read by the transport, so
 * rotated projected tokens are used), `ca.crt` when present, the pod's `namespace`.
 */
export function loadInClusterConfig(
  env: Readonly<Record<string, string | undefined>>,
  serviceAccountDir: string = SERVICE_ACCOUNT_DIR,
): ClusterAccessConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  if (!host) fail('in-cluster', 'KUBERNETES_SERVICE_HOST', 'is not set (not running in a pod)');
  const tokenPath = join(serviceAccountDir, 'token');
  let token: string;
  try {
    token = readFileSync(tokenPath, 'utf8').trim();
  } catch (error) {
    fail(tokenPath, '', `cannot read the service-account token (${errnoText(error)})`);
  }
  let ca: Buffer | undefined;
  try {
    ca = readFileSync(join(serviceAccountDir, 'ca.crt'));
  } catch {
    ca = undefined; // client-go goes on with the system's roots too
  }
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(serviceAccountDir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  const hostPart = isIPv6(host) ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    context: 'in-cluster',
    namespace,
    source: 'in-cluster',
    tls: { ca, cert: undefined, key: undefined, insecureSkipTlsVerify: false, serverName: undefined },
    auth: { type: ClusterAuthType.TokenFile, path: tokenPath, token },
    headers: {},
  };
}
