import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBooleanQuery, parseDeleteQuery, parseRefreshMode, parseRollbackRequest, parseSyncRequest } from '../../src/index.js';

describe('sync request bodies', () => {
  it('accepts no body, an empty object and prune', () => {
    assert.deepEqual(parseSyncRequest(undefined), { prune: false, dryRun: false });
    assert.deepEqual(parseSyncRequest({}), { prune: false, dryRun: false });
    assert.deepEqual(parseSyncRequest({ prune: true }), { prune: true, dryRun: false });
  });

  it("accepts Argo CD's body: revision, dryRun, resources and syncOptions as { items } or a plain list", () => {
    const resources = [
      { group: 'apps', kind: 'Deployment', namespace: 'web', name: 'web' },
      { group: '', kind: 'Namespace', name: 'web' },
    ];
    assert.deepEqual(
      parseSyncRequest(
        { name: 'web', revision: ' v1.2.0 ', prune: true, dryRun: true, resources, syncOptions: { items: ['CreateNamespace=true'] } },
        'web',
      ),
      { prune: true, dryRun: true, revision: 'v1.2.0', resources, syncOptions: ['CreateNamespace=true'] },
    );
    assert.deepEqual(parseSyncRequest({ syncOptions: ['PruneLast=true', 'ServerSideApply=true'] }), {
      prune: false,
      dryRun: false,
      syncOptions: ['PruneLast=true', 'ServerSideApply=true'],
    });
    // a missing group is the core group, an empty namespace is none
    assert.deepEqual(parseSyncRequest({ resources: [{ kind: 'ConfigMap', namespace: '', name: 'a' }] }), {
      prune: false,
      dryRun: false,
      resources: [{ group: '', kind: 'ConfigMap', name: 'a' }],
    });
  });

  it('names every problem: unsupported fields, wrong types, unsupported sync options, incomplete resources', () => {
    const result = parseSyncRequest(
      {
        prune: 'yes',
        strategy: { hook: {} },
        revision: 'two words',
        resources: [{ group: 'apps', name: 'x', extra: 1 }, 'nope'],
        syncOptions: { items: ['Replace=maybe', 'Frobnicate=true'] },
        name: 'other',
      },
      'web',
    );
    assert.ok('problems' in result);
    assert.deepEqual(
      result.problems.map((p) => p.path),
      [
        'strategy',
        'prune',
        'name',
        'revision',
        'resources[0].extra',
        'resources[0].kind',
        'resources[1]',
        'syncOptions.items[0]',
        'syncOptions.items[1]',
      ],
    );
    assert.match(result.problems[8]?.message ?? '', /Frobnicate is not supported/);
    assert.ok('problems' in parseSyncRequest([true]));
    assert.ok('problems' in parseSyncRequest({ syncOptions: 'CreateNamespace=true' }));
  });
});

describe('rollback request bodies', () => {
  it('reads id (a number, or a decimal string as Argo sends int64), prune, dryRun and disableAutoSync', () => {
    assert.deepEqual(parseRollbackRequest({ id: 3 }), { id: 3, prune: false, dryRun: false, disableAutoSync: false });
    assert.deepEqual(parseRollbackRequest({ id: '0', prune: true, disableAutoSync: true, name: 'web' }, 'web'), {
      id: 0,
      prune: true,
      dryRun: false,
      disableAutoSync: true,
    });
  });

  it('requires a non-negative integer id and names unsupported fields', () => {
    for (const body of [{}, { id: -1 }, { id: 1.5 }, { id: 'x' }, undefined]) {
      const r = parseRollbackRequest(body);
      assert.ok('problems' in r, JSON.stringify(body));
    }
    const r = parseRollbackRequest({ id: 1, revision: 'main' });
    assert.ok('problems' in r);
    assert.deepEqual(
      r.problems.map((p) => p.path),
      ['revision'],
    );
  });
});

describe('delete query', () => {
  it("defaults to cascade foreground, as Argo CD's app delete", () => {
    assert.equal(parseDeleteQuery({}), 'foreground');
    assert.equal(parseDeleteQuery({ cascade: 'true', propagationPolicy: 'background' }), 'background');
    assert.equal(parseDeleteQuery({ propagationPolicy: 'orphan' }), 'orphan');
  });

  it('orphans with cascade=false and refuses a propagation policy with it', () => {
    assert.equal(parseDeleteQuery({ cascade: 'false' }), 'orphan');
    assert.equal(parseDeleteQuery({ cascade: 'false', propagationPolicy: 'orphan' }), 'orphan');
    assert.ok(typeof parseDeleteQuery({ cascade: 'false', propagationPolicy: 'foreground' }) === 'object');
    assert.ok(typeof parseDeleteQuery({ cascade: 'maybe' }) === 'object');
    assert.ok(typeof parseDeleteQuery({ propagationPolicy: 'now' }) === 'object');
  });
});

describe('query values', () => {
  it('reads refresh=normal|hard and rejects anything else', () => {
    assert.equal(parseRefreshMode(undefined), undefined);
    assert.equal(parseRefreshMode('hard'), 'hard');
    assert.deepEqual(parseRefreshMode('soft'), { problems: [{ path: 'query.refresh', message: 'must be normal or hard' }] });
  });

  it('reads upsert=true|false', () => {
    assert.equal(parseBooleanQuery('upsert', 'true'), true);
    assert.equal(parseBooleanQuery('upsert', undefined), false);
    assert.ok(typeof parseBooleanQuery('upsert', 'yes') === 'object');
  });
});
