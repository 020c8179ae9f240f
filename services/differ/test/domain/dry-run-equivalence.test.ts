/**
 * Proof that the comparison (compare.ts: subset + managedFields prediction of a server-side apply) is
 * equivalent to a server-side dry-run apply on the test set: for each scenario the live object is built
 * on the sandbox by real applies (field manager `ferry`, then other managers or controllers), and
 *   compareResource(desired, live) is Synced  ⇔  apply(desired, { dryRun: true }) equals live
 * (resourceVersion, generation, managedFields aside; quantities by value, as a real server canonicalises
 * them and the sandbox does not). The predicted object is also checked against the dry-run result itself.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { resolveClusters, type ClusterClient, type ClusterRegistry, type KubeObject } from '@ferry/kube';
import { startSandbox, type Sandbox } from '@ferry/kube-sandbox';
import { compareResource, normalizeObject } from '../../src/domain/compare.js';
import { jsonPatch } from '../../src/domain/json-patch.js';
import { sameQuantity } from '../../src/domain/quantity.js';

interface Step {
  manager: string;
  object: KubeObject;
}

interface Scenario {
  name: string;
  /** Applied in order before the comparison (ferry's = earlier syncs; others = controllers, kubectl, users). */
  steps: Step[];
  desired: KubeObject;
  expect?: 'Synced' | 'OutOfSync';
  /** Waits until controllers settled (e.g. the HPA scaled). */
  settle?: (client: ClusterClient) => Promise<void>;
}

const SERVER_FIELDS = ['managedFields', 'resourceVersion', 'generation'];

function comparable(object: KubeObject): Record<string, unknown> {
  const metadata: Record<string, unknown> = { ...object.metadata };
  for (const f of SERVER_FIELDS) delete metadata[f];
  const { status: _s, ...rest } = object;
  return { ...rest, metadata };
}

function inNamespace(object: KubeObject, namespace: string): KubeObject {
  return { ...object, metadata: { ...object.metadata, namespace } };
}

function sanitize(object: KubeObject): KubeObject {
  const { status: _s, ...rest } = structuredClone(object);
  const metadata = { ...rest.metadata };
  for (const f of [...SERVER_FIELDS, 'uid', 'creationTimestamp']) delete metadata[f];
  const spec = rest['spec'] as Record<string, unknown> | undefined;
  // Allocated by the server; another value is rejected as a change of an immutable field.
  if (spec && object.kind === 'Service') {
    delete spec['clusterIP'];
    delete spec['clusterIPs'];
  }
  return { ...rest, metadata } as KubeObject;
}

const deployment = (name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: name }): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
  spec: {
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }] },
    },
    ...spec,
  },
});

const podTemplate = (name: string, restartPolicy?: string): Record<string, unknown> => ({
  metadata: { labels: { app: name } },
  spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'main', image: 'busybox:1.36', command: ['true'] }] },
});

const custom: Scenario[] = [
  { name: 'a defaulted Deployment', steps: [{ manager: 'ferry', object: deployment('d1') }], desired: deployment('d1'), expect: 'Synced' },
  {
    name: 'a defaulted Service',
    steps: [
      {
        manager: 'ferry',
        object: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 's1' },
          spec: { selector: { app: 's1' }, ports: [{ name: 'http', port: 80 }] },
        },
      },
    ],
    desired: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's1' },
      spec: { selector: { app: 's1' }, ports: [{ name: 'http', port: 80 }] },
    },
    expect: 'Synced',
  },
  {
    name: 'a defaulted StatefulSet',
    steps: [],
    desired: {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'ss1' },
      spec: { serviceName: 'ss1', replicas: 2, selector: { matchLabels: { app: 'ss1' } }, template: podTemplate('ss1') },
    },
    expect: 'Synced',
  },
  {
    name: 'a defaulted Job',
    steps: [],
    desired: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j1' }, spec: { template: podTemplate('j1', 'Never') } },
    expect: 'Synced',
  },
  {
    name: 'a defaulted CronJob',
    steps: [],
    desired: {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'cj1' },
      spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate('cj1', 'OnFailure') } } },
    },
    expect: 'Synced',
  },
  {
    name: 'quantities the server canonicalises',
    steps: [],
    desired: deployment('q1', {
      template: {
        metadata: { labels: { app: 'q1' } },
        spec: {
          containers: [
            { name: 'web', image: 'nginx', resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { cpu: '1', memory: '2Gi' } } },
          ],
        },
      },
    }),
    expect: 'Synced',
  },
  {
    name: 'replicas owned by the HPA (Git declares none)',
    steps: [
      { manager: 'ferry', object: deployment('h1') },
      {
        manager: 'ferry',
        object: {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: 'h1' },
          spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'h1' }, minReplicas: 3, maxReplicas: 5 },
        },
      },
    ],
    desired: deployment('h1'),
    expect: 'Synced',
    settle: async (client) => {
      for (let i = 0; i < 50; i++) {
        const live = await client.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'eq-h1', name: 'h1' });
        const owners = (live?.metadata.managedFields ?? []).map((m) => (m as { manager?: string }).manager);
        if ((live?.spec as { replicas?: number }).replicas === 3 && owners.includes('horizontal-pod-autoscaler')) return;
        await sleep(100);
      }
      assert.fail('the sandbox HPA did not scale h1 to 3 with manager horizontal-pod-autoscaler');
    },
  },
  {
    name: 'replicas scaled by hand while Git declares them',
    steps: [
      { manager: 'ferry', object: deployment('r1', { replicas: 2 }) },
      { manager: 'kubectl', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'r1' }, spec: { replicas: 5 } } },
    ],
    desired: deployment('r1', { replicas: 2 }),
    expect: 'OutOfSync',
  },
  {
    name: 'a label Ferry applied and Git dropped',
    steps: [{ manager: 'ferry', object: deployment('l1', {}, { app: 'l1', tier: 'front' }) }],
    desired: deployment('l1'),
    expect: 'OutOfSync',
  },
  {
    name: 'a label Git dropped that another manager also owns',
    steps: [
      { manager: 'ferry', object: deployment('l2', {}, { app: 'l2', tier: 'front' }) },
      { manager: 'labeller', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'l2', labels: { tier: 'front' } } } },
    ],
    desired: deployment('l2'),
    expect: 'Synced',
  },
  {
    name: 'labels Git dropped altogether while another manager owns one more',
    steps: [
      {
        manager: 'ferry',
        object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', labels: { a: '1', b: '2' } }, data: { k: 'v' } },
      },
      { manager: 'labeller', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', labels: { c: '3' } } } },
    ],
    desired: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { k: 'v' } },
    expect: 'OutOfSync',
  },
  {
    name: 'a sidecar container another manager added to the keyed list',
    steps: [
      { manager: 'ferry', object: deployment('sc1') },
      {
        manager: 'injector',
        object: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'sc1' },
          spec: { template: { spec: { containers: [{ name: 'proxy', image: 'envoy:1' }] } } },
        },
      },
    ],
    desired: deployment('sc1'),
    expect: 'Synced',
  },
  {
    name: 'a container Git dropped',
    steps: [
      {
        manager: 'ferry',
        object: deployment('cd1', {
          template: {
            metadata: { labels: { app: 'cd1' } },
            spec: {
              containers: [
                { name: 'web', image: 'nginx:1.27' },
                { name: 'log', image: 'busybox:1.36' },
              ],
            },
          },
        }),
      },
    ],
    desired: deployment('cd1', {
      template: { metadata: { labels: { app: 'cd1' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    }),
    expect: 'OutOfSync',
  },
  {
    name: 'an annotation another controller added',
    steps: [
      { manager: 'ferry', object: deployment('a1') },
      {
        manager: 'ctrl',
        object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'a1', annotations: { 'example.com/seen': 'yes' } } },
      },
    ],
    desired: deployment('a1'),
    expect: 'Synced',
  },
  {
    name: 'an env var Git dropped',
    steps: [{ manager: 'ferry', object: deployment('e1') }],
    desired: deployment('e1', {
      template: {
        metadata: { labels: { app: 'e1' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
      },
    }),
    expect: 'OutOfSync',
  },
  {
    name: 'a Service port Git dropped',
    steps: [
      {
        manager: 'ferry',
        object: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 's2' },
          spec: {
            selector: { app: 's2' },
            ports: [
              { name: 'http', port: 80 },
              { name: 'admin', port: 8080 },
            ],
          },
        },
      },
    ],
    desired: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's2' },
      spec: { selector: { app: 's2' }, ports: [{ name: 'http', port: 80 }] },
    },
    expect: 'OutOfSync',
  },
  {
    name: 'an image another manager changed',
    steps: [
      { manager: 'ferry', object: deployment('i1') },
      {
        manager: 'kubectl-set-image',
        object: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'i1' },
          spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } },
        },
      },
    ],
    desired: deployment('i1'),
    expect: 'OutOfSync',
  },
];

interface FixtureCase {
  description: string;
  desired: KubeObject;
  live?: KubeObject;
}

/** The comparison fixtures: desired applied as ferry, then the fixture's live values applied by another manager. */
function fromFixtures(): Scenario[] {
  const dir = new URL('./fixtures/', import.meta.url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => parse(readFileSync(new URL(file, dir), 'utf8')) as FixtureCase)
    .filter((c) => c.live !== undefined)
    .map((c, i) => {
      const name = `fx${i}`;
      const rename = (o: KubeObject): KubeObject => {
        const copy = structuredClone(o);
        const annotations = copy.metadata.annotations;
        if (annotations) delete annotations['ferry.dev/tracking-id'];
        return complete({ ...copy, metadata: { ...copy.metadata, name } });
      };
      return {
        name: `fixture: ${c.description}`,
        steps: [
          { manager: 'ferry', object: rename(c.desired) },
          { manager: 'other', object: sanitize(rename(c.live as KubeObject)) },
        ],
        desired: rename(c.desired),
      };
    });
}

describe('the comparison is equivalent to a server-side dry-run apply (sandbox)', () => {
  let sandbox: Sandbox;
  let clusters: ClusterRegistry;
  let client: ClusterClient;

  before(async () => {
    sandbox = await startSandbox({ rolloutMs: 30 });
    clusters = resolveClusters({ kubeconfigPath: sandbox.kubeconfigPath, env: {} });
    client = clusters.defaultClient();
  });

  after(async () => {
    await clusters?.close();
    await sandbox?.close();
  });

  const scenarios = [...custom, ...fromFixtures()];
  scenarios.forEach((s, n) => {
    it(`${s.name}: Synced ⇔ the dry run changes nothing`, async (t) => {
      const namespace = s.name.startsWith('fixture') ? `eq-fx-${n}` : `eq-${s.desired.metadata.name}`;
      await client.ensureNamespace(namespace);
      const steps = s.steps.length > 0 ? s.steps : [{ manager: 'ferry', object: s.desired }];
      for (const step of steps) {
        try {
          await client.apply(inNamespace(step.object, namespace), { fieldManager: step.manager, force: true });
        } catch (error) {
          // e.g. a Pod's immutable spec: the scenario goes on with what the server accepted.
          if (step.manager === 'ferry') throw error;
          t.diagnostic(`step by ${step.manager} refused: ${(error as Error).message}`);
        }
      }
      await sleep(150); // controllers react to the applies (ReplicaSets, status, HPA)
      await s.settle?.(client);
      const desired = inNamespace(s.desired, namespace);
      let live: KubeObject | undefined;
      let dry: KubeObject | undefined;
      for (let attempt = 0; attempt < 10; attempt++) {
        const before = await client.get({
          apiVersion: desired.apiVersion,
          kind: desired.kind,
          namespace,
          name: desired.metadata.name ?? '',
        });
        dry = await client.apply(desired, { fieldManager: 'ferry', force: true, dryRun: true });
        live = await client.get({ apiVersion: desired.apiVersion, kind: desired.kind, namespace, name: desired.metadata.name ?? '' });
        if (before?.metadata.resourceVersion === live?.metadata.resourceVersion) break;
        await sleep(100);
      }
      assert.ok(live && dry);
      const ours = compareResource(desired, live, { fieldManager: 'ferry' });
      const dryUnchanged = sameModuloQuantities(comparable(dry), comparable(live));
      assert.equal(
        ours.status === 'Synced',
        dryUnchanged,
        `ours: ${ours.status} (${ours.differences.join(', ')}); dry run ${
          dryUnchanged
            ? 'changes nothing'
            : `changes: ${jsonPatch(comparable(live), comparable(dry))
                .map((o) => `${o.op} ${o.path} ${JSON.stringify('value' in o ? o.value : '')}`)
                .join('; ')}`
        }`,
      );
      if (s.expect) assert.equal(ours.status, s.expect);
      // Stronger: the predicted object is what the dry run returns.
      const expected = normalizeObject(dry, new Set(ANNOTATIONS));
      assert.ok(
        sameModuloQuantities(ours.target, expected),
        `predicted ≠ dry run: ${jsonPatch(expected, ours.target)
          .map((o) => `${o.op} ${o.path}`)
          .join('; ')}`,
      );
    });
  });
});

/**
 * Deep equality where strings equal as Kubernetes quantities are equal: a real API server canonicalises
 * quantities (0.5 → 500m, 1024Mi → 1Gi) so a re-apply of another spelling changes nothing; the sandbox
 * stores them as sent, so its dry run "changes" the spelling only.
 */
function sameModuloQuantities(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameModuloQuantities(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameModuloQuantities(a[k], b[k]));
  }
  return (typeof a === 'string' || typeof a === 'number') && (typeof b === 'string' || typeof b === 'number') && sameQuantity(a, b);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fixture Deployments are partial (the comparison does not need more); a real server needs selector and template. */
function complete(object: KubeObject): KubeObject {
  if (object.kind !== 'Deployment') return object;
  const copy = structuredClone(object);
  const name = copy.metadata.name ?? 'x';
  const spec = (copy['spec'] ??= {}) as Record<string, unknown>;
  spec['selector'] ??= { matchLabels: { app: name } };
  const template = (spec['template'] ??= {}) as Record<string, unknown>;
  const meta = (template['metadata'] ??= {}) as Record<string, unknown>;
  meta['labels'] ??= (spec['selector'] as { matchLabels?: unknown }).matchLabels ?? { app: name };
  const podSpec = (template['spec'] ??= {}) as Record<string, unknown>;
  podSpec['containers'] ??= [{ name: 'web', image: 'nginx:1.27' }];
  return copy;
}

const ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];
