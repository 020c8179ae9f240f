import * as fs from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import * as git from 'isomorphic-git';
import { ErrorCode } from '@ferry/contracts';
import { GitError } from '../domain/errors.js';
import type { ServerRef } from '../domain/refs.js';

/**
 * Finds the Git directory of a local repository: `<path>/.git` (a directory, or a `gitdir:` file
 * as worktrees and submodules have), or `<path>` itself when it is a bare repository. Throws
 * FERRY_ERR_GIT_UNREACHABLE when there is no repository there.
 */
export async function findGitdir(path: string, repoURL: string): Promise<string> {
  const unreachable = (why: string, cause?: unknown): GitError =>
    new GitError(ErrorCode.GitUnreachable, `local repository ${repoURL}: ${why}`, { repoURL }, cause === undefined ? undefined : { cause });
  try {
    const info = await stat(path);
    if (!info.isDirectory()) throw unreachable('not a directory');
  } catch (error) {
    if (error instanceof GitError) throw error;
    throw unreachable('no such directory', error);
  }
  const dotGit = join(path, '.git');
  const dotGitInfo = await stat(dotGit).catch(() => undefined);
  if (dotGitInfo?.isDirectory()) return dotGit;
  if (dotGitInfo?.isFile()) {
    const text = await readFile(dotGit, 'utf8');
    const match = /^gitdir:\s*(.+)$/m.exec(text);
    if (match?.[1] !== undefined) {
      const target = match[1].trim();
      return isAbsolute(target) ? target : resolve(path, target);
    }
  }
  const head = await stat(join(path, 'HEAD')).catch(() => undefined);
  const objects = await stat(join(path, 'objects')).catch(() => undefined);
  if (head?.isFile() && objects?.isDirectory()) return path;
  throw unreachable('not a Git repository (no .git directory, and not a bare repository)');
}

/**
 * Lists HEAD, branches and tags of a local repository, reading its refs (loose and packed) with
 * isomorphic-git — the same view `git ls-remote <path>` gives, without spawning git.
 */
export async function listLocalRefs(gitdir: string): Promise<ServerRef[]> {
  const refs: ServerRef[] = [];
  const headText = await readFile(join(gitdir, 'HEAD'), 'utf8').catch(() => '');
  const symbolic = /^ref:\s*(\S+)/.exec(headText)?.[1];
  const headOid = await git.resolveRef({ fs, gitdir, ref: 'HEAD' }).catch(() => undefined);
  if (headOid !== undefined) refs.push({ ref: 'HEAD', oid: headOid, target: symbolic });
  for (const branch of await git.listBranches({ fs, gitdir })) {
    const oid = await git.resolveRef({ fs, gitdir, ref: `refs/heads/${branch}` }).catch(() => undefined);
    if (oid !== undefined) refs.push({ ref: `refs/heads/${branch}`, oid });
  }
  for (const tag of await git.listTags({ fs, gitdir })) {
    const oid = await git.resolveRef({ fs, gitdir, ref: `refs/tags/${tag}` }).catch(() => undefined);
    if (oid === undefined) continue;
    const peeled = await peel(gitdir, oid);
    refs.push({ ref: `refs/tags/${tag}`, oid, peeled: peeled === oid ? undefined : peeled });
  }
  return refs;
}

/** Follows annotated tag objects to the object they finally point at. */
async function peel(gitdir: string, oid: string): Promise<string> {
  let current = oid;
  for (let depth = 0; depth < 10; depth++) {
    const object = await git.readObject({ fs, gitdir, oid: current, format: 'parsed' }).catch(() => undefined);
    if (object?.type !== 'tag') return current;
    current = (object.object as { object: string }).object;
  }
  return current;
}
