/**
 * `GET /api/v1/applications/:name/diff`: the differ's per-resource diff of the app's last
 * comparison, as stored in the artifact object store under `diffs.<app>`
 * (`{ app, revision, comparedAt, resources: [{ group, version, kind, namespace, name, status, diffState, diff, patch }] }`).
 */
import { ErrorCode } from '@ferry/contracts';
import type { FastifyInstance } from '@ferry/runtime';
import { isAppName } from '../domain/requests.js';
import { ApiError, notFound } from './errors.js';
import type { ApiContext } from './context.js';

/** The object-store key the differ writes an app's per-resource diff under. */
export function diffKey(app: string): string {
  return `diffs.${app}`;
}

export function registerDiffRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { name: string } }>('/api/v1/applications/:name/diff', async (request) => {
    const { name } = request.params;
    if (!isAppName(name)) throw notFound(name);
    if ((await ctx.kv.apps.get(name)) === undefined) throw notFound(name);
    const diff = await ctx.artifacts.getJson<unknown>(diffKey(name));
    if (typeof diff !== 'object' || diff === null || Array.isArray(diff) || !Array.isArray((diff as { resources?: unknown }).resources)) {
      throw new ApiError(
        404,
        ErrorCode.ApiDiffNotFound,
        `no diff stored for application ${name} yet (the differ stores one after each comparison)`,
      );
    }
    return diff;
  });
}
