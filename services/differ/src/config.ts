import { createEnvReader, loadCommonConfig } from '@ferry/runtime';
import type { CommonConfig } from '@ferry/runtime';
import { readClusterSettings, type ClusterSettings } from '@ferry/kube';

/** The differ's resolved configuration (frozen). docs/configuration.md lists every variable. */
export interface DifferConfig extends CommonConfig, ClusterSettings {
  /** FERRY_DIFF_DEBOUNCE_MS: watch events of one app within this window cause one re-comparison. Default 100. */
  readonly debounceMs: number;
  /** FERRY_DIFF_CONCURRENCY: revision.detected events handled at once (one app is never compared twice at once). Default 4. */
  readonly concurrency: number;
  /** FERRY_DIFF_RETRY_MS: delay before a comparison that failed transiently (cluster unreachable) is retried. Default 5000. */
  readonly retryMs: number;
  /** FERRY_DIFF_RESYNC_MS: every app is re-compared from the cache (and failed watches retried) this often. Default 60000. */
  readonly resyncMs: number;
}


/**
 * Reads the differ's configuration from `env` (and the clusters file it names). Throws ConfigError
 * (FERRY_ERR_CONFIG_INVALID) listing every problem (common, service-specific, clusters file) at once.
 */
export function loadConfig(env: Record<string, string | undefined>): DifferConfig {
  const reader = createEnvReader(env);
  const common = loadCommonConfig(env, 'differ', { reader });
  const debounceMs = reader.int('FERRY_DIFF_DEBOUNCE_MS', 100, { min: 0, max: 60_000 });
  const concurrency = reader.int('FERRY_DIFF_CONCURRENCY', 4, { min: 1, max: 64 });
  const retryMs = reader.int('FERRY_DIFF_RETRY_MS', 5_000, { min: 10, max: 600_000 });
  const resyncMs = reader.int('FERRY_DIFF_RESYNC_MS', 60_000, { min: 100, max: 86_400_000 });
  const clusterSettings = readClusterSettings(reader, env);
  reader.finish();
  return Object.freeze({
    ...common,
    ...clusterSettings,
    debounceMs,
    concurrency,
    retryMs,
    resyncMs,
  });
}
