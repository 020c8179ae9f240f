/**
 * `npm run sandbox -- --port <port> --kubeconfig <file> [--state <file>] [--rollout-ms <ms>] [--token <t>]`
 * Starts the sandbox in the foreground and prints `sandbox ready <url>` once it accepts requests.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { startSandbox, type SandboxOptions } from './sandbox.js';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        kubeconfig: { type: 'string' },
        state: { type: 'string' },
        'rollout-ms': { type: 'string' },
        'progress-deadline-scale-ms': { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(
      'usage: sandbox --port <port> --kubeconfig <file> [--state <file>] [--rollout-ms <ms>] [--progress-deadline-scale-ms <ms>] [--token <token>]\n',
    );
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer 0-65535, got ${values.port}\n`);
    return 2;
  }
  const options: SandboxOptions = { port };
  if (values.kubeconfig) options.kubeconfigPath = resolve(values.kubeconfig);
  if (values.state) options.statePath = resolve(values.state);
  if (values['rollout-ms'] !== undefined) options.rolloutMs = Number(values['rollout-ms']);
  if (values['progress-deadline-scale-ms'] !== undefined) options.progressDeadlineScaleMs = Number(values['progress-deadline-scale-ms']);
  if (values.token) options.token = values.token;
  // Signals are handled from the start: stdout is synchronous on a pipe, so a parent may send
  // SIGTERM the instant it reads the ready line.
  let stopRequested = false;
  let stopNow: (() => void) | undefined;
  const onSignal = (): void => {
    stopRequested = true;
    stopNow?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let sandbox;
  try {
    sandbox = await startSandbox(options);
  } catch (err) {
    process.stderr.write(`sandbox failed to start: ${(err as Error).message}\n`);
    return 1;
  }
  const s = sandbox;
  const done = new Promise<number>((resolve) => {
    let closing = false;
    stopNow = (): void => {
      if (closing) return;
      closing = true;
      s.close().then(
        () => resolve(0),
        (err: unknown) => {
          process.stderr.write(`sandbox close failed: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
  });
  if (stopRequested) stopNow?.();
  else process.stdout.write(`sandbox ready ${sandbox.url}\n`);
  return done;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
