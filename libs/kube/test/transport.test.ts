import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ErrorCode } from '@ferry/contracts';
import { findExecutable, tempDir, type TempDir } from '@ferry/testing';
import { resolveClusters, type ResolveClustersOptions } from '../src/clusters.js';
import { KubeError } from '../src/errors.js';
import { makeTlsFiles, startHttpApiServer, startHttpsApiServer, type FakeApiServer } from './fixtures/api-server.js';
import { writeExecPlugin } from './fixtures/exec-plugin.js';

const DEFAULT_NS = { apiVersion: 'v1', kind: 'Namespace', name: 'default' } as const;

function kubeconfigDoc(cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'c',
  });
}

/** GET namespace default through resolveClusters with the given kubeconfig; returns the name or the KubeError. */
async function getDefault(options: ResolveClustersOptions): Promise<string | KubeError> {
  const registry = resolveClusters({ env: {}, requestTimeoutMs: 5_000, ...options });
  try {
    const ns = await registry.defaultClient().get(DEFAULT_NS);
    return ns?.metadata.name ?? 'absent';
  } catch (error) {
    if (error instanceof KubeError) return error;
    throw error;
  } finally {
    await registry.close();
  }
}

describe('KubeTransport credentials over HTTP', () => {
  let dir: TempDir;
  let server: FakeApiServer;
  let n = 0;
  const kubeconfig = async (user: Record<string, unknown>): Promise<string> => {
    const path = join(dir.path, `kc-${++n}.yaml`);
    await writeFile(path, kubeconfigDoc({ server: server.url }, user));
    return path;
  };

  before(async () => {
    dir = await tempDir('ferry-transport');
    server = await startHttpApiServer();
  });
  after(async () => {
    await server?.close();
    await dir?.cleanup();
  });

  it('reaches a plain http:// server without insecure-skip-tls-verify, with the bearer token', async () => {
    assert.equal(await getDefault({ kubeconfigPath: await kubeconfig({ token: 'tok', as: 'jane' }) }), 'default');
    assert.equal(server.seen.at(-1)?.authorization, 'Bearer tok');
    assert.equal(server.seen.at(-1)?.impersonateUser, 'jane');
  });

  it('sends basic auth', async () => {
    assert.equal(await getDefault({ kubeconfigPath: await kubeconfig({ username: 'admin', password: 'pw' }) }), 'default');
    assert.equal(server.seen.at(-1)?.authorization, `Basic ${Buffer.from('admin:pw').toString('base64')}`);
  });

  it('picks up a rewritten tokenFile without a restart', async () => {
    const tokenPath = join(dir.path, 'rotating-token');
    await writeFile(tokenPath, 'before');
    const registry = resolveClusters({ kubeconfigPath: await kubeconfig({ tokenFile: 'rotating-token' }), env: {}, tokenFileRefreshMs: 0 });
    const client = registry.defaultClient();
    await client.get(DEFAULT_NS);
    assert.equal(server.seen.at(-1)?.authorization, 'Bearer before');
    await writeFile(tokenPath, 'after');
    await client.get(DEFAULT_NS);
    assert.equal(server.seen.at(-1)?.authorization, 'Bearer after');
    await registry.close();
  });

  it('authenticates an exec user with the token its plugin prints', async () => {
    await writeExecPlugin(dir.path);
    const countFile = join(dir.path, 'exec-runs');
    const path = await kubeconfig({
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: './exec-plugin',
        env: [
          { name: 'PLUGIN_TOKEN', value: 'from-exec' },
          { name: 'COUNT_FILE', value: countFile },
        ],
      },
    });
    const registry = resolveClusters({ kubeconfigPath: path, env: {} });
    const client = registry.defaultClient();
    assert.equal((await client.get(DEFAULT_NS))?.metadata.name, 'default');
    await client.get(DEFAULT_NS);
    assert.equal(server.seen.at(-1)?.authorization, 'Bearer from-exec');
    assert.equal((await readFile(countFile, 'utf8')).trim().split('\n').length, 1, 'the credential is reused until it expires');
    await registry.close();
  });
});

describe('KubeTransport TLS', () => {
  let dir: TempDir;
  let tls: string;
  let mtls: FakeApiServer | undefined;
  let byName: FakeApiServer | undefined;
  let skip: string | undefined;
  const pem = (name: string): Promise<Buffer> => readFile(join(tls, name));
  let n = 0;
  const kubeconfig = async (cluster: Record<string, unknown>, user: Record<string, unknown>): Promise<string> => {
    const path = join(dir.path, `kc-${++n}.yaml`);
    await writeFile(path, kubeconfigDoc(cluster, user));
    return path;
  };

  before(async () => {
    dir = await tempDir('ferry-transport-tls');
    const openssl = findExecutable('openssl');
    if (!openssl) {
      skip = 'openssl not found on PATH (needed to make test certificates)';
      return;
    }
    tls = join(dir.path, 'pki');
    await mkdir(tls);
    await makeTlsFiles(tls, openssl);
    mtls = await startHttpsApiServer({
      cert: await pem('server-ip.crt'),
      key: await pem('server-ip.key'),
      ca: await pem('ca.crt'),
      requireClientCert: true,
    });
    byName = await startHttpsApiServer({ cert: await pem('server-name.crt'), key: await pem('server-name.key') });
  });
  after(async () => {
    await mtls?.close();
    await byName?.close();
    await dir?.cleanup();
  });

  it('presents the client certificate from -data fields and trusts a CA file relative to the kubeconfig', async (t) => {
    if (skip || !mtls) return t.skip(skip);
    const user = {
      'client-certificate-data': (await pem('client.crt')).toString('base64'),
      'client-key-data': (await pem('client.key')).toString('base64'),
    };
    assert.equal(
      await getDefault({ kubeconfigPath: await kubeconfig({ server: mtls.url, 'certificate-authority': 'pki/ca.crt' }, user) }),
      'default',
    );
    assert.equal(mtls.seen.at(-1)?.clientCN, 'ferry-test');
    // The same server refuses a caller without the certificate, and an unknown CA is refused.
    const noCert = await getDefault({
      kubeconfigPath: await kubeconfig({ server: mtls.url, 'certificate-authority': 'pki/ca.crt' }, { token: 't' }),
    });
    assert.ok(noCert instanceof KubeError && noCert.code === ErrorCode.KubeRequest, String(noCert));
    const untrusted = await getDefault({ kubeconfigPath: await kubeconfig({ server: mtls.url }, user) });
    assert.ok(untrusted instanceof KubeError && /certificate/i.test(untrusted.message), String(untrusted));
  });

  it('checks the server certificate against tls-server-name', async (t) => {
    if (skip || !byName) return t.skip(skip);
    const ca = (await pem('ca.crt')).toString('base64');
    const without = await getDefault({
      kubeconfigPath: await kubeconfig({ server: byName.url, 'certificate-authority-data': ca }, { token: 't' }),
    });
    assert.ok(without instanceof KubeError && /altnames|not in the cert/i.test(without.message), String(without));
    const named = await getDefault({
      kubeconfigPath: await kubeconfig(
        { server: byName.url, 'certificate-authority-data': ca, 'tls-server-name': 'kube.test' },
        { token: 't' },
      ),
    });
    assert.equal(named, 'default');
  });

  it('skips verification with insecure-skip-tls-verify', async (t) => {
    if (skip || !byName) return t.skip(skip);
    assert.equal(
      await getDefault({ kubeconfigPath: await kubeconfig({ server: byName.url, 'insecure-skip-tls-verify': true }, { token: 't' }) }),
      'default',
    );
  });

  it('uses in-cluster credentials: service host and port, ca.crt, the token file re-read', async (t) => {
    if (skip || !byName || !mtls) return t.skip(skip);
    // The in-cluster server must be reachable as 127.0.0.1: use a server certificate with that SAN.
    const server = await startHttpsApiServer({ cert: await pem('server-ip.crt'), key: await pem('server-ip.key') });
    const sa = join(dir.path, 'sa');
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), 'sa-1');
    await writeFile(join(sa, 'ca.crt'), await pem('ca.crt'));
    await writeFile(join(sa, 'namespace'), 'ferry');
    const registry = resolveClusters({
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(server.port) },
      serviceAccountDir: sa,
      tokenFileRefreshMs: 0,
    });
    try {
      const client = registry.defaultClient();
      assert.equal((await client.get(DEFAULT_NS))?.metadata.name, 'default');
      assert.equal(server.seen.at(-1)?.authorization, 'Bearer sa-1');
      await writeFile(join(sa, 'token'), 'sa-2');
      await client.get(DEFAULT_NS);
      assert.equal(server.seen.at(-1)?.authorization, 'Bearer sa-2');
    } finally {
      await registry.close();
      await server.close();
    }
  });
});
