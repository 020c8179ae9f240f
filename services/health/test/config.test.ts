import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
