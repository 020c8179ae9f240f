import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { tempDir, type TempDir } from '@ferry/testing';
import { createCredentials } from '../src/credentials.js';
import { ClusterAuthType, loadKubeconfig, type ClusterAccessConfig } from '../src/kubeconfig.js';
import { writeExecPlugin } from './fixtures/exec-plugin.js';

function access(auth: ClusterAccessConfig['auth'], headers: Record<string, string> = {}): ClusterAccessConfig {
  return {
    server: 'https://api.example',
    context: 'main',
    namespace: undefined,
    source: 'test',
    tls: { ca: undefined, cert: undefined, key: undefined, insecureSkipTlsVerify: false, serverName: undefined },
    auth,
    headers,
  };
}

describe('createCredentials', () => {
  let dir: TempDir;
  before(async () => {
    dir = await tempDir('ferry-credentials');
  });
  after(async () => {
    await dir.cleanup();
  });

  it('sends a static token and basic auth as Authorization headers, with impersonation headers', async () => {
    const token = await createCredentials(
      access({ type: ClusterAuthType.Token, token: 'abc' }, { 'Impersonate-User': 'jane' }),
    ).authenticate();
    assert.deepEqual(token.headers, { 'Impersonate-User': 'jane', Authorization: 'Bearer abc' });
    const basic = await createCredentials(access({ type: ClusterAuthType.Basic, username: 'admin', password: 'p:w' })).authenticate();
    assert.equal(basic.headers.Authorization, `Basic ${Buffer.from('admin:p:w').toString('base64')}`);
    assert.deepEqual((await createCredentials(access({ type: ClusterAuthType.None })).authenticate()).headers, {});
  });

  it('re-reads a token file once its last read is older than the refresh period, keeping the last token when a read fails', async () => {
    const path = join(dir.path, 'token');
    await writeFile(path, 'one');
    let clock = 1_000;
    const credentials = createCredentials(access({ type: ClusterAuthType.TokenFile, path, token: 'one' }), {
      tokenFileRefreshMs: 60_000,
      now: () => clock,
    });
    await writeFile(path, 'two\n');
    clock += 59_000;
    assert.equal((await credentials.authenticate()).headers.Authorization, 'Bearer one');
    clock += 1_000;
    assert.equal((await credentials.authenticate()).headers.Authorization, 'Bearer two');
    await writeFile(path, '');
    clock += 60_000;
    assert.equal((await credentials.authenticate()).headers.Authorization, 'Bearer two');
  });

  it('re-reads a token file on every request when the refresh period is 0', async () => {
    const path = join(dir.path, 'token0');
    await writeFile(path, 'first');
    const credentials = createCredentials(access({ type: ClusterAuthType.TokenFile, path, token: 'first' }), { tokenFileRefreshMs: 0 });
    assert.equal((await credentials.authenticate()).headers.Authorization, 'Bearer first');
    await writeFile(path, 'second');
    assert.equal((await credentials.authenticate()).headers.Authorization, 'Bearer second');
  });

  it('runs an exec plugin through client-node: its token is used, reused until it expires, one run for concurrent requests', async () => {
    await writeExecPlugin(dir.path, 'cred-plugin');
    const countFile = join(dir.path, 'runs');
    const kubeconfig = join(dir.path, 'exec.yaml');
    await writeFile(
      kubeconfig,
      stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://api.example' } }],
        users: [
          {
            name: 'u',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1beta1',
                command: './cred-plugin', // relative to the kubeconfig's directory
                env: [
                  { name: 'PLUGIN_TOKEN', value: 'exec-token' },
                  { name: 'COUNT_FILE', value: countFile },
                ],
              },
            },
          },
        ],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'c',
      }),
    );
    const credentials = createCredentials(loadKubeconfig([kubeconfig]));
    const results = await Promise.all([credentials.authenticate(), credentials.authenticate(), credentials.authenticate()]);
    for (const result of results) assert.equal(result.headers.Authorization, 'Bearer exec-token');
    assert.equal((await credentials.authenticate()).headers.Authorization, 'Bearer exec-token');
    assert.equal((await readFile(countFile, 'utf8')).trim().split('\n').length, 1);
  });

  it('rejects when the exec plugin fails', async () => {
    const credentials = createCredentials(
      access({
        type: ClusterAuthType.Plugin,
        userName: 'u',
        exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: join(dir.path, 'no-such-plugin') },
        authProvider: undefined,
      }),
    );
    await assert.rejects(credentials.authenticate(), /ENOENT|no-such-plugin/);
  });
});
