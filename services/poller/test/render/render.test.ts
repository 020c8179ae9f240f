import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { kubectlPath, tempDir } from '@ferry/testing';
import type { TempDir } from '@ferry/testing';
import { render } from '../../src/render/render.js';
import type { RenderResult } from '../../src/render/render.js';
import { ManifestParseError, RenderError } from '../../src/domain/errors.js';
import { sourceSettingsHash } from '../../src/domain/source.js';
import type { SourceSpec } from '../../src/domain/source.js';

const REPO = 'https://git.example/repo.git';
const cm = (name: string, extra = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}`;

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

const names = (result: RenderResult) => result.objects.map((o) => o.object.metadata.name);
const sources = (result: RenderResult) => result.objects.map((o) => `${o.source.file}:${o.source.line}`);

function renderError(code: string, check?: (e: RenderError) => void) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RenderError, `expected RenderError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    check?.(error);
    return true;
  };
}

let tmp: TempDir;
before(async () => {
  tmp = await tempDir('ferry-poller-render');
});
after(() => tmp.cleanup());

describe('a plain directory', () => {
  let repo: string;
  before(async () => {
    repo = join(tmp.path, 'plain');
    await writeTree(repo, {
      'apps/web/b.yaml': `${cm('b1')}---\n${cm('b2')}`,
      'apps/web/a.yml': cm('a'),
      'apps/web/c.json': JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'c1' } }],
      }),
      'apps/web/README.md': '# not a manifest',
      'apps/web/notes.txt': 'kind: nothing',
      'apps/web/config.json': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config' } }),
      'apps/web/sub/d.yaml': cm('d'),
      'apps/web/env-usw2/e.yaml': cm('e'),
      'apps/web/env-use1/f.yaml': cm('f'),
    });
  });

  test('renders only the top-level YAML and JSON files by default, sorted, multi-document and Lists expanded', async () => {
    const result = await render(repo, { repoURL: REPO, path: 'apps/web' });
    assert.equal(result.renderer, 'directory');
    assert.deepEqual(names(result), ['a', 'b1', 'b2', 'c1', 'config']);
    assert.deepEqual(sources(result), [
      'apps/web/a.yml:1',
      'apps/web/b.yaml:1',
      'apps/web/b.yaml:6',
      'apps/web/c.json:1',
      'apps/web/config.json:1',
    ]);
  });

  test('recurse adds every subdirectory, depth first in name order', async () => {
    const result = await render(repo, { repoURL: REPO, path: 'apps/web', directory: { recurse: true } });
    assert.deepEqual(names(result), ['a', 'b1', 'b2', 'c1', 'config', 'f', 'e', 'd']);
  });

  test('include and exclude match paths relative to the app path, with {a,b} alternatives', async () => {
    const onlyYaml = await render(repo, { repoURL: REPO, path: 'apps/web', directory: { recurse: true, include: '*.yaml' } });
    assert.deepEqual(names(onlyYaml), ['b1', 'b2', 'f', 'e', 'd']);
    const excluded = await render(repo, {
      repoURL: REPO,
      path: 'apps/web',
      directory: { recurse: true, exclude: '{config.json,env-usw2/*}' },
    });
    assert.deepEqual(names(excluded), ['a', 'b1', 'b2', 'c1', 'f', 'd']);
    const both = await render(repo, {
      repoURL: REPO,
      path: 'apps/web',
      directory: { recurse: true, include: '{*.yml,sub/*}', exclude: 'sub/*' },
    });
    assert.deepEqual(names(both), ['a']);
  });

  test('the result is deterministic and carries the settings hash', async () => {
    const source: SourceSpec = { repoURL: REPO, path: 'apps/web', directory: { recurse: true } };
    const one = await render(repo, source);
    const two = await render(repo, { ...source, path: './apps/web/' });
    assert.deepEqual(one.objects, two.objects);
    assert.equal(one.contentHash, two.contentHash);
    assert.equal(one.sourceHash, sourceSettingsHash(source));
    const other = await render(repo, { repoURL: REPO, path: 'apps/web' });
    assert.notEqual(other.contentHash, one.contentHash);
  });

  test('the repository root is the default path', async () => {
    const root = join(tmp.path, 'rootonly');
    await writeTree(root, { 'x.yaml': cm('x') });
    assert.deepEqual(sources(await render(root, { repoURL: REPO })), ['x.yaml:1']);
  });
});

describe('manifests that do not parse', () => {
  test('every problem of every file is reported together with repository-relative file and line; nothing is returned', async () => {
    const repo = join(tmp.path, 'broken');
    await writeTree(repo, {
      'k8s/deploy.yaml': `${cm('ok')}---\n${cm('bad', 'data:\n   a: 1\n  b: 2\n')}`,
      'k8s/svc.json': '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},}',
      'k8s/values.yaml': 'replicas: 3\n',
      'k8s/good.yaml': cm('good'),
    });
    await assert.rejects(render(repo, { repoURL: REPO, path: 'k8s' }), (error: unknown) => {
      assert.ok(error instanceof ManifestParseError);
      assert.equal(error.code, 'FERRY_ERR_RENDER_PARSE');
      assert.equal(error.path, 'k8s');
      assert.deepEqual(
        error.problems.map((p) => `${p.file}:${p.line}`),
        ['k8s/deploy.yaml:12', 'k8s/svc.json:1', 'k8s/values.yaml:1'],
      );
      assert.match(error.message, /^3 manifest problems: k8s\/deploy\.yaml:12: /);
      assert.match(error.problems[2]?.message ?? '', /missing apiVersion, kind, metadata\.name/);
      return true;
    });
  });

  test('a Jsonnet file is reported as unsupported rather than silently ignored', async () => {
    const repo = join(tmp.path, 'jsonnet');
    await writeTree(repo, { 'a.yaml': cm('a'), 'b.jsonnet': '{}' });
    await assert.rejects(
      render(repo, { repoURL: REPO }),
      (e: unknown) => e instanceof ManifestParseError && e.problems[0]?.file === 'b.jsonnet',
    );
    const excluded = await render(repo, { repoURL: REPO, directory: { exclude: '*.jsonnet' } });
    assert.deepEqual(names(excluded), ['a']);
  });
});

describe('paths', () => {
  let repo: string;
  let outside: string;
  before(async () => {
    repo = join(tmp.path, 'paths', 'repo');
    outside = join(tmp.path, 'paths', 'outside');
    await writeTree(outside, { 'secret.yaml': cm('stolen') });
    await writeTree(repo, { 'k8s/a.yaml': cm('a'), 'file.yaml': cm('f'), 'inner/b.yaml': cm('b') });
    await symlink(outside, join(repo, 'escape-dir'));
    await mkdir(join(repo, 'links'));
    await symlink(join(outside, 'secret.yaml'), join(repo, 'links', 'secret.yaml'));
    await mkdir(join(repo, 'inlinks'));
    await symlink('../inner/b.yaml', join(repo, 'inlinks', 'b.yaml'));
    await symlink('../nowhere.yaml', join(repo, 'inlinks', 'dangling.yaml'));
    await symlink('../inner', join(repo, 'inlinks', 'dir.yaml'));
  });

  test('a path that climbs out or is absolute is FERRY_ERR_RENDER_PATH_ESCAPE', async () => {
    for (const path of ['../outside', 'k8s/../../outside', '/etc', outside]) {
      await assert.rejects(render(repo, { repoURL: REPO, path }), renderError('FERRY_ERR_RENDER_PATH_ESCAPE'), path);
    }
  });

  test('a path through a symlink to outside the repository is FERRY_ERR_RENDER_PATH_ESCAPE', async () => {
    await assert.rejects(render(repo, { repoURL: REPO, path: 'escape-dir' }), renderError('FERRY_ERR_RENDER_PATH_ESCAPE'));
  });

  test('a manifest symlinked to outside the repository is FERRY_ERR_RENDER_PATH_ESCAPE naming the file', async () => {
    await assert.rejects(
      render(repo, { repoURL: REPO, path: 'links' }),
      renderError('FERRY_ERR_RENDER_PATH_ESCAPE', (e) => assert.match(e.message, /links\/secret\.yaml/)),
    );
  });

  test('symlinks inside the repository are followed; dangling ones and links to directories are skipped', async () => {
    const result = await render(repo, { repoURL: REPO, path: 'inlinks' });
    assert.deepEqual(sources(result), ['inlinks/b.yaml:1']);
  });

  test('a missing path, or a file, is FERRY_ERR_RENDER_PATH_NOT_FOUND', async () => {
    await assert.rejects(render(repo, { repoURL: REPO, path: 'nope' }), renderError('FERRY_ERR_RENDER_PATH_NOT_FOUND'));
    await assert.rejects(render(repo, { repoURL: REPO, path: 'file.yaml' }), renderError('FERRY_ERR_RENDER_PATH_NOT_FOUND'));
  });
});

describe('a Kustomize directory', () => {
  let repo: string;
  const kubectl = kubectlPath();
  const pathEnv = kubectl ? dirname(kubectl) : undefined;

  before(async () => {
    repo = join(tmp.path, 'kustomize');
    await writeTree(repo, {
      'k8s/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n  - service.yaml\n',
      'k8s/base/deployment.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n',
      'k8s/base/service.yaml':
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n',
      'k8s/overlays/prod/kustomization.yml':
        'resources:\n  - ../../base\nnamePrefix: prod-\nnamespace: shop\npatches:\n  - target: {kind: Deployment, name: web}\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 3\n',
      'k8s/overlays/broken/kustomization.yaml': 'resources:\n  - ../../missing\n',
      'k8s/overlays/broken/extra.yaml': cm('x'),
    });
  });

  test('an overlay over a base renders with kubectl kustomize when no standalone kustomize is on PATH', async (t) => {
    if (pathEnv === undefined) return t.skip('kubectl not found on PATH or at /usr/bin/kubectl');
    const result = await render(repo, { repoURL: REPO, path: 'k8s/overlays/prod' }, { pathEnv });
    assert.equal(result.renderer, 'kustomize');
    assert.equal(result.tool, 'kubectl');
    const byKind = new Map(result.objects.map((o) => [o.object.kind, o]));
    const deployment = byKind.get('Deployment');
    assert.equal(deployment?.object.metadata.name, 'prod-web');
    assert.equal(deployment?.object.metadata.namespace, 'shop');
    assert.equal((deployment?.object['spec'] as { replicas: number }).replicas, 3);
    assert.equal(byKind.get('Service')?.object.metadata.name, 'prod-web');
    assert.deepEqual(deployment?.source, { file: 'k8s/overlays/prod/kustomization.yml', line: 0 });
  });

  test('the base alone renders too, and an explicit directory option reads the files as plain manifests', async (t) => {
    if (pathEnv === undefined) return t.skip('kubectl not found on PATH or at /usr/bin/kubectl');
    const base = await render(repo, { repoURL: REPO, path: 'k8s/base' }, { pathEnv });
    assert.deepEqual(base.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort(), ['Deployment/web', 'Service/web']);
    const plain = await render(repo, { repoURL: REPO, path: 'k8s/base', directory: { exclude: 'kustomization.yaml' } }, { pathEnv });
    assert.equal(plain.renderer, 'directory');
    assert.deepEqual(sources(plain), ['k8s/base/deployment.yaml:1', 'k8s/base/service.yaml:1']);
  });

  test('a failing build is FERRY_ERR_RENDER_KUSTOMIZE with its stderr, paths relative to the repository', async (t) => {
    if (pathEnv === undefined) return t.skip('kubectl not found on PATH or at /usr/bin/kubectl');
    await assert.rejects(
      render(repo, { repoURL: REPO, path: 'k8s/overlays/broken' }, { pathEnv }),
      renderError('FERRY_ERR_RENDER_KUSTOMIZE', (e) => {
        assert.match(e.message, /missing/);
        assert.ok(!e.message.includes(repo), e.message);
      }),
    );
  });

  test('with neither kustomize nor kubectl on PATH it is FERRY_ERR_RENDER_TOOL_MISSING naming what to install', async () => {
    await assert.rejects(
      render(repo, { repoURL: REPO, path: 'k8s/base' }, { pathEnv: join(tmp.path, 'empty-bin') }),
      renderError('FERRY_ERR_RENDER_TOOL_MISSING', (e) => assert.match(e.message, /install kustomize .* or kubectl/)),
    );
  });

  test('a standalone kustomize on PATH is preferred over kubectl', async (t) => {
    if (pathEnv === undefined) return t.skip('kubectl not found on PATH or at /usr/bin/kubectl');
    // A stand-in `kustomize` that delegates to kubectl proves which tool was chosen.
    const bin = join(tmp.path, 'fake-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'kustomize'), `#!/bin/sh\n[ "$1" = build ] || exit 9\nshift\nexec ${kubectl} kustomize "$@"\n`, {
      mode: 0o755,
    });
    const result = await render(repo, { repoURL: REPO, path: 'k8s/base' }, { pathEnv: `${bin}:${pathEnv}` });
    assert.equal(result.tool, 'kustomize');
    assert.equal(result.objects.length, 2);
  });

  test('directory and kustomize together are FERRY_ERR_RENDER_SOURCE_INVALID', async () => {
    await assert.rejects(
      render(repo, { repoURL: REPO, path: 'k8s/base', directory: {}, kustomize: {} }),
      renderError('FERRY_ERR_RENDER_SOURCE_INVALID'),
    );
  });
});
