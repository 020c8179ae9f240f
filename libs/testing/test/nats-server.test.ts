import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { requireTool, startNatsServer } from '@ferry/testing';

test('a nats-server starts on a free port with JetStream and monitoring, and restarts keeping its streams', async (t) => {
  if (!requireTool('nats-server', t)) return;
  const server = await startNatsServer();
  t.after(() => server.close());
  assert.match(server.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(server.port, 4222);
  const health = await fetch(`${server.monitorUrl}/healthz`);
  assert.equal(health.status, 200);

  let nc = await connect({ servers: server.url });
  let jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
  const js = jsm.jetstream();
  await js.publish('keep.one', 'hello');
  await nc.close();

  const { port, pid } = server;
  await server.restart();
  assert.equal(server.port, port);
  assert.notEqual(server.pid, pid);
  assert.equal(server.running, true);

  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info('KEEP');
  assert.equal(info.state.messages, 1);
  await nc.close();
});

test('a killed nats-server is not running, restarts on the same port, and close is idempotent', async (t) => {
  if (!requireTool('nats-server', t)) return;
  const server = await startNatsServer({ jetstream: false });
  await server.kill();
  assert.equal(server.running, false);
  await assert.rejects(fetch(`${server.monitorUrl}/healthz`));
  await server.restart();
  const nc = await connect({ servers: server.url });
  await nc.flush();
  await nc.close();
  const first = server.close();
  assert.equal(server.close(), first);
  await first;
  assert.equal(server.running, false);
});
