import { ErrorCode } from '@ferry/contracts';
import { applyBody } from './domain/apply-body.js';
import { describeRef, groupOf, refOf, versionOf } from './domain/identity.js';
import { KubeError, codeForStatus, parseStatusBody } from './errors.js';
import type { HttpRequest, HttpResult, KubeTransport } from './transport.js';
import type { ApiResource, KubeObject, ObjectRef } from './types.js';

/** The content type of a server-side apply PATCH (client-node's `PatchStrategy.ServerSideApply`). */
const SERVER_SIDE_APPLY_CONTENT_TYPE = 'application/apply-patch+yaml';

/** Field manager Ferry applies with unless told otherwise. */
export const DEFAULT_FIELD_MANAGER = 'ferry';

export interface ApplyOptions {
  /** Server-side apply field manager. Default `ferry`. */
  fieldManager?: string;
  /** Take over fields other managers own (Argo CD's SSA behaviour: Ferry owns what Git declares). Default true. */
  force?: boolean;
  /** Server-side dry run (`dryRun=All`): validated, defaulted and returned, not stored. Default false. */
  dryRun?: boolean;
  /**
   * Unknown or duplicate fields fail the apply (`fieldValidation=Strict`, as kubectl does); false sends
   * `fieldValidation=Ignore` (Argo CD's `Validate=false`). Default true.
   */
  validate?: boolean;
}

export interface WriteOptions {
  /** Field manager recorded in managedFields. Default `ferry`. */
  fieldManager?: string;
  dryRun?: boolean;
}

export interface DeleteOptions {
  /** Garbage-collection policy for dependents; default the server's (Background for most kinds). */
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  dryRun?: boolean;
}

export interface ListOptions {
  /** Only this namespace; omitted = all namespaces. Ignored for cluster-scoped kinds. */
  namespace?: string;
  /** A label selector (`app=web,tier!=db`). */
  labelSelector?: string;
}

/** A list answer with the collection's resourceVersion, from which a watch starts. */
export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface WatchStreamOptions {
  /** Start after this resourceVersion (from a list, or the last event seen). */
  resourceVersion?: string;
  /** Ask the server to end the watch after this many seconds. */
  timeoutSeconds?: number;
}

/** One decoded line of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (object is a Status). */
export interface RawWatchEvent {
  type: string;
  object: KubeObject;
}

/**
 * Access to one cluster. Created by the ClusterRegistry, one per cluster, shared by every caller.
 * Every method rejects with a KubeError (never a raw HTTP or client-node error).
 */
export interface ClusterClient {
  /** Ferry's name of the cluster: `in-cluster` for the default, else its configured name. */
  readonly name: string;
  /** The API server URL. */
  readonly server: string;
  /**
   * The resource type serving `apiVersion` + `kind`, from discovery (cached per group-version and
   * fetched again on a miss, so a CRD created a moment ago is found). FERRY_ERR_KUBE_KIND_UNKNOWN if none.
   */
  resourceFor(apiVersion: string, kind: string): Promise<ApiResource>;
  /** The live object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Every object of a kind (all namespaces unless one is given), pages followed. */
  list(apiVersion: string, kind: string, options?: ListOptions): Promise<KubeObject[]>;
  /** As list, with the collection's resourceVersion (the starting point of a watch). */
  listWithVersion(apiVersion: string, kind: string, options?: ListOptions): Promise<ListResult>;
  /**
   * Server-side apply (PATCH application/apply-patch+yaml) of the object, stripped of `status` and
   * server-owned metadata; returns the object as stored (or as it would be, with dryRun).
   * Namespaced kinds need `metadata.namespace`; a namespace on a cluster-scoped kind is dropped.
   */
  apply(object: KubeObject, options?: ApplyOptions): Promise<KubeObject>;
  /**
   * Creates the object (POST); `metadata.generateName` works (hooks). AlreadyExists is
   * FERRY_ERR_KUBE_CONFLICT. Server-owned metadata and `status` are stripped as for apply.
   */
  create(object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /**
   * Replaces the object (PUT, Argo CD's `Replace=true`): fields absent from `object` are removed.
   * Without `metadata.resourceVersion` the replace is unconditional; with it, a stale version is
   * FERRY_ERR_KUBE_CONFLICT. NotFound is FERRY_ERR_KUBE_NOT_FOUND.
   */
  replace(object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** Deletes the object; true when it existed (NotFound is success: false). */
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<boolean>;
  /** Creates the namespace when it does not exist; true when it was created now. */
  ensureNamespace(name: string): Promise<boolean>;
  /**
   * Low level, for the watch cache: one watch request on a whole kind (all namespaces). Calls `onEvent`
   * per event; resolves when the server ends the stream, rejects with a KubeError on a non-200
   * answer or network failure, and when `signal` aborts.
   */
  watch(resource: ApiResource, options: WatchStreamOptions, onEvent: (event: RawWatchEvent) => void, signal: AbortSignal): Promise<void>;
  /** Closes pooled connections and aborts requests in flight; later calls fail. Idempotent. */
  close(): Promise<void>;
}

interface ClientConfig {
  name: string;
  transport: KubeTransport;
}

function resourcePath(resource: ApiResource, namespace: string | undefined, name?: string): string {
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  const ns = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const tail = name === undefined ? '' : `/${encodeURIComponent(name)}`;
  return `${base}${ns}/${resource.plural}${tail}`;
}

function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

function isKubeObject(value: unknown): value is KubeObject {
  return typeof value === 'object' && value !== null && typeof (value as KubeObject).metadata === 'object';
}

class Client implements ClusterClient {
  readonly name: string;
  readonly server: string;
  private readonly transport: KubeTransport;
  /** groupVersion → kind → resource. */
  private readonly discovered = new Map<string, Map<string, ApiResource>>();
  private readonly discovering = new Map<string, Promise<Map<string, ApiResource> | undefined>>();
  private closed: Promise<void> | undefined;

  constructor(config: ClientConfig) {
    this.name = config.name;
    this.transport = config.transport;
    this.server = config.transport.server;
  }

  private fail(operation: string, resource: string | undefined, result: HttpResult): KubeError {
    const status = parseStatusBody(result.body);
    const serverMessage = status.message ?? `HTTP ${result.status}`;
    const what = resource ? `${operation} ${resource}` : operation;
    return new KubeError(codeForStatus(result.status), `failed to ${what}: ${serverMessage}`, {
      cluster: this.name,
      operation,
      ...(resource ? { resource } : {}),
      status: result.status,
      ...(status.reason ? { reason: status.reason } : {}),
      serverMessage,
    });
  }

  private async send(operation: string, resource: string | undefined, req: HttpRequest): Promise<HttpResult> {
    if (this.closed) {
      throw new KubeError(ErrorCode.KubeRequest, `failed to ${operation}: the client of cluster ${this.name} is closed`, {
        cluster: this.name,
        operation,
      });
    }
    try {
      return await this.transport.request(req);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const what = resource ? `${operation} ${resource}` : operation;
      throw new KubeError(ErrorCode.KubeRequest, `failed to ${what}: ${message} (cluster ${this.name} at ${this.server})`, {
        cluster: this.name,
        operation,
        ...(resource ? { resource } : {}),
        serverMessage: message,
        cause: error,
      });
    }
  }

  private async discover(apiVersion: string): Promise<Map<string, ApiResource> | undefined> {
    const pending = this.discovering.get(apiVersion);
    if (pending) return pending;
    const promise = (async () => {
      const result = await this.send('discover', apiVersion, { method: 'GET', path: groupVersionPath(apiVersion) });
      if (result.status === 404) return undefined;
      if (result.status !== 200) throw this.fail('discover', apiVersion, result);
      const list = result.body as { resources?: Array<{ name: string; kind: string; namespaced?: boolean; verbs?: string[] }> };
      const kinds = new Map<string, ApiResource>();
      for (const r of list.resources ?? []) {
        if (r.name.includes('/')) continue; // subresources (deployments/status, …)
        kinds.set(r.kind, {
          group: groupOf(apiVersion),
          version: versionOf(apiVersion),
          apiVersion,
          kind: r.kind,
          plural: r.name,
          namespaced: Boolean(r.namespaced),
          verbs: r.verbs ?? [],
        });
      }
      this.discovered.set(apiVersion, kinds);
      return kinds;
    })();
    this.discovering.set(apiVersion, promise);
    try {
      return await promise;
    } finally {
      this.discovering.delete(apiVersion);
    }
  }

  async resourceFor(apiVersion: string, kind: string): Promise<ApiResource> {
    const cached = this.discovered.get(apiVersion)?.get(kind);
    if (cached) return cached;
    const kinds = await this.discover(apiVersion);
    const found = kinds?.get(kind);
    if (found) return found;
    const type = `${apiVersion}/${kind}`;
    throw new KubeError(
      ErrorCode.KubeKindUnknown,
      `failed to find resource type ${type}: cluster ${this.name} serves no ${kind} in ${apiVersion}`,
      {
        cluster: this.name,
        operation: 'discover',
        resource: type,
      },
    );
  }

  private invalid(operation: string, resource: string, message: string): KubeError {
    return new KubeError(ErrorCode.KubeInvalid, `failed to ${operation} ${resource}: ${message}`, {
      cluster: this.name,
      operation,
      resource,
      serverMessage: message,
    });
  }

  private checkRef(operation: string, ref: ObjectRef, resource: ApiResource): string | undefined {
    const described = describeRef(ref);
    if (!ref.name) throw this.invalid(operation, described, 'metadata.name is required');
    if (!resource.namespaced) return undefined;
    if (!ref.namespace) throw this.invalid(operation, described, `${ref.kind} is namespaced and no namespace was given`);
    return ref.namespace;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const resource = await this.resourceFor(ref.apiVersion, ref.kind);
    const namespace = this.checkRef('get', ref, resource);
    const result = await this.send('get', describeRef(ref), { method: 'GET', path: resourcePath(resource, namespace, ref.name) });
    if (result.status === 404) return undefined;
    if (result.status !== 200 || !isKubeObject(result.body)) throw this.fail('get', describeRef(ref), result);
    return result.body;
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<KubeObject[]> {
    return (await this.listWithVersion(apiVersion, kind, options)).items;
  }

  async listWithVersion(apiVersion: string, kind: string, options: ListOptions = {}): Promise<ListResult> {
    const resource = await this.resourceFor(apiVersion, kind);
    const described = options.namespace && resource.namespaced ? `${apiVersion}/${kind} in ${options.namespace}` : `${apiVersion}/${kind}`;
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    do {
      const result = await this.send('list', described, {
        method: 'GET',
        path: resourcePath(resource, options.namespace),
        query: { labelSelector: options.labelSelector, limit: 500, continue: continueToken },
      });
      if (result.status !== 200) throw this.fail('list', described, result);
      const body = result.body as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
      for (const item of body.items ?? []) {
        // Real API servers omit apiVersion/kind on list items.
        items.push(item.apiVersion && item.kind ? item : { ...item, apiVersion: item.apiVersion || apiVersion, kind: item.kind || kind });
      }
      if (!continueToken) resourceVersion = body.metadata?.resourceVersion ?? '';
      continueToken = body.metadata?.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  async apply(object: KubeObject, options: ApplyOptions = {}): Promise<KubeObject> {
    const ref = refOf(object);
    const described = describeRef(ref);
    if (!object.apiVersion || !object.kind) throw this.invalid('apply', described, 'apiVersion and kind are required');
    const resource = await this.resourceFor(object.apiVersion, object.kind);
    const namespace = this.checkRef('apply', ref, resource);
    const result = await this.send('apply', described, {
      method: 'PATCH',
      path: resourcePath(resource, namespace, ref.name),
      query: {
        fieldManager: options.fieldManager ?? DEFAULT_FIELD_MANAGER,
        force: options.force ?? true,
        dryRun: options.dryRun ? 'All' : undefined,
        fieldValidation: options.validate === false ? 'Ignore' : 'Strict',
      },
      contentType: SERVER_SIDE_APPLY_CONTENT_TYPE,
      body: applyBody(object, { clusterScoped: !resource.namespaced }),
    });
    if ((result.status !== 200 && result.status !== 201) || !isKubeObject(result.body)) throw this.fail('apply', described, result);
    return result.body;
  }

  async create(object: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const ref = refOf(object);
    const described = describeRef({ ...ref, name: ref.name || `${object.metadata.generateName ?? ''}*` });
    if (!object.apiVersion || !object.kind) throw this.invalid('create', described, 'apiVersion and kind are required');
    const resource = await this.resourceFor(object.apiVersion, object.kind);
    if (!ref.name && !object.metadata.generateName)
      throw this.invalid('create', described, 'metadata.name or metadata.generateName is required');
    if (resource.namespaced && !ref.namespace)
      throw this.invalid('create', described, `${object.kind} is namespaced and no namespace was given`);
    const result = await this.send('create', described, {
      method: 'POST',
      path: resourcePath(resource, ref.namespace),
      query: { fieldManager: options.fieldManager ?? DEFAULT_FIELD_MANAGER, dryRun: options.dryRun ? 'All' : undefined },
      body: applyBody(object, { clusterScoped: !resource.namespaced }),
    });
    if ((result.status !== 201 && result.status !== 200 && result.status !== 202) || !isKubeObject(result.body))
      throw this.fail('create', described, result);
    return result.body;
  }

  async replace(object: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const ref = refOf(object);
    const described = describeRef(ref);
    if (!object.apiVersion || !object.kind) throw this.invalid('replace', described, 'apiVersion and kind are required');
    const resource = await this.resourceFor(object.apiVersion, object.kind);
    const namespace = this.checkRef('replace', ref, resource);
    const body = applyBody(object, { clusterScoped: !resource.namespaced });
    const resourceVersion = object.metadata.resourceVersion;
    if (resourceVersion) body.metadata.resourceVersion = resourceVersion;
    const result = await this.send('replace', described, {
      method: 'PUT',
      path: resourcePath(resource, namespace, ref.name),
      query: { fieldManager: options.fieldManager ?? DEFAULT_FIELD_MANAGER, dryRun: options.dryRun ? 'All' : undefined },
      body,
    });
    if ((result.status !== 200 && result.status !== 201) || !isKubeObject(result.body)) throw this.fail('replace', described, result);
    return result.body;
  }

  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const described = describeRef(ref);
    const resource = await this.resourceFor(ref.apiVersion, ref.kind);
    const namespace = this.checkRef('delete', ref, resource);
    const result = await this.send('delete', described, {
      method: 'DELETE',
      path: resourcePath(resource, namespace, ref.name),
      query: { propagationPolicy: options.propagationPolicy, dryRun: options.dryRun ? 'All' : undefined },
    });
    if (result.status === 404) return false;
    if (result.status !== 200 && result.status !== 202) throw this.fail('delete', described, result);
    return true;
  }

  async ensureNamespace(name: string): Promise<boolean> {
    const ref: ObjectRef = { apiVersion: 'v1', kind: 'Namespace', name };
    if (await this.get(ref)) return false;
    const described = describeRef(ref);
    const result = await this.send('create', described, {
      method: 'POST',
      path: '/api/v1/namespaces',
      query: { fieldManager: DEFAULT_FIELD_MANAGER },
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    });
    if (result.status === 409) return false; // created meanwhile by someone else
    if (result.status !== 201 && result.status !== 200) throw this.fail('create', described, result);
    return true;
  }

  async watch(
    resource: ApiResource,
    options: WatchStreamOptions,
    onEvent: (event: RawWatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const described = `${resource.apiVersion}/${resource.kind}`;
    if (this.closed)
      throw new KubeError(ErrorCode.KubeRequest, `failed to watch ${described}: client closed`, { cluster: this.name, operation: 'watch' });
    let result: HttpResult;
    try {
      result = await this.transport.stream(
        resourcePath(resource, undefined),
        {
          watch: 'true',
          allowWatchBookmarks: 'true',
          resourceVersion: options.resourceVersion || undefined,
          timeoutSeconds: options.timeoutSeconds,
        },
        (line) => {
          let event: RawWatchEvent;
          try {
            event = JSON.parse(line) as RawWatchEvent;
          } catch {
            return; // a torn line: the watch restarts from the last good resourceVersion
          }
          onEvent(event);
        },
        signal,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new KubeError(ErrorCode.KubeRequest, `failed to watch ${described}: ${message}`, {
        cluster: this.name,
        operation: 'watch',
        resource: described,
        serverMessage: message,
        cause: error,
      });
    }
    if (result.status !== 200) throw this.fail('watch', described, result);
  }

  close(): Promise<void> {
    this.closed ??= Promise.resolve().then(() => this.transport.close());
    return this.closed;
  }
}

/**
 * Discovers the scope of every kind in `objects` (one discovery call per group-version at most) and
 * returns the synchronous lookup prepareDesired takes: undefined for kinds the cluster does not
 * serve yet (a CRD in the same set); other discovery failures reject.
 */
export async function discoverScopes(
  client: ClusterClient,
  objects: readonly KubeObject[],
): Promise<(apiVersion: string, kind: string) => boolean | undefined> {
  const scopes = new Map<string, boolean | undefined>();
  for (const object of objects) {
    const key = `${object.apiVersion}/${object.kind}`;
    if (scopes.has(key)) continue;
    try {
      scopes.set(key, (await client.resourceFor(object.apiVersion, object.kind)).namespaced);
    } catch (error) {
      if (error instanceof KubeError && error.code === ErrorCode.KubeKindUnknown) scopes.set(key, undefined);
      else throw error;
    }
  }
  return (apiVersion, kind) => scopes.get(`${apiVersion}/${kind}`);
}

/** Builds the client of one cluster over its transport (the registry does this; tests may too). */
export function createClusterClient(config: ClientConfig): ClusterClient {
  return new Client(config);
}
