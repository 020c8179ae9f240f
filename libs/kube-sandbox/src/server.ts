/** The HTTP face of the sandbox: authentication, routing, body decoding, list/watch streaming. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { KubeObject, ResourceType } from './types.js';
import { PatchType, PropagationPolicy, type ApiServer, type DeleteOptions, type Subresource, type WriteOptions } from './api.js';
import { StatusError, StatusReason, badRequest, methodNotAllowed, gone } from './status-error.js';
import { entryJson, type Entry, type HistoryEvent } from './store.js';
import { apiVersionOf, storageKey } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { renderTable, wantsTable } from './table.js';
import { decodeKubernetesProtobuf } from './protobuf.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, openApiDocument, openApiIndex, versionInfo } from './discovery.js';

export interface HttpHandlerOptions {
  token: string;
  /** Longest a watch stays open before the server ends it (a real server uses 30-60 min). */
  watchTimeoutMs: number;
  /** Interval of BOOKMARK events for watches that allow them. */
  bookmarkIntervalMs: number;
  maxBodyBytes: number;
}

export interface HttpHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Ends every open watch (the client sees the stream close, as when a server's watch times out). */
  closeWatches(): void;
  watchCount(): number;
}

const NOT_FOUND_MESSAGE = 'the server could not find the requested resource';

function writeJson(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function writeStatus(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  writeJson(res, err.code, JSON.stringify(err.toStatus()));
}

function notFoundResource(): StatusError {
  return new StatusError(404, StatusReason.NotFound, NOT_FOUND_MESSAGE, {
    causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }],
  });
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new StatusError(413, StatusReason.RequestEntityTooLarge, 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decode(raw: Buffer, contentType: string): unknown {
  if (contentType.includes('protobuf')) {
    try {
      return decodeKubernetesProtobuf(raw);
    } catch (err) {
      throw new StatusError(
        415,
        StatusReason.UnsupportedMediaType,
        `the body of the request could not be decoded: ${(err as Error).message}`,
        undefined,
        {
          cause: err,
        },
      );
    }
  }
  if (contentType.includes('cbor'))
    throw new StatusError(
      415,
      StatusReason.UnsupportedMediaType,
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  const text = raw.toString('utf8');
  const trimmed = text.trimStart();
  if (trimmed === '') throw badRequest('the request body is empty');
  try {
    if (contentType.includes('yaml') && !trimmed.startsWith('{')) return parseYaml(text);
    return JSON.parse(text);
  } catch (err) {
    throw new StatusError(400, StatusReason.BadRequest, `the request body could not be decoded: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

interface Route {
  group: string;
  version: string;
  namespace: string | undefined;
  plural: string;
  name: string | undefined;
  sub: string;
  watchPath: boolean;
}

/** Splits a resource URL; undefined when it is not one. */
function parseRoute(segs: string[]): { group: string; version: string; rest: string[] } | undefined {
  if (segs[0] === 'api' && segs.length >= 2) return { group: '', version: segs[1]!, rest: segs.slice(2) };
  if (segs[0] === 'apis' && segs.length >= 3) return { group: segs[1]!, version: segs[2]!, rest: segs.slice(3) };
  return undefined;
}

export function createHttpHandler(api: ApiServer, options: HttpHandlerOptions): HttpHandler {
  const watches = new Set<() => void>();
  const expectedAuth = `Bearer ${options.token}`;

  function resolveResource(gv: { group: string; version: string; rest: string[] }): Route | undefined {
    let rest = gv.rest;
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const r = api.registry.byGroupVersionPlural(gv.group, gv.version, rest[2]!);
      if (r?.namespaced)
        return {
          group: gv.group,
          version: gv.version,
          namespace: rest[1],
          plural: rest[2]!,
          name: rest[3],
          sub: rest.slice(4).join('/'),
          watchPath,
        };
    }
    return {
      group: gv.group,
      version: gv.version,
      namespace: undefined,
      plural: rest[0]!,
      name: rest[1],
      sub: rest.slice(2).join('/'),
      watchPath,
    };
  }

  function writeOptions(q: URLSearchParams, req: IncomingMessage): WriteOptions {
    const dryRun = q.getAll('dryRun');
    for (const d of dryRun) if (d !== 'All') throw badRequest(`Invalid dryRun value: ${d}; only All is supported`);
    const fieldManager = q.get('fieldManager') ?? undefined;
    const ua = req.headers['user-agent'];
    const defaultManager = typeof ua === 'string' && ua !== '' ? ua.split('/')[0]! : 'unknown';
    const force = q.get('force');
    const fieldValidation = q.get('fieldValidation') ?? undefined;
    return {
      ...(fieldValidation ? { fieldValidation } : {}),
      dryRun: dryRun.length > 0,
      ...(fieldManager ? { fieldManager } : {}),
      defaultManager,
      force: force === 'true' || force === '1',
    };
  }

  function serialise(obj: KubeObject, r: ResourceType): string {
    return JSON.stringify(api.asVersion(obj, r));
  }

  function entryString(e: { obj: KubeObject; json: string | undefined }, r: ResourceType): string {
    return e.obj.apiVersion === apiVersionOf(r) ? entryJson(e) : serialise(e.obj, r);
  }

  function list(res: ServerResponse, r: ResourceType, namespace: string | undefined, q: URLSearchParams, table: boolean): void {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '', r.kind);
    const limit = Math.max(0, Number(q.get('limit') ?? 0) || 0);
    const cont = q.get('continue');
    let after: string | undefined;
    if (cont) {
      try {
        const parsed = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { k?: unknown };
        if (typeof parsed.k !== 'string') throw new Error('no key');
        after = parsed.k;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
    }
    const keys = api.store.keys(r);
    const prefix = namespace && r.namespaced ? `${namespace}/` : '';
    let i = 0;
    if (after !== undefined) {
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid]! <= after) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    } else if (prefix) {
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid]! < prefix) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    const parts: string[] = [];
    const tableObjects: KubeObject[] = [];
    let continueKey: string | undefined;
    const filtered = labels.length > 0 || fields.length > 0;
    for (; i < keys.length; i++) {
      const k = keys[i]!;
      if (prefix && !k.startsWith(prefix)) break;
      const e = api.store.entryByKey(r, k)!;
      if (filtered && !(matchesLabels(labels, e.obj.metadata.labels) && matchesFields(fields, e.obj))) continue;
      if (limit > 0 && parts.length >= limit) {
        continueKey = keys[i - 1];
        break;
      }
      if (table) tableObjects.push(e.obj);
      else parts.push(entryString(e, r));
    }
    const meta: Record<string, string> = { resourceVersion: String(api.store.resourceVersion) };
    if (continueKey !== undefined) meta.continue = Buffer.from(JSON.stringify({ k: continueKey })).toString('base64url');
    if (table) {
      const { resourceVersion, ...rest } = meta;
      return writeJson(res, 200, JSON.stringify(renderTable(r, tableObjects, resourceVersion!, api.printerColumns(r), rest)));
    }
    const body = `{"kind":"${r.kind}List","apiVersion":"${apiVersionOf(r)}","metadata":${JSON.stringify(meta)},"items":[${parts.join(',')}]}`;
    writeJson(res, 200, body);
  }

  function watch(
    req: IncomingMessage,
    res: ServerResponse,
    r: ResourceType,
    namespace: string | undefined,
    q: URLSearchParams,
    table: boolean,
  ): void {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '', r.kind);
    const rvParam = q.get('resourceVersion') ?? '';
    const sendInitial = q.get('sendInitialEvents') === 'true';
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? 0);
    let fromRv: number | undefined;
    if (rvParam !== '' && rvParam !== '0' && !sendInitial) {
      fromRv = Number(rvParam);
      if (!Number.isInteger(fromRv) || fromRv < 0) throw badRequest(`invalid resource version: ${rvParam}`);
    }
    const skey = storageKey(r);
    const matches = (obj: KubeObject | undefined): boolean =>
      obj !== undefined &&
      (!namespace || !r.namespaced || obj.metadata.namespace === namespace) &&
      matchesLabels(labels, obj.metadata.labels) &&
      matchesFields(fields, obj);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    let open = true;
    const send = (type: string, json: string): void => {
      if (open) res.write(`{"type":"${type}","object":${json}}\n`);
    };
    // with Table output every event carries a one-row Table
    const objectJson = (e: { obj: KubeObject; json: string | undefined }): string =>
      table ? JSON.stringify(renderTable(r, [e.obj], e.obj.metadata.resourceVersion ?? '', api.printerColumns(r))) : entryString(e, r);
    const deliver = (e: HistoryEvent): void => {
      const now = matches(e.entry.obj);
      if (e.type === 'ADDED') {
        if (now) send('ADDED', objectJson(e.entry));
      } else if (e.type === 'DELETED') {
        if (now) send('DELETED', objectJson(e.entry));
      } else {
        const before = matches(e.prev);
        if (now && before) send('MODIFIED', objectJson(e.entry));
        else if (now) send('ADDED', objectJson(e.entry));
        else if (before) send('DELETED', objectJson(e.entry));
      }
    };
    const bookmark = (annotations?: Record<string, string>): void =>
      send(
        'BOOKMARK',
        JSON.stringify({
          kind: r.kind,
          apiVersion: apiVersionOf(r),
          metadata: { resourceVersion: String(api.store.resourceVersion), ...(annotations ? { annotations } : {}) },
        }),
      );
    if (fromRv === undefined) {
      for (const e of api.store.list(r, namespace)) if (matches(e.obj)) send('ADDED', objectJson(e));
      if (sendInitial && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      const events = api.store.eventsSince(skey, fromRv);
      if (!events) {
        const err = gone(`too old resource version: ${fromRv} (${api.store.oldestResourceVersion + 1})`);
        send('ERROR', JSON.stringify(err.toStatus()));
        res.end();
        return;
      }
      for (const e of events) deliver(e);
    }
    const unsubscribe = api.store.addWatcher({ skey, deliver });
    const timers: NodeJS.Timeout[] = [];
    const finish = (): void => {
      if (!open) return;
      open = false;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      watches.delete(finish);
      res.end();
    };
    watches.add(finish);
    const limitMs = Math.min(timeoutSeconds > 0 ? timeoutSeconds * 1000 : Infinity, options.watchTimeoutMs);
    if (Number.isFinite(limitMs)) timers.push(setTimeout(finish, limitMs).unref());
    if (bookmarks) {
      const t = setInterval(() => bookmark(), options.bookmarkIntervalMs);
      t.unref();
      timers.push(t);
    }
    req.on('close', finish);
    res.on('close', finish);
  }

  function deleteOptions(q: URLSearchParams, body: unknown): DeleteOptions {
    const opts: DeleteOptions = {};
    const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const policy = q.get('propagationPolicy') ?? (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : undefined);
    if (policy !== undefined) {
      if (!Object.values(PropagationPolicy).includes(policy as PropagationPolicy))
        throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
      opts.propagationPolicy = policy as PropagationPolicy;
    } else if (q.get('orphanDependents') === 'true' || b.orphanDependents === true) opts.propagationPolicy = PropagationPolicy.Orphan;
    const dry = [...q.getAll('dryRun'), ...(Array.isArray(b.dryRun) ? b.dryRun.map(String) : [])];
    for (const d of dry) if (d !== 'All') throw badRequest(`Invalid dryRun value: ${d}; only All is supported`);
    if (dry.length > 0) opts.dryRun = true;
    if (typeof b.preconditions === 'object' && b.preconditions !== null) {
      const p = b.preconditions as Record<string, unknown>;
      opts.preconditions = {
        ...(typeof p.uid === 'string' ? { uid: p.uid } : {}),
        ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}),
      };
    }
    return opts;
  }

  async function handleResource(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const r = api.registry.byGroupVersionPlural(route.group, route.version, route.plural);
    if (!r) throw notFoundResource();
    const method = req.method ?? 'GET';
    const ns = r.namespaced ? route.namespace : undefined;
    const table = wantsTable(req.headers.accept);
    const sub = route.sub;
    if (sub !== '' && sub !== 'status' && sub !== 'scale') throw notFoundResource();
    if (sub === 'status' && !r.subresources.status) throw notFoundResource();
    if (sub === 'scale' && !r.subresources.scale) throw notFoundResource();
    if (route.name === undefined) {
      if (sub !== '') throw notFoundResource();
      if (method === 'GET') {
        const w = q.get('watch');
        if (route.watchPath || w === '1' || w === 'true') return watch(req, res, r, ns, q, table);
        return list(res, r, ns, q, table);
      }
      if (method === 'POST') {
        const body = decode(await readBody(req, options.maxBodyBytes), String(req.headers['content-type'] ?? ''));
        const obj = api.create(r, ns ?? (r.namespaced ? undefined : undefined), body, writeOptions(q, req));
        return writeJson(res, 201, serialise(obj, r));
      }
      if (method === 'DELETE') {
        const raw = await readBody(req, options.maxBodyBytes);
        const opts = deleteOptions(
          q,
          raw.toString('utf8').trim() ? decode(raw, String(req.headers['content-type'] ?? 'application/json')) : undefined,
        );
        const labels = parseLabelSelector(q.get('labelSelector') ?? '');
        const fields = parseFieldSelector(q.get('fieldSelector') ?? '', r.kind);
        const selected = api.store
          .list(r, ns)
          .filter((e: Entry) => matchesLabels(labels, e.obj.metadata.labels) && matchesFields(fields, e.obj));
        const deleted = api.deleteCollection(r, selected, opts);
        const body = `{"kind":"${r.kind}List","apiVersion":"${apiVersionOf(r)}","metadata":{"resourceVersion":"${api.store.resourceVersion}"},"items":[${deleted
          .map((o) => serialise(o, r))
          .join(',')}]}`;
        return writeJson(res, 200, body);
      }
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    if (route.watchPath) {
      q.set('fieldSelector', [q.get('fieldSelector'), `metadata.name=${route.name}`].filter(Boolean).join(','));
      return watch(req, res, r, ns, q, table);
    }
    const name = route.name;
    if (r.namespaced && !ns) throw notFoundResource();
    switch (method) {
      case 'GET': {
        if (sub === 'scale') return writeJson(res, 200, JSON.stringify(api.getScale(r, ns, name)));
        const found = api.get(r, ns, name);
        if (table && sub === '')
          return writeJson(res, 200, JSON.stringify(renderTable(r, [found], found.metadata.resourceVersion ?? '', api.printerColumns(r))));
        return writeJson(res, 200, serialise(found, r));
      }
      case 'PUT': {
        const body = decode(await readBody(req, options.maxBodyBytes), String(req.headers['content-type'] ?? ''));
        const opts = writeOptions(q, req);
        if (sub === 'scale') return writeJson(res, 200, JSON.stringify(api.writeScale(r, ns, name, { put: body }, opts)));
        return writeJson(res, 200, serialise(api.update(r, ns, name, body, sub as Subresource, opts), r));
      }
      case 'PATCH': {
        const ct = String(req.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim();
        if (!(Object.values(PatchType) as string[]).includes(ct))
          throw new StatusError(
            415,
            StatusReason.UnsupportedMediaType,
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
          );
        const body = decode(await readBody(req, options.maxBodyBytes), ct);
        const opts = writeOptions(q, req);
        if (sub === 'scale')
          return writeJson(res, 200, JSON.stringify(api.writeScale(r, ns, name, { patchType: ct as PatchType, patch: body }, opts)));
        if (ct === PatchType.Apply) {
          const { object, created } = api.apply(r, ns, name, body, sub as Subresource, opts);
          return writeJson(res, created ? 201 : 200, serialise(object, r));
        }
        return writeJson(res, 200, serialise(api.patch(r, ns, name, ct as PatchType, body, sub as Subresource, opts), r));
      }
      case 'DELETE': {
        if (sub !== '') throw methodNotAllowed('the server does not allow this method on the requested resource');
        const raw = await readBody(req, options.maxBodyBytes);
        const opts = deleteOptions(
          q,
          raw.toString('utf8').trim() ? decode(raw, String(req.headers['content-type'] ?? 'application/json')) : undefined,
        );
        const { object, pending } = api.delete(r, ns, name, opts);
        return writeJson(res, pending ? 202 : 200, serialise(object, r));
      }
      default:
        throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (req.headers.authorization !== expectedAuth) {
      const err = new StatusError(401, StatusReason.Unauthorized, 'Unauthorized');
      return writeStatus(res, err);
    }
    const segs = path.split('/').filter((s) => s !== '');
    const q = url.searchParams;
    const get = req.method === 'GET';
    if (path === '/version' && get) return writeJson(res, 200, JSON.stringify(versionInfo()));
    if (path === '/api' && get) return writeJson(res, 200, JSON.stringify(apiVersions(req.headers.host ?? '127.0.0.1')));
    if (path === '/apis' && get) return writeJson(res, 200, JSON.stringify(apiGroupList(api.registry)));
    if (segs[0] === 'openapi' && segs[1] === 'v3' && get) {
      if (segs.length === 2) return writeJson(res, 200, JSON.stringify(openApiIndex(api.registry)));
      const doc = openApiDocument(api.registry, segs.slice(2).join('/'));
      if (!doc) throw notFoundResource();
      return writeJson(res, 200, JSON.stringify(doc));
    }
    if (segs[0] === 'apis' && segs.length === 2 && get) {
      const doc = apiGroup(api.registry, segs[1]!);
      if (!doc) throw notFoundResource();
      return writeJson(res, 200, JSON.stringify(doc));
    }
    const gv = parseRoute(segs);
    if (!gv) throw notFoundResource();
    if (gv.rest.length === 0) {
      if (!get) throw methodNotAllowed('the server does not allow this method on the requested resource');
      const doc = apiResourceList(api.registry, gv.group, gv.version);
      if (!doc) throw notFoundResource();
      return writeJson(res, 200, JSON.stringify(doc));
    }
    const r = resolveResource(gv);
    if (!r) throw notFoundResource();
    return handleResource(req, res, r, q);
  }

  return {
    handle(req, res) {
      route(req, res).catch((err: unknown) => {
        if (err instanceof StatusError) return writeStatus(res, err);
        const status = new StatusError(
          500,
          StatusReason.InternalError,
          `Internal error occurred: ${(err as Error)?.message ?? String(err)}`,
        );
        writeStatus(res, status);
      });
    },
    closeWatches() {
      for (const f of [...watches]) f();
    },
    watchCount() {
      return watches.size;
    },
  };
}
