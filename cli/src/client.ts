/**
 * A small fetch-based client of the api's REST contract (docs in brief API.md; Argo CD's shapes).
 * Errors: {@link ApiError} for an error answer, CliError FERRY_ERR_CLI_SERVER_UNREACHABLE when the
 * server cannot be reached, FERRY_ERR_CLI_UNEXPECTED_RESPONSE for an answer that is not Ferry's JSON.
 * The token is sent as `Authorization: Bearer` and never appears in an error.
 */
import { ErrorCode, type Application, type ApplicationStatus, type HistoryEntry } from '@ferry/contracts';
import { ApiError, CliError, type ApiProblem } from './errors.js';

/** An application as the api serves it: the manifest plus Argo CD's `status`. */
export type AppResource = Application & { status?: ApplicationStatus };

/** One resource a sync is limited to (Argo CD's SyncOperationResource); `group` '' for the core group. */
export interface SyncResource {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** `POST …/sync`'s body (Argo CD's ApplicationSyncRequest fields Ferry supports). */
export interface SyncOptions {
  prune: boolean;
  revision?: string;
  dryRun?: boolean;
  resources?: SyncResource[];
  /** `Key=value` sync options. */
  syncOptions?: string[];
}

/** `POST …/rollback`'s body. */
export interface RollbackOptions {
  id: number;
  prune: boolean;
  dryRun?: boolean;
  disableAutoSync?: boolean;
}

/** `DELETE …`'s query: cascade (default true) and the propagation policy (default foreground). */
export interface DeleteOptions {
  cascade?: boolean;
  propagationPolicy?: 'foreground' | 'background' | 'orphan';
}

/** One resource of `GET …/diff` (the differ's per-resource diff). */
export interface ResourceDiff {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: string;
  diffState?: 'Synced' | 'OutOfSync' | 'Missing' | 'Extra';
  /** Unified YAML diff live → desired; '' when equal. */
  diff: string;
  /** RFC 6902 patch turning live into desired. */
  patch?: unknown[];
}

/** `GET …/diff`: the app's per-resource diff of its last comparison. */
export interface AppDiff {
  app: string;
  revision: string;
  comparedAt: string;
  resources: ResourceDiff[];
}

export interface FerryClientOptions {
  /** Base URL, without trailing slash. */
  server: string;
  token: string;
  /** Per-request timeout; default 30 000 ms. */
  requestTimeoutMs?: number;
}

export interface FerryClient {
  readonly server: string;
  listApplications(project?: string): Promise<AppResource[]>;
  getApplication(name: string, refresh?: 'normal' | 'hard'): Promise<AppResource>;
  /** POST; `created` false when an existing app was updated (`upsert`). */
  createApplication(manifest: unknown, upsert: boolean): Promise<{ created: boolean; application: AppResource }>;
  deleteApplication(name: string, options?: DeleteOptions): Promise<void>;
  refreshApplication(name: string): Promise<{ requestId: string }>;
  syncApplication(name: string, options: SyncOptions): Promise<{ requestId: string }>;
  rollbackApplication(name: string, options: RollbackOptions): Promise<{ requestId: string; id: number; revision: string }>;
  diff(name: string): Promise<AppDiff>;
  history(name: string): Promise<HistoryEntry[]>;
  version(): Promise<{ version: string }>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function createClient(options: FerryClientOptions): FerryClient {
  const { server, token } = options;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  async function request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const url = `${server}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw unreachable(server, error, timeoutMs);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw unreachable(server, error, timeoutMs);
    }
    let json: unknown;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        throw new CliError(
          ErrorCode.CliUnexpectedResponse,
          `${method} ${path} at ${server} answered HTTP ${response.status} with something that is not JSON (is ${server} a Ferry api?)`,
        );
      }
    }
    if (!response.ok) throw toApiError(method, path, response.status, json);
    return { status: response.status, json };
  }

  const app = (name: string): string => `/api/v1/applications/${encodeURIComponent(name)}`;

  return {
    server,
    async listApplications(project) {
      const { json } = await request('GET', `/api/v1/applications${project ? `?project=${encodeURIComponent(project)}` : ''}`);
      return itemsOf<AppResource>(json, 'GET /api/v1/applications', server);
    },
    async getApplication(name, refresh) {
      const { json } = await request('GET', `${app(name)}${refresh ? `?refresh=${refresh}` : ''}`);
      return objectOf<AppResource>(json, `GET ${app(name)}`, server);
    },
    async createApplication(manifest, upsert) {
      const { status, json } = await request('POST', `/api/v1/applications${upsert ? '?upsert=true' : ''}`, manifest);
      return { created: status === 201, application: objectOf<AppResource>(json, 'POST /api/v1/applications', server) };
    },
    async deleteApplication(name, options = {}) {
      const query = new URLSearchParams();
      if (options.cascade !== undefined) query.set('cascade', String(options.cascade));
      if (options.propagationPolicy !== undefined) query.set('propagationPolicy', options.propagationPolicy);
      const qs = query.toString();
      await request('DELETE', `${app(name)}${qs ? `?${qs}` : ''}`);
    },
    async refreshApplication(name) {
      const { json } = await request('POST', `${app(name)}/refresh`, {});
      return requestIdOf(json, `POST ${app(name)}/refresh`, server);
    },
    async syncApplication(name, options) {
      const body = {
        prune: options.prune,
        ...(options.revision === undefined ? {} : { revision: options.revision }),
        ...(options.dryRun ? { dryRun: true } : {}),
        ...(options.resources === undefined || options.resources.length === 0 ? {} : { resources: options.resources }),
        ...(options.syncOptions === undefined || options.syncOptions.length === 0 ? {} : { syncOptions: { items: options.syncOptions } }),
      };
      const { json } = await request('POST', `${app(name)}/sync`, body);
      return requestIdOf(json, `POST ${app(name)}/sync`, server);
    },
    async rollbackApplication(name, options) {
      const body = {
        id: options.id,
        prune: options.prune,
        ...(options.dryRun ? { dryRun: true } : {}),
        ...(options.disableAutoSync ? { disableAutoSync: true } : {}),
      };
      const { json } = await request('POST', `${app(name)}/rollback`, body);
      const { requestId } = requestIdOf(json, `POST ${app(name)}/rollback`, server);
      const r = json as { id?: unknown; revision?: unknown };
      return { requestId, id: typeof r.id === 'number' ? r.id : options.id, revision: typeof r.revision === 'string' ? r.revision : '' };
    },
    async diff(name) {
      const { json } = await request('GET', `${app(name)}/diff`);
      const diff = objectOf<AppDiff>(json, `GET ${app(name)}/diff`, server);
      if (!Array.isArray(diff.resources)) {
        throw new CliError(ErrorCode.CliUnexpectedResponse, `GET ${app(name)}/diff at ${server} did not answer { resources: [...] }`);
      }
      return diff;
    },
    async history(name) {
      const { json } = await request('GET', `${app(name)}/history`);
      return itemsOf<HistoryEntry>(json, `GET ${app(name)}/history`, server);
    },
    async version() {
      const { json } = await request('GET', '/api/version');
      const version = (json as { version?: unknown } | undefined)?.version;
      return { version: typeof version === 'string' ? version : 'unknown' };
    },
  };
}

function unreachable(server: string, error: unknown, timeoutMs: number): CliError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const name = (error as { name?: unknown } | null)?.name;
  const reason =
    name === 'TimeoutError' || name === 'AbortError'
      ? `no answer within ${timeoutMs / 1000}s`
      : code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host not found'
          : (code ?? (typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error)));
  return new CliError(ErrorCode.CliServerUnreachable, `cannot reach the Ferry api at ${server}: ${reason}`, {
    cause: error,
    details: [
      'is Ferry running? start it locally with: npm start',
      'or point the CLI elsewhere with --server, FERRY_SERVER or ferry login',
    ],
  });
}

function toApiError(method: string, path: string, status: number, json: unknown): Error {
  const body = json as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  if (typeof body?.code === 'string' && typeof body.message === 'string') {
    const details: ApiProblem[] = Array.isArray(body.details)
      ? body.details.map((d: unknown) => {
          const p = d as { path?: unknown; message?: unknown; line?: unknown };
          return {
            ...(typeof p.path === 'string' ? { path: p.path } : {}),
            message: typeof p.message === 'string' ? p.message : JSON.stringify(d),
            ...(typeof p.line === 'number' ? { line: p.line } : {}),
          };
        })
      : [];
    return new ApiError(body.code, status, body.message, details);
  }
  return new CliError(ErrorCode.CliUnexpectedResponse, `${method} ${path} answered HTTP ${status} without a Ferry error body`);
}

function objectOf<T>(json: unknown, what: string, server: string): T {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CliError(ErrorCode.CliUnexpectedResponse, `${what} at ${server} did not answer a JSON object`);
  }
  return json as T;
}

function itemsOf<T>(json: unknown, what: string, server: string): T[] {
  const items = (json as { items?: unknown } | undefined)?.items;
  if (items === null) return []; // Argo's ApplicationList serialises an empty list as null
  if (!Array.isArray(items)) throw new CliError(ErrorCode.CliUnexpectedResponse, `${what} at ${server} did not answer { items: [...] }`);
  return items as T[];
}

function requestIdOf(json: unknown, what: string, server: string): { requestId: string } {
  const requestId = (json as { requestId?: unknown } | undefined)?.requestId;
  if (typeof requestId !== 'string')
    throw new CliError(ErrorCode.CliUnexpectedResponse, `${what} at ${server} did not answer { requestId }`);
  return { requestId };
}
