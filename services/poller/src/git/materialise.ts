import * as fs from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as git from 'isomorphic-git';

/** Blob writes in flight at once per tree. */
const WRITE_CONCURRENCY = 16;

/**
 * Writes the tree of `commit` into `target` exactly as `git checkout` would lay it out (files,
 * executable bits, symlinks as symlinks, submodules as empty directories), reading objects from
 * `gitdir`. Writes into a temporary sibling and renames it into place, so a reader never sees a
 * half-written tree and two writers (even in two processes) cannot corrupt each other: the
 * loser's copy is discarded. Resolves to true when this call created `target`.
 */
export async function materialiseTree(gitdir: string, commit: string, target: string, cache: object): Promise<boolean> {
  const parent = join(target, '..');
  await mkdir(parent, { recursive: true });
  const temp = join(parent, `.tmp-${commit}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const { commit: parsed } = await git.readCommit({ fs, gitdir, oid: commit, cache });
    await writeTree(gitdir, parsed.tree, temp, cache);
    try {
      await rename(temp, target);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false; // someone else finished first
      throw error;
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function writeTree(gitdir: string, treeOid: string, dir: string, cache: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { tree } = await git.readTree({ fs, gitdir, oid: treeOid, cache });
  const entries = tree.filter((entry) => isSafeName(entry.path));
  for (let i = 0; i < entries.length; i += WRITE_CONCURRENCY) {
    await Promise.all(
      entries.slice(i, i + WRITE_CONCURRENCY).map(async (entry) => {
        const path = join(dir, entry.path);
        if (entry.type === 'tree') return writeTree(gitdir, entry.oid, path, cache);
        if (entry.type === 'commit') return void (await mkdir(path)); // submodule: not fetched, as git leaves it
        const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid, cache });
        if (entry.mode === '120000') return symlink(Buffer.from(blob).toString('utf8'), path);
        return writeFile(path, blob, { mode: entry.mode === '100755' ? 0o755 : 0o644 });
      }),
    );
  }
}

/** Tree entry names git itself refuses to check out. */
function isSafeName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0') && name.toLowerCase() !== '.git';
}
