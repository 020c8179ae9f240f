/**
 * Every error the api answers is `{ code, message, details? }` with a FERRY_ERR_* code. This module
 * maps thrown errors (Ferry's own, fastify's body errors, anything else) to that shape.
 */
import { ApplicationInvalidError, ErrorCode, FerryError, isErrorCode } from '@ferry/contracts';
import type { FastifyInstance, Logger } from '@ferry/runtime';

/** One problem in a request, by path (`spec.source.helm`, `prune`, `query.refresh`). */
export interface ErrorDetail {
  path: string;
  message: string;
  line?: number;
}

/** The body of every error response. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
}

/** An error that becomes an HTTP response with `statusCode` and the body `{ code, message, details? }`. */
export class ApiError extends FerryError {
  readonly statusCode: number;
  readonly details: readonly ErrorDetail[] | undefined;

  constructor(statusCode: number, code: ErrorCode, message: string, options: { details?: readonly ErrorDetail[]; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.statusCode = statusCode;
    this.details = options.details;
  }
}

export const notFound = (app: string): ApiError => new ApiError(404, ErrorCode.AppNotFound, `application ${app} not found`);

export const badRequest = (message: string, details?: readonly ErrorDetail[]): ApiError =>
  new ApiError(400, ErrorCode.ApiBadRequest, message, details === undefined ? {} : { details });

/** HTTP status of a Ferry code when it reaches the api without an explicit status. */
const statusOfCode: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.AppInvalid]: 400,
  [ErrorCode.ApiBadRequest]: 400,
  [ErrorCode.ApiUnauthenticated]: 401,
  [ErrorCode.AppNotFound]: 404,
  [ErrorCode.ApiRouteNotFound]: 404,
  [ErrorCode.AppExists]: 409,
  [ErrorCode.ApiRollbackAutoSync]: 409,
  [ErrorCode.ApiSyncAutoSync]: 409,
  [ErrorCode.ApiHistoryNotFound]: 404,
  [ErrorCode.ApiDiffNotFound]: 404,
  [ErrorCode.ApiBodyTooLarge]: 413,
  [ErrorCode.ApiUnsupportedMediaType]: 415,
  [ErrorCode.MessagingUnavailable]: 503,
  [ErrorCode.ApiUnavailable]: 503,
};

/** Maps anything thrown in a route to a status and body; unknown errors become a 500 that hides the cause. */
export function toErrorResponse(error: unknown): { statusCode: number; body: ErrorBody; internal: boolean } {
  if (error instanceof ApiError) {
    return { statusCode: error.statusCode, body: bodyOf(error.code, error.message, error.details), internal: false };
  }
  if (error instanceof ApplicationInvalidError) {
    return { statusCode: 400, body: bodyOf(error.code, error.message, error.problems), internal: false };
  }
  if (error instanceof FerryError && statusOfCode[error.code] !== undefined) {
    return { statusCode: statusOfCode[error.code] ?? 500, body: bodyOf(error.code, error.message), internal: false };
  }
  const fastifyCode = (error as { code?: unknown } | null)?.code;
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413) {
    return {
      statusCode: 413,
      body: bodyOf(ErrorCode.ApiBodyTooLarge, 'request body is larger than the limit (FERRY_API_MAX_BODY_BYTES)'),
      internal: false,
    };
  }
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || statusCode === 415) {
    return {
      statusCode: 415,
      body: bodyOf(ErrorCode.ApiUnsupportedMediaType, 'request body must be application/json or application/yaml'),
      internal: false,
    };
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { statusCode: 400, body: bodyOf(ErrorCode.ApiBadRequest, (error as Error).message), internal: false };
  }
  if (isErrorCode(fastifyCode) && fastifyCode === ErrorCode.MessagingUnavailable) {
    return { statusCode: 503, body: bodyOf(fastifyCode, (error as Error).message), internal: false };
  }
  return { statusCode: 500, body: bodyOf(ErrorCode.ApiInternal, 'internal error (see the api log)'), internal: true };
}

function bodyOf(code: ErrorCode, message: string, details?: readonly ErrorDetail[]): ErrorBody {
  return details === undefined || details.length === 0
    ? { code, message }
    : { code, message, details: details.map((d) => (d.line === undefined ? { path: d.path, message: d.message } : { ...d })) };
}

/** Installs the error and not-found handlers: every error answer has the `{ code, message, details? }` shape. */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error, request, reply) => {
    const { statusCode, body, internal } = toErrorResponse(error);
    if (internal) logger.error({ err: error, method: request.method, route: request.routeOptions.url }, 'request failed');
    else if (statusCode >= 500) logger.warn({ err: error, code: body.code, route: request.routeOptions.url }, 'request failed');
    return reply.code(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(bodyOf(ErrorCode.ApiRouteNotFound, `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}
