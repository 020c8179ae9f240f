import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ErrorCode, IN_CLUSTER_NAME, IN_CLUSTER_SERVER } from '@ferry/contracts';
import { createClusterClient, type ClusterClient } from './client.js';
import { createCredentials, type CredentialsOptions } from './credentials.js';
import { KubeError } from './errors.js';
import {
  KubeconfigError,
  SERVICE_ACCOUNT_DIR,
  defaultKubeconfigPaths,
  loadInClusterConfig,
  loadKubeconfig,
  type ClusterAccessConfig,
} from './kubeconfig.js';
import { KubeTransport } from './transport.js';

export { SERVICE_ACCOUNT_DIR };

/** A named cluster other than the default. */
export interface ClusterOptions {
  /** Kubeconfig file holding the cluster and its credentials. */
  kubeconfigPath: string;
  /** Context to use; default the file's current context. */
  context?: string;
}

export interface ResolveClustersOptions {
  /**
   * Kubeconfig of Ferry's default cluster. When given it wins over in-cluster detection; when not,
   * in-cluster credentials are used inside a pod, else `KUBECONFIG` (a list, merged as kubectl does),
   * else `~/.kube/config`.
   */
  kubeconfigPath?: string;
  /** true: in-cluster credentials only; false: never; omitted: detect (KUBERNETES_SERVICE_HOST + token file). */
  inCluster?: boolean;
  /** Other clusters by name (`destination.name`); also found by their server URL (`destination.server`). */
  clusters?: Record<string, ClusterOptions>;
  /** Environment read for KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, HOME. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Service-account directory (token, ca.crt, namespace). Default SERVICE_ACCOUNT_DIR. */
  serviceAccountDir?: string;
  /** Per-request timeout in ms (watches excepted). Default 30000. */
  requestTimeoutMs?: number;
  /**
   * Token files (`tokenFile`, the in-cluster service-account token) are read again when older than
   * this, in ms (client-go's period); 0 reads them on every request. Default 60000.
   */
  tokenFileRefreshMs?: number;
}

/** An app's `spec.destination` (or any part of it). */
export interface DestinationRef {
  server?: string;
  name?: string;
}

/** What the registry knows about one cluster. */
export interface ClusterInfo {
  /** `in-cluster` for the default, else the configured name. */
  name: string;
  /** API server URL ('' when the default cluster could not be loaded). */
  server: string;
  /** Where the credentials came from: `in-cluster`, or the kubeconfig path(s) and context. */
  source: string;
  isDefault: boolean;
}

/** The clusters Ferry can reach, each with one shared client. */
export interface ClusterRegistry {
  /**
   * The client for an app's destination: `server: https://kubernetes.default.svc` or `name: in-cluster`
   * mean the default cluster; other names and server URLs are looked up among the configured clusters.
   * FERRY_ERR_KUBE_CLUSTER_UNKNOWN when nothing matches (or name and server disagree);
   * FERRY_ERR_KUBE_CONFIG_INVALID when the default cluster is meant but could not be loaded.
   */
  forDestination(destination: DestinationRef): ClusterClient;
  /** The default cluster's client (same errors as forDestination). */
  defaultClient(): ClusterClient;
  /** Every configured cluster, the default first. */
  clusters(): ClusterInfo[];
  /** Closes every client created; idempotent. */
  close(): Promise<void>;
}

interface LoadedCluster {
  info: ClusterInfo;
  access: ClusterAccessConfig | undefined;
  /** Why the cluster cannot be used (default cluster only; named clusters fail resolveClusters). */
  problem: KubeError | undefined;
}

function normalizeServer(server: string): string {
  try {
    const url = new URL(server);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return server.replace(/\/+$/, '').toLowerCase();
  }
}

function loadDefault(options: ResolveClustersOptions, env: Readonly<Record<string, string | undefined>>): LoadedCluster {
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const base = { name: IN_CLUSTER_NAME, isDefault: true };
  const detectInCluster = (): boolean => Boolean(env.KUBERNETES_SERVICE_HOST) && existsSync(join(dir, 'token'));
  const useInCluster =
    options.inCluster === true || (options.inCluster === undefined && options.kubeconfigPath === undefined && detectInCluster());
  try {
    let access: ClusterAccessConfig;
    if (useInCluster) access = loadInClusterConfig(env, dir);
    else {
      const paths = options.kubeconfigPath !== undefined ? [options.kubeconfigPath] : defaultKubeconfigPaths(env);
      if (paths.length === 0 || (options.kubeconfigPath === undefined && !existsSync(paths[0] as string))) {
        const where = env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG}` : paths.join(delimiter);
        throw new KubeconfigError([{ file: where, field: '', message: 'no kubeconfig there and not running in a pod' }]);
      }
      access = loadKubeconfig(paths);
    }
    return { info: { ...base, server: access.server, source: access.source }, access, problem: undefined };
  } catch (error) {
    const problem =
      error instanceof KubeError
        ? error
        : new KubeError(ErrorCode.KubeConfigInvalid, `failed to load kubeconfig: ${String(error)}`, {
            operation: 'configure',
            cause: error,
          });
    return { info: { ...base, server: '', source: 'unavailable' }, access: undefined, problem };
  }
}

class Registry implements ClusterRegistry {
  private readonly loaded: LoadedCluster[];
  private readonly clients = new Map<string, ClusterClient>();
  private readonly requestTimeoutMs: number;
  private readonly credentialOptions: CredentialsOptions;
  private closing: Promise<void> | undefined;

  constructor(loaded: LoadedCluster[], requestTimeoutMs: number, credentialOptions: CredentialsOptions) {
    this.loaded = loaded;
    this.requestTimeoutMs = requestTimeoutMs;
    this.credentialOptions = credentialOptions;
  }

  private clientOf(cluster: LoadedCluster): ClusterClient {
    if (this.closing) {
      throw new KubeError(ErrorCode.KubeRequest, `failed to use cluster ${cluster.info.name}: the cluster registry is closed`, {
        cluster: cluster.info.name,
        operation: 'connect',
      });
    }
    const existing = this.clients.get(cluster.info.name);
    if (existing) return existing;
    if (!cluster.access) {
      throw new KubeError(
        ErrorCode.KubeConfigInvalid,
        `failed to use cluster ${cluster.info.name}: ${cluster.problem?.message ?? 'not loaded'}`,
        {
          cluster: cluster.info.name,
          operation: 'connect',
          ...(cluster.problem ? { cause: cluster.problem } : {}),
        },
      );
    }
    const credentials = createCredentials(cluster.access, this.credentialOptions);
    const client = createClusterClient({
      name: cluster.info.name,
      transport: new KubeTransport(cluster.access, credentials, { requestTimeoutMs: this.requestTimeoutMs }),
    });
    this.clients.set(cluster.info.name, client);
    return client;
  }

  private unknown(what: string): KubeError {
    const known = this.loaded.map((c) => c.info.name).join(', ');
    return new KubeError(
      ErrorCode.KubeClusterUnknown,
      `failed to resolve destination: ${what} is not a configured cluster (known: ${known})`,
      {
        operation: 'resolve',
        resource: what,
      },
    );
  }

  private find(destination: DestinationRef): LoadedCluster {
    const byName = destination.name ? this.loaded.find((c) => c.info.name === destination.name) : undefined;
    const server = destination.server ? normalizeServer(destination.server) : undefined;
    const byServer =
      server === undefined
        ? undefined
        : server === normalizeServer(IN_CLUSTER_SERVER)
          ? this.loaded[0]
          : this.loaded.find((c) => c.info.server && normalizeServer(c.info.server) === server);
    if (destination.name && !byName) throw this.unknown(`cluster name "${destination.name}"`);
    if (destination.server && !byServer) throw this.unknown(`server ${destination.server}`);
    if (byName && byServer && byName !== byServer) {
      throw this.unknown(`name "${destination.name}" with server ${destination.server} (they name different clusters)`);
    }
    const found = byName ?? byServer;
    if (!found) throw this.unknown('a destination with neither name nor server');
    return found;
  }

  forDestination(destination: DestinationRef): ClusterClient {
    return this.clientOf(this.find(destination));
  }

  defaultClient(): ClusterClient {
    return this.clientOf(this.loaded[0] as LoadedCluster);
  }

  clusters(): ClusterInfo[] {
    return this.loaded.map((c) => ({ ...c.info }));
  }

  close(): Promise<void> {
    this.closing ??= Promise.all([...this.clients.values()].map((c) => c.close())).then(() => undefined);
    return this.closing;
  }
}

/**
 * Loads Ferry's clusters once: the default (`in-cluster`) and every named one. A named cluster whose
 * kubeconfig cannot be loaded fails here (FERRY_ERR_KUBE_CONFIG_INVALID, every problem listed); the
 * default cluster failing is reported when it is first used, so a Ferry that deploys only to named
 * clusters starts without one. Clients are created on first use, once per cluster.
 */
export function resolveClusters(options: ResolveClustersOptions = {}): ClusterRegistry {
  const env = options.env ?? process.env;
  const loaded: LoadedCluster[] = [loadDefault(options, env)];
  const problems: string[] = [];
  const causes: unknown[] = [];
  for (const [name, cluster] of Object.entries(options.clusters ?? {})) {
    if (name === IN_CLUSTER_NAME) {
      problems.push(`cluster name "${IN_CLUSTER_NAME}" is reserved for the default cluster`);
      continue;
    }
    try {
      const access = loadKubeconfig([cluster.kubeconfigPath], cluster.context);
      loaded.push({ info: { name, server: access.server, source: access.source, isDefault: false }, access, problem: undefined });
    } catch (error) {
      causes.push(error);
      problems.push(`cluster "${name}": ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) {
    throw new KubeError(ErrorCode.KubeConfigInvalid, `failed to load clusters: ${problems.join('; ')}`, {
      operation: 'configure',
      cause: causes[0],
    });
  }
  return new Registry(loaded, options.requestTimeoutMs ?? 30_000, {
    ...(options.tokenFileRefreshMs === undefined ? {} : { tokenFileRefreshMs: options.tokenFileRefreshMs }),
  });
}
