/**
 * Benchmark of the sandbox cluster (prints one JSON object):
 * - server-side applies per second over HTTP (keep-alive, concurrent clients),
 * - list throughput (objects per second),
 * - watch fan-out: 20 watchers each receiving every change,
 * - memory (RSS and heap) holding 50,000 objects.
 * Usage: npm run bench:sandbox [-- --applies 6000 --concurrency 32 --objects 50000]
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startSandbox } from '../libs/kube-sandbox/src/index.js';
import { internalsOf } from '../libs/kube-sandbox/src/sandbox.js';

const { values } = parseArgs({
  options: {
    applies: { type: 'string', default: '6000' },
    concurrency: { type: 'string', default: '32' },
    objects: { type: 'string', default: '50000' },
    watchers: { type: 'string', default: '20' },
    'watch-changes': { type: 'string', default: '2000' },
  },
});
const APPLIES = Number(values.applies);
const CONCURRENCY = Number(values.concurrency);
const OBJECTS = Number(values.objects);
const WATCHERS = Number(values.watchers);
const WATCH_CHANGES = Number(values['watch-changes']);

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

const sandbox = await startSandbox({ rolloutMs: 50 }); // controllers on, as tests and the quick start run it
const base = new URL(sandbox.url.replace('https://', 'http://'));
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const auth = `Bearer ${sandbox.token}`;

function call(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, method, path, agent, headers: { authorization: auth, 'content-type': contentType } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function configMap(i: number, version: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `cm-${i}`,
      namespace: 'default',
      labels: { app: 'bench', shard: String(i % 10) },
      annotations: { 'ferry.dev/app': 'bench' },
    },
    data: { version: String(version), a: 'alpha', b: 'bravo', c: 'charlie' },
  });
}

async function pool(total: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < total) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(workers);
}

async function applyAll(count: number, version: number): Promise<number> {
  const started = performance.now();
  await pool(count, async (i) => {
    const res = await call(
      'PATCH',
      `/api/v1/namespaces/default/configmaps/cm-${i}?fieldManager=bench&force=true`,
      configMap(i, version),
      'application/apply-patch+yaml',
    );
    if (res.status !== 200 && res.status !== 201) throw new Error(`apply failed: ${res.status} ${res.body}`);
  });
  return count / ((performance.now() - started) / 1000);
}

// --- warm-up (JIT, sockets) in another namespace, then server-side apply: creates, updates, no-ops.
// The load generator shares the process (and the 2 cores) with the server: the figures are conservative.
await pool(1000, async (i) => {
  await call(
    'PATCH',
    `/api/v1/namespaces/kube-public/configmaps/warm-${i}?fieldManager=bench`,
    configMap(i, 0).replace('"default"', '"kube-public"').replace(`cm-${i}`, `warm-${i}`),
    'application/apply-patch+yaml',
  );
});
const applyCreatePerSec = await applyAll(APPLIES, 1);
const applyUpdatePerSec = await applyAll(APPLIES, 2);
const applyNoopPerSec = await applyAll(APPLIES, 2);

// --- list
const listRounds = 10;
let listed = 0;
const listStarted = performance.now();
for (let r = 0; r < listRounds; r++) {
  const res = await call('GET', '/api/v1/namespaces/default/configmaps');
  listed += (JSON.parse(res.body) as { items: unknown[] }).items.length;
}
const listSeconds = (performance.now() - listStarted) / 1000;
const selectorStarted = performance.now();
const selected = JSON.parse((await call('GET', '/api/v1/configmaps?labelSelector=shard%3D3')).body) as { items: unknown[] };
const selectorMs = performance.now() - selectorStarted;

// --- watch fan-out
const rv = (
  JSON.parse((await call('GET', '/api/v1/namespaces/default/configmaps?limit=1')).body) as { metadata: { resourceVersion: string } }
).metadata.resourceVersion;
const received = new Array<number>(WATCHERS).fill(0);
const watchAgent = new Agent({ keepAlive: false });
const watchRequests = received.map(
  (_, w) =>
    new Promise<void>((resolve) => {
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          path: `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}`,
          agent: watchAgent,
          headers: { authorization: auth },
        },
        (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            buf += c;
            let i;
            while ((i = buf.indexOf('\n')) >= 0) {
              buf = buf.slice(i + 1);
              received[w]!++;
            }
          });
          resolve();
        },
      );
      req.end();
    }),
);
await Promise.all(watchRequests);
const watchStarted = performance.now();
await pool(WATCH_CHANGES, async (i) => {
  await call(
    'PATCH',
    `/api/v1/namespaces/default/configmaps/cm-${i % APPLIES}?fieldManager=bench&force=true`,
    configMap(i % APPLIES, 1000 + i),
    'application/apply-patch+yaml',
  );
});
const writesDoneMs = performance.now() - watchStarted;
while (received.some((n) => n < WATCH_CHANGES)) await new Promise((r) => setTimeout(r, 5));
const watchMs = performance.now() - watchStarted;
internalsOf(sandbox).dropWatches();

// --- memory with OBJECTS objects (created in-process: this measures the store, not the client)
const api = internalsOf(sandbox).api;
const cms = api.registry.byApiVersionKind('v1', 'ConfigMap')!;
gc();
const before = process.memoryUsage();
const memStarted = performance.now();
for (let i = APPLIES; i < OBJECTS; i++) {
  api.apply(cms, 'default', `cm-${i}`, JSON.parse(configMap(i, 1)), '', { fieldManager: 'bench' });
}
const inProcessApplyPerSec = (OBJECTS - APPLIES) / ((performance.now() - memStarted) / 1000);
gc();
const after = process.memoryUsage();
const fullListStarted = performance.now();
const full = await call('GET', '/api/v1/configmaps');
const fullListMs = performance.now() - fullListStarted;
const fullCount = (JSON.parse(full.body) as { items: unknown[] }).items.length;

const MiB = 1024 * 1024;
const result = {
  bench: 'sandbox',
  node: process.version,
  concurrency: CONCURRENCY,
  serverSideApply: {
    objects: APPLIES,
    createPerSec: Math.round(applyCreatePerSec),
    updatePerSec: Math.round(applyUpdatePerSec),
    noopPerSec: Math.round(applyNoopPerSec),
    targetPerSec: 2000,
  },
  list: {
    objectsPerList: APPLIES,
    objectsPerSec: Math.round(listed / listSeconds),
    msPerList: Math.round((listSeconds * 1000) / listRounds),
    labelSelectorMs: Math.round(selectorMs),
    labelSelectorMatched: selected.items.length,
  },
  watch: {
    watchers: WATCHERS,
    changes: WATCH_CHANGES,
    eventsDelivered: received.reduce((a, b) => a + b, 0),
    writesMs: Math.round(writesDoneMs),
    allDeliveredMs: Math.round(watchMs),
    eventsPerSec: Math.round((WATCHERS * WATCH_CHANGES) / (watchMs / 1000)),
  },
  memory: {
    objects: fullCount,
    rssMiB: Math.round(after.rss / MiB),
    heapUsedMiB: Math.round(after.heapUsed / MiB),
    heapGrowthMiB: Math.round((after.heapUsed - before.heapUsed) / MiB),
    bytesPerObject: Math.round((after.heapUsed - before.heapUsed) / Math.max(1, OBJECTS - APPLIES)),
    limitMiB: 500,
    inProcessApplyPerSec: Math.round(inProcessApplyPerSec),
    fullListMs: Math.round(fullListMs),
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
agent.destroy();
await sandbox.close();
