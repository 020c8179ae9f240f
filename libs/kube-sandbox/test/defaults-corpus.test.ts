/**
 * Objects read back from real clusters (Argo CD's health corpus) are already defaulted: defaulting them
 * again may only add fields that later Kubernetes versions default (listed below), never anything else.
 * This catches a default a real server does not set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { applyDefaults } from '../src/defaults.js';
import { builtinResources } from '../src/resources.js';
import type { KubeObject } from '../src/types.js';

const corpus = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'corpus', 'argo-health', 'testdata');

/** Paths (dotted, [] for list items) that kubernetes versions newer than the corpus objects default. */
const NEWER_DEFAULTS = [
  /^spec(\.template\.spec|\.jobTemplate\.spec\.template\.spec)?\.(enableServiceLinks|preemptionPolicy|priority)$/,
  /^spec\.persistentVolumeClaimRetentionPolicy$/,
  /^spec\.updateStrategy\.rollingUpdate\.maxSurge$/, // DaemonSet maxSurge (1.21+)
  /^spec\.(completionMode|suspend|podReplacementPolicy)$/, // Job (1.21+, 1.28+)
  /^spec\.template\.metadata\.labels\.batch\.kubernetes\.io\/(controller-uid|job-name)$/, // Job labels (1.27+)
  /^spec\.selector\.matchLabels\.batch\.kubernetes\.io\/controller-uid$/,
  /^spec\.(clusterIPs|ipFamilies|ipFamilyPolicy|internalTrafficPolicy|allocateLoadBalancerNodePorts)$/, // Service (1.20+)
  /^spec(\.volumeClaimTemplates\[\]\.spec)?\.volumeMode$/, // PVC volumeMode (BlockVolume, 1.13+)
  /^spec\.volumeClaimTemplates\[\]\.(apiVersion|kind)$/,
  /^spec(\.template)?\.spec\.(containers|initContainers)\[\]\.ports\[\]\.protocol$/,
  /^spec\.metrics$/, // autoscaling/v2 default metric (the corpus HPAs set their own, or are v1)
];

function addedPaths(before: unknown, after: unknown, path = ''): string[] {
  if (before === undefined) return [path];
  if (Array.isArray(before) && Array.isArray(after)) {
    return after.flatMap((item, i) => addedPaths(before[i], item, `${path}[]`));
  }
  if (typeof before === 'object' && before !== null && typeof after === 'object' && after !== null) {
    const b = before as Record<string, unknown>;
    return Object.entries(after as Record<string, unknown>).flatMap(([k, v]) => addedPaths(b[k], v, path ? `${path}.${k}` : k));
  }
  assert.deepEqual(after, before, `${path} was changed`);
  return [];
}

/** Corpus files written by hand (not read back from a server), so not defaulted. */
const HAND_WRITTEN = new Set(['daemonset-ondelete.yaml']);

const builtins = builtinResources();
const files = existsSync(corpus) ? readdirSync(corpus).filter((f) => f.endsWith('.yaml')).sort() : [];

test('the Argo CD health corpus is present', (t) => {
  if (files.length === 0) t.skip(`no corpus at ${corpus}`);
});

for (const file of files) {
  const object = parse(readFileSync(join(corpus, file), 'utf8'), { uniqueKeys: false }) as KubeObject;
  const slash = object.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : object.apiVersion.slice(0, slash);
  const resource = builtins.find((r) => r.group === group && r.kind === object.kind);
  if (!resource || object.apiVersion === 'autoscaling/v1' || HAND_WRITTEN.has(file)) continue;
  test(`${file}: defaulting a ${object.kind} read from a real cluster adds only newer defaults`, () => {
    const copy = structuredClone(object);
    applyDefaults(resource, copy);
    const unexpected = addedPaths(object, copy).filter((p) => !NEWER_DEFAULTS.some((re) => re.test(p)));
    assert.deepEqual(unexpected, []);
  });
}
