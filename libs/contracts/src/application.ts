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
  /** `Key=value` options; supported: CreateNamespace=true|false. */
  syncOptions?: string[];
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
  };
}

/** Supported sync options and their allowed values. */
export const SUPPORTED_SYNC_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  CreateNamespace: ['true', 'false'],
};

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
          },
        },
        revisionHistoryLimit: { type: 'integer', minimum: 0, maximum: 1000 },
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

function syncOptionProblems(options: readonly string[] | undefined): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  (options ?? []).forEach((option, i) => {
    const [key = '', value] = option.split('=', 2);
    const allowed = SUPPORTED_SYNC_OPTIONS[key];
    if (!allowed) {
      problems.push({ path: `spec.syncPolicy.syncOptions[${i}]`, message: `sync option ${key} is not supported`, unknownField: true });
    } else if (value === undefined || !allowed.includes(value)) {
      problems.push({ path: `spec.syncPolicy.syncOptions[${i}]`, message: `${key} must be one of ${allowed.join(', ')}` });
    }
  });
  return problems;
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
    problems.push(...syncOptionProblems(spec.syncPolicy?.syncOptions));
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

/** The value of a `Key=value` sync option, or undefined. */
export function syncOption(app: Application, key: string): string | undefined {
  for (const option of app.spec.syncPolicy?.syncOptions ?? []) {
    const [k, v] = option.split('=', 2);
    if (k === key) return v;
  }
  return undefined;
}

export function isAutomated(app: Application): boolean {
  return app.spec.syncPolicy?.automated !== undefined;
}

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
