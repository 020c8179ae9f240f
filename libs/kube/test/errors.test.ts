import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@ferry/contracts';
import { KubeError, codeForStatus, isTransient, parseStatusBody } from '../src/errors.js';

describe('KubeError codes', () => {
  it('maps HTTP statuses to stable codes', () => {
    assert.equal(codeForStatus(401), ErrorCode.KubeUnauthorized);
    assert.equal(codeForStatus(403), ErrorCode.KubeUnauthorized);
    assert.equal(codeForStatus(404), ErrorCode.KubeNotFound);
    assert.equal(codeForStatus(409), ErrorCode.KubeConflict);
    assert.equal(codeForStatus(422), ErrorCode.KubeInvalid);
    assert.equal(codeForStatus(400), ErrorCode.KubeRequest);
    assert.equal(codeForStatus(500), ErrorCode.KubeRequest);
  });

  it('is a FerryError named KubeError that keeps its cause and context', () => {
    const cause = new Error('boom');
    const error = new KubeError(ErrorCode.KubeNotFound, 'failed to get Namespace x: not found', {
      status: 404,
      reason: 'NotFound',
      resource: 'Namespace x',
      cause,
    });
    assert.equal(error.name, 'KubeError');
    assert.equal(error.cause, cause);
    assert.equal(error.status, 404);
    assert.equal(error.resource, 'Namespace x');
    assert.ok(error instanceof Error);
  });
});

describe('parseStatusBody', () => {
  it('reads message, reason and code from a Status object or its JSON text', () => {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'namespaces "x" not found',
      reason: 'NotFound',
      code: 404,
    };
    assert.deepEqual(parseStatusBody(status), { message: 'namespaces "x" not found', reason: 'NotFound', code: 404 });
    assert.deepEqual(parseStatusBody(JSON.stringify(status)), { message: 'namespaces "x" not found', reason: 'NotFound', code: 404 });
  });

  it('keeps a plain-text body as the message', () => {
    assert.equal(parseStatusBody('upstream connect error').message, 'upstream connect error');
    assert.equal(parseStatusBody('').message, undefined);
  });
});

describe('isTransient', () => {
  const withStatus = (status: number, serverMessage = ''): KubeError =>
    new KubeError(codeForStatus(status), 'x', { status, serverMessage });

  it('is true for 5xx, 429 and a response that never came', () => {
    assert.equal(isTransient(withStatus(500)), true);
    assert.equal(isTransient(withStatus(503)), true);
    assert.equal(isTransient(withStatus(429)), true);
    assert.equal(
      isTransient(
        new KubeError(ErrorCode.KubeRequest, 'x', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }),
      ),
      true,
    );
  });

  it('is false for requests that will fail the same way again', () => {
    for (const status of [400, 401, 403, 404, 409, 422]) assert.equal(isTransient(withStatus(status)), false, String(status));
    assert.equal(isTransient(new KubeError(ErrorCode.KubeKindUnknown, 'x')), false);
    assert.equal(isTransient(new KubeError(ErrorCode.KubeClusterUnknown, 'x')), false);
  });

  it('treats a namespace being terminated as transient', () => {
    assert.equal(isTransient(withStatus(403, 'unable to create new content in namespace x because it is being terminated')), true);
  });

  it('understands raw network errors and client-node ApiException-like errors', () => {
    assert.equal(isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true);
    assert.equal(isTransient(Object.assign(new Error('HTTP-Code: 503'), { code: 503 })), true);
    assert.equal(isTransient(Object.assign(new Error('HTTP-Code: 404'), { code: 404 })), false);
    assert.equal(isTransient(new Error('bad input')), false);
  });
});
