// The health service's public API. For now: the pure domain (assessment, aggregation, offline
// assessment of manifest files). Service wiring is added beside these exports.
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
