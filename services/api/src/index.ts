// The api's public API: the process (start, loadConfig) and the pure domain (status composition,
// tokens, request validation).
export { start, type ApiDeps, type ApiService } from './service.js';
export { API_VERSION, DEFAULT_API_PORT, DEFAULT_MAX_BODY_BYTES, loadConfig, type ApiConfig, type LoadConfigOptions } from './config.js';
export { HEALTH_NOT_ASSESSED, composeStatus, invalidSpecStatus, resourceKey, type StatusRecords } from './domain/compose-status.js';
export {
  asComparisonRecord,
  asHealthRecord,
  asOperationRecord,
  asSourceRecord,
  toStatusRecords,
  type RawStatusRecords,
} from './domain/records.js';
export {
  DEFAULT_TOKEN_NAME,
  ambiguousTokens,
  bearerToken,
  digestToken,
  parseTokenEntry,
  parseTokenFile,
  parseTokenList,
  verifyToken,
  type ApiToken,
  type TokenProblem,
} from './domain/tokens.js';
export {
  DeleteCascade,
  RefreshMode,
  parseBooleanQuery,
  parseDeleteQuery,
  parseRefreshMode,
  parseRollbackRequest,
  parseSyncRequest,
  type RequestProblem,
  type RollbackRequestBody,
  type SyncRequestBody,
  type SyncResourceSelector,
} from './domain/requests.js';
export { withoutAutomated } from './handlers/actions.js';
export { diffKey } from './handlers/diff.js';
export { ApiError, toErrorResponse, type ErrorBody, type ErrorDetail } from './handlers/errors.js';
export { PUBLIC_ROUTES } from './handlers/hooks.js';
export { STREAM_ROUTE } from './handlers/stream.js';
export { WEBHOOK_ROUTE } from './handlers/webhook.js';
export {
  WebhookHeader,
  WebhookProvider,
  appsToRefresh,
  detectProvider,
  normalizeRepoURL,
  readWebhookPush,
  verifyWebhook,
  type WebhookApp,
  type WebhookPush,
  type WebhookReading,
} from './domain/webhook.js';
export type { ApplicationWithStatus } from './handlers/applications.js';
export { UNMATCHED_ROUTE, createApiMetrics, type ApiMetrics } from './metrics.js';
