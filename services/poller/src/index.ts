// Public API of @ferry/poller's Git access and rendering. The NATS service wiring lives in service.ts.
export { GitError, ManifestParseError, RenderError, formatProblem } from './domain/errors.js';
export type { GitErrorCode, ManifestProblem, RenderErrorCode } from './domain/errors.js';
export { buildRefListing, isFullCommitSha, resolveRevision } from './domain/refs.js';
export type { RefListing, ServerRef } from './domain/refs.js';
export { classifyRepoUrl, listingKey, redactCredentials, repoKey } from './domain/repo-url.js';
export type { RepoLocation } from './domain/repo-url.js';
export { compileGlob, matchGlob } from './domain/glob.js';
export type { Glob } from './domain/glob.js';
export { parseManifests } from './domain/manifests.js';
export type { KubeObject, ManifestText, ObjectSource, ParsedManifests, RenderedObject } from './domain/manifests.js';
export { normaliseAppPath, sourceSettings, sourceSettingsHash } from './domain/source.js';
export type { DirectorySourceOptions, SourceSettings, SourceSpec } from './domain/source.js';
export { artifactKey } from './domain/artifact-key.js';
export { createGitClient, GitRequestKind } from './git/git-client.js';
export { createHttpClient } from './git/http-client.js';
export type { HttpClientOptions } from './git/http-client.js';
export type { GitClient, GitClientOptions, GitCredentials, GitLogger } from './git/git-client.js';
export { render, Renderer } from './render/render.js';
export type { RenderOptions, RenderResult } from './render/render.js';
export { findKustomizeTool, KUSTOMIZATION_FILES } from './render/kustomize.js';
export type { KustomizeTool } from './render/kustomize.js';
// The service process.
export { start } from './service.js';
export type { PollerDeps, PollerService } from './service.js';
export { createGitCredentialStore, loadConfig } from './config.js';
export type { GitCredentialStore, PollerConfig } from './config.js';
export { createPollerMetrics, ReconcileResult } from './metrics.js';
export type { PollerMetrics } from './metrics.js';
export { createListingCoalescer } from './listing-coalescer.js';
export type { ListingCoalescer, ListingCoalescerOptions } from './listing-coalescer.js';
export { ATTR_FERRY_REPO, createSourcePoller } from './source-poller.js';
export type { AppPollOutcome, Artifact, PollRequest, SourcePoller, SourcePollerOptions } from './source-poller.js';
export { REFRESH_DURABLE, REFRESH_MAX_ATTEMPTS, createRefreshHandler, refreshFilter } from './handlers/refresh-requested.js';
export type { RefreshHandlerOptions } from './handlers/refresh-requested.js';
export {
  detectedMessageId,
  failedMessageId,
  failureConditionMessage,
  groupByRepository,
  isTransientSourceError,
  nextPollDelayMs,
  renderProblems,
  shouldAnnounce,
  shouldAnnounceFailure,
  withComparisonError,
  withoutComparisonError,
} from './domain/detection.js';
