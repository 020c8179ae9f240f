import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@ferry/testing';
import { loadConfig } from '../src/config.js';

test('defaults: debounce 100 ms, concurrency 4, retry 5 s, resync 60 s, no named clusters', () => {
  const c = loadConfig({});
  assert.equal(c.serviceName, 'differ');
  assert.equal(c.debounceMs, 100);
  assert.equal(c.concurrency, 4);
  assert.equal(c.retryMs, 5_000);
  assert.equal(c.resyncMs, 60_000);
  assert.deepEqual(c.clusters, []);
  assert.equal(c.kubeconfigPath, undefined);
  assert.ok(Object.isFrozen(c));
});

test('FERRY_KUBECONFIG, KUBECONFIG and FERRY_CLUSTERS_FILE are read', async () => {
  const dir = await tempDir('differ-config');
  try {
    const file = join(dir.path, 'clusters.yaml');
    writeFileSync(file, 'clusters:\n  - name: prod\n    kubeconfig: prod.kubeconfig\n');
    const c = loadConfig({ FERRY_KUBECONFIG: '/k', KUBECONFIG: '/a:/b', FERRY_CLUSTERS_FILE: file, FERRY_DIFF_DEBOUNCE_MS: '0' });
    assert.equal(c.kubeconfigPath, '/k');
    assert.equal(c.kubeEnv['KUBECONFIG'], '/a:/b');
    assert.deepEqual(c.clusters, [{ name: 'prod', kubeconfigPath: join(dir.path, 'prod.kubeconfig') }]);
    assert.equal(c.debounceMs, 0);
  } finally {
    await dir.cleanup();
  }
});

test('every problem is reported in one FERRY_ERR_CONFIG_INVALID, the clusters file included', () => {
  assert.throws(
    () => loadConfig({ FERRY_DIFF_DEBOUNCE_MS: 'soon', FERRY_DIFF_CONCURRENCY: '0', FERRY_CLUSTERS_FILE: '/no/such/clusters.yaml' }),
    (error: { code?: string; problems?: Array<{ name: string }> }) => {
      assert.equal(error.code, 'FERRY_ERR_CONFIG_INVALID');
      assert.deepEqual(
        error.problems?.map((p) => p.name),
        ['FERRY_DIFF_DEBOUNCE_MS', 'FERRY_DIFF_CONCURRENCY', 'FERRY_CLUSTERS_FILE'],
      );
      return true;
    },
  );
});
