/** `GET /api/version` (no authentication, as Argo CD's `/api/version`). */
import type { FastifyInstance } from '@ferry/runtime';
import type { ApiContext } from './context.js';

export function registerVersionRoutes(app: FastifyInstance, ctx: Pick<ApiContext, 'config'>): void {
  app.get('/api/version', async () => ({ version: ctx.config.version }));
}
