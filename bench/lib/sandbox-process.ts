/**
 * The sandbox cluster as its own process, so the pipeline benchmark can measure its memory apart
 * from the benchmark's own. Run by `startServiceProcess` (`node --import tsx`); reads
 * BENCH_SANDBOX_KUBECONFIG (where to write the kubeconfig) and BENCH_SANDBOX_ROLLOUT_MS, prints one
 * JSON line `{"msg":"ready","url","kubeconfigPath"}` once it accepts requests, stops on SIGTERM/SIGINT.
 */
import { startSandbox } from '@ferry/kube-sandbox';

/** The ready line this process prints. */
export interface SandboxProcessReady {
  msg: 'ready';
  url: string;
  kubeconfigPath: string;
}

const kubeconfigPath = process.env['BENCH_SANDBOX_KUBECONFIG'];
const rolloutMs = Number(process.env['BENCH_SANDBOX_ROLLOUT_MS'] ?? '50');
const sandbox = await startSandbox({ rolloutMs, ...(kubeconfigPath ? { kubeconfigPath } : {}) });
const ready: SandboxProcessReady = { msg: 'ready', url: sandbox.url, kubeconfigPath: sandbox.kubeconfigPath };
process.stdout.write(`${JSON.stringify(ready)}\n`);
const stop = (): void => {
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
