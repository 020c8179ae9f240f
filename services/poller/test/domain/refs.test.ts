import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRefListing, resolveRevision } from '../../src/domain/refs.js';
import { GitError } from '../../src/domain/errors.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const T = '7'.repeat(40); // annotated tag object
const listing = buildRefListing('https://git.example/repo.git', [
  { ref: 'HEAD', oid: A, target: 'refs/heads/main' },
  { ref: 'refs/heads/main', oid: A },
  { ref: 'refs/heads/feature/x', oid: B },
  { ref: 'refs/heads/both', oid: B },
  { ref: 'refs/tags/both', oid: C },
  { ref: 'refs/tags/v1', oid: C },
  { ref: 'refs/tags/v2', oid: T, peeled: B },
  { ref: 'refs/pull/1/head', oid: C },
]);

test('a listing keeps branches, peeled tags and the HEAD symref, and ignores other refs', () => {
  assert.deepEqual(listing, {
    repoURL: 'https://git.example/repo.git',
    head: A,
    headRef: 'refs/heads/main',
    branches: { both: B, 'feature/x': B, main: A },
    tags: { both: C, v1: C, v2: B },
  });
});

test('an empty revision, HEAD and head resolve to the HEAD commit', () => {
  for (const revision of [undefined, '', '  ', 'HEAD', 'head']) assert.equal(resolveRevision(listing, revision), A);
});

test('a branch name and its refs/heads form resolve to the branch tip', () => {
  assert.equal(resolveRevision(listing, 'feature/x'), B);
  assert.equal(resolveRevision(listing, 'refs/heads/feature/x'), B);
});

test('an annotated tag resolves to the commit it points at, a lightweight tag to its commit', () => {
  assert.equal(resolveRevision(listing, 'v2'), B);
  assert.equal(resolveRevision(listing, 'refs/tags/v2'), B);
  assert.equal(resolveRevision(listing, 'v1'), C);
});

test('a name that is both a branch and a tag resolves to the branch; refs/tags/ selects the tag', () => {
  assert.equal(resolveRevision(listing, 'both'), B);
  assert.equal(resolveRevision(listing, 'refs/tags/both'), C);
});

test('a full commit SHA resolves to itself, lower-cased, even when no ref points at it', () => {
  const sha = 'D'.repeat(40);
  assert.equal(resolveRevision(listing, sha), sha.toLowerCase());
});

test('an unknown revision is FERRY_ERR_GIT_REVISION_NOT_FOUND naming repository and revision', () => {
  for (const revision of ['nope', 'refs/heads/v1', 'refs/tags/main', 'abc1234']) {
    assert.throws(
      () => resolveRevision(listing, revision),
      (error: unknown) => {
        assert.ok(error instanceof GitError);
        assert.equal(error.code, 'FERRY_ERR_GIT_REVISION_NOT_FOUND');
        assert.equal(error.revision, revision);
        assert.equal(error.repoURL, 'https://git.example/repo.git');
        assert.match(error.message, new RegExp(`'${revision.replace(/\//g, '\\/')}'.*https://git.example/repo.git`));
        return true;
      },
    );
  }
});

test('HEAD of an empty repository is not found', () => {
  const empty = buildRefListing('/srv/empty', []);
  assert.throws(() => resolveRevision(empty, 'HEAD'), { code: 'FERRY_ERR_GIT_REVISION_NOT_FOUND' });
});

test('without an advertised HEAD target, HEAD is attributed to the one branch at its commit', () => {
  const l = buildRefListing('x', [
    { ref: 'HEAD', oid: B },
    { ref: 'refs/heads/main', oid: A },
    { ref: 'refs/heads/dev', oid: B },
  ]);
  assert.equal(l.headRef, 'refs/heads/dev');
});
