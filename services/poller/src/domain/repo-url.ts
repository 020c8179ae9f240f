import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Matches the user-info part (`user:password@`) of any URL inside a text. */
const USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

/** Removes `user:password@` from every URL inside `text`; used on every message, log field and metric label. */
export function redactCredentials(text: string): string {
  return text.replace(USER_INFO, '$1');
}

/** Where a `repoURL` points, once classified. */
export type RepoLocation =
  /** Smart HTTP(S): `url` has no credentials; `embedded` holds the ones the URL carried, if any. */
  | { readonly kind: 'http'; readonly url: string; readonly embedded: { username: string; password: string } | undefined }
  /** A repository on this machine: an absolute path or a `file://` URL. */
  | { readonly kind: 'local'; readonly path: string }
  /** Anything else (ssh://, git://, scp-like, relative paths); `reason` says why. */
  | { readonly kind: 'unsupported'; readonly reason: string };

/**
 * Classifies a `repoURL`. HTTP(S) URLs lose their credentials (kept aside in `embedded`) and a
 * trailing slash; local repositories are absolute paths or `file://` URLs.
 */
export function classifyRepoUrl(repoURL: string): RepoLocation {
  const raw = repoURL.trim();
  if (/^https?:\/\//i.test(raw)) {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return { kind: 'unsupported', reason: 'not a valid URL' };
    }
    const embedded =
      parsed.username || parsed.password
        ? { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) }
        : undefined;
    parsed.username = '';
    parsed.password = '';
    const url = parsed.toString().replace(/\/+$/, '');
    return { kind: 'http', url, embedded };
  }
  if (/^file:\/\//i.test(raw)) {
    try {
      return { kind: 'local', path: stripTrailingSlash(fileURLToPath(raw)) };
    } catch {
      return { kind: 'unsupported', reason: 'not a valid file:// URL' };
    }
  }
  if (isAbsolute(raw)) return { kind: 'local', path: stripTrailingSlash(raw) };
  if (/^(ssh|git|git\+ssh|ssh\+git):\/\//i.test(raw) || /^[^/\s]+@[^/\s]+:/.test(raw)) {
    return { kind: 'unsupported', reason: 'SSH and git:// transports are not supported; use an https:// URL' };
  }
  return { kind: 'unsupported', reason: 'expected an http(s):// URL, a file:// URL or an absolute path' };
}

/** A stable identity for a repository: the credential-free URL, or the local path. */
export function repoKey(location: RepoLocation, repoURL: string): string {
  if (location.kind === 'http') return location.url;
  if (location.kind === 'local') return `file://${location.path}`;
  return redactCredentials(repoURL.trim());
}

/**
 * The identity under which a repository's ref listing may be shared: {@link repoKey} plus, for an
 * HTTP(S) URL that embeds credentials, a digest of them (`<url>#<16 hex>`), so apps that reach one
 * repository with different embedded credentials never share a listing (nor its failure). Credentials
 * from FERRY_GIT_CREDENTIALS_FILE are chosen by the credential-free URL, so they need no part here.
 * The digest is a one-way SHA-256 prefix; the key itself is never logged.
 */
export function listingKey(repoURL: string): string {
  const location = classifyRepoUrl(repoURL);
  const key = repoKey(location, repoURL);
  if (location.kind !== 'http' || location.embedded === undefined) return key;
  const { username, password } = location.embedded;
  const digest = createHash('sha256').update(`${username}\0${password}`).digest('hex').slice(0, 16);
  return `${key}#${digest}`;
}

function stripTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}
