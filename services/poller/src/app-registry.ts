/** The apps the poller knows: a live view of the `ferry-apps` KV bucket, validated at the edge. */
import { parseApplication } from '@ferry/contracts';
import type { Application } from '@ferry/contracts';
import type { JsonKv, KvWatch, Logger } from '@ferry/runtime';

export interface AppRegistry {
  /** Valid apps, by name order. */
  list(): Application[];
  /** The app as the bucket holds it now (read from KV, not the watch view); undefined when absent or invalid. */
  fetch(name: string): Promise<Application | undefined>;
  readonly size: number;
  /** Stops watching. Idempotent. */
  stop(): Promise<void>;
}

export interface StartAppRegistryOptions {
  appsKv: JsonKv<unknown>;
  logger: Logger;
  /** Called after every change (for the gauge). */
  onChange?: (count: number) => void;
  /** Called when an app disappears from the bucket. */
  onDeleted?: (name: string) => void;
}

function validate(key: string, value: unknown, logger: Logger): Application | undefined {
  try {
    const app = parseApplication(value);
    if (app.metadata.name !== key) {
      logger.warn({ key, name: app.metadata.name }, 'app entry key differs from metadata.name; ignored');
      return undefined;
    }
    return app;
  } catch (error) {
    logger.warn({ key, err: error, code: (error as { code?: string }).code }, 'invalid app entry ignored');
    return undefined;
  }
}

/** Watches the apps bucket; resolves once the current entries are loaded. */
export async function startAppRegistry(options: StartAppRegistryOptions): Promise<AppRegistry> {
  const { appsKv, logger } = options;
  const apps = new Map<string, Application>();
  const watch: KvWatch = await appsKv.watch((key, value) => {
    if (value === undefined) {
      const had = apps.delete(key);
      if (had) options.onDeleted?.(key);
    } else {
      const app = validate(key, value, logger);
      if (app === undefined) apps.delete(key);
      else apps.set(key, app);
    }
    options.onChange?.(apps.size);
  });
  options.onChange?.(apps.size);
  return {
    list: () => [...apps.keys()].sort().map((k) => apps.get(k) as Application),
    async fetch(name) {
      const entry = await appsKv.get(name);
      if (entry === undefined) return undefined;
      return validate(name, entry.value, logger);
    },
    get size() {
      return apps.size;
    },
    stop: () => watch.stop(),
  };
}
