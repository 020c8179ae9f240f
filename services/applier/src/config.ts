import { DEFAULT_FIELD_MANAGER, readClusterSettings, type ClusterSettings } from '@ferry/kube';
import { createEnvReader, loadCommonConfig } from '@ferry/runtime';
import type { CommonConfig } from '@ferry/runtime';

/** The applier's resolved configuration (frozen). docs/configuration.md lists every variable. */
export interface ApplierConfig extends CommonConfig, ClusterSettings {
  /** FERRY_SELF_HEAL_INTERVAL_MS: least time between the end of a sync and a self-heal sync of the same app. Default 5000. */
  readonly selfHealIntervalMs: number;
  /** FERRY_SYNC_LEASE_TTL_MS: per-app sync lease lifetime (renewed every third of it while a sync runs). Default 30000. */
  readonly syncLeaseTtlMs: number;
  /** FERRY_FIELD_MANAGER: server-side apply field manager. Default `ferry`. */
  readonly fieldManager: string;
  /** FERRY_APPLIER_CONCURRENCY: diff.computed events handled at once (syncs of one app never overlap). Default 4. */
  readonly concurrency: number;
  /** FERRY_APPLIER_RETRY_MS: delay before an event is retried after a transient failure or a held lease. Default 1000. */
  readonly retryMs: number;
  /** FERRY_APPLIER_ACK_WAIT_MS: JetStream ack wait of the applier's consumers; an event held by a crashed replica is redelivered after it (a running sync keeps its event alive meanwhile). Default 30000. */
  readonly ackWaitMs: number;
  /** FERRY_SYNC_WAVE_TIMEOUT_MS: longest wait at the end of one sync wave (hooks finishing, resources Healthy, prunes gone) before the sync fails. Default 300000 (5 min). */
  readonly syncWaveTimeoutMs: number;
}

/**
 * Reads the applier's configuration from `env` (and the clusters file it names). Throws ConfigError
 * (FERRY_ERR_CONFIG_INVALID) listing every problem (common, applier, clusters file) at once.
 */
export function loadConfig(env: Record<string, string | undefined>): ApplierConfig {
  const reader = createEnvReader(env);
  const common = loadCommonConfig(env, 'applier', { reader });
  const selfHealIntervalMs = reader.int('FERRY_SELF_HEAL_INTERVAL_MS', 5_000, { min: 0, max: 86_400_000 });
  const syncLeaseTtlMs = reader.int('FERRY_SYNC_LEASE_TTL_MS', 30_000, { min: 300, max: 600_000 });
  const fieldManager = reader.string('FERRY_FIELD_MANAGER', DEFAULT_FIELD_MANAGER);
  const concurrency = reader.int('FERRY_APPLIER_CONCURRENCY', 4, { min: 1, max: 64 });
  const retryMs = reader.int('FERRY_APPLIER_RETRY_MS', 1_000, { min: 10, max: 600_000 });
  const ackWaitMs = reader.int('FERRY_APPLIER_ACK_WAIT_MS', 30_000, { min: 500, max: 3_600_000 });
  const syncWaveTimeoutMs = reader.int('FERRY_SYNC_WAVE_TIMEOUT_MS', 300_000, { min: 100, max: 86_400_000 });
  if (!/^[A-Za-z0-9][-A-Za-z0-9_.:]{0,127}$/.test(fieldManager)) {
    reader.problem('FERRY_FIELD_MANAGER', 'must be 1-128 characters: letters, digits, -, _, ., :');
  }
  const clusterSettings = readClusterSettings(reader, env);
  reader.finish();
  return Object.freeze({
    ...common,
    ...clusterSettings,
    selfHealIntervalMs,
    syncLeaseTtlMs,
    fieldManager,
    concurrency,
    retryMs,
    ackWaitMs,
    syncWaveTimeoutMs,
  });
}
