// The health service's public API: the process (start, loadConfig) and the pure domain
// (assessment, aggregation, offline assessment of manifest files).
export { start, type HealthDeps, type HealthService } from './service.js';
export { loadConfig, type HealthConfig } from './config.js';
export { assessApp, LiveState, type AppHealth, type AppHealthInput, type LiveObject } from './app-health.js';
export type { StoredHealthRecord } from './health-monitor.js';
export { AssessmentResult } from './metrics.js';
export { HealthStatus, healthOrder, isHealthStatus, isWorse, worst } from './domain/health-status.js';
export {
  HealthAnnotation,
  HookFinalizer,
  assessHealth,
  hasHealthCheck,
  isHook,
  parseApiVersion,
  type HealthAssessment,
} from './domain/assess.js';
export { aggregateHealth, type ResourceHealthInput } from './domain/aggregate.js';
export {
  HealthInputError,
  HealthParseError,
  NoHealth,
  assessFiles,
  parseManifests,
  type FileHealth,
  type ManifestObject,
} from './domain/assess-files.js';
export { FieldTypeError, type KubeObject } from './domain/fields.js';
