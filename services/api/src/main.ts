/** The api process: env → config → start → signals → exit code. */
import { createLogger, runMain } from '@ferry/runtime';
import { loadConfig, type ApiConfig } from './config.js';
import { start } from './service.js';

let config: ApiConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  createLogger({ name: 'api', level: 'info' }).fatal({ err: error, code: (error as { code?: string }).code }, 'invalid configuration');
  process.exit(1);
}
const logger = createLogger({ name: config.serviceName, level: config.logLevel });
runMain(() => start(config, { logger }), { logger, graceMs: config.shutdownGraceMs });
