/**
 * `POST /api/v1/applications/:name/refresh`, `…/sync` and `…/rollback`: requests published on the
 * bus, answered 202. Sync and rollback publish `sync.requested`; the applier resolves afresh (the
 * poller resolves the request's revision when it names one) and syncs.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, EventType, isAutomated, parseApplication } from '@ferry/contracts';
import type { Application, SyncRequested } from '@ferry/contracts';
import { SpanAttribute, withSpan } from '@ferry/runtime';
import type { FastifyInstance } from '@ferry/runtime';
import type { FastifyRequest } from 'fastify';
import { asOperationRecord } from '../domain/records.js';
import { parseRollbackRequest, parseSyncRequest, isAppName } from '../domain/requests.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { publishRefresh, requestTraceContext } from './context.js';
import type { ApiContext } from './context.js';

type NameParams = { Params: { name: string } };

/** Attempts at removing `automated` from a spec another writer is changing at the same time. */
const DISABLE_AUTOSYNC_ATTEMPTS = 5;

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
    const body = parseSyncRequest(request.body, name);
    if ('problems' in body) throw badRequest('invalid sync request', body.problems);
    const stored = await ctx.kv.apps.get(name);
    if (stored === undefined) throw notFound(name);
    if (body.revision !== undefined && !body.dryRun) {
      // Argo CD: a revision other than the target cannot be synced while automated sync would undo it.
      const spec = specOf(stored.value);
      const target = spec?.spec.source.targetRevision?.trim() || 'HEAD';
      if (spec !== undefined && isAutomated(spec) && body.revision !== target) {
        throw new ApiError(
          409,
          ErrorCode.ApiSyncAutoSync,
          `cannot sync application ${name} to ${body.revision}: automated sync is on and follows ${target} (disable it, or sync with dryRun)`,
        );
      }
    }
    const requestId = randomUUID();
    const data: SyncRequested = {
      app: name,
      requestId,
      prune: body.prune,
      initiatedBy: ctx.subjectOf(request),
      kind: 'sync',
      ...(body.revision === undefined ? {} : { revision: body.revision }),
      ...(body.dryRun ? { dryRun: true } : {}),
      ...(body.resources === undefined ? {} : { resources: body.resources }),
      ...(body.syncOptions === undefined ? {} : { syncOptions: body.syncOptions }),
    };
    await publishSyncRequest(ctx, request, data, 'api.sync');
    return reply.code(202).send({ requestId });
  });

  app.post<NameParams>('/api/v1/applications/:name/rollback', async (request, reply) => {
    const { name } = request.params;
    if (!isAppName(name)) throw notFound(name);
    const body = parseRollbackRequest(request.body, name);
    if ('problems' in body) throw badRequest('invalid rollback request', body.problems);
    const [stored, operation] = await Promise.all([ctx.kv.apps.get(name), ctx.kv.operation.get(name)]);
    if (stored === undefined) throw notFound(name);
    const spec = parseApplication(stored.value);
    const entry = (asOperationRecord(operation?.value)?.history ?? []).find((h) => h.id === body.id);
    if (entry === undefined) {
      throw new ApiError(404, ErrorCode.ApiHistoryNotFound, `application ${name} has no history entry with id ${body.id}`);
    }
    if (isAutomated(spec)) {
      if (!body.disableAutoSync && !body.dryRun) {
        throw new ApiError(
          409,
          ErrorCode.ApiRollbackAutoSync,
          `rollback of application ${name} cannot be initiated while automated sync is on (disable it first, or pass disableAutoSync: true)`,
        );
      }
      if (body.disableAutoSync) await disableAutoSync(ctx, name, stored);
    }
    const requestId = randomUUID();
    const data: SyncRequested = {
      app: name,
      requestId,
      prune: body.prune,
      initiatedBy: ctx.subjectOf(request),
      kind: 'rollback',
      revision: entry.revision,
      historyId: entry.id,
      ...(body.dryRun ? { dryRun: true } : {}),
    };
    await publishSyncRequest(ctx, request, data, 'api.rollback');
    return reply.code(202).send({ requestId, id: entry.id, revision: entry.revision });
  });
}

function specOf(value: unknown): Application | undefined {
  try {
    return parseApplication(value);
  } catch {
    return undefined;
  }
}

/** `spec` without `syncPolicy.automated` (and without an empty `syncPolicy`). */
export function withoutAutomated(app: Application): Application {
  const { automated: _automated, ...policy } = app.spec.syncPolicy ?? {};
  const { syncPolicy: _syncPolicy, ...spec } = app.spec;
  return { ...app, spec: Object.keys(policy).length === 0 ? spec : { ...spec, syncPolicy: policy } };
}

/** Removes `spec.syncPolicy.automated` from the stored app (compare-and-set, retried on a concurrent write). */
async function disableAutoSync(ctx: ApiContext, name: string, first: { value: unknown; revision: number }): Promise<void> {
  let current: { value: unknown; revision: number } | undefined = first;
  for (let attempt = 0; attempt < DISABLE_AUTOSYNC_ATTEMPTS && current !== undefined; attempt++) {
    const app = parseApplication(current.value);
    if (!isAutomated(app)) return;
    if ((await ctx.kv.apps.update(name, withoutAutomated(app), current.revision)) !== undefined) {
      ctx.logger.info({ app: name }, 'automated sync disabled for a rollback');
      return;
    }
    current = await ctx.kv.apps.get(name);
  }
  if (current === undefined) throw notFound(name);
  throw new ApiError(
    503,
    ErrorCode.MessagingUnavailable,
    `application ${name} kept changing while automated sync was being disabled; retry`,
  );
}

async function publishSyncRequest(ctx: ApiContext, request: FastifyRequest, data: SyncRequested, spanName: string): Promise<void> {
  const attributes: Record<string, string | number | boolean> = {
    [SpanAttribute.App]: data.app,
    'ferry.request_id': data.requestId,
    'ferry.prune': data.prune,
    'enduser.id': data.initiatedBy,
  };
  if (data.revision !== undefined) attributes['ferry.requested_revision'] = data.revision;
  if (data.dryRun === true) attributes['ferry.dry_run'] = true;
  if (data.historyId !== undefined) attributes['ferry.history_id'] = data.historyId;
  await withSpan(
    ctx.tracer,
    spanName,
    attributes,
    () => ctx.bus.publish(EventType.SyncRequested, data.app, data, { msgId: `sync.requested:${data.app}:${data.requestId}` }),
    requestTraceContext(request),
  );
}
