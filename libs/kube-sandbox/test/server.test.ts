import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startSandbox, type Sandbox } from '../src/index.js';

interface Res {
  status: number;
  body: any;
}

function client(sandbox: Sandbox) {
  const base = sandbox.url.replace('https://', 'http://'); // the same port answers plain HTTP
  return async function call(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    token = sandbox.token,
  ): Promise<Res> {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  };
}

/** Reads watch events (one JSON per line) until `count` arrived or the stream ends. */
function watchEvents(sandbox: Sandbox, path: string, count: number): Promise<{ events: any[]; ended: boolean }> {
  const url = new URL(sandbox.url.replace('https://', 'http://') + path);
  return new Promise((resolve, reject) => {
    const events: any[] = [];
    let buf = '';
    const req = request(url, { headers: { authorization: `Bearer ${sandbox.token}` } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
        if (events.length >= count) {
          req.destroy();
          resolve({ events, ended: false });
        }
      });
      res.on('end', () => resolve({ events, ended: true }));
    });
    req.on('error', (e) => (events.length >= count ? undefined : reject(e)));
    req.end();
  });
}

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

describe('the sandbox HTTP API', () => {
  let sandbox: Sandbox;
  let call: ReturnType<typeof client>;

  before(async () => {
    sandbox = await startSandbox({ controllers: false, watchHistorySize: 16 });
    call = client(sandbox);
  });
  after(async () => {
    await sandbox?.close();
  });

  it('answers 401 with a Status without the bearer token, and serves health probes without it', async () => {
    const res = await call('GET', '/api/v1/namespaces', undefined, 'application/json', 'wrong');
    assert.equal(res.status, 401);
    assert.equal(res.body.kind, 'Status');
    assert.equal(res.body.reason, 'Unauthorized');
    const health = await fetch(sandbox.url.replace('https://', 'http://') + '/healthz');
    assert.equal(health.status, 200);
  });

  it('serves discovery, and a created CRD appears in discovery and OpenAPI', async () => {
    assert.equal((await call('GET', '/version')).body.major, '1');
    assert.deepEqual((await call('GET', '/api')).body.versions, ['v1']);
    const core = (await call('GET', '/api/v1')).body;
    assert.ok(core.resources.some((r: any) => r.name === 'configmaps' && r.namespaced && r.verbs.includes('watch')));
    assert.ok((await call('GET', '/apis/apps/v1')).body.resources.some((r: any) => r.name === 'deployments/scale'));
    const created = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.example.org' },
      spec: {
        group: 'example.org',
        scope: 'Cluster',
        names: { plural: 'gadgets', kind: 'Gadget' },
        versions: [{ name: 'v1alpha1', served: true, storage: true }],
      },
    });
    assert.equal(created.status, 201);
    const groups = (await call('GET', '/apis')).body.groups.map((g: any) => g.name);
    assert.ok(groups.includes('example.org'));
    const gv = (await call('GET', '/apis/example.org/v1alpha1')).body;
    assert.deepEqual(
      gv.resources.map((r: any) => [r.name, r.namespaced]),
      [['gadgets', false]],
    );
    const index = (await call('GET', '/openapi/v3')).body;
    assert.match(index.paths['apis/example.org/v1alpha1'].serverRelativeURL, /^\/openapi\/v3\/apis\/example\.org\/v1alpha1\?hash=/);
    const doc = (await call('GET', '/openapi/v3/apis/example.org/v1alpha1')).body;
    const patch = doc.paths['/apis/example.org/v1alpha1/gadgets/{name}'].patch;
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'example.org', version: 'v1alpha1', kind: 'Gadget' });
    assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
    const obj = await call('POST', '/apis/example.org/v1alpha1/gadgets', {
      apiVersion: 'example.org/v1alpha1',
      kind: 'Gadget',
      metadata: { name: 'g' },
    });
    assert.equal(obj.status, 201);
  });

  it('returns Status errors with real reasons for bad input, unknown resources and missing objects', async () => {
    const malformed = await call('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion": "v1", ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.reason, 'BadRequest');
    const badYaml = await call('POST', '/api/v1/namespaces/default/configmaps', 'a: [b', 'application/yaml');
    assert.equal(badYaml.status, 400);
    const unknown = await call('GET', '/apis/nope.io/v1/things');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.reason, 'NotFound');
    const missing = await call('GET', '/api/v1/namespaces/default/configmaps/absent');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'configmaps "absent" not found');
    assert.deepEqual(missing.body.details, { name: 'absent', kind: 'configmaps' });
    const noNs = await call('POST', '/api/v1/namespaces/ghost/configmaps', cm('x'));
    assert.equal(noNs.status, 404);
    assert.equal(noNs.body.message, 'namespaces "ghost" not found');
    const wrongType = await call('PATCH', '/api/v1/namespaces/default/configmaps/absent', '{}', 'text/plain');
    assert.equal(wrongType.status, 415);
    const method = await call('POST', '/api/v1/namespaces/default/configmaps/x', cm('x'));
    assert.equal(method.status, 405);
    assert.equal(method.body.reason, 'MethodNotAllowed');
  });

  it('creates from YAML, applies YAML, and does nothing on dryRun=All', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n';
    assert.equal((await call('POST', '/api/v1/namespaces/default/configmaps', yaml, 'application/yaml')).status, 201);
    const dry = await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/from-yaml?fieldManager=t&force=true&dryRun=All',
      yaml.replace('"1"', '"2"'),
      'application/apply-patch+yaml',
    );
    assert.equal(dry.status, 200);
    assert.equal(dry.body.data.a, '2');
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps/from-yaml')).body.data.a, '1');
    const dryCreate = await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry'));
    assert.equal(dryCreate.status, 201);
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps/dry')).status, 404);
    const dryDelete = await call('DELETE', '/api/v1/namespaces/default/configmaps/from-yaml?dryRun=All');
    assert.equal(dryDelete.status, 200);
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps/from-yaml')).status, 200);
  });

  it('pages lists with limit and continue, and filters by label and field selectors', async () => {
    for (let i = 0; i < 5; i++)
      await call('POST', '/api/v1/namespaces/kube-public/configmaps', cm(`page-${i}`, { n: String(i), group: i % 2 ? 'odd' : 'even' }));
    const names: string[] = [];
    let cont = '';
    let pages = 0;
    do {
      const res = await call('GET', `/api/v1/namespaces/kube-public/configmaps?limit=2${cont ? `&continue=${cont}` : ''}`);
      names.push(...res.body.items.map((i: any) => i.metadata.name));
      cont = res.body.metadata.continue ?? '';
      pages++;
    } while (cont);
    assert.deepEqual(names, ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    assert.equal(pages, 3);
    const odd = await call('GET', '/api/v1/namespaces/kube-public/configmaps?labelSelector=' + encodeURIComponent('group=odd,n notin (3)'));
    assert.deepEqual(
      odd.body.items.map((i: any) => i.metadata.name),
      ['page-1'],
    );
    const byName = await call('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Dpage-4,metadata.namespace%3Dkube-public');
    assert.equal(byName.body.items.length, 1);
    assert.equal(byName.body.kind, 'ConfigMapList');
    const del = await call('DELETE', '/api/v1/namespaces/kube-public/configmaps?labelSelector=group%3Deven');
    assert.equal(del.body.items.length, 3);
    assert.equal((await call('GET', '/api/v1/namespaces/kube-public/configmaps')).body.items.length, 2);
  });

  it('watches from a resourceVersion, with selector transitions, bookmarks and 410 for expired versions', async () => {
    const start = (await call('GET', '/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
    await call('POST', '/api/v1/namespaces/default/configmaps', cm('w1', { watched: 'yes' }));
    await call(
      'PATCH',
      '/api/v1/namespaces/default/configmaps/w1',
      { metadata: { labels: { watched: 'no' } } },
      'application/merge-patch+json',
    );
    await call('DELETE', '/api/v1/namespaces/default/configmaps/w1');
    const { events } = await watchEvents(
      sandbox,
      `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${start}&labelSelector=watched%3Dyes`,
      2,
    );
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED w1', 'DELETED w1'],
      'a label change out of the selector is a DELETED event',
    );
    const timed = await watchEvents(
      sandbox,
      `/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dnone`,
      100,
    );
    assert.equal(timed.ended, true, 'the server ends the watch after timeoutSeconds');
    // the history keeps 16 events: 20 more changes push `start` out of it
    for (let i = 0; i < 20; i++) await call('POST', '/api/v1/namespaces/default/configmaps', cm(`churn-${i}`));
    const expired = await watchEvents(sandbox, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${start}`, 1);
    assert.equal(expired.events[0].type, 'ERROR');
    assert.equal(expired.events[0].object.code, 410);
    assert.equal(expired.events[0].object.reason, 'Expired');
  });

  it("renders a meta.k8s.io Table when asked, with a CRD's printer columns", async () => {
    await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'boxes.example.org' },
      spec: {
        group: 'example.org',
        scope: 'Namespaced',
        names: { plural: 'boxes', kind: 'Box' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
          },
        ],
      },
    });
    await call('POST', '/apis/example.org/v1/namespaces/default/boxes', {
      apiVersion: 'example.org/v1',
      kind: 'Box',
      metadata: { name: 'b' },
      spec: { size: 7 },
    });
    const res = await fetch(sandbox.url.replace('https://', 'http://') + '/apis/example.org/v1/namespaces/default/boxes', {
      headers: { authorization: `Bearer ${sandbox.token}`, accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    const table = (await res.json()) as any;
    assert.equal(table.kind, 'Table');
    assert.deepEqual(
      table.columnDefinitions.map((c: any) => c.name),
      ['Name', 'Size', 'Age'],
    );
    assert.deepEqual(table.rows[0].cells.slice(0, 2), ['b', 7]);
    assert.equal(table.rows[0].object.metadata.name, 'b');
  });

  it('sends initial events and a bookmark with sendInitialEvents', async () => {
    const { events } = await watchEvents(
      sandbox,
      '/api/v1/namespaces?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan',
      5,
    );
    assert.deepEqual(
      events.slice(0, 4).map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED default', 'ADDED kube-node-lease', 'ADDED kube-public', 'ADDED kube-system'],
    );
    assert.equal(events[4].type, 'BOOKMARK');
    assert.equal(events[4].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  });
});

describe('sandbox lifecycle', () => {
  it('keeps objects across restarts with a state file and closes idempotently', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-state-'));
    try {
      const statePath = join(dir, 'state.json');
      const first = await startSandbox({ statePath, controllers: false });
      const call = client(first);
      await call('POST', '/api/v1/namespaces/default/configmaps', cm('kept', {}, { a: '1' }));
      const rv = (await call('GET', '/api/v1/namespaces/default/configmaps/kept')).body.metadata.resourceVersion;
      const closing = first.close();
      assert.equal(first.close(), closing, 'close returns the same promise');
      await closing;
      const second = await startSandbox({ statePath, controllers: false });
      try {
        const again = await client(second)('GET', '/api/v1/namespaces/default/configmaps/kept');
        assert.equal(again.body.data.a, '1');
        assert.equal(again.body.metadata.resourceVersion, rv);
        const next = await client(second)('POST', '/api/v1/namespaces/default/configmaps', cm('new'));
        assert.ok(Number(next.body.metadata.resourceVersion) > Number(rv), 'resourceVersion keeps increasing');
      } finally {
        await second.close();
      }
      JSON.parse(await readFile(statePath, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends every watch after watchTimeoutMs, as a server whose watch times out', async () => {
    const sandbox = await startSandbox({ controllers: false, watchTimeoutMs: 200 });
    try {
      const started = Date.now();
      const { ended } = await watchEvents(sandbox, '/api/v1/namespaces?watch=1', 100);
      assert.equal(ended, true);
      assert.ok(Date.now() - started >= 150);
    } finally {
      await sandbox.close();
    }
  });

  it('ends open watches on close and refuses requests afterwards', async () => {
    const sandbox = await startSandbox({ controllers: false });
    const watching = watchEvents(sandbox, '/api/v1/namespaces?watch=1', 100);
    await new Promise((r) => setTimeout(r, 50));
    await sandbox.close();
    const { ended, events } = await watching;
    assert.equal(ended, true);
    assert.equal(events.length, 4, 'the initial ADDED events arrived before close');
    await assert.rejects(fetch(sandbox.url.replace('https://', 'http://') + '/healthz'));
  });

  it('starts from npm run sandbox, prints the ready line, writes a kubeconfig and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-cli-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'libs/kube-sandbox/src/main.ts', '--port', '0', '--kubeconfig', kubeconfig],
        {
          cwd: new URL('../../..', import.meta.url).pathname,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')),
        },
      );
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.on('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      assert.match(line, /^sandbox ready https:\/\/127\.0\.0\.1:\d+\n$/);
      const text = await readFile(kubeconfig, 'utf8');
      assert.match(text, /current-context: sandbox/);
      assert.match(text, /token: /);
      const exit = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(`${code} ${signal}`)));
      child.kill('SIGTERM');
      assert.equal(await exit, '0 null');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
