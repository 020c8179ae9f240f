import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { ErrorCode } from '@ferry/contracts';
import { RenderError } from './errors.js';

/** Argo CD `spec.source.directory`: how a plain directory is read. */
export interface DirectorySourceOptions {
  /** Read subdirectories too. Default false. */
  recurse?: boolean;
  /** Glob (Argo CD syntax, see `compileGlob`) a file's path relative to the app path must match. Default: every file. */
  include?: string;
  /** Glob of files to leave out, checked before `include`. Default: none. */
  exclude?: string;
}

/**
 * The subset of Argo CD's `spec.source` the poller renders. `kustomize` is accepted as an
 * (empty) object: its presence forces Kustomize; its options are part of the settings hash but no
 * option is applied yet.
 */
export interface SourceSpec {
  repoURL: string;
  /** Branch, tag, full commit SHA, `refs/heads/…`/`refs/tags/…`; default (and `''`) HEAD. */
  targetRevision?: string;
  /** Directory inside the repository, relative; default the repository root. */
  path?: string;
  directory?: DirectorySourceOptions;
  kustomize?: Record<string, unknown>;
}

/**
 * Normalises `source.path` to a clean relative POSIX path (`.` for the root). Absolute paths and
 * paths that climb out (`..`) throw {@link RenderError} FERRY_ERR_RENDER_PATH_ESCAPE. Symlinks are
 * checked by the renderer, which sees the files.
 */
export function normaliseAppPath(path: string | undefined): string {
  const raw = (path ?? '').trim();
  if (raw === '' || raw === '.' || raw === './') return '.';
  if (raw.startsWith('/') || raw.startsWith('\\') || /^[a-zA-Z]:[\\/]/.test(raw)) {
    throw new RenderError(ErrorCode.RenderPathEscape, `path '${raw}' is absolute; it must be relative to the repository root`, {
      path: raw,
    });
  }
  const normal = posix.normalize(raw.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) {
    throw new RenderError(ErrorCode.RenderPathEscape, `path '${raw}' points outside the repository`, { path: raw });
  }
  return normal === '' ? '.' : normal;
}

/** The settings that change what a render produces, in canonical form (see {@link sourceSettingsHash}). */
export interface SourceSettings {
  readonly path: string;
  readonly directory: { readonly recurse: boolean; readonly include: string; readonly exclude: string } | null;
  readonly kustomize: Readonly<Record<string, unknown>> | null;
}

/** Canonical render settings of a source: defaults filled in, path normalised (not validated). */
export function sourceSettings(source: Pick<SourceSpec, 'path' | 'directory' | 'kustomize'>): SourceSettings {
  const raw = (source.path ?? '').trim().replace(/\\/g, '/');
  const path = raw === '' ? '.' : posix.normalize(raw).replace(/\/+$/, '') || '.';
  const directory = source.directory
    ? {
        recurse: source.directory.recurse === true,
        include: source.directory.include ?? '',
        exclude: source.directory.exclude ?? '',
      }
    : null;
  return { path, directory, kustomize: source.kustomize ? (canonical(source.kustomize) as Record<string, unknown>) : null };
}

/**
 * SHA-256 (hex) of the canonical render settings: path, directory options and kustomize options.
 * Not the repo URL or revision (the commit stands for those). Equal settings written differently
 * (`./k8s/` and `k8s`, `recurse: false` and no `recurse`) hash the same.
 */
export function sourceSettingsHash(source: Pick<SourceSpec, 'path' | 'directory' | 'kustomize'>): string {
  return sha256(JSON.stringify(canonical(sourceSettings(source))));
}

/** SHA-256 hex of a string. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A deep copy with object keys sorted, so that JSON.stringify is canonical. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}
