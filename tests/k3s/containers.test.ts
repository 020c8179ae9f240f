/**
 * What the real-cluster suite relies on in the installed testcontainers packages, checked without a
 * container runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerRuntimeProblem, OpenNatsContainer, withoutNatsAuthArgs } from './containers.js';

/** NatsContainer's private pieces, reached at runtime to see the command it would start. */
interface NatsInternals {
  getNormalizedCommand(): string[];
  createOpts: { Cmd?: string[] };
  beforeContainerCreated(): Promise<void>;
}

test('the NATS container starts with JetStream and without the --user/--pass that @testcontainers/nats adds', async () => {
  const container = new OpenNatsContainer('nats:2.10.24-alpine').withJetStream();
  const internals = container as unknown as NatsInternals;
  const normalized = internals.getNormalizedCommand();
  assert.deepEqual(normalized, ['--user', 'test', '--pass', 'test', '--jetstream'], 'the package adds credentials by default');
  container.withCommand(normalized); // what NatsContainer.start() does before GenericContainer.start()
  await internals.beforeContainerCreated();
  assert.deepEqual(internals.createOpts.Cmd, ['--jetstream']);
});

test('auth flags are dropped with their values, other flags are kept in order', () => {
  assert.deepEqual(withoutNatsAuthArgs(['-js', '--user', 'a', '--port', '4222', '--pass', 'b', '-D']), ['-js', '--port', '4222', '-D']);
});

test('the runtime probe answers within its timeout and FERRY_TEST_K3S=skip skips on purpose', async () => {
  const started = Date.now();
  const problem = await containerRuntimeProblem(3_000);
  assert.ok(Date.now() - started < 4_000, 'bounded by the timeout');
  if (problem !== undefined) assert.ok(problem.length > 0, 'a reason to print');
  process.env.FERRY_TEST_K3S = 'skip';
  try {
    assert.equal(await containerRuntimeProblem(3_000), 'FERRY_TEST_K3S=skip');
  } finally {
    delete process.env.FERRY_TEST_K3S;
  }
});
