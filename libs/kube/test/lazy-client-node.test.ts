import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { tempDir, type TempDir } from '@ferry/testing';
import { startHttpApiServer, type FakeApiServer } from './fixtures/api-server.js';
import { writeExecPlugin } from './fixtures/exec-plugin.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const kubeIndex = pathToFileURL(resolve(here, '../src/index.ts')).href;

/** A resolve hook that reports every module URL to the main thread. */
const HOOK = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;

/**
 * Child process: imports @ferry/kube, resolves the cluster of a kubeconfig, does one GET, then prints
 * how many modules of @kubernetes/client-node were resolved and its RSS.
 */
const CHILD = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on('message', (url) => urls.push(url));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), { data: { port: port2 }, transferList: [port2] });
const kube = await import(${JSON.stringify(kubeIndex)});
const registry = kube.resolveClusters({ kubeconfigPath: process.argv[2], env: {} });
const ns = await registry.defaultClient().get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
await registry.close();
await new Promise((r) => setTimeout(r, 200));
port1.close();
console.log(JSON.stringify({
  got: ns?.metadata.name,
  clientNodeModules: urls.filter((u) => u.includes('/@kubernetes/client-node/')).length,
  rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
}));
`;

describe('@kubernetes/client-node is loaded only for plugin users', () => {
  let dir: TempDir;
  let server: FakeApiServer;
  let childPath: string;

  async function probe(user: Record<string, unknown>): Promise<{ got: string; clientNodeModules: number; rssMiB: number }> {
    const kubeconfig = join(dir.path, `kc-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(
      kubeconfig,
      stringify({
        clusters: [{ name: 'c', cluster: { server: server.url } }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      }),
    );
    const { stdout } = await run(process.execPath, ['--import', 'tsx', childPath, kubeconfig], { cwd: repoRoot, timeout: 60_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { got: string; clientNodeModules: number; rssMiB: number };
  }

  before(async () => {
    dir = await tempDir('ferry-lazy-client-node');
    server = await startHttpApiServer();
    childPath = join(dir.path, 'child.mjs');
    await writeFile(childPath, CHILD);
  });
  after(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it('a token user resolves no module of client-node; an exec user loads it on its first request', async () => {
    const [token, exec] = await Promise.all([
      probe({ token: 't' }),
      writeExecPlugin(dir.path).then(() =>
        probe({
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: './exec-plugin',
            env: [{ name: 'PLUGIN_TOKEN', value: 'x' }],
          },
        }),
      ),
    ]);
    assert.equal(token.got, 'default');
    assert.equal(token.clientNodeModules, 0, `client-node was loaded for a token user (RSS ${token.rssMiB} MiB)`);
    assert.equal(exec.got, 'default');
    assert.ok(exec.clientNodeModules > 0, 'the exec user went through client-node');
  });
});
