/** `POST /api/v1/applications/:name/refresh` and `…/sync`: requests published on the bus, answered 202. */
import { randomUUID } from 'node:crypto';
import { EventType } from '@ferry/contracts';
import type { SyncRequested } from '@ferry/contracts';
import { SpanAttribute, withSpan } from '@ferry/runtime';
import type { FastifyInstance } from '@ferry/runtime';
import { parseSyncRequest, isAppName } from '../domain/requests.js';
import { badRequest, notFound } from './errors.js';
import { publishRefresh, requestTraceContext } from './context.js';
import type { ApiContext } from './context.js';

type NameParams = { Params: { name: string } };

export function registerActionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<NameParams>('/api/v1/applications/:name/refresh', async (request, reply) => {
    const { name } = request.params;
    if (!isAppName(name)) throw notFound(name);
    if ((await ctx.kv.apps.get(name)) === undefined) throw notFound(name);
    const requestId = await publishRefresh(ctx, request, name, 'manual');
    return reply.code(202).send({ requestId });
  });

  app.post<NameParams>('/api/v1/applications/:name/sync', async (request, reply) => {
    const { name } = request.params;
    if (!isAppName(name)) throw notFound(name);
    const body = parseSyncRequest(request.body);
    if ('problems' in body) throw badRequest('invalid sync request', body.problems);
    if ((await ctx.kv.apps.get(name)) === undefined) throw notFound(name);
    const requestId = randomUUID();
    const initiatedBy = ctx.subjectOf(request);
    const data: SyncRequested = { app: name, requestId, prune: body.prune, initiatedBy };
    await withSpan(
      ctx.tracer,
      'api.sync',
      { [SpanAttribute.App]: name, 'ferry.request_id': requestId, 'ferry.prune': body.prune, 'enduser.id': initiatedBy },
      () => ctx.bus.publish(EventType.SyncRequested, name, data, { msgId: `sync.requested:${name}:${requestId}` }),
      requestTraceContext(request),
    );
    return reply.code(202).send({ requestId });
  });
}
