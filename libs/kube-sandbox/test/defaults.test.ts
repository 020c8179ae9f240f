import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { applyDefaults, defaultImagePullPolicy } from '../src/defaults.js';
import { builtinResources } from '../src/resources.js';
import type { KubeObject, ResourceType } from '../src/types.js';

const fixtureDir = join(import.meta.dirname, 'fixtures', 'defaults');
const builtins = builtinResources();

function resourceOf(object: KubeObject): ResourceType {
  const slash = object.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : object.apiVersion.slice(0, slash);
  const found = builtins.find((r) => r.group === group && r.kind === object.kind);
  return (
    found ?? {
      group,
      version: object.apiVersion.slice(slash + 1),
      kind: object.kind,
      plural: `${object.kind.toLowerCase()}s`,
      singular: object.kind.toLowerCase(),
      namespaced: true,
      shortNames: [],
      verbs: [],
      subresources: { status: false, scale: false },
    }
  );
}

function defaulted(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  applyDefaults(resourceOf(copy), copy);
  return copy;
}

const CLUSTER_IP = /^10\.(9[6-9]|10[0-9]|11[01])\.\d{1,3}\.\d{1,3}$/;

/** Replaces the placeholders <clusterIP> and <nodePort> of `expected` with the values found in `actual`, after checking them. */
function resolvePlaceholders(expected: unknown, actual: unknown, path: string): unknown {
  if (expected === '<clusterIP>') {
    assert.match(String(actual), CLUSTER_IP, `${path} is an address of 10.96.0.0/12`);
    return actual;
  }
  if (expected === '<nodePort>') {
    assert.ok(typeof actual === 'number' && actual >= 30000 && actual <= 32767, `${path} is a node port, got ${String(actual)}`);
    return actual;
  }
  if (Array.isArray(expected)) {
    return expected.map((e, i) => resolvePlaceholders(e, Array.isArray(actual) ? actual[i] : undefined, `${path}[${i}]`));
  }
  if (typeof expected === 'object' && expected !== null) {
    const a = (typeof actual === 'object' && actual !== null ? actual : {}) as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(expected).map(([k, v]) => [k, resolvePlaceholders(v, a[k], `${path}.${k}`)]),
    );
  }
  return expected;
}

for (const file of readdirSync(fixtureDir).filter((f) => f.endsWith('.yaml')).sort()) {
  const text = readFileSync(join(fixtureDir, file), 'utf8');
  const title = (text.split('\n')[0] ?? '').replace(/^#\s*/, '');
  const fixture = parse(text) as { input: KubeObject | KubeObject[]; expected?: KubeObject | KubeObject[] };
  const inputs = Array.isArray(fixture.input) ? fixture.input : [fixture.input];
  const expecteds = fixture.expected === undefined ? inputs : Array.isArray(fixture.expected) ? fixture.expected : [fixture.expected];

  test(`${file}: ${title}`, () => {
    inputs.forEach((input, i) => {
      const actual = defaulted(input);
      assert.deepEqual(actual, resolvePlaceholders(expecteds[i], actual, `${input.kind}`));
    });
  });

  test(`${file}: defaulting twice gives the same object as defaulting once`, () => {
    for (const input of inputs) {
      const once = defaulted(input);
      assert.deepEqual(defaulted(once), once);
    }
  });
}

test('a Service keeps its allocated cluster IP when it is defaulted again without one', () => {
  const service = (name: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'stable' },
    spec: { ports: [{ port: 80 }] },
  });
  const first = defaulted(service('a')) as unknown as { spec: { clusterIP: string } };
  const again = defaulted(service('a')) as unknown as { spec: { clusterIP: string } };
  const other = defaulted(service('b')) as unknown as { spec: { clusterIP: string } };
  assert.equal(again.spec.clusterIP, first.spec.clusterIP);
  assert.notEqual(other.spec.clusterIP, first.spec.clusterIP);
});

test('distinct Services never share a cluster IP or a node port', () => {
  const ips = new Set<string>();
  const ports = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const svc = defaulted({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `s${i}`, namespace: 'many' },
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
    }) as unknown as { spec: { clusterIP: string; ports: { nodePort: number }[] } };
    ips.add(svc.spec.clusterIP);
    ports.add(svc.spec.ports[0]!.nodePort);
  }
  assert.equal(ips.size, 500);
  assert.equal(ports.size, 500);
});

test('a user-chosen cluster IP and node port are kept', () => {
  const svc = defaulted({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'fixed', namespace: 'default' },
    spec: { type: 'NodePort', clusterIP: '10.100.0.7', ports: [{ port: 80, nodePort: 31000 }] },
  }) as unknown as { spec: { clusterIP: string; clusterIPs: string[]; ports: { nodePort: number }[] } };
  assert.equal(svc.spec.clusterIP, '10.100.0.7');
  assert.deepEqual(svc.spec.clusterIPs, ['10.100.0.7']);
  assert.equal(svc.spec.ports[0]!.nodePort, 31000);
});

test('a Job without a uid yet gets no generated selector', () => {
  const job = defaulted({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j', namespace: 'default' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'c:1' }] } } },
  }) as unknown as { spec: Record<string, unknown> };
  assert.equal(job.spec['selector'], undefined);
  assert.equal(job.spec['backoffLimit'], 6);
});

test('image pull policy is Always only for :latest or untagged images', () => {
  assert.equal(defaultImagePullPolicy('nginx'), 'Always');
  assert.equal(defaultImagePullPolicy('nginx:latest'), 'Always');
  assert.equal(defaultImagePullPolicy('localhost:5000/nginx'), 'Always');
  assert.equal(defaultImagePullPolicy('localhost:5000/nginx:1.2'), 'IfNotPresent');
  assert.equal(defaultImagePullPolicy('nginx@sha256:abc'), 'IfNotPresent');
  assert.equal(defaultImagePullPolicy('nginx:crashloop'), 'IfNotPresent');
});
