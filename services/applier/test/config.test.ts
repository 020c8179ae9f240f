import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@ferry/testing';
import { parseClustersFile } from '@ferry/kube';
import { loadConfig } from '../src/index.js';

test('defaults: self-heal 5 s, lease 30 s, field manager ferry, frozen', () => {
  const config = loadConfig({});
  assert.equal(config.serviceName, 'applier');
  assert.equal(config.selfHealIntervalMs, 5_000);
  assert.equal(config.syncLeaseTtlMs, 30_000);
  assert.equal(config.fieldManager, 'ferry');
  assert.equal(config.concurrency, 4);
  assert.equal(config.ackWaitMs, 30_000);
  assert.equal(config.syncWaveTimeoutMs, 300_000);
  assert.deepEqual(config.clusters, []);
  assert.ok(Object.isFrozen(config));
});

test('every invalid variable is reported together with FERRY_ERR_CONFIG_INVALID', () => {
  assert.throws(
    () =>
      loadConfig({
        FERRY_SELF_HEAL_INTERVAL_MS: 'soon',
        FERRY_SYNC_LEASE_TTL_MS: '10',
        FERRY_FIELD_MANAGER: 'a b',
        FERRY_SYNC_WAVE_TIMEOUT_MS: '5',
        FERRY_CLUSTERS_FILE: '/nonexistent/clusters.yaml',
      }),
    (error: Error & { code?: string }) =>
      error.code === 'FERRY_ERR_CONFIG_INVALID' &&
      [
        'FERRY_SELF_HEAL_INTERVAL_MS',
        'FERRY_SYNC_LEASE_TTL_MS',
        'FERRY_FIELD_MANAGER',
        'FERRY_SYNC_WAVE_TIMEOUT_MS',
        'FERRY_CLUSTERS_FILE',
      ].every((name) => error.message.includes(name)),
  );
});

test('the clusters file names clusters with kubeconfigs relative to the file, and its problems name entry and field', async (t) => {
  const dir = await tempDir('applier-config');
  t.after(() => dir.cleanup());
  const file = join(dir.path, 'clusters.yaml');
  writeFileSync(file, 'clusters:\n  - name: prod\n    kubeconfig: prod.kubeconfig\n    context: admin\n');
  const config = loadConfig({ FERRY_CLUSTERS_FILE: file, FERRY_KUBECONFIG: '/etc/kube' });
  assert.deepEqual(config.clusters, [{ name: 'prod', kubeconfigPath: join(dir.path, 'prod.kubeconfig'), context: 'admin' }]);
  assert.equal(config.kubeconfigPath, '/etc/kube');
  const parsed = parseClustersFile('clusters:\n  - name: in-cluster\n    kubeconfig: x\n  - name: Bad_Name\n    colour: red\n', 'c.yaml');
  assert.deepEqual(parsed.clusters, []);
  assert.deepEqual(parsed.problems, [
    "c.yaml: clusters[0].name 'in-cluster' is reserved for the default cluster",
    "c.yaml: clusters[1]: unknown field 'colour'",
    'c.yaml: clusters[1].name must be a lowercase DNS name',
    'c.yaml: clusters[1].kubeconfig must be a path',
  ]);
});
