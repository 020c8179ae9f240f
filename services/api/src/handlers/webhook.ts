/**
 * `POST /api/webhook`: Git push webhooks (GitHub, GitLab, Gitea, Gogs, Bitbucket Server, Ferry's
 * generic HMAC). Authenticated by signature, not by bearer token; refreshes the apps the push touched.
 * The route lives in its own fastify context so its body stays raw bytes (the signature covers them).
 */
import { ErrorCode } from '@ferry/contracts';
import type { FastifyInstance } from '@ferry/runtime';
import { parseApplication } from '@ferry/contracts';
import { appsToRefresh, detectProvider, readWebhookPush, verifyWebhook } from '../domain/webhook.js';
import type { WebhookApp } from '../domain/webhook.js';
import { ApiError } from './errors.js';
import { publishRefresh } from './context.js';
import type { ApiContext } from './context.js';

export const WEBHOOK_ROUTE = '/api/webhook';

export function registerWebhookRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const secret = ctx.config.webhookSecret;
  if (secret === undefined) return;
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post(WEBHOOK_ROUTE, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const provider = detectProvider(request.headers);
      if (provider === undefined) {
        throw new ApiError(
          400,
          ErrorCode.ApiWebhookInvalid,
          'no Git provider headers (X-GitHub-Event, X-Gitlab-Event, X-Gitea-Signature, X-Gogs-Signature, X-Event-Key, X-Ferry-Signature)',
        );
      }
      if (!verifyWebhook(provider, request.headers, body, secret)) {
        throw new ApiError(401, ErrorCode.ApiWebhookSignature, `webhook signature (${provider}) missing or wrong`);
      }
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        throw new ApiError(
          400,
          ErrorCode.ApiWebhookInvalid,
          'webhook body is not JSON (configure the hook with content type application/json)',
        );
      }
      const reading = readWebhookPush(provider, request.headers, payload);
      if (reading.kind === 'invalid') throw new ApiError(400, ErrorCode.ApiWebhookInvalid, reading.problem);
      if (reading.kind === 'ignored') return reply.code(200).send({ provider, ignored: reading.reason, refreshed: [] });
      const apps: WebhookApp[] = [];
      for (const { key, value } of await ctx.kv.apps.values()) {
        try {
          const a = parseApplication(value);
          apps.push({ name: key, repoURL: a.spec.source.repoURL, targetRevision: a.spec.source.targetRevision });
        } catch {
          // an invalid stored spec cannot be refreshed meaningfully
        }
      }
      const names = appsToRefresh(reading.push, apps);
      await Promise.all(names.map((name) => publishRefresh(ctx, request, name, 'webhook')));
      ctx.logger.info({ provider, revision: reading.push.revision, apps: names }, 'webhook: refresh requested');
      return reply.code(200).send({ provider, refreshed: names });
    });
  });
}
