import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEvent, EventType, type CloudEvent } from '@ferry/contracts';
import { waitUntil } from '@ferry/testing';
import { auth, startApiFixture, type ApiFixture } from './helpers.js';

/** An open SSE response, read frame by frame. */
interface SseClient {
  frames: string[];
  response: Response;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  waitForFrame(pred: (frame: string) => boolean, timeoutMs?: number): Promise<string>;
  abort(): void;
}

async function openStream(url: string, headers: Record<string, string> = auth()): Promise<SseClient> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const frames: string[] = [];
  let buffer = '';
  const ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          frames.push(buffer.slice(0, i));
          buffer = buffer.slice(i + 2);
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return {
    frames,
    response,
    ended,
    waitForFrame: (pred, timeoutMs = 3000) => waitUntil(() => frames.find(pred), { timeoutMs, message: 'expected SSE frame not received' }),
    abort: () => controller.abort(),
  };
}

function healthChanged(app: string, n: number): CloudEvent {
  return createEvent(EventType.HealthChanged, {
    source: 'health',
    app,
    id: `health.changed:${app}:rev:Healthy:${n}`,
    data: { app, status: 'Healthy', resources: [], changedAt: new Date().toISOString() },
  });
}

const parseFrame = (frame: string): Record<string, string> =>
  Object.fromEntries(
    frame
      .split('\n')
      .filter((l) => !l.startsWith(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );

describe('event stream (SSE) over a real listening server', () => {
  let f: ApiFixture;
  before(async () => {
    f = await startApiFixture();
  });
  after(async () => f.close());

  it('delivers an event published on the bus as one event:/data: frame', async () => {
    const client = await openStream(`${f.service.url}/api/v1/stream/events`);
    try {
      assert.equal(client.response.status, 200);
      assert.match(client.response.headers.get('content-type') ?? '', /^text\/event-stream/);
      await client.waitForFrame((fr) => fr.startsWith(': connected'));
      const event = healthChanged('web', 1);
      f.nc.publish('gitops.health.changed.web', JSON.stringify(event));
      const frame = parseFrame(await client.waitForFrame((fr) => fr.includes('event: ')));
      assert.equal(frame['event'], EventType.HealthChanged);
      assert.equal(frame['id'], event.id);
      assert.deepEqual(JSON.parse(frame['data'] ?? ''), event);
    } finally {
      client.abort();
    }
  });

  it("with ?app= sends only that app's events", async () => {
    const client = await openStream(`${f.service.url}/api/v1/stream/events?app=api`);
    try {
      await client.waitForFrame((fr) => fr.startsWith(': connected'));
      f.nc.publish('gitops.health.changed.web', JSON.stringify(healthChanged('web', 2)));
      f.nc.publish('gitops.health.changed.api', JSON.stringify(healthChanged('api', 3)));
      const frame = parseFrame(await client.waitForFrame((fr) => fr.includes('event: ')));
      assert.equal(JSON.parse(frame['data'] ?? '').subject, 'api');
      await f.nc.flush();
      assert.equal(client.frames.filter((fr) => fr.includes('"subject":"web"')).length, 0);
    } finally {
      client.abort();
    }
  });

  it('sends keep-alive comments on an idle stream', async () => {
    const client = await openStream(`${f.service.url}/api/v1/stream/events`);
    try {
      await client.waitForFrame((fr) => fr === ': keep-alive', 2000);
    } finally {
      client.abort();
    }
  });

  it('refuses a stream without a token (401) and a bad app filter (400)', async () => {
    const anonymous = await fetch(`${f.service.url}/api/v1/stream/events`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { code: string }).code, 'FERRY_ERR_API_UNAUTHENTICATED');
    const bad = await fetch(`${f.service.url}/api/v1/stream/events?app=Not_An_App`, { headers: auth() });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'FERRY_ERR_API_BAD_REQUEST');
  });

  it('stops the subscription when the client disconnects', async () => {
    const gauge = async (): Promise<number> => (await f.registry.getSingleMetric('ferry_api_event_streams')?.get())?.values[0]?.value ?? -1;
    const subs = async (): Promise<number> =>
      ((await (await fetch(`${f.nats.monitorUrl}/subsz`)).json()) as { num_subscriptions: number }).num_subscriptions;
    const baseline = await subs();
    const client = await openStream(`${f.service.url}/api/v1/stream/events`);
    await client.waitForFrame((fr) => fr.startsWith(': connected'));
    assert.equal(await gauge(), 1);
    assert.equal(await subs(), baseline + 1);
    client.abort();
    await waitUntil(async () => (await gauge()) === 0 && (await subs()) === baseline, {
      timeoutMs: 3000,
      message: 'stream not cleaned up',
    });
  });
});
