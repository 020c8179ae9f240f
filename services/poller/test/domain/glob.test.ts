import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, matchGlob } from '../../src/domain/glob.js';

// Cases follow gobwas/glob compiled without separators, as Argo CD's util/glob.Match calls it.
const cases: Array<[pattern: string, path: string, expected: boolean]> = [
  ['*.yaml', 'a.yaml', true],
  ['*.yaml', 'sub/a.yaml', true], // no separators: `*` crosses `/`
  ['*.yaml', 'a.yml', false],
  ['{*.yml,*.yaml}', 'a.yml', true],
  ['{*.yml,*.yaml}', 'a.json', false],
  ['{config.json,env-usw2/*}', 'config.json', true],
  ['{config.json,env-usw2/*}', 'env-usw2/deploy.yaml', true],
  ['{config.json,env-usw2/*}', 'env-use1/deploy.yaml', false],
  ['{config.json,env-usw2/*}', 'sub/config.json', false], // whole-path match
  ['some-directory/*', 'some-directory/a.yaml', true],
  ['some-directory/*', 'other/a.yaml', false],
  ['**/*.json', 'a/b/c.json', true],
  ['a?.yaml', 'ab.yaml', true],
  ['a?.yaml', 'abc.yaml', false],
  ['[ab]*.yaml', 'b1.yaml', true],
  ['[!ab]*.yaml', 'b1.yaml', false],
  ['[!ab]*.yaml', 'c1.yaml', true],
  ['[a-c].yaml', 'b.yaml', true],
  ['[a-c].yaml', 'd.yaml', false],
  ['{a,{b,c}}.yaml', 'c.yaml', true],
  ['\\*.yaml', '*.yaml', true],
  ['\\*.yaml', 'x.yaml', false],
  ['a.(yaml)', 'a.(yaml)', true], // regex characters are literal
  ['a+b.yaml', 'aab.yaml', false],
];

for (const [pattern, path, expected] of cases) {
  test(`pattern ${pattern} ${expected ? 'matches' : 'does not match'} ${path}`, () => {
    assert.equal(matchGlob(pattern, path), expected);
  });
}

test('a pattern that does not compile is invalid and matches nothing, as in Argo CD', () => {
  for (const pattern of ['{a,b', '[abc', 'a\\']) {
    const glob = compileGlob(pattern);
    assert.equal(glob.valid, false, pattern);
    assert.equal(glob.match('a'), false, pattern);
    assert.equal(glob.match(pattern), false, pattern);
  }
});
