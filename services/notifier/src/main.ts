// The notifier process: environment → config → start → signals → exit code.
import { createLogger, runMain } from '@ferry/runtime';
import { loadConfig } from './config.js';
import { start } from './service.js';

const bootLogger = createLogger({ name: 'notifier', level: process.env['FERRY_LOG_LEVEL'] ?? 'info' });
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  bootLogger.fatal({ err: error, code: (error as { code?: string }).code }, 'invalid configuration');
  process.exit(1);
}
const logger = createLogger({ name: config.serviceName, level: config.logLevel });
runMain(() => start(config, { logger }), { logger, graceMs: config.shutdownGraceMs });
