import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  /** Absolute path of the new, empty directory. */
  readonly path: string;
  /** Removes the directory and everything in it; idempotent (same promise to every caller). */
  cleanup(): Promise<void>;
}

/** Creates a fresh directory under the OS temp dir, named `<prefix>-XXXXXX`. */
export async function tempDir(prefix = 'ferry-test'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), `${prefix.replace(/[-/]+$/, '')}-`));
  let cleaning: Promise<void> | undefined;
  return {
    path,
    cleanup: () => (cleaning ??= rm(path, { recursive: true, force: true, maxRetries: 3 })),
  };
}
