/** Persistence of the store to one JSON file: written on change (debounced) and on close, atomically. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { KubeObject } from './types.js';
import type { ApiServer } from './api.js';
import { CRD_GROUP } from './resources.js';

interface StateFile {
  version: 1;
  resourceVersion: number;
  objects: KubeObject[];
}

/** Reads a state file; undefined when it does not exist. Throws on a corrupt file. */
export async function readState(path: string): Promise<StateFile | undefined> {
  if (!existsSync(path)) return undefined;
  const text = await readFile(path, 'utf8');
  const parsed = JSON.parse(text) as StateFile;
  if (parsed.version !== 1 || !Array.isArray(parsed.objects)) throw new Error(`${path} is not a sandbox state file`);
  return parsed;
}

/** Loads objects into the server: CRDs first (so their resources exist), then everything else. */
export function loadState(api: ApiServer, state: StateFile): void {
  const isCrd = (o: KubeObject): boolean => o.kind === 'CustomResourceDefinition' && o.apiVersion.startsWith(`${CRD_GROUP}/`);
  for (const o of state.objects.filter(isCrd)) {
    const r = api.registry.byApiVersionKind(o.apiVersion, o.kind)!;
    api.store.load(r, o);
    api.registerCrdTypes(o, api.crdTypes(o));
  }
  for (const o of state.objects) {
    if (isCrd(o)) continue;
    const r = api.registry.byApiVersionKind(o.apiVersion, o.kind);
    if (r) api.store.load(r, o);
  }
}

export function snapshot(api: ApiServer): string {
  const objects = api.store.allEntries().map((e) => e.entry.obj);
  const state: StateFile = { version: 1, resourceVersion: api.store.resourceVersion, objects };
  return JSON.stringify(state);
}

/** Debounced writer: `markDirty()` after changes, `flush()` on close. */
export class StateWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  /** Grows with the cost of a snapshot so that a large, busy store is not serialised back to back. */
  private delayMs: number;

  constructor(
    private readonly path: string,
    private readonly api: () => ApiServer,
    private readonly debounceMs: number,
  ) {
    this.delayMs = debounceMs;
  }

  markDirty(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => undefined);
    }, this.delayMs);
    this.timer.unref();
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.dirty) return this.writing;
    this.dirty = false;
    const started = performance.now();
    const text = snapshot(this.api());
    this.delayMs = Math.max(this.debounceMs, Math.round((performance.now() - started) * 10));
    this.writing = this.writing.then(async () => {
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.path);
    });
    return this.writing;
  }
}
