import { readFileSync } from 'node:fs';
import { createEnvReader, loadCommonConfig } from '@ferry/runtime';
import type { CommonConfig } from '@ferry/runtime';
import { emptyNotificationsConfig, parseNotificationsConfig, type NotificationsConfig } from './domain/notifications-config.js';

/** The notifier's resolved configuration (frozen). docs/notifications.md and docs/configuration.md list every variable. */
export interface NotifierConfig extends CommonConfig {
  /** FERRY_NOTIFIER_CONFIG: path of the YAML config file. Unset: no channels (triggers are still evaluated). */
  readonly configFile?: string;
  /** The parsed file (channels, subscriptions, templates); empty when no file is configured. */
  readonly notifications: NotificationsConfig;
  /** FERRY_NOTIFIER_CONCURRENCY: events handled at once per consumer. Default 4. */
  readonly concurrency: number;
}

/**
 * Reads the notifier's configuration from `env` and, when FERRY_NOTIFIER_CONFIG is set, the file it
 * names (secrets named by `secretEnv`/`urlEnv` are read from `env`). Throws ConfigError
 * (FERRY_ERR_CONFIG_INVALID) listing every environment problem at once (an unreadable file is one of
 * them), then NotifierConfigError (FERRY_ERR_NOTIFIER_CONFIG_INVALID) listing every problem in the file.
 */
export function loadConfig(env: Record<string, string | undefined>): NotifierConfig {
  const reader = createEnvReader(env);
  const common = loadCommonConfig(env, 'notifier', { reader });
  const configFile = reader.string('FERRY_NOTIFIER_CONFIG');
  const concurrency = reader.int('FERRY_NOTIFIER_CONCURRENCY', 4, { min: 1, max: 64 });
  let text: string | undefined;
  if (configFile !== undefined) {
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (error) {
      reader.problem('FERRY_NOTIFIER_CONFIG', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  reader.finish();
  const notifications =
    configFile !== undefined && text !== undefined ? parseNotificationsConfig(text, { file: configFile, env }) : emptyNotificationsConfig();
  return Object.freeze({
    ...common,
    ...(configFile === undefined ? {} : { configFile }),
    notifications,
    concurrency,
  });
}
