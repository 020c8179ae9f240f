export type { ApiResource, KubeLogger, KubeObject, ObjectMeta, ObjectRef, WatchEvent } from './types.js';
export { WatchEventType } from './types.js';
export {
  KubeError,
  codeForStatus,
  isTransient,
  parseStatusBody,
  type KubeErrorCode,
  type KubeErrorContext,
  type ParsedStatus,
} from './errors.js';
export {
  DEFAULT_FIELD_MANAGER,
  discoverScopes,
  type ApplyOptions,
  type ClusterClient,
  type DeleteOptions,
  type ListOptions,
  type ListResult,
  type WriteOptions,
  type RawWatchEvent,
  type WatchStreamOptions,
} from './client.js';
export {
  SERVICE_ACCOUNT_DIR,
  resolveClusters,
  type ClusterInfo,
  type ClusterOptions,
  type ClusterRegistry,
  type DestinationRef,
  type ResolveClustersOptions,
} from './clusters.js';
export {
  ClusterAuthType,
  KubeconfigError,
  defaultKubeconfigPaths,
  loadInClusterConfig,
  loadKubeconfig,
  mergeKubeconfigFiles,
  resolveKubeconfig,
  type ClusterAccessConfig,
  type ClusterAuth,
  type ClusterTlsConfig,
  type KubeconfigProblem,
  type MergedKubeconfig,
} from './kubeconfig.js';
export { createCredentials, type ClusterCredentials, type CredentialsOptions, type RequestAuth } from './credentials.js';
export { startWatchCache, type WatchCache, type WatchCacheOptions } from './watch-cache.js';
export { describeRef, groupOf, refOf, resourceKey, versionOf } from './domain/identity.js';
export {
  TRACKING_ANNOTATION,
  isTrackedBy,
  parseTrackingId,
  trackingApp,
  trackingId,
  withTracking,
  type TrackingId,
} from './domain/tracking.js';
export { KIND_ORDER, kindOrder, sortForApply, sortForPrune } from './domain/kind-order.js';
export { applyBody } from './domain/apply-body.js';
export { prepareDesired, type NamespacedLookup, type PrepareDesiredOptions } from './domain/desired.js';
export {
  IgnoreDifferencesError,
  compileIgnoreDifferences,
  compileJqPath,
  copyPointers,
  formatPointer,
  getPointer,
  ignoredPointers,
  indexByKey,
  managedFieldsOf,
  managedFieldsPointers,
  parsePointer,
  removePointers,
  respectIgnoredFields,
  walkFieldsV1,
  withoutIgnored,
  type CompiledIgnoreRules,
  type IgnoredPointersOptions,
  type JqPath,
  type ManagedFieldsEntry,
  type OwnedField,
} from './domain/ignore-differences.js';
export {
  clusterOptionsOf,
  loadClustersFile,
  parseClustersFile,
  readClusterSettings,
  type ClusterSettings,
  type NamedCluster,
} from './clusters-file.js';
