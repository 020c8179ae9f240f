/**
 * Applications, declared in Argo CD's format (`argoproj.io/v1alpha1`, `Application`).
 * Ferry accepts the fields listed in {@link applicationSchema}; any other field is rejected by
 * name (FERRY_ERR_APP_INVALID), so a manifest never silently loses meaning.
 */
import { ErrorCode, FerryError } from './errors.js';
import { validateSchema, type JsonSchema, type SchemaProblem } from './schema.js';

export const APPLICATION_API_VERSION = 'argoproj.io/v1alpha1';
export const APPLICATION_KIND = 'Application';

/** The in-cluster destination as Argo CD names it. */
export const IN_CLUSTER_SERVER = 'https://kubernetes.default.svc';
export const IN_CLUSTER_NAME = 'in-cluster';

export interface ApplicationSource {
  /** Git repository: an HTTP(S) URL, or a local path / file:// URL. */
  repoURL: string;
  /** Branch, tag or commit SHA; '' or 'HEAD' = the remote's HEAD. Default 'HEAD'. */
  targetRevision?: string;
  /** Directory inside the repository; default '.' (the repository root). */
  path?: string;
  directory?: {
    /** Walk sub-directories. Default false. */
    recurse?: boolean;
    /** Glob of files to include (relative to path), `{a,b}` alternatives allowed. */
    include?: string;
    /** Glob of files to exclude, applied after include. */
    exclude?: string;
  };
  /** Presence marks a Kustomize source; the directory holds a kustomization file either way. */
  kustomize?: Record<string, never>;
}

export interface ApplicationDestination {
  /** API server URL; `https://kubernetes.default.svc` = Ferry's default cluster. */
  server?: string;
  /** Cluster name; `in-cluster` = Ferry's default cluster. */
  name?: string;
  /** Namespace for namespaced objects that name none. */
  namespace?: string;
}

export interface ApplicationSyncPolicy {
  automated?: {
    /** Delete tracked objects no longer in Git. Default false. */
    prune?: boolean;
    /** Re-apply when the live state drifts from Git. Default false. */
    selfHeal?: boolean;
    /** Allow a sync (with prune) that leaves the app with no resources. Default false. */
    allowEmpty?: boolean;
  };
  /** `Key=value` options (SUPPORTED_SYNC_OPTIONS); an unknown option is rejected by name. */
  syncOptions?: string[];
  /** Retries of a failed sync (Argo CD's `syncPolicy.retry`). */
  retry?: {
    /** Retries after the first attempt; default 5 for automated syncs (Argo CD's autoSync), 0 otherwise; < 0 = unlimited. */
    limit?: number;
    backoff?: {
      /** First delay, a Go duration (`5s`, `1m`) or seconds; default `5s`. */
      duration?: string;
      /** Multiplier per attempt; default 2. */
      factor?: number;
      /** Longest delay; default `3m`. */
      maxDuration?: string;
    };
  };
}

/** Argo CD's `spec.ignoreDifferences[]`: parts of live objects the comparison leaves out. */
export interface IgnoreDifference {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
  /** RFC 6901 pointers (`/spec/replicas`). */
  jsonPointers?: string[];
  /** jq path expressions (a subset: see docs/sync.md). */
  jqPathExpressions?: string[];
  /** Fields owned by these field managers (from managedFields). */
  managedFieldsManagers?: string[];
}

export interface Application {
  apiVersion: typeof APPLICATION_API_VERSION;
  kind: typeof APPLICATION_KIND;
  metadata: {
    /** DNS label: lowercase letters, digits and '-', at most 63 characters (it is a NATS subject token). */
    name: string;
    /** Kept as declared (Argo CD's control-plane namespace, e.g. argocd); not used for placement. */
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    /** Kept as declared; `resources-finalizer.argocd.argoproj.io` marks cascading delete. */
    finalizers?: string[];
  };
  spec: {
    /** Argo CD project; default 'default'. */
    project?: string;
    source: ApplicationSource;
    destination: ApplicationDestination;
    syncPolicy?: ApplicationSyncPolicy;
    /** History entries kept; default 10. */
    revisionHistoryLimit?: number;
    ignoreDifferences?: IgnoreDifference[];
  };
}

const BOOL = ['true', 'false'] as const;

/**
 * Supported sync options (app level in `syncPolicy.syncOptions`, per resource in the
 * `argocd.argoproj.io/sync-options` annotation) and their allowed values, as Argo CD defines them.
 */
export const SUPPORTED_SYNC_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  CreateNamespace: BOOL,
  PruneLast: BOOL,
  ApplyOutOfSyncOnly: BOOL,
  ServerSideApply: BOOL,
  Replace: BOOL,
  Force: BOOL,
  Prune: [...BOOL, 'confirm'],
  Delete: [...BOOL, 'confirm'],
  PrunePropagationPolicy: ['foreground', 'background', 'orphan'],
  Validate: BOOL,
  SkipDryRunOnMissingResource: BOOL,
  FailOnSharedResource: BOOL,
  RespectIgnoreDifferences: BOOL,
};

/** Annotations on managed objects that keep their Argo CD meaning. */
export const ResourceAnnotation = {
  SyncWave: 'argocd.argoproj.io/sync-wave',
  Hook: 'argocd.argoproj.io/hook',
  HookDeletePolicy: 'argocd.argoproj.io/hook-delete-policy',
  SyncOptions: 'argocd.argoproj.io/sync-options',
  CompareOptions: 'argocd.argoproj.io/compare-options',
} as const;

/** Annotation on an Application: roll back automatically when a sync turns Degraded (Ferry's own). */
export const AUTO_ROLLBACK_ANNOTATION = 'ferry.dev/auto-rollback';

/** Parses `Key=value,Key2=value2` (the per-resource sync-options annotation) or a list of `Key=value`. */
export function parseSyncOptions(options: string | readonly string[] | undefined): Map<string, string> {
  const list = typeof options === 'string' ? options.split(',') : (options ?? []);
  const parsed = new Map<string, string>();
  for (const raw of list) {
    const option = raw.trim();
    if (option === '') continue;
    const eq = option.indexOf('=');
    parsed.set(eq < 0 ? option : option.slice(0, eq), eq < 0 ? '' : option.slice(eq + 1));
  }
  return parsed;
}

/** Problems with a list of sync options (unknown keys named, bad values with the allowed ones). */
export function syncOptionProblems(options: string | readonly string[] | undefined, path: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  [...parseSyncOptions(options)].forEach(([key, value], i) => {
    const allowed = SUPPORTED_SYNC_OPTIONS[key];
    const at = typeof options === 'string' ? path : `${path}[${i}]`;
    if (!allowed) {
      problems.push({ path: at, message: `sync option ${key} is not supported`, unknownField: true });
    } else if (!allowed.includes(value)) {
      problems.push({ path: at, message: `${key} must be one of ${allowed.join(', ')}` });
    }
  });
  return problems;
}

const APP_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const stringMap: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };

/** The schema of an Application as Ferry accepts it (published in docs/applications.md). */
export const applicationSchema: JsonSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: {
    apiVersion: { type: 'string', const: APPLICATION_API_VERSION },
    kind: { type: 'string', const: APPLICATION_KIND },
    metadata: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: APP_NAME_PATTERN, maxLength: 63 },
        namespace: { type: 'string' },
        labels: stringMap,
        annotations: stringMap,
        finalizers: { type: 'array', items: { type: 'string' } },
      },
    },
    spec: {
      type: 'object',
      required: ['source', 'destination'],
      additionalProperties: false,
      properties: {
        project: { type: 'string', minLength: 1 },
        source: {
          type: 'object',
          required: ['repoURL'],
          additionalProperties: false,
          properties: {
            repoURL: { type: 'string', minLength: 1 },
            targetRevision: { type: 'string' },
            path: { type: 'string' },
            directory: {
              type: 'object',
              additionalProperties: false,
              properties: {
                recurse: { type: 'boolean' },
                include: { type: 'string' },
                exclude: { type: 'string' },
              },
            },
            kustomize: { type: 'object', additionalProperties: false, properties: {} },
          },
        },
        destination: {
          type: 'object',
          additionalProperties: false,
          properties: {
            server: { type: 'string', minLength: 1 },
            name: { type: 'string', minLength: 1 },
            namespace: { type: 'string' },
          },
        },
        syncPolicy: {
          type: 'object',
          additionalProperties: false,
          properties: {
            automated: {
              type: 'object',
              additionalProperties: false,
              properties: {
                prune: { type: 'boolean' },
                selfHeal: { type: 'boolean' },
                allowEmpty: { type: 'boolean' },
              },
            },
            syncOptions: { type: 'array', items: { type: 'string' } },
            retry: {
              type: 'object',
              additionalProperties: false,
              properties: {
                limit: { type: 'integer' },
                backoff: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    duration: { type: 'string' },
                    factor: { type: 'integer', minimum: 1 },
                    maxDuration: { type: 'string' },
                  },
                },
              },
            },
          },
        },
        revisionHistoryLimit: { type: 'integer', minimum: 0, maximum: 1000 },
        ignoreDifferences: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kind'],
            additionalProperties: false,
            properties: {
              group: { type: 'string' },
              kind: { type: 'string', minLength: 1 },
              name: { type: 'string' },
              namespace: { type: 'string' },
              jsonPointers: { type: 'array', items: { type: 'string', pattern: '^(/([^/~]|~[01])*)+$' } },
              jqPathExpressions: { type: 'array', items: { type: 'string', minLength: 1 } },
              managedFieldsManagers: { type: 'array', items: { type: 'string', minLength: 1 } },
            },
          },
        },
      },
    },
  },
};

/** One problem with an Application manifest; `line` is filled when the caller can locate the path in a file. */
export interface ApplicationProblem {
  path: string;
  message: string;
  line?: number;
}

/** Thrown by {@link parseApplication}: every problem found, each naming its field. */
export class ApplicationInvalidError extends FerryError {
  readonly appName: string | undefined;
  readonly problems: readonly ApplicationProblem[];
  readonly file: string | undefined;

  constructor(problems: readonly ApplicationProblem[], appName?: string, file?: string) {
    const where = (p: ApplicationProblem): string =>
      `${file ?? ''}${file && p.line ? `:${p.line}` : ''}${file ? ': ' : ''}${p.path} ${p.message}`;
    super(
      ErrorCode.AppInvalid,
      `invalid Application${appName ? ` ${appName}` : ''}: ${problems.map(where).join('; ')}`,
    );
    this.appName = appName;
    this.problems = problems;
    this.file = file;
  }
}

export interface ParseApplicationOptions {
  /** The file the manifest came from, for messages. */
  file?: string;
  /** Maps a dotted field path to a 1-based line in `file`. */
  locate?: (path: string) => number | undefined;
}

/**
 * Validates an Application manifest (already parsed from YAML or JSON) and returns it typed.
 * Throws {@link ApplicationInvalidError} listing every problem, unknown fields named.
 */
export function parseApplication(value: unknown, options: ParseApplicationOptions = {}): Application {
  const problems: SchemaProblem[] = validateSchema(applicationSchema, value);
  const candidate = value as Partial<Application> | undefined;
  const spec = candidate?.spec;
  if (problems.length === 0 && spec) {
    const dest = spec.destination;
    if (!dest.server && !dest.name) {
      problems.push({ path: 'spec.destination', message: 'needs server or name' });
    }
    if (dest.server && dest.name) {
      problems.push({ path: 'spec.destination', message: 'has both server and name; give one' });
    }
    problems.push(...syncOptionProblems(spec.syncPolicy?.syncOptions, 'spec.syncPolicy.syncOptions'));
    const rollback = candidate?.metadata?.annotations?.[AUTO_ROLLBACK_ANNOTATION];
    if (rollback !== undefined && rollback !== 'true' && rollback !== 'false') {
      problems.push({ path: `metadata.annotations.${AUTO_ROLLBACK_ANNOTATION}`, message: 'must be "true" or "false"' });
    }
    for (const [key, value] of [['duration', spec.syncPolicy?.retry?.backoff?.duration], ['maxDuration', spec.syncPolicy?.retry?.backoff?.maxDuration]] as const) {
      if (value !== undefined && parseDurationMs(value) === undefined) {
        problems.push({ path: `spec.syncPolicy.retry.backoff.${key}`, message: `"${value}" is not a duration (e.g. 5s, 2m, 1h30m)` });
      }
    }
    const path = spec.source.path ?? '';
    if (path.startsWith('/') || path.split('/').includes('..')) {
      problems.push({ path: 'spec.source.path', message: 'must be relative and stay inside the repository' });
    }
  }
  if (problems.length > 0) {
    const name = typeof candidate?.metadata?.name === 'string' ? candidate.metadata.name : undefined;
    const located = problems.map((p) => {
      const line = options.locate?.(p.path);
      return line === undefined ? { path: p.path, message: p.message } : { path: p.path, message: p.message, line };
    });
    throw new ApplicationInvalidError(located, name, options.file);
  }
  return value as Application;
}

/** True when the destination means Ferry's default cluster. */
export function isInClusterDestination(destination: ApplicationDestination): boolean {
  return destination.server === IN_CLUSTER_SERVER || destination.name === IN_CLUSTER_NAME;
}

/** The value of a `Key=value` sync option at app level, or undefined. */
export function syncOption(app: Application, key: string): string | undefined {
  return parseSyncOptions(app.spec.syncPolicy?.syncOptions).get(key);
}

/** True when the app asks for automatic rollback (annotation `ferry.dev/auto-rollback: "true"`). */
export function isAutoRollback(app: Application): boolean {
  return app.metadata.annotations?.[AUTO_ROLLBACK_ANNOTATION] === 'true';
}

/**
 * A Go-style duration (`5s`, `1m30s`, `250ms`, `2h`) or a bare number of seconds, in ms;
 * undefined when it is not one. Argo CD's retry backoff uses this form.
 */
export function parseDurationMs(value: string): number | undefined {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(re)) {
    total += Number(match[1]) * (unit[match[2] ?? ''] ?? 0);
    consumed += match[0].length;
  }
  return consumed === text.length && text.length > 0 ? total : undefined;
}

export function isAutomated(app: Application): boolean {
  return app.spec.syncPolicy?.automated !== undefined;
}

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
