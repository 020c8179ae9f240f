import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startSandbox } from '@ferry/testing';
import { repoRoot } from './source-metrics.js';
import { findTool, run } from './tools.js';

// The manifests are rendered by the real kubectl (kustomize 5.5) and checked as plain objects.
const kubectl = findTool('kubectl');
const noKubectl = kubectl === undefined ? 'kubectl not found at /usr/bin/kubectl or on PATH' : false;
const natsServer = findTool('nats-server', '/usr/sbin/nats-server');
const base = join(repoRoot, 'deploy/kubernetes/base');
const ha = join(repoRoot, 'deploy/kubernetes/overlays/ha');
const services = readdirSync(join(repoRoot, 'services')).sort();

// Names the manifests set that docs/configuration.md does not list yet, with the reason. Each is
// still required to be read by the service's own source; the strict check below is a todo while
// this list is not empty.
const PENDING_DOCS: Record<string, string> = {};

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[]; nonResourceURLs?: string[] }[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
};

async function render(dir: string): Promise<Obj[]> {
  const result = await run(kubectl!, ['kustomize', dir]);
  assert.equal(result.code, 0, `kubectl kustomize ${relative(repoRoot, dir)} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o !== null);
}

function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind}/${name} not rendered`);
  return found;
}

/** Every environment variable name a container gets: env entries plus the keys of envFrom ConfigMaps. */
function envNames(objects: Obj[], container: any): string[] {
  const names: string[] = (container.env ?? []).map((e: { name: string }) => e.name);
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) names.push(...Object.keys(find(objects, 'ConfigMap', from.configMapRef.name).data ?? {}));
  }
  return names;
}

function envValue(objects: Obj[], container: any, name: string): string | undefined {
  const direct = (container.env ?? []).find((e: { name: string }) => e.name === name);
  if (direct) return direct.value;
  for (const from of container.envFrom ?? []) {
    const data = from.configMapRef ? find(objects, 'ConfigMap', from.configMapRef.name).data : undefined;
    if (data?.[name] !== undefined) return data[name];
  }
  return undefined;
}

test('the base renders with kubectl kustomize and puts everything in the ferry namespace', { skip: noKubectl }, async () => {
  const objects = await render(base);
  assert.ok(find(objects, 'Namespace', 'ferry'));
  const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
  for (const o of objects) {
    if (!clusterScoped.has(o.kind)) assert.equal(o.metadata.namespace, 'ferry', `${o.kind}/${o.metadata.name} namespace`);
  }
});

test(
  'every service has a Deployment running its main.ts from the ferry image, probed and scraped on its HTTP port',
  { skip: noKubectl },
  async () => {
    const objects = await render(base);
    const deployments = objects
      .filter((o) => o.kind === 'Deployment')
      .map((o) => o.metadata.name)
      .sort();
    assert.deepEqual(
      deployments,
      services.map((s) => `ferry-${s}`),
    );
    for (const service of services) {
      const d = find(objects, 'Deployment', `ferry-${service}`);
      const pod = d.spec.template;
      const [c, ...more] = pod.spec.containers;
      assert.equal(more.length, 0);
      assert.equal(c.image, 'ferry:dev');
      assert.equal(c.command, undefined, 'keeps the image entrypoint (node --import tsx)');
      assert.deepEqual(c.args, [`services/${service}/src/main.ts`]);
      assert.ok(existsSync(join(repoRoot, c.args[0])), `${c.args[0]} exists`);
      const port = Number(envValue(objects, c, 'FERRY_HTTP_PORT'));
      assert.equal(port, service === 'api' ? 8080 : 9100);
      assert.equal(envValue(objects, c, 'FERRY_HTTP_HOST'), '0.0.0.0', 'listens beyond loopback so probes reach it');
      assert.equal(envValue(objects, c, 'FERRY_NATS_URL'), 'nats://nats:4222');
      const portName = c.ports.find((p: { containerPort: number }) => p.containerPort === port)?.name;
      assert.ok(portName, `${service} declares its port ${port}`);
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.equal(c.readinessProbe.httpGet.port, portName);
      assert.equal(c.livenessProbe.httpGet.port, portName);
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory, `${service} resources`);
      assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true');
      assert.equal(pod.metadata.annotations['prometheus.io/port'], String(port));
      assert.equal(pod.metadata.annotations['prometheus.io/path'], '/metrics');
      const svc = find(objects, 'Service', `ferry-${service}`);
      for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>))
        assert.equal(pod.metadata.labels[k], v, `Service ferry-${service} selects its pods`);
      assert.ok(svc.spec.ports.some((p: { port: number; targetPort: string }) => p.port === port && p.targetPort === portName));
      assert.ok(
        d.spec.template.spec.terminationGracePeriodSeconds * 1000 > Number(envValue(objects, c, 'FERRY_SHUTDOWN_GRACE_MS')),
        'the pod outlives the shutdown grace period',
      );
    }
  },
);

test('every environment variable the manifests set is read by the service, and documented', { skip: noKubectl }, async (t) => {
  const objects = [...(await render(base)), ...(await render(ha))];
  const configuration =
    readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8') + readFileSync(join(repoRoot, 'docs/runtime.md'), 'utf8');
  const runtimeConfig = readFileSync(join(repoRoot, 'libs/runtime/src/config.ts'), 'utf8');
  const undocumented = new Set<string>();
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    const service = d.metadata.name.replace(/^ferry-/, '');
    const source =
      readdirSync(join(repoRoot, 'services', service, 'src'), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join(repoRoot, 'services', service, 'src', f), 'utf8'))
        .join('\n') + runtimeConfig;
    for (const name of envNames(objects, d.spec.template.spec.containers[0])) {
      assert.ok(source.includes(`'${name}'`), `${name} (set for ${service}) is read by services/${service}/src or libs/runtime`);
      if (!configuration.includes(`\`${name}\``)) undocumented.add(name);
    }
  }
  const unexplained = [...undocumented].filter((n) => !(n in PENDING_DOCS));
  assert.deepEqual(unexplained, [], 'set in deploy/kubernetes but not in docs/configuration.md (nor docs/runtime.md)');
  const pending = Object.keys(PENDING_DOCS).filter((n) => undocumented.has(n));
  await t.test(
    'and nothing waits for documentation',
    { todo: pending.length > 0 ? pending.map((n) => `${n}: ${PENDING_DOCS[n]}`).join('; ') : false },
    () => {
      assert.deepEqual(pending, []);
    },
  );
});

test('the api reads its tokens from the Secret ferry-api-tokens, and no Secret is shipped', { skip: noKubectl }, async () => {
  for (const objects of [await render(base), await render(ha)]) {
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Secret'),
      [],
    );
    const c = find(objects, 'Deployment', 'ferry-api').spec.template.spec.containers[0];
    const tokens = c.env.find((e: { name: string }) => e.name === 'FERRY_API_TOKENS');
    assert.equal(tokens.value, undefined);
    assert.deepEqual(tokens.valueFrom, { secretKeyRef: { name: 'ferry-api-tokens', key: 'tokens' } });
  }
});

test(
  'differ and health may only read the cluster, the applier may also change it, the others get no token',
  { skip: noKubectl },
  async () => {
    const objects = await render(base);
    const rightsOf = (service: string): Set<string> => {
      const d = find(objects, 'Deployment', `ferry-${service}`);
      const sa = d.spec.template.spec.serviceAccountName;
      if (sa === undefined) {
        assert.equal(d.spec.template.spec.automountServiceAccountToken, false, `${service} mounts no token`);
        return new Set();
      }
      find(objects, 'ServiceAccount', sa);
      const verbs = new Set<string>();
      for (const b of objects.filter(
        (o) =>
          o.kind === 'ClusterRoleBinding' &&
          o.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === 'ferry'),
      )) {
        for (const rule of find(objects, 'ClusterRole', b.roleRef!.name).rules ?? []) {
          if (rule.resources?.includes('*') && rule.apiGroups?.includes('*')) rule.verbs.forEach((v) => verbs.add(v));
        }
      }
      return verbs;
    };
    const read = ['get', 'list', 'watch'];
    const write = ['create', 'update', 'patch', 'delete'];
    for (const service of ['differ', 'health']) assert.deepEqual([...rightsOf(service)].sort(), [...read].sort(), service);
    assert.deepEqual([...rightsOf('applier')].sort(), [...read, ...write].sort());
    for (const service of services.filter((s) => !['differ', 'health', 'applier'].includes(s)))
      assert.equal(rightsOf(service).size, 0, service);
  },
);

test('NATS runs as a StatefulSet with JetStream on a persistent volume, probed on its monitoring port', { skip: noKubectl }, async () => {
  const objects = await render(base);
  const sts = find(objects, 'StatefulSet', 'nats');
  assert.equal(sts.spec.replicas, 1);
  assert.equal(sts.spec.serviceName, 'nats-headless');
  assert.equal(find(objects, 'Service', 'nats-headless').spec.clusterIP, 'None');
  assert.ok(find(objects, 'Service', 'nats').spec.ports.some((p: { port: number }) => p.port === 4222));
  const c = sts.spec.template.spec.containers[0];
  assert.ok(c.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'data' && m.mountPath === '/data'));
  assert.equal(sts.spec.volumeClaimTemplates[0].metadata.name, 'data');
  assert.match(c.readinessProbe.httpGet.path, /^\/healthz/);
  const conf = find(objects, 'ConfigMap', sts.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'config').configMap.name)
    .data!['nats.conf']!;
  assert.match(conf, /jetstream\s*\{[^}]*store_dir:\s*\/data/);
  assert.doesNotMatch(conf, /cluster\s*\{/, 'a single server has no cluster block');
});

test(
  'the ha overlay runs two replicas of every service, a 3-node NATS cluster routed by name, and disruption budgets',
  { skip: noKubectl },
  async () => {
    const objects = await render(ha);
    for (const service of services) {
      const d = find(objects, 'Deployment', `ferry-${service}`);
      assert.ok(d.spec.replicas >= 2, `${service} replicas`);
      const pdb = find(objects, 'PodDisruptionBudget', `ferry-${service}`);
      assert.deepEqual(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
      assert.equal(pdb.metadata.namespace, 'ferry');
    }
    const sts = find(objects, 'StatefulSet', 'nats');
    assert.equal(sts.spec.replicas, 3);
    assert.equal(sts.spec.podManagementPolicy, 'Parallel');
    const conf = find(
      objects,
      'ConfigMap',
      sts.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'config').configMap.name,
    ).data!['nats.conf']!;
    const routes = [...conf.matchAll(/nats:\/\/(nats-\d+)\.nats-headless:6222/g)].map((m) => m[1]);
    assert.deepEqual(routes, ['nats-0', 'nats-1', 'nats-2'], 'one route per StatefulSet pod');
    assert.match(conf, /server_name:\s*\$POD_NAME/, 'JetStream clustering needs a unique server name per pod');
    assert.match(conf, /jetstream\s*\{/);
    assert.equal(
      objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('nats-config')).length,
      1,
      'the cluster config replaces the base one',
    );
  },
);

test(
  'nats-server accepts the base and the ha configuration',
  { skip: natsServer === undefined ? 'nats-server not found at /usr/sbin/nats-server or on PATH' : false },
  async () => {
    for (const file of [join(base, 'nats.conf'), join(ha, 'nats.conf')]) {
      const result = await run(natsServer!, ['-t', '-c', file], { env: { ...process.env, POD_NAME: 'nats-0' } });
      assert.equal(result.code, 0, `${relative(repoRoot, file)}: ${result.stdout}${result.stderr}`);
    }
  },
);

test(
  "the notifications component mounts an overlay's config file where FERRY_NOTIFIER_CONFIG points, with its Secret",
  { skip: noKubectl },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-overlay-'));
    try {
      copyFileSync(join(repoRoot, 'deploy/notifications.example.yaml'), join(dir, 'notifications.yaml'));
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        [
          `resources: [${relative(dir, base)}]`,
          `components: [${relative(dir, join(repoRoot, 'deploy/kubernetes/components/notifications'))}]`,
          'configMapGenerator:',
          '  - name: ferry-notifications',
          '    namespace: ferry',
          '    files: [notifications.yaml]',
          '',
        ].join('\n'),
      );
      const objects = await render(dir);
      const pod = find(objects, 'Deployment', 'ferry-notifier').spec.template.spec;
      const c = pod.containers[0];
      const path: string = c.env.find((e: { name: string }) => e.name === 'FERRY_NOTIFIER_CONFIG').value;
      const mount = c.volumeMounts.find((m: { mountPath: string }) => path.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `a volume is mounted above ${path}`);
      const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
      const configMap = find(objects, 'ConfigMap', volume.configMap.name);
      assert.equal(
        configMap.data![path.slice(mount.mountPath.length + 1)],
        readFileSync(join(repoRoot, 'deploy/notifications.example.yaml'), 'utf8'),
      );
      assert.ok(c.envFrom.some((f: { secretRef?: { name: string } }) => f.secretRef?.name === 'ferry-notifier-secrets'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'kubectl applies the base and the ha overlay server-side to the sandbox cluster, which checks names, labels and selectors',
  { skip: noKubectl },
  async () => {
    // The sandbox validates what a real API server validates most often (names, labels, a workload's
    // selector matching its template); it does not reject unknown fields.
    const sandbox = await startSandbox({ controllers: false });
    try {
      for (const dir of [base, ha]) {
        const result = await run(kubectl!, [
          '--kubeconfig',
          sandbox.kubeconfigPath,
          'apply',
          '--server-side',
          '--field-manager',
          'deploy-test',
          '-k',
          dir,
        ]);
        assert.equal(result.code, 0, `${relative(repoRoot, dir)}: ${result.stderr}`);
      }
      const listed = await run(kubectl!, [
        '--kubeconfig',
        sandbox.kubeconfigPath,
        '-n',
        'ferry',
        'get',
        'deployments,statefulsets',
        '-o',
        'json',
      ]);
      assert.equal(listed.code, 0, listed.stderr);
      const items = (JSON.parse(listed.stdout) as { items: Obj[] }).items;
      const replicas = Object.fromEntries(items.map((o) => [`${o.kind}/${o.metadata.name}`, o.spec.replicas as number]));
      assert.equal(replicas['StatefulSet/nats'], 3, 'the overlay applied over the base');
      for (const service of services) assert.equal(replicas[`Deployment/ferry-${service}`], 2);
    } finally {
      await sandbox.close();
    }
  },
);
