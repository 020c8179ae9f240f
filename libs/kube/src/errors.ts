import { ErrorCode, FerryError } from '@ferry/contracts';

/** The subset of error codes a KubeError carries. */
export type KubeErrorCode =
  | typeof ErrorCode.KubeConfigInvalid
  | typeof ErrorCode.KubeClusterUnknown
  | typeof ErrorCode.KubeKindUnknown
  | typeof ErrorCode.KubeRequest
  | typeof ErrorCode.KubeConflict
  | typeof ErrorCode.KubeInvalid
  | typeof ErrorCode.KubeNotFound
  | typeof ErrorCode.KubeUnauthorized;

export interface KubeErrorContext {
  /** Ferry's name of the cluster (`in-cluster` for the default). */
  cluster?: string;
  /** What was being done: `apply`, `get`, `list`, `delete`, `watch`, `discover`, … */
  operation?: string;
  /** The object or type concerned, as `apps/Deployment default/web`. */
  resource?: string;
  /** HTTP status; undefined when no response came (network failure, timeout). */
  status?: number;
  /** The Status `reason` (`NotFound`, `Invalid`, `AlreadyExists`, …). */
  reason?: string;
  /** The server's own message (from its Status body), or the network error's message. */
  serverMessage?: string;
  cause?: unknown;
}

/**
 * Every failure of @ferry/kube. `code` is one of FERRY_ERR_KUBE_*; the message reads
 * `failed to <operation> <resource>: <server message>`. Tests assert `code`, not the message.
 */
export class KubeError extends FerryError {
  declare readonly code: KubeErrorCode;
  readonly cluster: string | undefined;
  readonly operation: string | undefined;
  readonly resource: string | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly serverMessage: string | undefined;

  constructor(code: KubeErrorCode, message: string, context: KubeErrorContext = {}) {
    super(code, message, context.cause === undefined ? undefined : { cause: context.cause });
    this.cluster = context.cluster;
    this.operation = context.operation;
    this.resource = context.resource;
    this.status = context.status;
    this.reason = context.reason;
    this.serverMessage = context.serverMessage;
  }
}

/** The error code for an HTTP status from the API server. */
export function codeForStatus(status: number): KubeErrorCode {
  if (status === 401 || status === 403) return ErrorCode.KubeUnauthorized;
  if (status === 404) return ErrorCode.KubeNotFound;
  if (status === 409) return ErrorCode.KubeConflict;
  if (status === 422) return ErrorCode.KubeInvalid;
  return ErrorCode.KubeRequest;
}

/** Parsed `metav1.Status` from an error response body (JSON object or string). */
export interface ParsedStatus {
  message: string | undefined;
  reason: string | undefined;
  code: number | undefined;
}

export function parseStatusBody(body: unknown): ParsedStatus {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      const text = body.trim();
      return { message: text ? text.slice(0, 500) : undefined, reason: undefined, code: undefined };
    }
  }
  if (typeof value === 'object' && value !== null) {
    const v = value as { message?: unknown; reason?: unknown; code?: unknown };
    return {
      message: typeof v.message === 'string' ? v.message : undefined,
      reason: typeof v.reason === 'string' ? v.reason : undefined,
      code: typeof v.code === 'number' ? v.code : undefined,
    };
  }
  return { message: undefined, reason: undefined, code: undefined };
}

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function isNetworkError(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (e instanceof Error && /socket hang up|network|timed out/i.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True when retrying later may succeed: 5xx, 429, no response at all (network failure, timeout),
 * or a namespace that is being terminated. Callers `nak` with a delay on these and `term` on the rest.
 * Accepts KubeError, client-node's ApiException (`code` is the HTTP status) and raw network errors.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof KubeError) {
    if (error.status === undefined) return error.code === ErrorCode.KubeRequest; // no response: network, timeout
    if (error.status >= 500 || error.status === 429) return true;
    return error.status === 403 && /being terminated/i.test(error.serverMessage ?? '');
  }
  const status = (error as { code?: unknown; statusCode?: unknown } | null)?.statusCode ?? (error as { code?: unknown } | null)?.code;
  if (typeof status === 'number') return status >= 500 || status === 429;
  return isNetworkError(error);
}
