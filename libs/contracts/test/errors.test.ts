import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ErrorCode, FerryError, isErrorCode, toErrorInfo } from '@ferry/contracts';
import { renderErrorDocs } from '../../../scripts/error-docs.js';

test('every code is FERRY_ERR_<AREA>_<PROBLEM> and unique', () => {
  const codes = Object.values(ErrorCode);
  for (const code of codes) assert.match(code, /^FERRY_ERR_[A-Z0-9]+_[A-Z0-9_]+$/);
  assert.equal(new Set(codes).size, codes.length);
});

test('errors keep their code and cause across toErrorInfo', () => {
  const cause = new Error('root');
  const error = new FerryError(ErrorCode.AppNotFound, 'no app web', { cause });
  assert.equal(error.name, 'FerryError');
  assert.equal(error.cause, cause);
  assert.deepEqual(toErrorInfo(error, ErrorCode.StartFailed), { code: 'FERRY_ERR_APP_NOT_FOUND', message: 'no app web' });
  assert.deepEqual(toErrorInfo(new Error('boom'), ErrorCode.StartFailed), { code: 'FERRY_ERR_START_FAILED', message: 'boom' });
  assert.equal(isErrorCode('FERRY_ERR_NOPE'), false);
});

test('docs/errors.md lists every registered code and is up to date (run npm run docs:errors)', () => {
  const rendered = renderErrorDocs();
  for (const code of Object.values(ErrorCode)) assert.ok(rendered.includes(`\`${code}\``), `${code} is documented`);
  assert.equal(readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8'), rendered);
});
