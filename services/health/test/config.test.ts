import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ferry/runtime';
import { loadConfig } from '../src/index.js';

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.serviceName, 'health');
    assert.equal(config.debounceMs, 100);
    assert.equal(config.resyncMs, 30_000);
    assert.equal(config.concurrency, 4);
    assert.equal(config.kubeconfigPath, undefined);
    assert.ok(Object.isFrozen(config));
  });

  it('reads the kubeconfig and the health settings', () => {
    const config = loadConfig({ FERRY_KUBECONFIG: '/k/config', KUBECONFIG: '/a:/b', FERRY_HEALTH_DEBOUNCE_MS: '0', FERRY_HEALTH_RESYNC_MS: '5000' });
    assert.equal(config.kubeconfigPath, '/k/config');
    assert.equal(config.kubeEnv['KUBECONFIG'], '/a:/b');
    assert.equal(config.debounceMs, 0);
    assert.equal(config.resyncMs, 5000);
  });

  it('reads named clusters from FERRY_CLUSTERS_FILE, paths relative to the file, and reports a bad file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'health-clusters-'));
    const file = join(dir, 'clusters.yaml');
    writeFileSync(file, 'clusters:\n  - name: prod\n    kubeconfig: prod.kubeconfig\n    context: admin\n');
    const config = loadConfig({ FERRY_CLUSTERS_FILE: file });
    assert.deepEqual(config.clusters, [{ name: 'prod', kubeconfigPath: join(dir, 'prod.kubeconfig'), context: 'admin' }]);
    writeFileSync(file, 'clusters:\n  - name: in-cluster\n    kubeconfig: x\n');
    assert.throws(() => loadConfig({ FERRY_CLUSTERS_FILE: file }), (error: unknown) => error instanceof ConfigError && /FERRY_CLUSTERS_FILE/.test(error.message) && /reserved/.test(error.message));
  });

  it('reports every invalid variable, common and health, in one FERRY_ERR_CONFIG_INVALID', () => {
    assert.throws(
      () => loadConfig({ FERRY_HEALTH_DEBOUNCE_MS: 'soon', FERRY_HEALTH_RESYNC_MS: '5', FERRY_HTTP_PORT: 'x' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.code === 'FERRY_ERR_CONFIG_INVALID' &&
        ['FERRY_HEALTH_DEBOUNCE_MS', 'FERRY_HEALTH_RESYNC_MS', 'FERRY_HTTP_PORT'].every((n) => error.problems.some((p) => p.name === n)),
    );
  });
});
