import type { SourceSpec } from './source.js';
import { sourceSettingsHash } from './source.js';

const COMMIT = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;
/** Characters kept as they are in the app part; everything else is `_` + hex of its UTF-8 bytes. */
const SAFE_APP_CHAR = /[a-z0-9.-]/;

/**
 * The artifact key of a rendered set: `<app>.<commit>.<16 hex of the source settings hash>`, e.g.
 * `guestbook.3f786850e387550fdab836ed7e6dc881de23001b.8d3c5a0e1f2b4c6d`. Stable (the same inputs
 * give the same key in every process), distinct for distinct inputs, and made only of
 * `[a-z0-9._-]`, so it is safe as a NATS object-store object name and as a KV key. App names that
 * are DNS-1123 names (as Kubernetes names are) appear unchanged; other characters are encoded as
 * `_xx`. Throws TypeError when `commit` is not a full lower-case commit SHA.
 */
export function artifactKey(app: string, commit: string, source: Pick<SourceSpec, 'path' | 'directory' | 'kustomize'>): string {
  if (app.length === 0) throw new TypeError('artifactKey: app name is empty');
  if (!COMMIT.test(commit)) throw new TypeError(`artifactKey: '${commit}' is not a full lower-case commit SHA`);
  return `${encodeAppName(app)}.${commit}.${sourceSettingsHash(source).slice(0, 16)}`;
}

function encodeAppName(app: string): string {
  let out = '';
  for (const ch of app) {
    if (SAFE_APP_CHAR.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
