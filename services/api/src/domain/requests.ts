/** Validation of request bodies and query values other than Application manifests (those use contracts' parseApplication). */

/** One problem with a request, by path (`prune`, `query.refresh`). */
export interface RequestProblem {
  path: string;
  message: string;
}

export interface SyncRequestBody {
  /** Prune tracked objects no longer in Git. Default false. */
  prune: boolean;
}

/** Fields of Argo CD's sync request that Ferry does not support yet; named in the 400 so the user knows. */
const KNOWN_SYNC_FIELDS = new Set(['prune']);

/** Validates `POST …/sync`'s body: empty, or `{ "prune"?: boolean }`. Any other field is a problem naming it. */
export function parseSyncRequest(body: unknown): SyncRequestBody | { problems: RequestProblem[] } {
  if (body === undefined || body === null || body === '') return { prune: false };
  if (typeof body !== 'object' || Array.isArray(body)) return { problems: [{ path: '(body)', message: 'must be a JSON object' }] };
  const problems: RequestProblem[] = [];
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KNOWN_SYNC_FIELDS.has(key)) problems.push({ path: key, message: 'is not supported (supported: prune)' });
  }
  const prune = record['prune'];
  if (prune !== undefined && typeof prune !== 'boolean') problems.push({ path: 'prune', message: 'must be a boolean' });
  if (problems.length > 0) return { problems };
  return { prune: prune === true };
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
