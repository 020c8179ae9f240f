/** `GET /api/v1/applications/:name/history`: the app's sync history (newest last, as Argo CD keeps it). */
import type { FastifyInstance } from '@ferry/runtime';
import { asOperationRecord } from '../domain/records.js';
import { isAppName } from '../domain/requests.js';
import { notFound } from './errors.js';
import type { ApiContext } from './context.js';

export function registerHistoryRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { name: string } }>('/api/v1/applications/:name/history', async (request) => {
    const { name } = request.params;
    if (!isAppName(name)) throw notFound(name);
    const [stored, operation] = await Promise.all([ctx.kv.apps.get(name), ctx.kv.operation.get(name)]);
    if (stored === undefined) throw notFound(name);
    return { items: asOperationRecord(operation?.value)?.history ?? [] };
  });
}
