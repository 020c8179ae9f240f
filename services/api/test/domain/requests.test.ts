import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBooleanQuery, parseRefreshMode, parseSyncRequest } from '../../src/index.js';

describe('sync request bodies', () => {
  it('accepts no body, an empty object and prune', () => {
    assert.deepEqual(parseSyncRequest(undefined), { prune: false });
    assert.deepEqual(parseSyncRequest({}), { prune: false });
    assert.deepEqual(parseSyncRequest({ prune: true }), { prune: true });
  });

  it('names every unsupported field and a wrongly typed prune', () => {
    assert.deepEqual(parseSyncRequest({ prune: 'yes', revision: 'main', dryRun: true }), {
      problems: [
        { path: 'revision', message: 'is not supported (supported: prune)' },
        { path: 'dryRun', message: 'is not supported (supported: prune)' },
        { path: 'prune', message: 'must be a boolean' },
      ],
    });
    assert.ok('problems' in parseSyncRequest([true]));
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
