/**
 * The clusters file (FERRY_CLUSTERS_FILE): Ferry's named clusters other than the default one.
 *
 * ```yaml
 * clusters:
 *   - name: prod                      # destination.name; `in-cluster` is reserved
 *     kubeconfig: /etc/ferry/prod.kubeconfig   # relative paths are relative to this file
 *     context: prod-admin             # optional; default the kubeconfig's current context
 *     server: https://prod.example:6443   # optional; checked against the kubeconfig's server
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';

/** One named cluster as the file declares it (kubeconfig path resolved). */
export interface NamedCluster {
  readonly name: string;
  readonly kubeconfigPath: string;
  readonly context?: string;
  /** When given, the kubeconfig's server must be this URL (a guard against a wrong file). */
  readonly server?: string;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const FIELDS = new Set(['name', 'kubeconfig', 'context', 'server']);

/**
 * Parses the clusters file. Returns the clusters and every problem found (each naming the entry and
 * field, with the line when known); the caller reports problems as configuration errors.
 */
export function parseClustersFile(text: string, file: string): { clusters: NamedCluster[]; problems: string[] } {
  const problems: string[] = [];
  const doc = parseDocument(text, { prettyErrors: false });
  for (const error of doc.errors) problems.push(`${file}:${error.linePos?.[0]?.line ?? 0}: ${error.message.split('\n')[0]}`);
  if (problems.length > 0) return { clusters: [], problems };
  const root: unknown = doc.toJS();
  if (root === null || root === undefined) return { clusters: [], problems };
  if (typeof root !== 'object' || Array.isArray(root))
    return { clusters: [], problems: [`${file}: expected a mapping with a 'clusters' list`] };
  const unknownTop = Object.keys(root).filter((k) => k !== 'clusters');
  for (const k of unknownTop) problems.push(`${file}: unknown field '${k}'`);
  const list = (root as { clusters?: unknown }).clusters;
  if (list === undefined || list === null) return { clusters: [], problems };
  if (!Array.isArray(list)) return { clusters: [], problems: [...problems, `${file}: 'clusters' must be a list`] };
  const clusters: NamedCluster[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, i) => {
    const at = `${file}: clusters[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be a mapping`);
      return;
    }
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!FIELDS.has(k)) problems.push(`${at}: unknown field '${k}'`);
    const { name, kubeconfig, context, server } = e;
    let ok = true;
    if (typeof name !== 'string' || !NAME.test(name)) {
      problems.push(`${at}.name must be a lowercase DNS name`);
      ok = false;
    } else if (name === 'in-cluster') {
      problems.push(`${at}.name 'in-cluster' is reserved for the default cluster`);
      ok = false;
    } else if (seen.has(name)) {
      problems.push(`${at}.name '${name}' is declared twice`);
      ok = false;
    }
    if (typeof kubeconfig !== 'string' || kubeconfig === '') {
      problems.push(`${at}.kubeconfig must be a path`);
      ok = false;
    }
    if (context !== undefined && typeof context !== 'string') {
      problems.push(`${at}.context must be a string`);
      ok = false;
    }
    if (server !== undefined && (typeof server !== 'string' || !URL.canParse(server))) {
      problems.push(`${at}.server must be a URL`);
      ok = false;
    }
    if (!ok) return;
    seen.add(name as string);
    const path = isAbsolute(kubeconfig as string) ? (kubeconfig as string) : resolve(dirname(file), kubeconfig as string);
    clusters.push({
      name: name as string,
      kubeconfigPath: path,
      ...(typeof context === 'string' ? { context } : {}),
      ...(typeof server === 'string' ? { server } : {}),
    });
  });
  return { clusters, problems };
}

/**
 * Reads and parses the clusters file at `path`; an unreadable file is one more problem. Services
 * report the problems as configuration errors of FERRY_CLUSTERS_FILE.
 */
export function loadClustersFile(path: string): { clusters: NamedCluster[]; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { clusters: [], problems: [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`] };
  }
  return parseClustersFile(text, path);
}

/** The `clusters` option of resolveClusters for the clusters a file names. */
export function clusterOptionsOf(clusters: readonly NamedCluster[]): Record<string, { kubeconfigPath: string; context?: string }> {
  return Object.fromEntries(
    clusters.map((c) => [c.name, { kubeconfigPath: c.kubeconfigPath, ...(c.context === undefined ? {} : { context: c.context }) }]),
  );
}

/** The environment a cluster registry reads (KUBECONFIG, in-cluster service host and port, HOME). */
const KUBE_ENV = ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'HOME'] as const;

/** Where a service's clusters come from: FERRY_KUBECONFIG, FERRY_CLUSTERS_FILE and the kube environment. */
export interface ClusterSettings {
  /** FERRY_KUBECONFIG: the default cluster's kubeconfig; unset = KUBECONFIG, in-cluster, `~/.kube/config`. */
  readonly kubeconfigPath?: string;
  /** FERRY_CLUSTERS_FILE: the YAML file naming other clusters. */
  readonly clustersFile?: string;
  /** The clusters the file names (empty without a file). */
  readonly clusters: readonly NamedCluster[];
  /** The environment the cluster registry reads (non-empty KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, HOME). */
  readonly kubeEnv: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads the cluster settings every cluster-facing service shares, recording problems (an unreadable
 * or invalid clusters file) into the service's config reader so they come in its one error.
 */
export function readClusterSettings(
  reader: { string(name: string): string | undefined; problem(name: string, text: string): void },
  env: Record<string, string | undefined>,
): ClusterSettings {
  const kubeconfigPath = reader.string('FERRY_KUBECONFIG');
  const clustersFile = reader.string('FERRY_CLUSTERS_FILE');
  let clusters: NamedCluster[] = [];
  if (clustersFile !== undefined) {
    const loaded = loadClustersFile(clustersFile);
    for (const p of loaded.problems) reader.problem('FERRY_CLUSTERS_FILE', p);
    clusters = loaded.clusters;
  }
  const kubeEnv: Record<string, string | undefined> = {};
  for (const name of KUBE_ENV) {
    const value = env[name];
    if (value !== undefined && value !== '') kubeEnv[name] = value;
  }
  return {
    ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
    ...(clustersFile === undefined ? {} : { clustersFile }),
    clusters: Object.freeze(clusters),
    kubeEnv: Object.freeze(kubeEnv),
  };
}
