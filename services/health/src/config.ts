import { createEnvReader, loadCommonConfig } from '@ferry/runtime';
import type { CommonConfig } from '@ferry/runtime';
import { readClusterSettings, type ClusterSettings } from '@ferry/kube';

/** The health service's resolved configuration (frozen). docs/configuration.md lists every variable. */
export interface HealthConfig extends CommonConfig, ClusterSettings {
  /** FERRY_HEALTH_DEBOUNCE_MS: watch events of one app within this window cause one assessment. Default 100. */
  readonly debounceMs: number;
  /** FERRY_HEALTH_RESYNC_MS: every app is re-assessed (and missing watches retried) this often. Default 30000. */
  readonly resyncMs: number;
  /** FERRY_HEALTH_CONCURRENCY: sync events handled at once. Default 4. */
  readonly concurrency: number;
}


/**
 * Reads the health service's configuration from `env`. Throws ConfigError (FERRY_ERR_CONFIG_INVALID)
 * listing every problem (common and service-specific) at once.
 */
export function loadConfig(env: Record<string, string | undefined>): HealthConfig {
  const reader = createEnvReader(env);
  const common = loadCommonConfig(env, 'health', { reader });
  const debounceMs = reader.int('FERRY_HEALTH_DEBOUNCE_MS', 100, { min: 0, max: 60_000 });
  const resyncMs = reader.int('FERRY_HEALTH_RESYNC_MS', 30_000, { min: 100, max: 86_400_000 });
  const concurrency = reader.int('FERRY_HEALTH_CONCURRENCY', 4, { min: 1, max: 64 });
  const clusterSettings = readClusterSettings(reader, env);
  reader.finish();
  return Object.freeze({
    ...common,
    ...clusterSettings,
    debounceMs,
    resyncMs,
    concurrency,
  });
}
