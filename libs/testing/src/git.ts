import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { GitCommandError } from './errors.js';

/** Author and committer of every commit the fixtures make. */
export const gitIdentity = Object.freeze({ name: 'Ferry Test', email: 'test@ferry.invalid' });

let home: string | undefined;

/**
 * Environment for every git call of the fixtures: the user's and the system's Git config are
 * ignored (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null, a HOME of our own), no prompts,
 * a fixed identity, and no inherited GIT_* variables.
 */
export function gitEnv(): NodeJS.ProcessEnv {
  if (!home) {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-git-home-'));
    home = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GIT_')) env[key] = value;
  return Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: gitIdentity.name,
    GIT_AUTHOR_EMAIL: gitIdentity.email,
    GIT_COMMITTER_NAME: gitIdentity.name,
    GIT_COMMITTER_EMAIL: gitIdentity.email,
  });
}

const baseConfig = [
  '-c', 'init.defaultBranch=main',
  '-c', 'commit.gpgSign=false',
  '-c', 'tag.gpgSign=false',
  '-c', 'core.autocrlf=false',
  '-c', 'advice.detachedHead=false',
];

/** Runs git asynchronously (never execFileSync: see FACTS.md) and returns trimmed stdout. */
export function runGit(args: readonly string[], cwd?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'git',
      [...baseConfig, ...args],
      { cwd, env: gitEnv(), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new GitCommandError(args, stderr || error.message, { cause: error }));
        else resolvePromise(stdout.trim());
      },
    );
  });
}

/** Files to write (path relative to the repository root → content) or delete (null). */
export type FileChanges = Readonly<Record<string, string | null>>;

/** A working copy the fixture owns; with a remote, every change is pushed to `origin`. */
export interface LocalRepoHandle {
  /** The repository's working directory (for a local repo, also the path to give Ferry). */
  readonly workdir: string;
  /** The branch commits go to (the checked-out branch). */
  readonly currentBranch: string;
  /**
   * Writes (string) and deletes (null) files, commits them all on the current branch (an empty
   * change makes an empty commit), pushes when there is a remote, and returns the commit's SHA.
   */
  commit(files: FileChanges, message?: string): Promise<string>;
  /** Tags `ref` (default HEAD): lightweight, or annotated with `annotated: true`; `force` moves an existing tag. Pushed. */
  tag(name: string, options?: { annotated?: boolean; ref?: string; message?: string; force?: boolean }): Promise<void>;
  /** Creates branch `name` at `from` (default HEAD) and pushes it; `checkout: true` also switches to it. */
  branch(name: string, options?: { from?: string; checkout?: boolean }): Promise<void>;
  /** Switches the working copy to an existing branch; later commits go there. */
  checkout(name: string): Promise<void>;
  /** Moves the current branch to `ref` (git reset --hard) and force-pushes it: a history rewrite. */
  reset(ref: string): Promise<void>;
  /** The SHA of `ref` (default HEAD). */
  head(ref?: string): Promise<string>;
}

/** A repository served by the Git server, plus the fixture's working clone of it. */
export interface GitRepoHandle extends LocalRepoHandle {
  /** Clone URL without credentials. */
  readonly url: string;
  /** Clone URL with the server's basic-auth credentials embedded (equals `url` without auth). */
  readonly authUrl: string;
  /** Path of the bare repository on disk. */
  readonly bareDir: string;
}

function safePath(root: string, relative: string): string {
  const full = resolve(root, relative);
  if (!full.startsWith(root + sep)) throw new Error(`file path escapes the repository: ${relative}`);
  return full;
}

/** Creates the handle over an existing working copy; `push` says whether changes go to `origin`. */
export function workingCopy(workdir: string, branch: string, push: boolean): LocalRepoHandle {
  let current = branch;
  let commits = 0;
  let queue: Promise<unknown> = Promise.resolve();
  // One git operation at a time per working copy (parallel callers would race on index.lock).
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const next = queue.then(op, op);
    queue = next.catch(() => undefined);
    return next;
  };
  const git = (...args: string[]) => runGit(args, workdir);

  return {
    workdir,
    get currentBranch() {
      return current;
    },
    commit: (files, message) =>
      serial(async () => {
        for (const [path, content] of Object.entries(files)) {
          const full = safePath(workdir, path);
          if (content === null) {
            await rm(full, { force: true, recursive: true });
          } else {
            await mkdir(dirname(full), { recursive: true });
            await writeFile(full, content);
          }
        }
        commits += 1;
        await git('add', '-A');
        await git('commit', '-q', '--allow-empty', '-m', message ?? `commit ${commits}`);
        if (push) await git('push', '-q', 'origin', `HEAD:refs/heads/${current}`);
        return git('rev-parse', 'HEAD');
      }),
    tag: (name, options = {}) =>
      serial(async () => {
        const args = ['tag'];
        if (options.force) args.push('-f');
        if (options.annotated) args.push('-a', '-m', options.message ?? name);
        args.push(name);
        if (options.ref) args.push(options.ref);
        await git(...args);
        if (push) await git('push', '-q', ...(options.force ? ['-f'] : []), 'origin', `refs/tags/${name}`);
      }),
    branch: (name, options = {}) =>
      serial(async () => {
        await git('branch', name, options.from ?? 'HEAD');
        if (push) await git('push', '-q', 'origin', `refs/heads/${name}`);
        if (options.checkout) {
          await git('checkout', '-q', name);
          current = name;
        }
      }),
    checkout: (name) =>
      serial(async () => {
        await git('checkout', '-q', name);
        current = name;
      }),
    reset: (ref) =>
      serial(async () => {
        await git('reset', '-q', '--hard', ref);
        if (push) await git('push', '-q', '-f', 'origin', `HEAD:refs/heads/${current}`);
      }),
    head: (ref = 'HEAD') => serial(() => git('rev-parse', `${ref}^{commit}`)),
  };
}

/**
 * Creates a non-bare repository at `dir` (created if missing) on `branch` (default main), with one
 * commit of `files` when any are given. Ferry reads such a repository by its absolute path.
 */
export async function createLocalRepo(
  dir: string,
  files: FileChanges = {},
  options: { branch?: string } = {},
): Promise<LocalRepoHandle> {
  const branch = options.branch ?? 'main';
  await mkdir(dir, { recursive: true });
  await runGit(['init', '-q', '-b', branch, dir]);
  const repo = workingCopy(resolve(dir), branch, false);
  if (Object.keys(files).length > 0) await repo.commit(files, 'initial commit');
  return repo;
}
