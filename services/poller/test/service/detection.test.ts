import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConditionType, ErrorCode } from '@ferry/contracts';
import {
  ManifestParseError,
  detectedMessageId,
  failedMessageId,
  failureConditionMessage,
  groupByRepository,
  listingKey,
  nextPollDelayMs,
  renderProblems,
  shouldAnnounce,
  shouldAnnounceFailure,
  withComparisonError,
  withoutComparisonError,
} from '../../src/index.js';

describe('poll decisions', () => {
  it('groups apps by repository identity: a trailing slash and file:// do not matter, embedded credentials do', () => {
    const apps = [
      { name: 'a', url: 'https://git.example.com/r.git' },
      { name: 'b', url: 'https://user:pw@git.example.com/r.git/' },
      { name: 'c', url: '/srv/git/local' },
      { name: 'd', url: 'file:///srv/git/local' },
      { name: 'e', url: 'https://git.example.com/other.git' },
      { name: 'f', url: 'https://git.example.com/r.git/' },
      { name: 'g', url: 'https://user:pw@git.example.com/r.git' },
      { name: 'h', url: 'https://user:other@git.example.com/r.git' },
    ];
    const groups = groupByRepository(apps, (a) => a.url);
    assert.deepEqual(
      [...groups.values()].map((g) => g.map((a) => a.name)),
      [['a', 'f'], ['b', 'g'], ['c', 'd'], ['e'], ['h']],
    );
    for (const key of groups.keys()) assert.doesNotMatch(key, /pw|other@|user/, 'keys carry no credentials');
  });

  it('keys a listing by the credential-free URL plus a digest of embedded credentials', () => {
    assert.equal(listingKey('https://git.example.com/r.git/'), 'https://git.example.com/r.git');
    assert.equal(listingKey('file:///srv/git/x'), 'file:///srv/git/x');
    const withCreds = listingKey('https://bot:s3cret@git.example.com/r.git');
    assert.match(withCreds, /^https:\/\/git\.example\.com\/r\.git#[0-9a-f]{16}$/);
    assert.equal(listingKey('https://bot:s3cret@git.example.com/r.git/'), withCreds);
    assert.notEqual(listingKey('https://bot:other@git.example.com/r.git'), withCreds);
    assert.notEqual(listingKey('https://bo:ts3cret@git.example.com/r.git'), withCreds);
  });

  it('announces a revision when its artifact is new, or when a sync intent travels with it', () => {
    assert.equal(shouldAnnounce(undefined, 'k1', false), true);
    assert.equal(shouldAnnounce('k1', 'k2', false), true);
    assert.equal(shouldAnnounce('k1', 'k1', false), false);
    assert.equal(shouldAnnounce('k1', 'k1', true), true);
  });

  it('announces a failure once per revision and code, always with a sync intent', () => {
    const f = { code: ErrorCode.RenderParse, revision: 'abc' };
    assert.equal(shouldAnnounceFailure(undefined, f, false), true);
    assert.equal(shouldAnnounceFailure(f, f, false), false);
    assert.equal(shouldAnnounceFailure(f, { ...f, revision: 'def' }, false), true);
    assert.equal(shouldAnnounceFailure(f, { ...f, code: ErrorCode.GitAuth }, false), true);
    assert.equal(shouldAnnounceFailure(f, f, true), true);
  });

  it('builds deterministic message ids, with the request id only for a sync intent', () => {
    assert.equal(detectedMessageId('web', 'web.abc.123'), 'revision.detected:web:web.abc.123');
    assert.equal(detectedMessageId('web', 'web.abc.123', 'r1'), 'revision.detected:web:web.abc.123:r1');
    assert.equal(failedMessageId('web', 'abc', 'FERRY_ERR_RENDER_PARSE'), 'revision.failed:web:abc:FERRY_ERR_RENDER_PARSE');
    assert.equal(failedMessageId('web', undefined, 'FERRY_ERR_GIT_AUTH', 'r2'), 'revision.failed:web:unresolved:FERRY_ERR_GIT_AUTH:r2');
  });

  it('turns manifest problems into a condition naming file and line', () => {
    const error = new ManifestParseError(
      [
        { file: 'k8s/deploy.yaml', line: 12, message: 'bad indentation' },
        { file: 'k8s/x.json', line: 0, message: 'not JSON' },
      ],
      { path: 'k8s' },
    );
    const problems = renderProblems(error);
    assert.deepEqual(problems, [
      { file: 'k8s/deploy.yaml', line: 12, message: 'bad indentation' },
      { file: 'k8s/x.json', message: 'not JSON' },
    ]);
    assert.equal(failureConditionMessage(error, problems), 'k8s/deploy.yaml:12: bad indentation; k8s/x.json: not JSON');
    assert.equal(failureConditionMessage(new Error('no such branch'), []), 'no such branch');
  });

  it('sets the ComparisonError keeping its transition time while the message is unchanged, and clears it', () => {
    const other = { type: ConditionType.SyncError, message: 'x', lastTransitionTime: 't0' };
    const once = withComparisonError([other], 'm1', 't1');
    assert.deepEqual(once, [other, { type: ConditionType.ComparisonError, message: 'm1', lastTransitionTime: 't1' }]);
    assert.equal(withComparisonError(once, 'm1', 't2')[1]?.lastTransitionTime, 't1');
    assert.equal(withComparisonError(once, 'm2', 't2')[1]?.lastTransitionTime, 't2');
    assert.deepEqual(withoutComparisonError(once), [other]);
  });

  it('varies the poll interval within ± jitter', () => {
    assert.equal(
      nextPollDelayMs(1000, 0.1, () => 0),
      900,
    );
    assert.equal(
      nextPollDelayMs(1000, 0.1, () => 0.5),
      1000,
    );
    assert.equal(
      nextPollDelayMs(1000, 0.1, () => 0.999999),
      1100,
    );
    assert.equal(nextPollDelayMs(1000, 0, Math.random), 1000);
  });
});
