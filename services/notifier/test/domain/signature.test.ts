import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signBody, verifySignature } from '../../src/domain/signature.js';

test('the signature is sha256= and the hex HMAC-SHA256 of the raw body, as GitHub computes X-Hub-Signature-256', () => {
  // GitHub's documented test vector: secret "It's a Secret to Everybody", payload "Hello, World!".
  assert.equal(
    signBody("It's a Secret to Everybody", 'Hello, World!'),
    'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
  );
  const body = JSON.stringify({ trigger: 'on-deployed', app: 'web' });
  assert.equal(signBody('k', body), `sha256=${createHmac('sha256', 'k').update(body).digest('hex')}`);
});

test('verification accepts the right signature and rejects a wrong key, a changed body or a missing header', () => {
  const body = '{"a":1}';
  const header = signBody('secret', body);
  assert.equal(verifySignature('secret', body, header), true);
  assert.equal(verifySignature('other', body, header), false);
  assert.equal(verifySignature('secret', '{"a":2}', header), false);
  assert.equal(verifySignature('secret', body, undefined), false);
  assert.equal(verifySignature('secret', body, 'sha256=short'), false);
});
