/**
 * Compatibility with Argo CD Application manifests (issue 4): the manifests in fixtures/valid use
 * every field Ferry supports and must be accepted unchanged by the contracts' parser, by the real
 * api (in-process, real nats-server: POST then GET gives the same metadata and spec back) and by
 * `ferry app create -f` (the real bin as a child process). Each manifest in fixtures/unsupported
 * carries ONE field Ferry does not support; its first line says `# expect: <field path>` and the
 * offending line is marked `# <- unsupported`: every door must reject it naming that path, and the
 * CLI must name `file:line` too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  ApplicationInvalidError,
  applicationSchema,
  ErrorCode,
  parseApplication,
  SUPPORTED_SYNC_OPTIONS,
  type Application,
  type JsonSchema,
} from '@ferry/contracts';
import { loadConfig, start, type ApiService } from '@ferry/api';
import { createLogger, createMetricsRegistry } from '@ferry/runtime';
import { natsServerPath, startNatsServer, type NatsServerHandle } from '@ferry/testing';

const here = new URL('./', import.meta.url).pathname;
const root = new URL('../../', import.meta.url).pathname;
const FERRY_BIN = join(root, 'cli', 'bin', 'ferry.mjs');
const TOKEN = 'compat-token-0123456789abcdef';

interface ValidFixture {
  file: string;
  path: string;
  text: string;
  manifest: Record<string, unknown>;
}
interface UnsupportedFixture extends ValidFixture {
  /** The dotted path of the one unsupported field. */
  expectPath: string;
  /** 1-based line marked `# <- unsupported`. */
  line: number;
}

function load(kind: 'valid' | 'unsupported'): ValidFixture[] {
  const dir = join(here, 'fixtures', kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      return { file, path, text, manifest: parse(text) as Record<string, unknown> };
    });
}

const valid = load('valid');
const unsupported: UnsupportedFixture[] = load('unsupported').map((f) => {
  const expectPath = /^# expect: (\S+)/.exec(f.text)?.[1];
  const line = f.text.split('\n').findIndex((l) => l.includes('# <- unsupported')) + 1;
  assert.ok(expectPath, `${f.file} starts with '# expect: <path>'`);
  assert.ok(line > 0, `${f.file} marks its unsupported line`);
  return { ...f, expectPath, line };
});

const appName = (f: ValidFixture): string => (f.manifest['metadata'] as { name: string }).name;

test('the fixtures cover every supported sync option, every ignoreDifferences kind, retry, auto-rollback and both destination forms', () => {
  const apps = valid.map((f) => f.manifest as unknown as Application);
  const options = new Set(apps.flatMap((a) => (a.spec.syncPolicy?.syncOptions ?? []).map((o) => o.split('=')[0])));
  for (const option of Object.keys(SUPPORTED_SYNC_OPTIONS)) assert.ok(options.has(option), `some fixture uses sync option ${option}`);
  const ignore = apps.flatMap((a) => a.spec.ignoreDifferences ?? []);
  assert.ok(ignore.some((r) => r.jsonPointers?.length));
  assert.ok(ignore.some((r) => r.jqPathExpressions?.length));
  assert.ok(ignore.some((r) => r.managedFieldsManagers?.length));
  assert.ok(apps.some((a) => a.spec.syncPolicy?.retry?.backoff?.maxDuration));
  assert.ok(apps.some((a) => a.metadata.annotations?.['ferry.dev/auto-rollback'] === 'true'));
  assert.ok(
    apps.some((a) => a.spec.source.kustomize) && apps.some((a) => a.spec.source.directory?.include && a.spec.source.directory.exclude),
  );
  assert.ok(apps.some((a) => a.spec.destination.name) && apps.some((a) => a.spec.destination.server));
  assert.ok(apps.some((a) => a.spec.syncPolicy?.automated?.allowEmpty !== undefined && a.spec.revisionHistoryLimit !== undefined));
  assert.equal(unsupported.length, 7);
});

/** Dotted paths of every field the schema defines (`[]` for array items); objects without declared properties are leaves. */
function schemaPaths(schema: JsonSchema, prefix = ''): string[] {
  const out: string[] = [];
  if (schema.type === 'array' && schema.items) return schemaPaths(schema.items, `${prefix}[]`);
  const props = schema.properties ?? {};
  if (Object.keys(props).length === 0) return prefix ? [prefix] : [];
  for (const [key, child] of Object.entries(props)) out.push(...schemaPaths(child, prefix ? `${prefix}.${key}` : key));
  return out;
}

/** Dotted paths present in a manifest, pruned to the schema's paths. */
function valuePaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [prefix, ...value.flatMap((v) => valuePaths(v, `${prefix}[]`))];
  if (value !== null && typeof value === 'object') {
    return [prefix, ...Object.entries(value).flatMap(([k, v]) => valuePaths(v, prefix ? `${prefix}.${k}` : k))];
  }
  return [prefix];
}

test('the valid fixtures together use every field of the Application schema', () => {
  const used = new Set(valid.flatMap((f) => valuePaths(f.manifest)));
  const missing = schemaPaths(applicationSchema).filter((p) => !used.has(p));
  assert.deepEqual(missing, [], `fields no valid fixture uses: ${missing.join(', ')}`);
});

describe('contracts parseApplication', () => {
  for (const f of valid) {
    test(`accepts ${f.file} and returns it unchanged`, () => {
      const parsed = parseApplication(structuredClone(f.manifest));
      assert.deepEqual(parsed, f.manifest);
    });
  }
  for (const f of unsupported) {
    test(`rejects ${f.file}, naming ${f.expectPath}`, () => {
      assert.throws(
        () => parseApplication(structuredClone(f.manifest), { file: f.file }),
        (error: unknown) => {
          assert.ok(error instanceof ApplicationInvalidError);
          assert.equal(error.code, ErrorCode.AppInvalid);
          assert.ok(
            error.problems.some((p) => p.path === f.expectPath),
            `a problem names ${f.expectPath}: ${JSON.stringify(error.problems)}`,
          );
          assert.ok(error.message.includes(f.expectPath), 'the message names the field');
          return true;
        },
      );
    });
  }
});

interface ApiHandle {
  nats: NatsServerHandle;
  api: ApiService;
  close(): Promise<void>;
}

async function startApi(): Promise<ApiHandle> {
  const nats = await startNatsServer();
  const config = loadConfig({
    FERRY_NATS_URL: nats.url,
    FERRY_HTTP_PORT: '0',
    FERRY_API_TOKENS: `compat=${TOKEN}`,
    FERRY_LOG_LEVEL: 'silent',
  });
  const api = await start(config, {
    logger: createLogger({ name: 'api', level: 'silent' }),
    registry: createMetricsRegistry({ service: 'api' }),
  });
  return {
    nats,
    api,
    async close() {
      await api.close();
      await nats.close();
    },
  };
}

async function request(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The parts of a stored app that must round-trip (the api adds `status`). */
const declared = (app: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: app['apiVersion'],
  kind: app['kind'],
  metadata: app['metadata'],
  spec: app['spec'],
});

const noNats = natsServerPath() ? false : 'nats-server not found: apt-get install -y nats-server';

describe('the api (in-process, real nats-server)', { skip: noNats }, () => {
  let handle: ApiHandle;
  before(async () => {
    handle = await startApi();
  });
  after(async () => {
    await handle?.close();
  });

  for (const f of valid) {
    test(`POST ${f.file} is accepted and GET returns it unchanged`, async () => {
      const posted = await request(handle.api.url, 'POST', '/api/v1/applications', f.manifest);
      assert.equal(posted.status, 201, JSON.stringify(posted.json));
      const got = await request(handle.api.url, 'GET', `/api/v1/applications/${appName(f)}`);
      assert.equal(got.status, 200);
      assert.deepEqual(declared(got.json), f.manifest);
    });
  }
  for (const f of unsupported) {
    test(`POST ${f.file} is refused with 400 ${ErrorCode.AppInvalid} naming ${f.expectPath}, and nothing is stored`, async () => {
      const posted = await request(handle.api.url, 'POST', '/api/v1/applications', f.manifest);
      assert.equal(posted.status, 400);
      assert.equal(posted.json['code'], ErrorCode.AppInvalid);
      const details = (posted.json['details'] ?? []) as Array<{ path?: string }>;
      assert.ok(
        details.some((d) => d.path === f.expectPath),
        `details name ${f.expectPath}: ${JSON.stringify(posted.json)}`,
      );
      const got = await request(handle.api.url, 'GET', `/api/v1/applications/${appName(f)}`);
      assert.equal(got.status, 404);
    });
  }
});

function ferry(args: readonly string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [FERRY_BIN, ...args],
      {
        timeout: 30_000,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: join(home, 'config'), TZ: 'UTC' },
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('ferry app create -f (the CLI bin as a child process)', { skip: noNats }, () => {
  let handle: ApiHandle;
  let home: string;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'ferry-compat-'));
    handle = await startApi();
  });
  after(async () => {
    await handle?.close();
    rmSync(home, { recursive: true, force: true });
  });
  const login = (): string[] => ['--server', handle.api.url, '--token', TOKEN];

  test('creates every valid fixture in one call, and the api holds each unchanged', async () => {
    const result = await ferry(['app', 'create', ...valid.flatMap((f) => ['-f', f.path]), ...login()], home);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    for (const f of valid) {
      assert.match(result.stdout, new RegExp(`application '${appName(f)}' created`));
      const got = await request(handle.api.url, 'GET', `/api/v1/applications/${appName(f)}`);
      assert.equal(got.status, 200, `${appName(f)} stored`);
      assert.deepEqual(declared(got.json), f.manifest, `${f.file} round-trips`);
    }
  });

  for (const f of unsupported) {
    test(`refuses ${f.file} with exit code 1, printing ${f.file}:${f.line}: ${f.expectPath}, and sends nothing`, async () => {
      const result = await ferry(['app', 'create', '-f', f.path, ...login()], home);
      assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
      assert.ok(
        result.stderr.includes(`${f.path}:${f.line}: ${f.expectPath}`),
        `stderr names ${f.path}:${f.line}: ${f.expectPath}; got:\n${result.stderr}`,
      );
      assert.ok(result.stderr.includes(ErrorCode.AppInvalid), 'stderr carries the error code');
      const got = await request(handle.api.url, 'GET', `/api/v1/applications/${appName(f)}`);
      assert.equal(got.status, 404, 'nothing was sent');
    });
  }
});
