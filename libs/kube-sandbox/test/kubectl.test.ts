import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../src/index.js';

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: fast
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: nginx
          image: nginx:1.27
          ports:
            - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: 80
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: shop
spec:
  size: 3
`;

describe('kubectl 1.32 against the sandbox', { skip: hasKubectl ? false : `kubectl not found at ${KUBECTL}` }, () => {
  let sandbox: Sandbox;
  let dir: string;
  let cacheDir: string;

  function kubectl(args: string[], input?: string): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(
        KUBECTL,
        ['--kubeconfig', sandbox.kubeconfigPath, '--cache-dir', cacheDir, '--request-timeout=20s', ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  async function ok(args: string[], input?: string): Promise<string> {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  async function getJson(args: string[]): Promise<Record<string, any>> {
    return JSON.parse(await ok(['get', ...args, '-o', 'json'])) as Record<string, any>;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-kubectl-'));
    cacheDir = join(dir, 'cache');
    sandbox = await startSandbox({ kubeconfigPath: join(dir, 'kubeconfig'), rolloutMs: 20 });
    await writeFile(join(dir, 'all.yaml'), MANIFESTS);
  });

  after(async () => {
    await sandbox?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('applies a multi-document file server-side, the custom resource once its CRD exists', async () => {
    // As on a real cluster, the first apply creates the CRD but cannot map the Widget yet.
    const first = await kubectl(['apply', '--server-side', '-f', join(dir, 'all.yaml')]);
    assert.match(first.stdout, /customresourcedefinition\.apiextensions\.k8s\.io\/widgets\.example\.com serverside-applied/);
    assert.match(first.stdout, /deployment\.apps\/web serverside-applied/);
    const second = await ok(['apply', '--server-side', '-f', join(dir, 'all.yaml')]);
    assert.match(second, /widget\.example\.com\/gear serverside-applied/);
    const widget = await getJson(['widgets.example.com', 'gear', '-n', 'shop']);
    assert.equal(widget.spec.size, 3);
    assert.equal(widget.metadata.generation, 1);
  });

  it('returns defaulted objects with server fields and managed fields from get -o json', async () => {
    const d = await getJson(['deployment', 'web', '-n', 'shop', '--show-managed-fields']);
    assert.equal(d.spec.strategy.type, 'RollingUpdate');
    assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.match(d.metadata.uid, /^[0-9a-f-]{36}$/);
    const mine = d.metadata.managedFields.find((m: any) => m.manager === 'kubectl' && m.operation === 'Apply');
    assert.ok(mine, 'kubectl owns its applied fields');
    assert.deepEqual(Object.keys(mine.fieldsV1['f:spec']).sort(), ['f:replicas', 'f:selector', 'f:template']);
    const svc = await getJson(['service', 'web', '-n', 'shop']);
    assert.match(svc.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);
  });

  it('reports no difference for unchanged manifests and exit code 1 for a change with diff --server-side', async () => {
    const same = await kubectl(['diff', '--server-side', '-f', join(dir, 'all.yaml')]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    await writeFile(join(dir, 'changed.yaml'), MANIFESTS.replace('mode: fast', 'mode: slow'));
    const changed = await kubectl(['diff', '--server-side', '-f', join(dir, 'changed.yaml')]);
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /\+\s+mode: slow/);
    const cm = await getJson(['configmap', 'settings', '-n', 'shop']);
    assert.equal(cm.data.mode, 'fast', 'diff is a dry run');
  });

  it('rejects a conflicting apply by a second field manager and accepts it with --force-conflicts', async () => {
    const doc = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: other\n';
    const conflict = await kubectl(['apply', '--server-side', '--field-manager=intruder', '-f', '-'], doc);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict with "kubectl"/);
    assert.match(conflict.stderr, /\.data\.mode/);
    await ok(['apply', '--server-side', '--field-manager=intruder', '--force-conflicts', '-f', '-'], doc);
    const cm = await getJson(['configmap', 'settings', '-n', 'shop', '--show-managed-fields']);
    assert.equal(cm.data.mode, 'other');
    const intruder = cm.metadata.managedFields.find((m: any) => m.manager === 'intruder');
    assert.ok(intruder.fieldsV1['f:data']['f:mode']);
  });

  it('waits for the Deployment to become Available and for its rollout', async () => {
    await ok(['wait', '--for=condition=Available', 'deployment/web', '-n', 'shop', '--timeout=20s']);
    const out = await ok(['rollout', 'status', 'deployment/web', '-n', 'shop', '--timeout=20s']);
    assert.match(out, /successfully rolled out/);
    // kubectl get prints the server's Table columns
    const table = await ok(['get', 'deployment', 'web', '-n', 'shop']);
    assert.match(table, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+2\/2\s+2\s+2\s+\S+\n$/);
  });

  it('scales a Deployment through the scale subresource', async () => {
    await ok(['scale', 'deployment/web', '-n', 'shop', '--replicas=4']);
    const d = await getJson(['deployment', 'web', '-n', 'shop']);
    assert.equal(d.spec.replicas, 4);
    await ok(['rollout', 'status', 'deployment/web', '-n', 'shop', '--timeout=20s']);
    const pods = await getJson(['pods', '-n', 'shop', '-l', 'app=web']);
    assert.equal(pods.items.length, 4);
  });

  it('labels, annotates and merge-patches objects', async () => {
    await ok(['label', 'configmap', 'settings', '-n', 'shop', 'tier=backend']);
    await ok(['annotate', 'configmap', 'settings', '-n', 'shop', 'note=hello']);
    await ok(['label', 'widget', 'gear', '-n', 'shop', 'tier=toy']);
    await ok(['patch', 'configmap', 'settings', '-n', 'shop', '--type', 'merge', '-p', '{"data":{"extra":"1"}}']);
    const cm = await getJson(['configmap', 'settings', '-n', 'shop']);
    assert.equal(cm.metadata.labels.tier, 'backend');
    assert.equal(cm.metadata.annotations.note, 'hello');
    assert.equal(cm.data.extra, '1');
    const w = await getJson(['widget', 'gear', '-n', 'shop']);
    assert.equal(w.metadata.labels.tier, 'toy');
    const selected = await getJson(['configmaps', '-n', 'shop', '-l', 'tier in (backend,frontend)']);
    assert.deepEqual(
      selected.items.map((i: any) => i.metadata.name),
      ['settings'],
    );
  });

  it('deletes an object', async () => {
    // kubectl's generators send protobuf bodies
    await ok(['create', 'configmap', 'scratch', '-n', 'shop', '--from-literal=a=b']);
    assert.deepEqual((await getJson(['configmap', 'scratch', '-n', 'shop'])).data, { a: 'b' });
    await ok(['delete', 'configmap', 'scratch', '-n', 'shop']);
    const r = await kubectl(['get', 'configmap', 'scratch', '-n', 'shop']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound|not found/);
  });

  it('creates objects with kubectl create generators (protobuf bodies)', async () => {
    await ok(['create', 'namespace', 'gen']);
    await ok(['create', 'secret', 'generic', 'creds', '-n', 'gen', '--from-literal=user=admin']);
    await ok(['create', 'deployment', 'api', '-n', 'gen', '--image=nginx:1.27', '--replicas=0']);
    const secret = await getJson(['secret', 'creds', '-n', 'gen']);
    assert.equal(Buffer.from(secret.data.user, 'base64').toString(), 'admin');
    const d = await getJson(['deployment', 'api', '-n', 'gen']);
    assert.equal(d.spec.replicas, 0, 'an explicit zero survives decoding');
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27');
    assert.equal(d.spec.minReadySeconds, undefined, 'zero values of plain fields are dropped as in JSON');
  });

  it('deletes a namespace and everything in it', async () => {
    await ok(['delete', 'namespace', 'shop', '--timeout=20s']);
    const ns = await kubectl(['get', 'namespace', 'shop']);
    assert.match(ns.stderr, /not found/);
    for (const kind of ['deployments', 'replicasets', 'pods', 'configmaps', 'services', 'widgets.example.com']) {
      const list = await getJson([kind, '--all-namespaces']);
      assert.equal(list.items.filter((i: any) => i.metadata.namespace === 'shop').length, 0, kind);
    }
  });
});
