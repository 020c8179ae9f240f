// The differ's public API: the process (start, loadConfig) and the pure comparison domain.
export { start, clustersFromConfig, type DifferDeps, type DifferService } from './service.js';
export { loadConfig, type DifferConfig } from './config.js';
export { FIELD_MANAGER, type CompareOutcome, type RevisionOutcome } from './app-comparer.js';
export { REVISION_DURABLE, revisionFilter } from './handlers/revision-detected.js';
export { ComparisonResult } from './metrics.js';
export {
  DiffState,
  compareApp,
  compareOptionsOf,
  compareResource,
  isHook,
  normalizeObject,
  type AppDiff,
  type AppResourceDiff,
  type CompareOptions,
  type ResourceDiff,
} from './domain/compare.js';
export { applyPatch, jsonPatch, type JsonPatchOperation } from './domain/json-patch.js';
export { unifiedDiff } from './domain/unified-diff.js';
export {
  MAX_DIFF_BYTES,
  appDiffs,
  diffsHash,
  diffsKey,
  resourceDiffEntry,
  toYaml,
  type AppDiffs,
  type ResourceDiffEntry,
} from './domain/diffs.js';
export { parseQuantity, sameQuantity } from './domain/quantity.js';
export { fieldsRemovedFromDesired, type RemovedField } from './domain/managed-fields.js';
export {
  ArtifactError,
  comparedRecord,
  driftMessageId,
  failedRecord,
  kindsOf,
  parseArtifact,
  revisionMessageId,
  statusesHash,
  toResourceComparison,
  withComparisonError,
  withoutComparisonError,
  type RecordContext,
  type StoredComparisonRecord,
} from './domain/result.js';
