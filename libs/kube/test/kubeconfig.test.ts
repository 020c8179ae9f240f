import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ErrorCode } from '@ferry/contracts';
import { tempDir, type TempDir } from '@ferry/testing';
import { ClusterAuthType, KubeconfigError, defaultKubeconfigPaths, loadInClusterConfig, loadKubeconfig } from '../src/kubeconfig.js';

// Not real certificates: the loader only checks that it holds a PEM block (TLS itself is tested in transport.test.ts).
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfzCCASagAwIBAgIQ\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----\n';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

interface Doc {
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  users?: Array<{ name: string; user: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: Record<string, unknown> }>;
  'current-context'?: string;
}

/** One context `main` → cluster `main` + user `main`. */
function single(cluster: Record<string, unknown>, user: Record<string, unknown>, context: Record<string, unknown> = {}): Doc {
  return {
    clusters: [{ name: 'main', cluster: { server: 'https://api.example:6443', ...cluster } }],
    users: [{ name: 'main', user }],
    contexts: [{ name: 'main', context: { cluster: 'main', user: 'main', ...context } }],
    'current-context': 'main',
  };
}

function configError(fn: () => unknown): KubeconfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof KubeconfigError, `expected a KubeconfigError, got ${String(error)}`);
    assert.equal(error.code, ErrorCode.KubeConfigInvalid);
    assert.equal(error.name, 'KubeconfigError');
    return error;
  }
  assert.fail('expected a KubeconfigError');
}

describe('loadKubeconfig', () => {
  let dir: TempDir;
  let n = 0;
  const write = async (doc: Doc | string, sub = ''): Promise<string> => {
    const folder = join(dir.path, sub);
    await mkdir(folder, { recursive: true });
    const path = join(folder, `config-${++n}.yaml`);
    await writeFile(path, typeof doc === 'string' ? doc : stringify(doc));
    return path;
  };

  before(async () => {
    dir = await tempDir('ferry-kubeconfig');
  });
  after(async () => {
    await dir.cleanup();
  });

  it('reads a bearer token user at the current context, with server, namespace and source', async () => {
    const path = await write(single({ server: 'https://api.example:6443/' }, { token: 'abc' }, { namespace: 'team' }));
    const access = loadKubeconfig([path]);
    assert.equal(access.server, 'https://api.example:6443');
    assert.deepEqual(access.auth, { type: ClusterAuthType.Token, token: 'abc' });
    assert.equal(access.namespace, 'team');
    assert.equal(access.context, 'main');
    assert.equal(access.source, `${path} (context main)`);
    assert.equal(access.tls.ca, undefined);
    assert.equal(access.tls.insecureSkipTlsVerify, false);
  });

  it('reads JSON kubeconfigs too, and picks another context when asked', async () => {
    const doc = single({}, { token: 'a' });
    doc.clusters?.push({ name: 'other', cluster: { server: 'https://other.example' } });
    doc.contexts?.push({ name: 'other', context: { cluster: 'other' } });
    const path = await write(JSON.stringify(doc));
    const access = loadKubeconfig([path], 'other');
    assert.equal(access.server, 'https://other.example');
    assert.deepEqual(access.auth, { type: ClusterAuthType.None });
  });

  it('keeps a path prefix of the server URL and takes a server without scheme as https, as kubectl does', async () => {
    assert.equal(
      loadKubeconfig([await write(single({ server: 'https://rancher.example/k8s/clusters/c-1/' }, {}))]).server,
      'https://rancher.example/k8s/clusters/c-1',
    );
    assert.equal(loadKubeconfig([await write(single({ server: 'api.example:6443' }, {}))]).server, 'https://api.example:6443');
  });

  it('reads tokenFile relative to the kubeconfig directory, not the working directory', async () => {
    await mkdir(join(dir.path, 'tf'), { recursive: true });
    await writeFile(join(dir.path, 'tf', 'token'), 'from-file\n');
    const access = loadKubeconfig([await write(single({}, { tokenFile: 'token' }), 'tf')]);
    assert.deepEqual(access.auth, { type: ClusterAuthType.TokenFile, path: join(dir.path, 'tf', 'token'), token: 'from-file' });
  });

  it('reports an unreadable tokenFile naming the file and the field', async () => {
    const path = await write(single({}, { tokenFile: 'absent-token' }));
    const error = configError(() => loadKubeconfig([path]));
    assert.equal(error.file, path);
    assert.equal(error.field, 'users[main].tokenFile');
    assert.match(error.message, /absent-token \(ENOENT\)/);
  });

  it('decodes client certificate and key data, and reads a CA file relative to the kubeconfig', async () => {
    await mkdir(join(dir.path, 'certs', 'pki'), { recursive: true });
    await writeFile(join(dir.path, 'certs', 'pki', 'ca.crt'), CERT_PEM);
    const path = await write(
      single(
        { 'certificate-authority': 'pki/ca.crt', 'tls-server-name': 'kube.internal' },
        { 'client-certificate-data': b64(CERT_PEM), 'client-key-data': b64(KEY_PEM) },
      ),
      'certs',
    );
    const access = loadKubeconfig([path]);
    assert.equal(access.tls.ca?.toString(), CERT_PEM);
    assert.equal(access.tls.cert?.toString(), CERT_PEM);
    assert.equal(access.tls.key?.toString(), KEY_PEM);
    assert.equal(access.tls.serverName, 'kube.internal');
    assert.deepEqual(access.auth, { type: ClusterAuthType.None });
  });

  it('reports every problem of the context at once: data that is not PEM, a certificate without its key', async () => {
    const path = await write(single({ 'certificate-authority-data': b64('not a cert') }, { 'client-certificate-data': b64(CERT_PEM) }));
    const error = configError(() => loadKubeconfig([path]));
    assert.deepEqual(
      error.problems.map((p) => [p.file, p.field]),
      [
        [path, 'clusters[main].certificate-authority-data'],
        [path, 'users[main].client-key'],
      ],
    );
  });

  it('honours insecure-skip-tls-verify, and refuses it together with a CA as client-go does', async () => {
    assert.equal(
      loadKubeconfig([await write(single({ 'insecure-skip-tls-verify': true }, { token: 't' }))]).tls.insecureSkipTlsVerify,
      true,
    );
    const both = await write(single({ 'insecure-skip-tls-verify': true, 'certificate-authority-data': b64(CERT_PEM) }, {}));
    assert.equal(configError(() => loadKubeconfig([both])).field, 'clusters[main].insecure-skip-tls-verify');
  });

  it('reads basic auth, and refuses a user with both a token and basic auth', async () => {
    assert.deepEqual(loadKubeconfig([await write(single({}, { username: 'admin', password: 'pw' }))]).auth, {
      type: ClusterAuthType.Basic,
      username: 'admin',
      password: 'pw',
    });
    const path = await write(single({}, { token: 't', username: 'admin', password: 'pw' }));
    const error = configError(() => loadKubeconfig([path]));
    assert.equal(error.field, 'users[main]');
    assert.match(error.message, /more than one authentication method/);
  });

  it('rejects proxy-url with an error naming the field', async () => {
    const path = await write(single({ 'proxy-url': 'http://proxy.example:3128' }, { token: 't' }));
    const error = configError(() => loadKubeconfig([path]));
    assert.equal(error.field, 'clusters[main].proxy-url');
    assert.match(error.message, /not supported/);
  });

  it('sends impersonation settings as headers', async () => {
    const access = loadKubeconfig([
      await write(single({}, { token: 't', as: 'jane', 'as-groups': ['dev', 'ops'], 'as-user-extra': { scopes: ['a', 'b'] } })),
    ]);
    assert.deepEqual(access.headers, { 'Impersonate-User': 'jane', 'Impersonate-Group': 'dev, ops', 'Impersonate-Extra-scopes': 'a, b' });
  });

  it('leaves exec and auth-provider users to plugins, with a relative exec command made absolute', async () => {
    const exec = { apiVersion: 'client.authentication.k8s.io/v1beta1', command: './bin/cred', args: ['x'] };
    const access = loadKubeconfig([await write(single({}, { exec }), 'plug')]);
    assert.deepEqual(access.auth, {
      type: ClusterAuthType.Plugin,
      userName: 'main',
      exec: { ...exec, command: join(dir.path, 'plug', 'bin', 'cred') },
      authProvider: undefined,
    });
    const onPath = loadKubeconfig([await write(single({}, { exec: { ...exec, command: 'gke-gcloud-auth-plugin' } }))]);
    assert.equal(onPath.auth.type === ClusterAuthType.Plugin && onPath.auth.exec?.command, 'gke-gcloud-auth-plugin');
    const provider = loadKubeconfig([await write(single({}, { 'auth-provider': { name: 'oidc', config: { 'id-token': 'x' } } }))]);
    assert.equal(provider.auth.type, ClusterAuthType.Plugin);
    const noCommand = await write(single({}, { exec: { args: [] } }));
    assert.equal(configError(() => loadKubeconfig([noCommand])).field, 'users[main].exec.command');
  });

  it('merges a KUBECONFIG list as kubectl does: first file wins per name, current-context from the first file that sets it', async () => {
    await mkdir(join(dir.path, 'b'), { recursive: true });
    await writeFile(join(dir.path, 'b', 'token'), 'b-token');
    // a: no current-context; defines cluster "shared" (wins) and user "u".
    const a = await write({
      clusters: [{ name: 'shared', cluster: { server: 'https://from-a.example' } }],
      users: [{ name: 'u', user: { token: 'a-token' } }],
    });
    // b: sets current-context "ctx-b", redefines "shared" (ignored), defines context ctx-b and user "ub" whose tokenFile is relative to b/.
    const b = await write(
      {
        clusters: [{ name: 'shared', cluster: { server: 'https://from-b.example' } }],
        users: [
          { name: 'u', user: { token: 'ignored' } },
          { name: 'ub', user: { tokenFile: 'token' } },
        ],
        contexts: [
          { name: 'ctx-b', context: { cluster: 'shared', user: 'ub' } },
          { name: 'ctx-u', context: { cluster: 'shared', user: 'u' } },
        ],
        'current-context': 'ctx-b',
      },
      'b',
    );
    // c: sets another current-context (ignored: b set one first).
    const c = await write({ contexts: [{ name: 'ctx-c', context: { cluster: 'shared' } }], 'current-context': 'ctx-c' });
    const merged = loadKubeconfig([a, b, c]);
    assert.equal(merged.context, 'ctx-b');
    assert.equal(merged.server, 'https://from-a.example');
    assert.deepEqual(merged.auth, { type: ClusterAuthType.TokenFile, path: join(dir.path, 'b', 'token'), token: 'b-token' });
    assert.equal(merged.source, `${a}:${b}:${c} (context ctx-b)`);
    assert.deepEqual(loadKubeconfig([a, b, c], 'ctx-u').auth, { type: ClusterAuthType.Token, token: 'a-token' });
  });

  it('skips KUBECONFIG entries that do not exist, as kubectl does, and defaults to ~/.kube/config', async () => {
    const a = await write(single({}, {}));
    assert.deepEqual(defaultKubeconfigPaths({ KUBECONFIG: `/does/not/exist::${a}` }), [a]);
    assert.deepEqual(defaultKubeconfigPaths({ HOME: '/home/someone' }), ['/home/someone/.kube/config']);
  });

  it('reports a missing current-context, and an unknown context, naming the files', async () => {
    const doc = single({}, {});
    delete doc['current-context'];
    const path = await write(doc);
    const missing = configError(() => loadKubeconfig([path]));
    assert.equal(missing.file, path);
    assert.equal(missing.field, 'current-context');
    const unknown = configError(() => loadKubeconfig([path], 'nope'));
    assert.match(unknown.message, /context "nope" is not defined \(known: main\)/);
  });

  it('reports a context naming a cluster or user that is not defined', async () => {
    const path = await write({ contexts: [{ name: 'c', context: { cluster: 'gone', user: 'nobody' } }], 'current-context': 'c' });
    const error = configError(() => loadKubeconfig([path]));
    assert.deepEqual(
      error.problems.map((p) => p.field),
      ['contexts[c].cluster', 'contexts[c].user'],
    );
  });

  it('reports a missing file and a file that is not a kubeconfig, naming the file', async () => {
    const missing = join(dir.path, 'missing.yaml');
    const error = configError(() => loadKubeconfig([missing]));
    assert.equal(error.file, missing);
    assert.match(error.message, /ENOENT/);
    const notYaml = await write('clusters: [unclosed');
    assert.equal(configError(() => loadKubeconfig([notYaml])).file, notYaml);
    const notMapping = await write('- a\n- b\n');
    assert.match(configError(() => loadKubeconfig([notMapping])).message, /not a mapping/);
    const badList = await write({ clusters: [{ cluster: { server: 'https://x' } }] } as unknown as Doc);
    assert.equal(configError(() => loadKubeconfig([badList])).field, 'clusters[0].name');
  });
});

describe('loadInClusterConfig', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir('ferry-in-cluster');
    await writeFile(join(dir.path, 'token'), 'sa-token\n');
    await writeFile(join(dir.path, 'ca.crt'), CERT_PEM);
    await writeFile(join(dir.path, 'namespace'), 'ferry');
  });
  after(async () => {
    await dir.cleanup();
  });

  it('reads the service host and port, the token file (to be re-read), ca.crt and the namespace', () => {
    const access = loadInClusterConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443' }, dir.path);
    assert.equal(access.server, 'https://10.0.0.1:6443');
    assert.deepEqual(access.auth, { type: ClusterAuthType.TokenFile, path: join(dir.path, 'token'), token: 'sa-token' });
    assert.equal(access.tls.ca?.toString(), CERT_PEM);
    assert.equal(access.namespace, 'ferry');
    assert.equal(access.source, 'in-cluster');
  });

  it('brackets an IPv6 service host and defaults the port to 443', () => {
    assert.equal(loadInClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1' }, dir.path).server, 'https://[fd00::1]:443');
  });

  it('fails with FERRY_ERR_KUBE_CONFIG_INVALID outside a pod or without a token', () => {
    assert.equal(configError(() => loadInClusterConfig({}, dir.path)).field, 'KUBERNETES_SERVICE_HOST');
    const error = configError(() => loadInClusterConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, join(dir.path, 'absent')));
    assert.equal(error.file, join(dir.path, 'absent', 'token'));
  });
});
