import * as fs from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import * as git from 'isomorphic-git';
import type { AuthCallback, HttpClient } from 'isomorphic-git';
import { ErrorCode } from '@ferry/contracts';
import { GitError } from '../domain/errors.js';
import { buildRefListing, isFullCommitSha } from '../domain/refs.js';
import type { RefListing } from '../domain/refs.js';
import { classifyRepoUrl, redactCredentials, repoKey } from '../domain/repo-url.js';
import type { RepoLocation } from '../domain/repo-url.js';
import { toGitError } from './errors.js';
import { createHttpClient } from './http-client.js';
import { findGitdir, listLocalRefs } from './local-repo.js';
import { materialiseTree } from './materialise.js';

/** Username and password (or token) for one HTTP(S) repository. */
export interface GitCredentials {
  readonly username: string;
  readonly password: string;
}

/** The kinds of Git request the client reports through `onRequest`. */
export const GitRequestKind = { LsRemote: 'ls-remote', Fetch: 'fetch' } as const;
export type GitRequestKind = (typeof GitRequestKind)[keyof typeof GitRequestKind];

/** The logger the client writes to (a pino logger fits). Fields never carry credentials. */
export interface GitLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Options of {@link createGitClient}. */
export interface GitClientOptions {
  /** Directory for mirrors (`repos/<hash>`) and checked-out trees (`trees/<commit>`); created on demand. Required. */
  cacheDir: string;
  /** isomorphic-git HTTP client. Default: Node's fetch with an idle timeout (`createHttpClient`). */
  http?: HttpClient;
  /** For the default HTTP client: abort a request after this many milliseconds without data. Default 60 000. */
  idleTimeoutMs?: number;
  /**
   * Credentials for an HTTP(S) repository, asked with its credential-free URL when the server
   * requests authentication. Default: none (credentials embedded in the URL are used if present).
   */
  credentials?: (repoURL: string) => GitCredentials | undefined;
  /** Default: silent. */
  logger?: GitLogger;
  /**
   * Called after every ref listing (`ls-remote`, local repositories included) and every network
   * fetch (`fetch`), with the credential-free URL, the duration in milliseconds and whether it
   * succeeded — for metrics. Must not throw.
   */
  onRequest?: (kind: GitRequestKind, repoURL: string, durationMs: number, ok: boolean) => void;
}

/** Git access for the poller. */
export interface GitClient {
  /**
   * Lists HEAD, branches and tags (annotated tags peeled) of a repository, like `git ls-remote`:
   * one smart-HTTP request for HTTP(S) URLs, a direct read of the refs for local repositories.
   * Throws {@link GitError}: FERRY_ERR_GIT_UNREACHABLE, FERRY_ERR_GIT_AUTH, FERRY_ERR_GIT_URL_UNSUPPORTED.
   */
  listRefs(repoURL: string): Promise<RefListing>;
  /**
   * Returns a directory holding the tree of `commit` (full SHA), read-only by convention and
   * shared by every caller: `<cacheDir>/trees/<commit>`. HTTP(S) repositories are fetched into one
   * bare mirror per URL, only when the commit is not there yet; local repositories are read in
   * place. Calls for one repository are serialised. Throws {@link GitError}:
   * FERRY_ERR_GIT_REVISION_NOT_FOUND when the repository does not hold the commit (or no ref
   * reaches it), and the codes of {@link GitClient.listRefs}.
   */
  checkout(repoURL: string, commit: string): Promise<string>;
}

/** Creates a {@link GitClient}. No I/O happens until the first call. */
export function createGitClient(options: GitClientOptions): GitClient {
  const cacheDir = options.cacheDir;
  const http = options.http ?? createHttpClient(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs });
  const logger = options.logger;
  const locks = new Map<string, Promise<void>>();
  const objectCaches = new Map<string, object>();

  const report = (kind: GitRequestKind, url: string, started: number, ok: boolean): void => {
    const durationMs = performance.now() - started;
    try {
      options.onRequest?.(kind, url, durationMs, ok);
    } catch (error) {
      logger?.warn({ err: String(error) }, 'onRequest callback threw');
    }
  };

  function locate(repoURL: string): { location: Exclude<RepoLocation, { kind: 'unsupported' }>; url: string; key: string } {
    const location = classifyRepoUrl(repoURL);
    const url = redactCredentials(repoURL.trim());
    if (location.kind === 'unsupported') {
      throw new GitError(ErrorCode.GitUrlUnsupported, `repository URL ${url} is not supported: ${location.reason}`, { repoURL: url });
    }
    return { location, url: location.kind === 'http' ? location.url : url, key: repoKey(location, repoURL) };
  }

  function authFor(location: { url: string; embedded: GitCredentials | undefined }): { onAuth: AuthCallback; onAuthFailure: AuthCallback } {
    let attempted = false;
    return {
      onAuth: () => {
        const credentials = options.credentials?.(location.url) ?? location.embedded;
        if (credentials === undefined) return { cancel: true };
        attempted = true;
        return { username: credentials.username, password: credentials.password };
      },
      // Refused credentials are final: no retry loop, isomorphic-git then throws HttpError 401.
      onAuthFailure: () => (attempted ? undefined : { cancel: true }),
    };
  }

  function serialise<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve();
    const run = previous.then(work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
    return run;
  }

  function objectCache(key: string): object {
    let cache = objectCaches.get(key);
    if (cache === undefined) {
      cache = {};
      objectCaches.set(key, cache);
    }
    return cache;
  }

  async function hasCommit(gitdir: string, commit: string, cache: object): Promise<boolean> {
    try {
      await git.readCommit({ fs, gitdir, oid: commit, cache });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'NotFoundError') return false;
      throw error;
    }
  }

  async function listRefs(repoURL: string): Promise<RefListing> {
    const { location, url } = locate(repoURL);
    const started = performance.now();
    try {
      let refs;
      if (location.kind === 'http') {
        refs = await git.listServerRefs({
          http,
          url: location.url,
          ...authFor(location),
          protocolVersion: 2,
          symrefs: true,
          peelTags: true,
        });
      } else {
        refs = await listLocalRefs(await findGitdir(location.path, url));
      }
      const listing = buildRefListing(url, refs);
      report(GitRequestKind.LsRemote, url, started, true);
      logger?.debug(
        {
          repo: url,
          branches: Object.keys(listing.branches).length,
          tags: Object.keys(listing.tags).length,
          durationMs: Math.round(performance.now() - started),
        },
        'listed refs',
      );
      return listing;
    } catch (error) {
      report(GitRequestKind.LsRemote, url, started, false);
      throw toGitError(error, url, 'listing refs of');
    }
  }

  async function ensureMirror(key: string, url: string): Promise<string> {
    const gitdir = join(cacheDir, 'repos', createHash('sha256').update(key).digest('hex').slice(0, 32));
    const exists = await stat(join(gitdir, 'HEAD')).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(gitdir, { recursive: true });
      await git.init({ fs, dir: gitdir, bare: true });
      await writeFile(join(gitdir, 'description'), `Ferry mirror of ${url}\n`);
    }
    return gitdir;
  }

  async function checkout(repoURL: string, commit: string): Promise<string> {
    const { location, url, key } = locate(repoURL);
    if (!isFullCommitSha(commit)) {
      throw new GitError(ErrorCode.GitRevisionNotFound, `checkout of ${url}: '${commit}' is not a full commit SHA`, {
        repoURL: url,
        revision: commit,
      });
    }
    const sha = commit.toLowerCase();
    const treeDir = join(cacheDir, 'trees', sha);
    if (await isDirectory(treeDir)) return treeDir;
    return serialise(key, async () => {
      if (await isDirectory(treeDir)) return treeDir;
      const cache = objectCache(key);
      let gitdir: string;
      try {
        gitdir = location.kind === 'local' ? await findGitdir(location.path, url) : await ensureMirror(key, url);
      } catch (error) {
        throw toGitError(error, url, 'opening', sha);
      }
      if (!(await hasCommit(gitdir, sha, cache))) {
        if (location.kind === 'http') {
          const started = performance.now();
          try {
            // isomorphic-git's fetch takes its refspec from config; (re)written each time so a
            // mirror left half-initialised by a crash heals. The URL is credential-free.
            await git.addRemote({ fs, gitdir, remote: 'origin', url: location.url, force: true });
            await git.fetch({
              fs,
              http,
              gitdir,
              url: location.url,
              ...authFor(location),
              singleBranch: false,
              tags: true,
              prune: true,
              cache,
            });
            report(GitRequestKind.Fetch, url, started, true);
            logger?.debug({ repo: url, commit: sha, durationMs: Math.round(performance.now() - started) }, 'fetched');
          } catch (error) {
            report(GitRequestKind.Fetch, url, started, false);
            throw toGitError(error, url, 'fetching', sha);
          }
        }
        if (!(await hasCommit(gitdir, sha, cache))) {
          throw new GitError(
            ErrorCode.GitRevisionNotFound,
            `commit ${sha} not found in ${url}${location.kind === 'http' ? ' (no branch or tag reaches it)' : ''}`,
            { repoURL: url, revision: sha },
          );
        }
      }
      try {
        const created = await materialiseTree(gitdir, sha, treeDir, cache);
        logger?.debug({ repo: url, commit: sha, created }, 'materialised tree');
      } catch (error) {
        throw toGitError(error, url, `checking out ${sha} of`, sha);
      }
      return treeDir;
    });
  }

  return { listRefs, checkout };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
