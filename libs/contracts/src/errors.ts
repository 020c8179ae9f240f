/**
 * The registry of stable error codes. Every error that crosses a process boundary (an event, a
 * status condition, an HTTP response, a CLI exit) carries one of these codes. Codes never change
 * meaning; docs/errors.md lists them for users. Tests assert codes, not messages.
 */
export const ErrorCode = {
  // config
  /** Configuration (environment or file) is invalid; the message lists every problem found. */
  ConfigInvalid: 'FERRY_ERR_CONFIG_INVALID',

  // app spec
  /** An Application manifest is invalid or uses a field Ferry does not support; causes name each field. */
  AppInvalid: 'FERRY_ERR_APP_INVALID',
  /** No application with that name exists. */
  AppNotFound: 'FERRY_ERR_APP_NOT_FOUND',
  /** An application with that name already exists (create without upsert). */
  AppExists: 'FERRY_ERR_APP_EXISTS',

  // events
  /** A message on a Ferry subject is not a valid CloudEvent of the expected type (poison input). */
  EventInvalid: 'FERRY_ERR_EVENT_INVALID',

  // messaging
  /** NATS or JetStream was unreachable or refused an operation; transient. */
  MessagingUnavailable: 'FERRY_ERR_MESSAGING_UNAVAILABLE',

  // runtime (libs/runtime)
  /** A value in a KV bucket or the artifact object store is not valid JSON (written by something other than Ferry, or corrupted). */
  KvValueInvalid: 'FERRY_ERR_KV_VALUE_INVALID',
  /** The process failed to start (a dependency was unreachable or a component threw during start); the log names the step and the cause's code. */
  StartFailed: 'FERRY_ERR_START_FAILED',

  // health
  /** A manifest file given to `ferry health -f` does not parse; the error names the file, line and column. */
  HealthParse: 'FERRY_ERR_HEALTH_PARSE',
  /** A path given to `ferry health -f` cannot be read (does not exist, not a file or directory, no permission). */
  HealthInputUnreadable: 'FERRY_ERR_HEALTH_INPUT_UNREADABLE',

  // git
  /** A Git repository could not be reached: network failure, HTTP error, or no repository at that URL/path; transient. */
  GitUnreachable: 'FERRY_ERR_GIT_UNREACHABLE',
  /** The Git server refused the credentials (HTTP 401/403) or credentials were needed and none are configured. */
  GitAuth: 'FERRY_ERR_GIT_AUTH',
  /** `targetRevision` names no branch, tag or commit of the repository (or the commit is not reachable from any ref). */
  GitRevisionNotFound: 'FERRY_ERR_GIT_REVISION_NOT_FOUND',
  /** The `repoURL` form is not supported (ssh://, git://, scp-like `git@host:path`, relative paths): use HTTP(S) or an absolute local path. */
  GitUrlUnsupported: 'FERRY_ERR_GIT_URL_UNSUPPORTED',

  // render
  /** `source.path` (or a symlink inside it) points outside the repository checkout. */
  RenderPathEscape: 'FERRY_ERR_RENDER_PATH_ESCAPE',
  /** `source.path` does not exist in the checkout at that commit, or is not a directory. */
  RenderPathNotFound: 'FERRY_ERR_RENDER_PATH_NOT_FOUND',
  /** A Kustomize directory needs `kustomize` or `kubectl` on PATH and neither was found; the message names what to install. */
  RenderToolMissing: 'FERRY_ERR_RENDER_TOOL_MISSING',
  /** `kustomize build` / `kubectl kustomize` failed; the message carries its trimmed stderr. */
  RenderKustomize: 'FERRY_ERR_RENDER_KUSTOMIZE',
  /** One or more manifest files do not parse or hold something that is not a Kubernetes object; `problems` lists file, line and message for each. */
  RenderParse: 'FERRY_ERR_RENDER_PARSE',
  /** The source settings are contradictory (for example both `directory` and `kustomize` set). */
  RenderSourceInvalid: 'FERRY_ERR_RENDER_SOURCE_INVALID',

  // kube
  /** The kubeconfig or in-cluster credentials could not be loaded (missing file, no current context, unreadable service-account token). */
  KubeConfigInvalid: 'FERRY_ERR_KUBE_CONFIG_INVALID',
  /** An app's destination names a cluster (by `name` or `server`) that is not configured. */
  KubeClusterUnknown: 'FERRY_ERR_KUBE_CLUSTER_UNKNOWN',
  /** The cluster serves no resource for that apiVersion and kind (discovery, refreshed once on a miss). */
  KubeKindUnknown: 'FERRY_ERR_KUBE_KIND_UNKNOWN',
  /** A Kubernetes API request failed for another reason (5xx, 429, network, bad request); see `isTransient()`. */
  KubeRequest: 'FERRY_ERR_KUBE_REQUEST',
  /** The API server answered 409 Conflict or AlreadyExists. */
  KubeConflict: 'FERRY_ERR_KUBE_CONFLICT',
  /** The API server rejected the object as invalid (422), or Ferry could not build a request from it (no name, no namespace). */
  KubeInvalid: 'FERRY_ERR_KUBE_INVALID',
  /** The object, or something it needs (its namespace), does not exist (404). */
  KubeNotFound: 'FERRY_ERR_KUBE_NOT_FOUND',
  /** The API server refused Ferry's credentials (401) or the operation (403). */
  KubeUnauthorized: 'FERRY_ERR_KUBE_UNAUTHORIZED',

  // differ
  /** The artifact a revision.detected names is not in the artifact store (deleted, or the store was reset); the differ reports the app Unknown until the poller renders it again. */
  DiffArtifactMissing: 'FERRY_ERR_DIFF_ARTIFACT_MISSING',
  /** The stored artifact is not a rendered set (`{ objects: [{ object }] }` of objects with apiVersion, kind and metadata.name). */
  DiffArtifactInvalid: 'FERRY_ERR_DIFF_ARTIFACT_INVALID',

  // applier
  /** A sync would prune every resource of the app (its source renders nothing) and `syncPolicy.automated.allowEmpty` is not set; nothing was applied or deleted. */
  SyncPruneRefused: 'FERRY_ERR_SYNC_PRUNE_REFUSED',
  /** One or more resources of a sync could not be applied or pruned; the sync's per-resource results carry each server message. */
  SyncResourceFailed: 'FERRY_ERR_SYNC_RESOURCE_FAILED',
  /** The artifact a diff.computed names is not in the artifact store (deleted, or the store was reset); the sync fails until the poller renders it again. */
  SyncArtifactMissing: 'FERRY_ERR_SYNC_ARTIFACT_MISSING',
  /** The stored artifact is not a rendered set (`{ objects: [{ object }] }` of objects with apiVersion, kind and metadata.name). */
  SyncArtifactInvalid: 'FERRY_ERR_SYNC_ARTIFACT_INVALID',

  // applier sync engine (waves, hooks, sync options)
  /** A sync option (app level, in the sync request, or a resource's `argocd.argoproj.io/sync-options`), or a `sync-wave`, `hook` or `hook-delete-policy` annotation, is unknown or has a bad value; the message names the resource and the option; nothing was applied. */
  SyncOptionInvalid: 'FERRY_ERR_SYNC_OPTION_INVALID',
  /** `FailOnSharedResource=true` and a resource of the app is already tracked by another application; nothing was applied. */
  SyncSharedResource: 'FERRY_ERR_SYNC_SHARED_RESOURCE',
  /** A hook (Job, Pod or other hook object) of the sync failed (Job Failed, Pod Failed, Degraded) or could not be created; SyncFail hooks ran. */
  SyncHookFailed: 'FERRY_ERR_SYNC_HOOK_FAILED',
  /** A resource applied in a sync wave turned Degraded before the next wave; later waves were not applied; SyncFail hooks ran. */
  SyncResourceDegraded: 'FERRY_ERR_SYNC_RESOURCE_DEGRADED',
  /** A sync wave's hooks did not finish, or its resources did not become Healthy (or its pruned resources gone), within FERRY_SYNC_WAVE_TIMEOUT_MS; SyncFail hooks ran. */
  SyncWaveTimeout: 'FERRY_ERR_SYNC_WAVE_TIMEOUT',

  // notifier
  /** The notifier config file (FERRY_NOTIFIER_CONFIG) is invalid; each problem names file, line and field. */
  NotifierConfigInvalid: 'FERRY_ERR_NOTIFIER_CONFIG_INVALID',
  /** A notification could not be delivered to a channel after its retries (or was refused with a 4xx); never carries the URL or secret. */
  NotifierDeliveryFailed: 'FERRY_ERR_NOTIFIER_DELIVERY_FAILED',
  // api
  /** The request carries no `Authorization: Bearer <token>` header, or the token is not one of the configured API tokens. HTTP 401. */
  ApiUnauthenticated: 'FERRY_ERR_API_UNAUTHENTICATED',
  /** The request is malformed: a body that is not JSON/YAML, an unknown query value, an unsupported field in a sync request; `details` names each problem. HTTP 400. */
  ApiBadRequest: 'FERRY_ERR_API_BAD_REQUEST',
  /** The request body is larger than FERRY_API_MAX_BODY_BYTES. HTTP 413. */
  ApiBodyTooLarge: 'FERRY_ERR_API_BODY_TOO_LARGE',
  /** The request body's Content-Type is neither JSON nor YAML. HTTP 415. */
  ApiUnsupportedMediaType: 'FERRY_ERR_API_UNSUPPORTED_MEDIA_TYPE',
  /** No API route matches the method and path. HTTP 404. */
  ApiRouteNotFound: 'FERRY_ERR_API_ROUTE_NOT_FOUND',
  /** The api is starting or shutting down and refuses new work; retry against another replica or later. HTTP 503. */
  ApiUnavailable: 'FERRY_ERR_API_UNAVAILABLE',
  /** An unexpected error inside the api; the log has the cause, the response never does. HTTP 500. */
  ApiInternal: 'FERRY_ERR_API_INTERNAL',
  /** A Git webhook (`POST /api/webhook`) is not signed with FERRY_API_WEBHOOK_SECRET (missing or wrong signature/token). HTTP 401. */
  ApiWebhookSignature: 'FERRY_ERR_API_WEBHOOK_SIGNATURE',
  /** A signed Git webhook could not be read: no known provider headers, not JSON, or no repository URL in the payload. HTTP 400. */
  ApiWebhookInvalid: 'FERRY_ERR_API_WEBHOOK_INVALID',
  /** `POST …/rollback` while the app has automated sync (`spec.syncPolicy.automated`), without `disableAutoSync: true` (Argo CD refuses it too). HTTP 409. */
  ApiRollbackAutoSync: 'FERRY_ERR_API_ROLLBACK_AUTOSYNC',
  /** `POST …/sync` naming a `revision` other than the app's targetRevision while automated sync is on (Argo CD: "auto-sync currently set to …"); dry runs are allowed. HTTP 409. */
  ApiSyncAutoSync: 'FERRY_ERR_API_SYNC_AUTOSYNC',
  /** `POST …/rollback` names a history id the app's history does not hold (trimmed by revisionHistoryLimit, or never written). HTTP 404. */
  ApiHistoryNotFound: 'FERRY_ERR_API_HISTORY_NOT_FOUND',
  /** `GET …/diff` before the differ stored a per-resource diff for the app. HTTP 404. */
  ApiDiffNotFound: 'FERRY_ERR_API_DIFF_NOT_FOUND',

  // cli
  /** The `ferry` command line is wrong (unknown command or flag, missing argument); exit code 2. */
  CliUsage: 'FERRY_ERR_CLI_USAGE',
  /** `ferry` has no server or token: no flag, no FERRY_SERVER/FERRY_TOKEN, no login file; the message says how to log in. */
  CliNotLoggedIn: 'FERRY_ERR_CLI_NOT_LOGGED_IN',
  /** `ferry` could not reach the api (connection refused, DNS, timeout); the message names the server. */
  CliServerUnreachable: 'FERRY_ERR_CLI_SERVER_UNREACHABLE',
  /** The api answered with something that is not Ferry's JSON (wrong URL, a proxy's error page). */
  CliUnexpectedResponse: 'FERRY_ERR_CLI_UNEXPECTED_RESPONSE',
  /** A file given to `ferry app create -f` cannot be read or does not parse; the message names file and line. */
  CliFileInvalid: 'FERRY_ERR_CLI_FILE_INVALID',
  /** `ferry app wait` or `ferry app sync` gave up before the app reached the state it waited for. */
  CliTimeout: 'FERRY_ERR_CLI_TIMEOUT',
  /** The sync operation `ferry app sync` waited for ended Failed or Error. */
  CliSyncFailed: 'FERRY_ERR_CLI_SYNC_FAILED',
  /** An unexpected failure inside `ferry` itself (a bug); the message is the underlying error's. */
  CliInternal: 'FERRY_ERR_CLI_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** True when `code` is one of the registered codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && knownCodes.has(code);
}

/**
 * Base class of Ferry's typed errors: a stable code, a message, and the cause kept.
 * Subclasses add readonly context fields (appId, revision, resource, …).
 */
export class FerryError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The wire form of an error: what crosses a process boundary. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** Converts anything thrown into its wire form; unknown errors keep their message under `fallback`. */
export function toErrorInfo(error: unknown, fallback: ErrorCode): ErrorInfo {
  if (error instanceof FerryError) return { code: error.code, message: error.message };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { code: isErrorCode(code) ? code : fallback, message: error.message };
  }
  return { code: fallback, message: String(error) };
}
