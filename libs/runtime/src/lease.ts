import type { JsonKv } from './kv.js';

/** A lease record in the leases bucket. */
export interface Lease {
  /** Who holds it (e.g. `applier-<hostname>-<pid>`). */
  holder: string;
  /** Epoch ms after which anyone may take it. */
  expiresAt: number;
  /** Epoch ms when this holder took it. */
  acquiredAt: number;
}

export interface LeaseHandle {
  readonly key: string;
  readonly holder: string;
  /** False once released or found taken by someone else (renewal failed). */
  readonly held: boolean;
  /** Extends the lease by its ttl. Returns false (and stops auto-renewal) if it was lost. */
  renew(): Promise<boolean>;
  /** Gives the lease up if it is still ours; stops auto-renewal. Idempotent. */
  release(): Promise<void>;
}

export interface AcquireLeaseOptions {
  /** Called once when auto-renewal finds the lease taken or gone (the work it guards should stop). */
  onLost?: (error?: unknown) => void;
  /** Clock (tests). Default Date.now. */
  now?: () => number;
}

/**
 * Takes a lease on `key` for `ttlMs`: creates it if absent, or takes it over by compare-and-set when
 * it has expired (or is already `holder`'s). Returns undefined when someone else holds it. Holders
 * must use distinct names. The handle renews itself every ttl/3 (unref'd timer) until released;
 * expiry is by wall clock, so replicas' clocks must agree to well within ttl.
 */
export async function acquireLease(
  kv: JsonKv<Lease>,
  key: string,
  holder: string,
  ttlMs: number,
  options: AcquireLeaseOptions = {},
): Promise<LeaseHandle | undefined> {
  const now = options.now ?? Date.now;
  const fresh = (): Lease => ({ holder, acquiredAt: now(), expiresAt: now() + ttlMs });
  let revision: number | undefined;
  const current = await kv.get(key);
  if (current === undefined) {
    revision = await kv.create(key, fresh());
  } else if (current.value.holder === holder || current.value.expiresAt <= now()) {
    revision = await kv.update(key, fresh(), current.revision);
  }
  if (revision === undefined) return undefined;

  let rev = revision;
  let held = true;
  let released: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const lost = (error?: unknown): void => {
    if (!held) return;
    held = false;
    if (timer) clearInterval(timer);
    options.onLost?.(error);
  };

  const renew = async (): Promise<boolean> => {
    if (!held) return false;
    const next = await kv.update(key, { holder, acquiredAt: now(), expiresAt: now() + ttlMs }, rev);
    if (next === undefined) {
      lost();
      return false;
    }
    rev = next;
    return true;
  };

  timer = setInterval(
    () => {
      renew().catch((error: unknown) => {
        // A transport failure is not a loss yet: the lease lasts until expiresAt; the next tick retries.
        void error;
      });
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();

  return {
    key,
    holder,
    get held() {
      return held;
    },
    renew,
    release() {
      released ??= (async () => {
        if (timer) clearInterval(timer);
        if (!held) return;
        held = false;
        // Only delete our own revision: if someone took it over, leave theirs alone.
        await kv.delete(key, rev);
      })();
      return released;
    },
  };
}
