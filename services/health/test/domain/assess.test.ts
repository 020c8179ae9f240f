// Fixture-driven tests of assessHealth: each file in fixtures/assess holds the expectation
// (status, message) as its first YAML document and the object as its second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { assessHealth, hasHealthCheck, isHook, parseApiVersion } from '../../src/domain/assess.js';
import { HealthStatus } from '../../src/domain/health-status.js';

const fixtures = new URL('fixtures/assess/', import.meta.url);
const files = readdirSync(fixtures).filter((name) => name.endsWith('.yaml')).sort();

test('the assessment fixtures are found', () => {
  assert.ok(files.length >= 20, `only ${files.length} fixtures in ${fixtures.pathname}`);
});

for (const file of files) {
  test(`fixture ${file}`, () => {
    const [expectation, object, ...rest] = parseAllDocuments(readFileSync(new URL(file, fixtures), 'utf8')).map((d) => d.toJS() as unknown);
    assert.equal(rest.length, 0, 'a fixture holds exactly two documents');
    const { status, message } = expectation as { status: string | null; message?: string };
    const assessment = assessHealth(object);
    if (status === null) {
      assert.equal(assessment, undefined);
      return;
    }
    assert.ok(assessment !== undefined, 'the kind has a health check');
    assert.equal(assessment.status, status, `message: ${assessment.message ?? '(none)'}`);
    if (message !== undefined) assert.equal(assessment.message, message);
  });
}

test('an assessment that throws is Unknown with the error message, never an exception', () => {
  const hostile = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    get status(): unknown {
      throw new Error('status exploded');
    },
  };
  assert.deepEqual(assessHealth(hostile), { status: HealthStatus.Unknown, message: 'status exploded' });
});

test('input that is not a mapping is Unknown, saying what it was', () => {
  for (const input of [null, undefined, 'Deployment', 42, [{ kind: 'Pod' }]]) {
    const assessment = assessHealth(input);
    assert.equal(assessment?.status, HealthStatus.Unknown);
    assert.match(assessment?.message ?? '', /^not a Kubernetes object/);
  }
});

test('an object without apiVersion or kind has no health check', () => {
  assert.equal(assessHealth({ kind: 'Deployment' }), undefined);
  assert.equal(assessHealth({ apiVersion: 'apps/v1' }), undefined);
});

test('a healthy assessment carries no empty message', () => {
  const assessment = assessHealth({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'ClusterIP' } });
  assert.deepEqual(assessment, { status: HealthStatus.Healthy });
  assert.ok(!('message' in (assessment ?? {})));
});

test('hasHealthCheck decides by API group and kind, whatever the version', () => {
  assert.equal(hasHealthCheck('apps/v1', 'Deployment'), true);
  assert.equal(hasHealthCheck('apps/v1beta2', 'Deployment'), true);
  assert.equal(hasHealthCheck('v1', 'Pod'), true);
  assert.equal(hasHealthCheck('extensions/v1beta1', 'Ingress'), true);
  assert.equal(hasHealthCheck('networking.k8s.io/v1', 'Ingress'), true);
  assert.equal(hasHealthCheck('v1', 'ConfigMap'), false);
  assert.equal(hasHealthCheck('serving.knative.dev/v1', 'Service'), false);
  assert.equal(hasHealthCheck('argoproj.io/v1alpha1', 'Application'), false);
});

test('parseApiVersion splits group and version, the core group being empty', () => {
  assert.deepEqual(parseApiVersion('apps/v1'), { group: 'apps', version: 'v1' });
  assert.deepEqual(parseApiVersion('v1'), { group: '', version: 'v1' });
});

test('isHook recognises Argo CD and Helm hooks, but not Skip alone or crd-install', () => {
  const withAnnotations = (annotations: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { annotations } });
  assert.equal(isHook(withAnnotations({ 'argocd.argoproj.io/hook': 'PreSync' })), true);
  assert.equal(isHook(withAnnotations({ 'argocd.argoproj.io/hook': 'PostSync, SyncFail' })), true);
  assert.equal(isHook(withAnnotations({ 'argocd.argoproj.io/hook': 'Skip' })), false);
  assert.equal(isHook(withAnnotations({ 'helm.sh/hook': 'pre-install' })), true);
  assert.equal(isHook(withAnnotations({ 'helm.sh/hook': 'crd-install' })), false);
  assert.equal(isHook(withAnnotations({})), false);
  assert.equal(isHook('not an object'), false);
});
