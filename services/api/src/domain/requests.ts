/** Validation of request bodies and query values other than Application manifests (those use contracts' parseApplication). */
import { syncOptionProblems } from '@ferry/contracts';

/** One problem with a request, by path (`prune`, `query.refresh`). */
export interface RequestProblem {
  path: string;
  message: string;
}

/** One resource a sync is limited to (Argo CD's `SyncOperationResource`). `group` is '' for the core group. */
export interface SyncResourceSelector {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** `POST …/sync`'s body, validated (Argo CD's `ApplicationSyncRequest` fields Ferry supports). */
export interface SyncRequestBody {
  /** Prune tracked objects no longer in Git. Default false. */
  prune: boolean;
  /** Sync this revision (branch, tag or SHA) instead of the targetRevision. */
  revision?: string;
  /** Report what would change; change nothing. Default false. */
  dryRun: boolean;
  /** Sync only these resources. */
  resources?: SyncResourceSelector[];
  /** `Key=value` sync options for this operation (contracts' SUPPORTED_SYNC_OPTIONS). */
  syncOptions?: string[];
}

/**
 * Fields of Argo CD's sync request accepted without effect: `name` (must equal the URL's),
 * `appNamespace` and `project` (Ferry has one namespace of apps; the project is the app's).
 */
const IGNORED_SYNC_FIELDS = new Set(['name', 'appNamespace', 'project']);
const SYNC_FIELDS = new Set(['prune', 'revision', 'dryRun', 'resources', 'syncOptions', ...IGNORED_SYNC_FIELDS]);
const RESOURCE_FIELDS = new Set(['group', 'kind', 'namespace', 'name']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates `POST …/sync`'s body: empty, or Argo CD's `{ revision?, prune?, dryRun?, resources?,
 * syncOptions? }`. `syncOptions` is a list of `Key=value` or Argo's `{ items: [...] }`; each option
 * is checked with contracts' `syncOptionProblems` (an unsupported one is named). `resources` items are
 * `{ group, kind, namespace?, name }` (`group` '' for the core group). Every problem is reported at
 * once; any other field is a problem naming it. `name` must equal `appName` when given.
 */
export function parseSyncRequest(body: unknown, appName?: string): SyncRequestBody | { problems: RequestProblem[] } {
  if (body === undefined || body === null || body === '') return { prune: false, dryRun: false };
  if (!isRecord(body)) return { problems: [{ path: '(body)', message: 'must be a JSON object' }] };
  const problems: RequestProblem[] = [];
  for (const key of Object.keys(body)) {
    if (!SYNC_FIELDS.has(key)) {
      problems.push({ path: key, message: 'is not supported (supported: revision, prune, dryRun, resources, syncOptions)' });
    }
  }
  const prune = optionalBoolean(body, 'prune', problems);
  const dryRun = optionalBoolean(body, 'dryRun', problems);
  const name = body['name'];
  if (name !== undefined && (typeof name !== 'string' || (appName !== undefined && name !== '' && name !== appName))) {
    problems.push({ path: 'name', message: `must equal the name in the URL${appName === undefined ? '' : ` (${appName})`}` });
  }
  let revision: string | undefined;
  if (body['revision'] !== undefined && body['revision'] !== null) {
    const r = body['revision'];
    if (typeof r !== 'string' || /\s/.test(r.trim())) problems.push({ path: 'revision', message: 'must be a branch, tag or commit SHA' });
    else if (r.trim() !== '') revision = r.trim();
  }
  const resources = parseResources(body['resources'], problems);
  const syncOptions = parseSyncOptionList(body['syncOptions'], problems);
  if (problems.length > 0) return { problems };
  return {
    prune,
    dryRun,
    ...(revision === undefined ? {} : { revision }),
    ...(resources === undefined ? {} : { resources }),
    ...(syncOptions === undefined ? {} : { syncOptions }),
  };
}

function optionalBoolean(body: Record<string, unknown>, key: string, problems: RequestProblem[]): boolean {
  const v = body[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') {
    problems.push({ path: key, message: 'must be a boolean' });
    return false;
  }
  return v;
}

function parseResources(value: unknown, problems: RequestProblem[]): SyncResourceSelector[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    problems.push({ path: 'resources', message: 'must be a list of { group, kind, namespace?, name }' });
    return undefined;
  }
  const out: SyncResourceSelector[] = [];
  value.forEach((item: unknown, i) => {
    const at = `resources[${i}]`;
    if (!isRecord(item)) {
      problems.push({ path: at, message: 'must be an object { group, kind, namespace?, name }' });
      return;
    }
    for (const key of Object.keys(item)) {
      if (!RESOURCE_FIELDS.has(key)) problems.push({ path: `${at}.${key}`, message: 'is not supported (group, kind, namespace, name)' });
    }
    const group = item['group'] ?? '';
    const { kind, name, namespace } = item;
    if (typeof group !== 'string') problems.push({ path: `${at}.group`, message: "must be a string ('' for the core group)" });
    if (typeof kind !== 'string' || kind === '') problems.push({ path: `${at}.kind`, message: 'is required' });
    if (typeof name !== 'string' || name === '') problems.push({ path: `${at}.name`, message: 'is required' });
    if (namespace !== undefined && namespace !== null && typeof namespace !== 'string') {
      problems.push({ path: `${at}.namespace`, message: 'must be a string' });
    }
    if (typeof group === 'string' && typeof kind === 'string' && typeof name === 'string') {
      out.push({ group, kind, ...(typeof namespace === 'string' && namespace !== '' ? { namespace } : {}), name });
    }
  });
  return out;
}

function parseSyncOptionList(value: unknown, problems: RequestProblem[]): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  let list: unknown = value;
  let path = 'syncOptions';
  if (isRecord(value)) {
    // Argo CD's REST shape: `syncOptions: { items: [...] }`.
    const extra = Object.keys(value).filter((k) => k !== 'items');
    for (const key of extra) problems.push({ path: `syncOptions.${key}`, message: 'is not supported (items)' });
    list = value['items'] ?? [];
    path = 'syncOptions.items';
  }
  if (!Array.isArray(list) || list.some((o) => typeof o !== 'string')) {
    problems.push({ path, message: 'must be a list of Key=value strings (or { items: [...] })' });
    return undefined;
  }
  const options = (list as string[]).map((o) => o.trim()).filter((o) => o !== '');
  for (const p of syncOptionProblems(options, path)) problems.push({ path: p.path, message: p.message });
  return options;
}

/** `POST …/rollback`'s body, validated (Argo CD's `ApplicationRollbackRequest` plus Ferry's `disableAutoSync`). */
export interface RollbackRequestBody {
  /** The history entry to roll back to (`history[].id`). */
  id: number;
  /** Prune tracked objects not in that revision. Default false. */
  prune: boolean;
  /** Report what would change; change nothing. Default false. */
  dryRun: boolean;
  /** Remove `spec.syncPolicy.automated` from the stored app first (a rollback is refused while it is on). Default false. */
  disableAutoSync: boolean;
}

const ROLLBACK_FIELDS = new Set(['id', 'prune', 'dryRun', 'disableAutoSync', 'name', 'appNamespace', 'project']);

/** Validates `POST …/rollback`'s body: `{ id, prune?, dryRun?, disableAutoSync? }` (`id` a non-negative integer, or its decimal string as Argo's JSON int64). */
export function parseRollbackRequest(body: unknown, appName?: string): RollbackRequestBody | { problems: RequestProblem[] } {
  if (!isRecord(body))
    return { problems: [{ path: '(body)', message: 'must be a JSON object { id, prune?, dryRun?, disableAutoSync? }' }] };
  const problems: RequestProblem[] = [];
  for (const key of Object.keys(body)) {
    if (!ROLLBACK_FIELDS.has(key))
      problems.push({ path: key, message: 'is not supported (supported: id, prune, dryRun, disableAutoSync)' });
  }
  const raw = body['id'];
  const id = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    problems.push({ path: 'id', message: 'is required: the history id (a non-negative integer) to roll back to' });
  }
  const name = body['name'];
  if (name !== undefined && (typeof name !== 'string' || (appName !== undefined && name !== '' && name !== appName))) {
    problems.push({ path: 'name', message: `must equal the name in the URL${appName === undefined ? '' : ` (${appName})`}` });
  }
  const prune = optionalBoolean(body, 'prune', problems);
  const dryRun = optionalBoolean(body, 'dryRun', problems);
  const disableAutoSync = optionalBoolean(body, 'disableAutoSync', problems);
  if (problems.length > 0) return { problems };
  return { id: id as number, prune, dryRun, disableAutoSync };
}

/** How `DELETE …/applications/:name` treats the app's resources; AppDeleted.cascade. */
export const DeleteCascade = { Foreground: 'foreground', Background: 'background', Orphan: 'orphan' } as const;
export type DeleteCascade = (typeof DeleteCascade)[keyof typeof DeleteCascade];

/**
 * `?cascade=true|false&propagationPolicy=foreground|background|orphan` (Argo CD's delete query).
 * Default: cascade, foreground. `cascade=false` orphans the resources (a propagationPolicy other than
 * orphan with it is a problem, as Argo CD refuses it).
 */
export function parseDeleteQuery(query: {
  cascade?: unknown;
  propagationPolicy?: unknown;
}): DeleteCascade | { problems: RequestProblem[] } {
  const problems: RequestProblem[] = [];
  const cascade = parseBooleanQuery('cascade', query.cascade === undefined || query.cascade === '' ? 'true' : query.cascade);
  if (typeof cascade === 'object') problems.push(...cascade.problems);
  const policy = query.propagationPolicy;
  let chosen: DeleteCascade | undefined;
  if (policy !== undefined && policy !== '') {
    if (policy === 'foreground' || policy === 'background' || policy === 'orphan') chosen = policy;
    else problems.push({ path: 'query.propagationPolicy', message: 'must be foreground, background or orphan' });
  }
  if (cascade === false && chosen !== undefined && chosen !== DeleteCascade.Orphan) {
    problems.push({ path: 'query.propagationPolicy', message: 'cannot be set when cascading is disabled (cascade=false)' });
  }
  if (problems.length > 0) return { problems };
  if (cascade === false) return DeleteCascade.Orphan;
  return chosen ?? DeleteCascade.Foreground;
}

/** Argo CD's `?refresh=` on GET: `normal` and `hard` both ask the poller to resolve afresh (Ferry has no manifest cache to bypass). */
export const RefreshMode = { Normal: 'normal', Hard: 'hard' } as const;
export type RefreshMode = (typeof RefreshMode)[keyof typeof RefreshMode];

export function parseRefreshMode(value: unknown): RefreshMode | undefined | { problems: RequestProblem[] } {
  if (value === undefined || value === '') return undefined;
  if (value === RefreshMode.Normal || value === RefreshMode.Hard) return value;
  return { problems: [{ path: 'query.refresh', message: 'must be normal or hard' }] };
}

/** `?upsert=true|false` (absent = false). */
export function parseBooleanQuery(name: string, value: unknown): boolean | { problems: RequestProblem[] } {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return { problems: [{ path: `query.${name}`, message: 'must be true or false' }] };
}

const APP_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True for a valid application name (a DNS label, at most 63 characters), as contracts' schema defines it. */
export function isAppName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 63 && APP_NAME.test(value);
}
