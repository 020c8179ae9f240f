import { ErrorCode } from '@ferry/contracts';
import { GitError } from '../domain/errors.js';
import { redactCredentials } from '../domain/repo-url.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  cause?: { code?: unknown; message?: unknown };
  message?: unknown;
  data?: { statusCode?: unknown; statusMessage?: unknown };
}

/**
 * A copy of a thrown value that is safe to keep as `cause` and to log: message and stack with
 * credentials stripped, `code` kept.
 */
export function sanitizeCause(error: unknown, depth = 0): Error {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike & { stack?: unknown };
  const message = redactCredentials(typeof e.message === 'string' ? e.message : String(error));
  const copy = new Error(
    message,
    e.cause !== undefined && depth < 3 ? { cause: sanitizeCause(e.cause, depth + 1) } : undefined,
  ) as Error & {
    code?: unknown;
  };
  copy.name = typeof e.name === 'string' ? e.name : 'Error';
  if (e.code !== undefined) copy.code = e.code;
  if (typeof e.stack === 'string') copy.stack = redactCredentials(e.stack);
  return copy;
}

/**
 * Maps anything isomorphic-git or the network throws to a {@link GitError}:
 * 401/403 and refused or missing credentials → FERRY_ERR_GIT_AUTH; everything else (connection
 * failures, 404, 5xx, a server that is not a Git server, no repository at a path) →
 * FERRY_ERR_GIT_UNREACHABLE. `repoURL` must already be credential-free.
 */
export function toGitError(error: unknown, repoURL: string, action: string, revision?: string): GitError {
  if (error instanceof GitError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const cause = sanitizeCause(error);
  const context = { repoURL, revision };
  const detail = redactCredentials(typeof e.message === 'string' ? e.message : String(error));
  if (e.code === 'UserCanceledError') {
    return new GitError(
      ErrorCode.GitAuth,
      `${action} ${repoURL}: the server requires authentication and no credentials are configured for it`,
      context,
      { cause },
    );
  }
  if (e.code === 'HttpError') {
    const status = typeof e.data?.statusCode === 'number' ? e.data.statusCode : 0;
    const statusText = typeof e.data?.statusMessage === 'string' ? ` ${e.data.statusMessage}` : '';
    if (status === 401 || status === 403) {
      return new GitError(ErrorCode.GitAuth, `${action} ${repoURL}: HTTP ${status}${statusText}: credentials missing or refused`, context, {
        cause,
      });
    }
    if (status === 404) {
      return new GitError(ErrorCode.GitUnreachable, `${action} ${repoURL}: HTTP 404: no repository at this URL`, context, { cause });
    }
    return new GitError(ErrorCode.GitUnreachable, `${action} ${repoURL}: HTTP ${status}${statusText}`, context, { cause });
  }
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) {
    return new GitError(ErrorCode.GitUnreachable, `${action} ${repoURL}: ${e.code}: ${detail}`, context, { cause });
  }
  // fetch() wraps network failures: TypeError('fetch failed') with the system error as its cause.
  const inner = e.cause;
  if (typeof inner?.code === 'string' && NETWORK_CODES.has(inner.code)) {
    const innerMessage = redactCredentials(typeof inner.message === 'string' ? inner.message : '');
    return new GitError(ErrorCode.GitUnreachable, `${action} ${repoURL}: ${inner.code}: ${innerMessage}`, context, { cause });
  }
  if (e.code === 'SmartHttpError' || e.code === 'EmptyServerResponseError' || e.code === 'ParseError') {
    return new GitError(ErrorCode.GitUnreachable, `${action} ${repoURL}: not a Git smart-HTTP server: ${detail}`, context, { cause });
  }
  const innerDetail = typeof inner?.message === 'string' && inner.message !== '' ? `: ${redactCredentials(inner.message)}` : '';
  return new GitError(ErrorCode.GitUnreachable, `${action} ${repoURL}: ${detail}${innerDetail}`, context, { cause });
}
