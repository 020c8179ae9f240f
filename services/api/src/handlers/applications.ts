/**
 * `/api/v1/applications`: list, create, get, replace, delete. Manifests are validated with contracts'
 * `parseApplication`; the status is composed from the four status buckets on every read.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationInvalidError, ErrorCode, EventType, parseApplication } from '@ferry/contracts';
import type { Application, ApplicationStatus, AppDeleted } from '@ferry/contracts';
import { SpanAttribute, withSpan } from '@ferry/runtime';
import type { FastifyInstance } from '@ferry/runtime';
import type { FastifyRequest } from 'fastify';
import { composeStatus, invalidSpecStatus } from '../domain/compose-status.js';
import { toStatusRecords } from '../domain/records.js';
import type { RawStatusRecords } from '../domain/records.js';
import { parseBooleanQuery, parseDeleteQuery, parseRefreshMode, isAppName } from '../domain/requests.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { publishRefresh, requestTraceContext } from './context.js';
import type { ApiContext } from './context.js';

/** An Application as the api serves it: the stored manifest with the composed `status`. */
export type ApplicationWithStatus = Application & { status: ApplicationStatus };

type NameParams = { Params: { name: string } };

export function registerApplicationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { project?: string } }>('/api/v1/applications', async (request) => {
    const project = typeof request.query.project === 'string' && request.query.project !== '' ? request.query.project : undefined;
    const [apps, source, comparison, operation, health] = await Promise.all([
      ctx.kv.apps.values(),
      ctx.kv.source.values(),
      ctx.kv.comparison.values(),
      ctx.kv.operation.values(),
      ctx.kv.health.values(),
    ]);
    const byKey = (list: Array<{ key: string; value: unknown }>) => new Map(list.map((e) => [e.key, e.value]));
    const [s, c, o, h] = [byKey(source), byKey(comparison), byKey(operation), byKey(health)];
    const items = apps
      .map((e) =>
        withStatus(ctx, e.key, e.value, { source: s.get(e.key), comparison: c.get(e.key), operation: o.get(e.key), health: h.get(e.key) }),
      )
      .filter((a) => project === undefined || (a.spec?.project ?? 'default') === project)
      .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    return { items };
  });

  app.post<{ Querystring: { upsert?: string } }>('/api/v1/applications', async (request, reply) => {
    const upsert = parseBooleanQuery('upsert', request.query.upsert);
    if (typeof upsert === 'object') throw badRequest('invalid query', upsert.problems);
    const manifest = parseApplication(request.body);
    const name = manifest.metadata.name;
    const created = (await ctx.kv.apps.create(name, manifest)) !== undefined;
    if (!created) {
      if (!upsert)
        throw new ApiError(409, ErrorCode.AppExists, `application ${name} already exists (use ?upsert=true or PUT to replace it)`);
      await ctx.kv.apps.put(name, manifest);
    }
    await refreshAfterWrite(ctx, request, name, created ? 'created' : 'updated');
    return reply.code(created ? 201 : 200).send(manifest);
  });

  app.put<NameParams>('/api/v1/applications/:name', async (request, reply) => {
    const { name } = request.params;
    const manifest = parseApplication(request.body);
    if (manifest.metadata.name !== name) {
      throw new ApplicationInvalidError(
        [{ path: 'metadata.name', message: `must equal the name in the URL (${name}), is ${manifest.metadata.name}` }],
        name,
      );
    }
    const existed = (await ctx.kv.apps.get(name)) !== undefined;
    await ctx.kv.apps.put(name, manifest);
    await refreshAfterWrite(ctx, request, name, existed ? 'updated' : 'created');
    return reply.code(200).send(manifest);
  });

  app.get<NameParams & { Querystring: { refresh?: string } }>('/api/v1/applications/:name', async (request) => {
    const { name } = request.params;
    if (!isAppName(name)) throw notFound(name);
    const refresh = parseRefreshMode(request.query.refresh);
    if (typeof refresh === 'object') throw badRequest('invalid query', refresh.problems);
    const stored = await ctx.kv.apps.get(name);
    if (stored === undefined) throw notFound(name);
    if (refresh !== undefined) await publishRefresh(ctx, request, name, 'manual');
    return withStatus(ctx, name, stored.value, await readRecords(ctx, name));
  });

  app.delete<NameParams & { Querystring: { cascade?: string; propagationPolicy?: string } }>(
    '/api/v1/applications/:name',
    async (request) => {
      const { name } = request.params;
      if (!isAppName(name)) throw notFound(name);
      const cascade = parseDeleteQuery(request.query);
      if (typeof cascade === 'object') throw badRequest('invalid query', cascade.problems);
      const stored = await ctx.kv.apps.get(name);
      if (stored === undefined) throw notFound(name);
      await ctx.kv.apps.delete(name);
      const requestId = randomUUID();
      const spec = (stored.value as { spec?: { destination?: AppDeleted['destination'] } }).spec;
      // The spec is gone from ferry-apps once this returns: the event says which cluster to clean up.
      const data: AppDeleted = { app: name, deletedAt: new Date().toISOString(), cascade, ...(spec?.destination ? { destination: spec.destination } : {}) };
      try {
        await withSpan(
          ctx.tracer,
          'api.delete',
          { [SpanAttribute.App]: name, 'ferry.request_id': requestId, 'ferry.cascade': cascade },
          () => ctx.bus.publish(EventType.AppDeleted, name, data, { msgId: `app.deleted:${name}:${requestId}` }),
          requestTraceContext(request),
        );
      } catch (error) {
        // The spec is gone (the source of truth); the other services also watch `ferry-apps`.
        ctx.logger.warn({ err: error, app: name }, 'app deleted but app.deleted could not be published');
      }
      return {};
    },
  );
}

/** Reads the four status records of `name` (any may be absent). */
export async function readRecords(ctx: ApiContext, name: string): Promise<RawStatusRecords> {
  const [source, comparison, operation, health] = await Promise.all([
    ctx.kv.source.get(name),
    ctx.kv.comparison.get(name),
    ctx.kv.operation.get(name),
    ctx.kv.health.get(name),
  ]);
  return { source: source?.value, comparison: comparison?.value, operation: operation?.value, health: health?.value };
}

function withStatus(ctx: ApiContext, key: string, value: unknown, raw: RawStatusRecords): ApplicationWithStatus {
  const records = toStatusRecords(raw);
  try {
    const manifest = parseApplication(value);
    return { ...manifest, status: composeStatus(manifest, records) };
  } catch (error) {
    ctx.logger.warn({ app: key, code: (error as { code?: string }).code }, 'stored application does not validate');
    const base = typeof value === 'object' && value !== null ? (value as Application) : ({} as Application);
    const metadata = typeof base.metadata === 'object' && base.metadata !== null ? base.metadata : { name: key };
    return { ...base, metadata: { ...metadata, name: key }, status: invalidSpecStatus((error as Error).message, records, new Date()) };
  }
}

/**
 * After a create or update the poller should look at the app now. The spec is already stored (the
 * source of truth, which the poller also polls), so a failed publish is logged, not answered as an error.
 */
async function refreshAfterWrite(ctx: ApiContext, request: FastifyRequest, app: string, reason: 'created' | 'updated'): Promise<void> {
  try {
    await publishRefresh(ctx, request, app, reason);
  } catch (error) {
    ctx.logger.warn({ err: error, app, reason }, 'app stored but refresh.requested could not be published');
  }
}
