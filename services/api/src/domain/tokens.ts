/**
 * API tokens: parsing the configured `name=token` pairs and checking a presented bearer token in
 * constant time. Only SHA-256 digests of tokens are kept after parsing; a token never appears in a
 * problem message, a log line or an error.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A configured token: the subject it authenticates (recorded as `initiatedBy`) and its SHA-256 digest. */
export interface ApiToken {
  readonly name: string;
  readonly digest: Buffer;
}

/** A problem with one entry of a token list; never carries the token itself. */
export interface TokenProblem {
  /** `entry 2` (FERRY_API_TOKENS) or `line 3` (the tokens file). */
  readonly where: string;
  readonly problem: string;
}

/** The subject a bare token (no `name=`) authenticates as. */
export const DEFAULT_TOKEN_NAME = 'admin';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$/;

export function digestToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Parses one token entry: `name=token`, or a bare `token` (name `admin`). The text before the first
 * `=` is a name only when it looks like one (letters, digits, `_.@-`); otherwise the whole entry is a
 * bare token, so base64 tokens ending in `=` still work when given bare.
 */
export function parseTokenEntry(entry: string): { name: string; token: string } | { problem: string } {
  const text = entry.trim();
  if (text === '') return { problem: 'is empty' };
  const eq = text.indexOf('=');
  if (eq > 0) {
    const name = text.slice(0, eq).trim();
    const token = text.slice(eq + 1).trim();
    if (NAME.test(name) && token !== '' && !token.startsWith('=')) return { name, token };
    if (NAME.test(name) && token === '') return { problem: `has no token after "${name}="` };
  }
  if (/\s/.test(text)) return { problem: 'contains whitespace' };
  return { name: DEFAULT_TOKEN_NAME, token: text };
}

/** Parses FERRY_API_TOKENS: comma-separated entries. */
export function parseTokenList(text: string): { tokens: ApiToken[]; problems: TokenProblem[] } {
  return collect(text.split(',').map((entry, i) => ({ entry, where: `entry ${i + 1}` })));
}

/** Parses a tokens file: one entry per line; blank lines and lines starting with `#` are ignored. */
export function parseTokenFile(text: string): { tokens: ApiToken[]; problems: TokenProblem[] } {
  const lines = text.split(/\r?\n/).map((entry, i) => ({ entry, where: `line ${i + 1}` }));
  return collect(lines.filter((l) => l.entry.trim() !== '' && !l.entry.trim().startsWith('#')));
}

function collect(entries: Array<{ entry: string; where: string }>): { tokens: ApiToken[]; problems: TokenProblem[] } {
  const tokens: ApiToken[] = [];
  const problems: TokenProblem[] = [];
  for (const { entry, where } of entries) {
    const parsed = parseTokenEntry(entry);
    if ('problem' in parsed) problems.push({ where, problem: parsed.problem });
    else tokens.push({ name: parsed.name, digest: digestToken(parsed.token) });
  }
  return { tokens, problems };
}

/** Names of tokens configured twice under different names (the same secret cannot mean two subjects). */
export function ambiguousTokens(tokens: readonly ApiToken[]): string[] {
  const byDigest = new Map<string, Set<string>>();
  for (const t of tokens) {
    const key = t.digest.toString('hex');
    const names = byDigest.get(key) ?? new Set<string>();
    names.add(t.name);
    byDigest.set(key, names);
  }
  return [...byDigest.values()].filter((names) => names.size > 1).map((names) => [...names].sort().join(' and '));
}

/**
 * The name of the token that equals `presented`, or undefined. Every configured token is compared
 * (no early exit), each with `timingSafeEqual` on equal-length SHA-256 digests, so the time taken
 * says nothing about how much of a token matched or which one did.
 */
export function verifyToken(tokens: readonly ApiToken[], presented: string): string | undefined {
  const digest = digestToken(presented);
  let match: string | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(t.digest, digest) && match === undefined) match = t.name;
  }
  return match;
}

/** The token of an `Authorization: Bearer <token>` header value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}
