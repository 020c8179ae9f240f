import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

let cached: string | undefined;

/** `--import` argument that loads tsx in a child node process, resolved from this package (works from any cwd). */
export function tsxImport(): string {
  if (!cached) {
    try {
      cached = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    } catch {
      cached = 'tsx';
    }
  }
  return cached;
}
