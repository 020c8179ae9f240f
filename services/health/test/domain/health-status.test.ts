import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthStatus, healthOrder, isHealthStatus, isWorse, worst } from '../../src/domain/health-status.js';

test('the order is Argo CD\'s: Healthy < Suspended < Progressing < Missing < Degraded < Unknown', () => {
  assert.deepEqual(healthOrder, ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown']);
  for (let i = 0; i < healthOrder.length; i++) {
    for (let j = 0; j < healthOrder.length; j++) {
      assert.equal(isWorse(healthOrder[i]!, healthOrder[j]!), i > j, `${healthOrder[i]} vs ${healthOrder[j]}`);
    }
  }
});

test('the vocabulary and the order hold the same six statuses', () => {
  assert.deepEqual(Object.values(HealthStatus).sort(), [...healthOrder].sort());
});

test('worst picks the worst status and is Healthy for nothing', () => {
  assert.equal(worst([]), HealthStatus.Healthy);
  assert.equal(worst([HealthStatus.Healthy, HealthStatus.Suspended]), HealthStatus.Suspended);
  assert.equal(worst([HealthStatus.Missing, HealthStatus.Degraded, HealthStatus.Progressing]), HealthStatus.Degraded);
  assert.equal(worst([HealthStatus.Degraded, HealthStatus.Unknown]), HealthStatus.Unknown);
  assert.equal(worst(new Set([HealthStatus.Progressing, HealthStatus.Missing])), HealthStatus.Missing);
});

test('isHealthStatus accepts the six statuses only', () => {
  assert.equal(isHealthStatus('Degraded'), true);
  assert.equal(isHealthStatus('degraded'), false);
  assert.equal(isHealthStatus('toString'), false);
  assert.equal(isHealthStatus(undefined), false);
});
