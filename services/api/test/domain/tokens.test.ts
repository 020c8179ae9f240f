import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ambiguousTokens, bearerToken, parseTokenEntry, parseTokenFile, parseTokenList, verifyToken } from '../../src/index.js';

describe('token parsing', () => {
  it('reads name=token pairs and gives a bare token the name admin', () => {
    assert.deepEqual(parseTokenEntry('ci=abc123'), { name: 'ci', token: 'abc123' });
    assert.deepEqual(parseTokenEntry('  s3cr3t  '), { name: 'admin', token: 's3cr3t' });
  });

  it('keeps a bare base64 token ending in = whole', () => {
    assert.deepEqual(parseTokenEntry('dGVzdA=='), { name: 'admin', token: 'dGVzdA==' });
    assert.deepEqual(parseTokenEntry('alice=dGVzdA=='), { name: 'alice', token: 'dGVzdA==' });
  });

  it('reports empty entries and missing tokens by position, never echoing a token', () => {
    const { tokens, problems } = parseTokenList('alice=one,,bob=');
    assert.equal(tokens.length, 1);
    assert.deepEqual(
      problems.map((p) => p.where),
      ['entry 2', 'entry 3'],
    );
    assert.ok(problems.every((p) => !p.problem.includes('one')));
  });

  it('reads a tokens file with comments and blank lines', () => {
    const { tokens, problems } = parseTokenFile('# team tokens\nalice=one\n\n  bob=two  \n');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      tokens.map((t) => t.name),
      ['alice', 'bob'],
    );
  });

  it('flags one token configured under two names', () => {
    const { tokens } = parseTokenList('alice=same,bob=same,carol=other');
    assert.deepEqual(ambiguousTokens(tokens), ['alice and bob']);
  });
});

describe('token verification', () => {
  const { tokens } = parseTokenList('alice=token-a,bob=token-b');

  it('returns the name of the matching token', () => {
    assert.equal(verifyToken(tokens, 'token-a'), 'alice');
    assert.equal(verifyToken(tokens, 'token-b'), 'bob');
  });

  it('returns undefined for a wrong token, a prefix, a longer token and the empty string', () => {
    for (const wrong of ['token-c', 'token-', 'token-aa', '']) assert.equal(verifyToken(tokens, wrong), undefined, wrong);
  });

  it('reads the token of a Bearer authorization header only', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer  abc '), 'abc');
    assert.equal(bearerToken('Basic YWxpY2U6eA=='), undefined);
    assert.equal(bearerToken('Bearer'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});
