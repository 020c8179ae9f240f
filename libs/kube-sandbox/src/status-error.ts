/**
 * The API server's error type: every failure becomes a `Status` object with the reason and code a
 * real kube-apiserver uses (metav1.StatusReason).
 */

export const StatusReason = {
  BadRequest: 'BadRequest',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Gone: 'Gone',
  Expired: 'Expired',
  Invalid: 'Invalid',
  MethodNotAllowed: 'MethodNotAllowed',
  NotAcceptable: 'NotAcceptable',
  UnsupportedMediaType: 'UnsupportedMediaType',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  InternalError: 'InternalError',
} as const;
export type StatusReason = (typeof StatusReason)[keyof typeof StatusReason];

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

/** A Kubernetes `Status` (kind Status, apiVersion v1). */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Thrown by the store and the HTTP layer; `toStatus()` is what goes on the wire. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** `group` is '' for core; `resource` is the plural ("deployments.apps" style names as the real server). */
function qualified(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function notFound(group: string, plural: string, name: string): StatusError {
  return new StatusError(404, StatusReason.NotFound, `${qualified(group, plural)} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
  });
}

export function alreadyExists(group: string, plural: string, name: string): StatusError {
  return new StatusError(409, StatusReason.AlreadyExists, `${qualified(group, plural)} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
  });
}

export function conflict(group: string, plural: string, name: string, why: string, causes?: StatusCause[]): StatusError {
  return new StatusError(409, StatusReason.Conflict, `Operation cannot be fulfilled on ${qualified(group, plural)} "${name}": ${why}`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
    ...(causes ? { causes } : {}),
  });
}

export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): StatusError {
  const detail = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
  const groupKind = group ? `${kind}.${group}` : kind;
  return new StatusError(422, StatusReason.Invalid, `${groupKind} "${name}" is invalid: ${detail}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, ...(c.field ? { field: c.field } : {}) })),
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, StatusReason.BadRequest, message);
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, StatusReason.MethodNotAllowed, message);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(
    415,
    StatusReason.UnsupportedMediaType,
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
  );
}

export function gone(message: string): StatusError {
  return new StatusError(410, StatusReason.Expired, message);
}
