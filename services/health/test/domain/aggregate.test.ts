import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateHealth } from '../../src/domain/aggregate.js';
import { HealthStatus } from '../../src/domain/health-status.js';

const { Healthy, Suspended, Progressing, Missing, Degraded, Unknown } = HealthStatus;

test('an app without resources is Healthy', () => {
  assert.equal(aggregateHealth([]), Healthy);
});

test('an app is as healthy as its worst resource', () => {
  assert.equal(aggregateHealth([{ status: Healthy }, { status: Progressing }, { status: Suspended }]), Progressing);
  assert.equal(aggregateHealth([{ status: Healthy }, { status: Degraded }, { status: Missing }]), Degraded);
  assert.equal(aggregateHealth([{ status: Degraded }, { status: Unknown }]), Unknown);
});

test('resources without a health assessment do not count', () => {
  assert.equal(aggregateHealth([{ status: undefined }, { status: Healthy }]), Healthy);
  assert.equal(aggregateHealth([{ status: undefined }]), Healthy);
});

test('hooks do not count, however unhealthy', () => {
  assert.equal(aggregateHealth([{ status: Healthy }, { status: Degraded, hook: true }, { status: Progressing, hook: true }]), Healthy);
});

test('a resource marked to ignore its health check does not count', () => {
  assert.equal(aggregateHealth([{ status: Healthy }, { status: Degraded, ignoreHealthCheck: true }]), Healthy);
});

test('a Missing resource counts', () => {
  assert.equal(aggregateHealth([{ status: Healthy }, { status: Missing }]), Missing);
  assert.equal(aggregateHealth([{ status: Progressing }, { status: Missing, apiVersion: 'apps/v1', kind: 'Deployment' }]), Missing);
});

test('a Missing resource of a kind without a health check does not count', () => {
  assert.equal(aggregateHealth([{ status: Healthy }, { status: Missing, apiVersion: 'v1', kind: 'ConfigMap' }]), Healthy);
});

test('a child Application that is Missing or Unknown does not count, but its other statuses do', () => {
  const child = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;
  assert.equal(aggregateHealth([{ status: Healthy }, { ...child, status: Missing }]), Healthy);
  assert.equal(aggregateHealth([{ status: Healthy }, { ...child, status: Unknown }]), Healthy);
  assert.equal(aggregateHealth([{ status: Healthy }, { ...child, status: Degraded }]), Degraded);
});

test('when every resource is Missing the app is Missing, whatever the kinds', () => {
  assert.equal(aggregateHealth([{ status: Missing, apiVersion: 'v1', kind: 'ConfigMap' }, { status: Missing, apiVersion: 'v1', kind: 'Secret' }]), Missing);
  assert.equal(aggregateHealth([{ status: Missing, apiVersion: 'v1', kind: 'ConfigMap' }, { status: Degraded, hook: true }]), Missing);
  assert.equal(aggregateHealth([{ status: Missing, apiVersion: 'v1', kind: 'ConfigMap' }, { status: undefined }]), Healthy);
});
