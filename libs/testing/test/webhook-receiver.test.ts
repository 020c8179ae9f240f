import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { startWebhookReceiver } from '@ferry/testing';

test('the webhook receiver fails the first N requests with 500, then answers 200, recording all of them', async (t) => {
  const receiver = await startWebhookReceiver({ failFirst: 2 });
  t.after(() => receiver.close());
  const post = (n: number) =>
    fetch(`${receiver.url}/hooks/deploy?x=1`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Signature': `sig-${n}` },
      body: JSON.stringify({ n }),
    }).then((r) => r.status);

  assert.equal(await post(1), 500);
  assert.equal(await post(2), 500);
  assert.equal(await post(3), 200);
  const all = await receiver.waitForCount(3);
  assert.deepEqual(
    all.map((r) => [r.status, r.json]),
    [
      [500, { n: 1 }],
      [500, { n: 2 }],
      [200, { n: 3 }],
    ],
  );
  const last = await receiver.waitFor((r) => r.status === 200);
  assert.equal(last.method, 'POST');
  assert.equal(last.path, '/hooks/deploy');
  assert.equal(last.url, '/hooks/deploy?x=1');
  assert.equal(last.headers['x-signature'], 'sig-3');
  assert.equal(last.text, '{"n":3}');

  receiver.failNext(1, 503);
  assert.equal(await post(4), 503);
  assert.equal(await post(5), 200);
  receiver.clear();
  assert.deepEqual(receiver.requests(), []);
  await assert.rejects(receiver.waitFor(undefined, 50), { name: 'WaitTimeoutError' });
  const closed = receiver.close();
  assert.equal(receiver.close(), closed);
  await closed;
});
