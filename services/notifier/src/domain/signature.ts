import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body>` (GitHub's X-Hub-Signature-256 scheme). */
export const SIGNATURE_HEADER = 'X-Ferry-Signature';
/** Header naming the trigger (`on-deployed`). */
export const EVENT_HEADER = 'X-Ferry-Event';
/** Header with the delivery id: stable across retries and redeliveries of one notification to one channel. */
export const DELIVERY_HEADER = 'X-Ferry-Delivery';

/** `sha256=` + lowercase hex HMAC-SHA256 of `body` (exact bytes sent) keyed with `secret`. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a `sha256=<hex>` header value against `body`, as a receiver does it. */
export function verifySignature(secret: string, body: string | Uint8Array, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(secret, body), 'utf8');
  const actual = Buffer.from(header, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
