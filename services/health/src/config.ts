import { createEnvReader, loadCommonConfig } from '@ferry/runtime';
import type { CommonConfig } from '@ferry/runtime';
import { loadClustersFile, type NamedCluster } from '@ferry/kube';

/** The health service's resolved configuration (frozen). docs/configuration.md lists every variable. */
export interface HealthConfig extends CommonConfig {
  /**
   * FERRY_KUBECONFIG: kubeconfig of the default cluster. Unset: KUBECONFIG (a list, merged as kubectl
   * does), else in-cluster credentials inside a pod, else `~/.kube/config`.
   */
  readonly kubeconfigPath?: string;
  /** FERRY_CLUSTERS_FILE: YAML `clusters: [{ name, kubeconfig, context?, server? }]` naming other clusters (docs/clusters.md). */
  readonly clustersFile?: string;
  /** The clusters the file names (empty without a file). */
  readonly clusters: readonly NamedCluster[];
  /** The environment the cluster registry reads (KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, HOME). */
  readonly kubeEnv: Readonly<Record<string, string | undefined>>;
  /** FERRY_HEALTH_DEBOUNCE_MS: watch events of one app within this window cause one assessment. Default 100. */
  readonly debounceMs: number;
  /** FERRY_HEALTH_RESYNC_MS: every app is re-assessed (and missing watches retried) this often. Default 30000. */
  readonly resyncMs: number;
  /** FERRY_HEALTH_CONCURRENCY: sync events handled at once. Default 4. */
  readonly concurrency: number;
}

const KUBE_ENV = ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'HOME'] as const;

/**
 * Reads the health service's configuration from `env`. Throws ConfigError (FERRY_ERR_CONFIG_INVALID)
 * listing every problem (common and service-specific) at once.
 */
export function loadConfig(env: Record<string, string | undefined>): HealthConfig {
  const reader = createEnvReader(env);
  const common = loadCommonConfig(env, 'health', { reader });
  const kubeconfigPath = reader.string('FERRY_KUBECONFIG');
  const debounceMs = reader.int('FERRY_HEALTH_DEBOUNCE_MS', 100, { min: 0, max: 60_000 });
  const resyncMs = reader.int('FERRY_HEALTH_RESYNC_MS', 30_000, { min: 100, max: 86_400_000 });
  const concurrency = reader.int('FERRY_HEALTH_CONCURRENCY', 4, { min: 1, max: 64 });
  const clustersFile = reader.string('FERRY_CLUSTERS_FILE');
  let clusters: NamedCluster[] = [];
  if (clustersFile !== undefined) {
    const loaded = loadClustersFile(clustersFile);
    for (const p of loaded.problems) reader.problem('FERRY_CLUSTERS_FILE', p);
    clusters = loaded.clusters;
  }
  reader.finish();
  const kubeEnv: Record<string, string | undefined> = {};
  for (const name of KUBE_ENV) {
    const value = env[name];
    if (value !== undefined && value !== '') kubeEnv[name] = value;
  }
  return Object.freeze({
    ...common,
    ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
    ...(clustersFile === undefined ? {} : { clustersFile }),
    clusters: Object.freeze(clusters),
    kubeEnv: Object.freeze(kubeEnv),
    debounceMs,
    resyncMs,
    concurrency,
  });
}
