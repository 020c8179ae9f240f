import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { KV, KvEntry } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { ObjectStore } from '@nats-io/obj';
import { ErrorCode, FerryError } from '@ferry/contracts';

/** One value read from a JsonKv with its revision (the CAS token). */
export interface KvValue<T> {
  value: T;
  revision: number;
}

export interface KvWatch {
  /** Stops watching. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A KV bucket of JSON values. Keys are NATS KV keys (letters, digits, `-_=./`; no spaces, no
 * wildcards). Values are stored as JSON; a value that does not parse throws FERRY_ERR_KV_VALUE_INVALID
 * from get/values and is skipped (reported as undefined) by watch.
 */
export interface JsonKv<T> {
  readonly bucket: string;
  /** The current value, or undefined when absent or deleted. */
  get(key: string): Promise<KvValue<T> | undefined>;
  /** Writes unconditionally; returns the new revision. */
  put(key: string, value: T): Promise<number>;
  /** Writes only if the key is absent (or deleted). Returns the revision, or undefined when the key exists. */
  create(key: string, value: T): Promise<number | undefined>;
  /** Compare-and-set: writes only if the key is at `revision`. Returns the new revision, or undefined on a wrong revision. */
  update(key: string, value: T, revision: number): Promise<number | undefined>;
  /**
   * Deletes the key (a tombstone; history 1 keeps no older value). With `revision`, only if the key is
   * still at that revision: returns false when it is not.
   */
  delete(key: string, revision?: number): Promise<boolean>;
  /** Every present key (deleted keys excluded). */
  keys(): Promise<string[]>;
  /** Every present key with its value and revision. */
  values(): Promise<Array<{ key: string; value: T; revision: number }>>;
  /**
   * Calls `onChange` for every current key (initial values), then for every change; `value` is
   * undefined when the key was deleted or purged. Resolves once the initial values were delivered.
   * A throwing `onChange` does not stop the watch.
   */
  watch(onChange: (key: string, value: T | undefined, revision: number) => void): Promise<KvWatch>;
}

/** Where a bucket comes from: a connection, or a Kvm already made from one. */
export type KvSource = NatsConnection | Kvm;

function toKvm(source: KvSource): Kvm {
  return source instanceof Kvm ? source : new Kvm(source);
}

function isWrongSequence(error: unknown): boolean {
  if (error instanceof JetStreamApiError) {
    return (
      error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown
    );
  }
  return error instanceof Error && /wrong last sequence/i.test(error.message);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function messagingError(what: string, error: unknown): FerryError {
  if (error instanceof FerryError) return error;
  return new FerryError(ErrorCode.MessagingUnavailable, `${what}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/**
 * Opens an existing KV bucket (provisionJetStream creates them) as JSON. Throws
 * FerryError(FERRY_ERR_MESSAGING_UNAVAILABLE) if the bucket cannot be opened; every operation wraps
 * transport failures the same way.
 */
export async function openJsonKv<T>(source: KvSource, bucket: string): Promise<JsonKv<T>> {
  let kv: KV;
  try {
    kv = await toKvm(source).open(bucket);
  } catch (error) {
    throw messagingError(`cannot open KV bucket ${bucket}`, error);
  }
  const parse = (entry: KvEntry): T => {
    try {
      return JSON.parse(decoder.decode(entry.value)) as T;
    } catch (error) {
      throw new FerryError(ErrorCode.KvValueInvalid, `KV ${bucket}/${entry.key} (revision ${entry.revision}) is not JSON`, { cause: error });
    }
  };
  const present = (e: KvEntry | null): e is KvEntry => e !== null && e.operation === 'PUT';

  const api: JsonKv<T> = {
    bucket,
    async get(key) {
      let e: KvEntry | null;
      try {
        e = await kv.get(key);
      } catch (error) {
        throw messagingError(`KV get ${bucket}/${key}`, error);
      }
      if (!present(e)) return undefined;
      return { value: parse(e), revision: e.revision };
    },
    async put(key, value) {
      try {
        return await kv.put(key, encoder.encode(JSON.stringify(value)));
      } catch (error) {
        throw messagingError(`KV put ${bucket}/${key}`, error);
      }
    },
    async create(key, value) {
      try {
        return await kv.create(key, encoder.encode(JSON.stringify(value)));
      } catch (error) {
        if (isWrongSequence(error)) return undefined;
        throw messagingError(`KV create ${bucket}/${key}`, error);
      }
    },
    async update(key, value, revision) {
      try {
        return await kv.update(key, encoder.encode(JSON.stringify(value)), revision);
      } catch (error) {
        if (isWrongSequence(error)) return undefined;
        throw messagingError(`KV update ${bucket}/${key}`, error);
      }
    },
    async delete(key, revision) {
      try {
        await kv.delete(key, revision === undefined ? undefined : { previousSeq: revision });
        return true;
      } catch (error) {
        if (isWrongSequence(error)) return false;
        throw messagingError(`KV delete ${bucket}/${key}`, error);
      }
    },
    async keys() {
      try {
        const out: string[] = [];
        for await (const k of await kv.keys()) out.push(k);
        return out;
      } catch (error) {
        throw messagingError(`KV keys ${bucket}`, error);
      }
    },
    async values() {
      const out: Array<{ key: string; value: T; revision: number }> = [];
      let keys: string[];
      try {
        keys = [];
        for await (const k of await kv.keys()) keys.push(k);
      } catch (error) {
        throw messagingError(`KV keys ${bucket}`, error);
      }
      for (const key of keys) {
        const v = await api.get(key);
        if (v) out.push({ key, ...v });
      }
      return out;
    },
    async watch(onChange) {
      let initialCount: number;
      try {
        initialCount = (await kv.status()).values;
      } catch (error) {
        throw messagingError(`KV status ${bucket}`, error);
      }
      let iter: Awaited<ReturnType<KV['watch']>>;
      try {
        iter = await kv.watch();
      } catch (error) {
        throw messagingError(`KV watch ${bucket}`, error);
      }
      let resolveInitial!: () => void;
      const initial = new Promise<void>((r) => (resolveInitial = r));
      if (initialCount === 0) resolveInitial();
      const loop = (async () => {
        for await (const e of iter) {
          let value: T | undefined;
          if (e.operation === 'PUT') {
            try {
              value = JSON.parse(decoder.decode(e.value)) as T;
            } catch {
              value = undefined;
            }
          }
          try {
            onChange(e.key, value, e.revision);
          } catch {
            // the watcher's own problem; keep watching
          }
          if (e.isUpdate || e.delta === 0) resolveInitial();
        }
      })().finally(resolveInitial);
      loop.catch(() => undefined);
      // An empty-looking status can race a first write; never wait forever for the initial set.
      await Promise.race([initial, new Promise<void>((r) => setTimeout(r, 5_000).unref())]);
      let stopPromise: Promise<void> | undefined;
      return {
        stop() {
          stopPromise ??= (async () => {
            iter.stop();
            await loop.catch(() => undefined);
          })();
          return stopPromise;
        },
      };
    },
  };
  return api;
}

/** JSON documents in a NATS object store (rendered manifests and other large values). */
export interface ArtifactStore {
  readonly bucket: string;
  /** Stores `value` as JSON under `key`, replacing any previous object. */
  putJson(key: string, value: unknown): Promise<void>;
  /** The JSON stored under `key`, or undefined when absent. Throws FERRY_ERR_KV_VALUE_INVALID if not JSON. */
  getJson<T>(key: string): Promise<T | undefined>;
}

/** Opens an existing object store (provisionJetStream creates it). */
export async function openArtifactStore(nc: NatsConnection, bucketName: string): Promise<ArtifactStore> {
  let os: ObjectStore;
  try {
    os = await new Objm(nc).open(bucketName);
  } catch (error) {
    throw messagingError(`cannot open object store ${bucketName}`, error);
  }
  return {
    bucket: bucketName,
    async putJson(key, value) {
      try {
        await os.putBlob({ name: key }, encoder.encode(JSON.stringify(value)));
      } catch (error) {
        throw messagingError(`object store put ${bucketName}/${key}`, error);
      }
    },
    async getJson<T>(key: string): Promise<T | undefined> {
      let data: Uint8Array | null;
      try {
        data = await os.getBlob(key);
      } catch (error) {
        throw messagingError(`object store get ${bucketName}/${key}`, error);
      }
      if (data === null) return undefined;
      try {
        return JSON.parse(decoder.decode(data)) as T;
      } catch (error) {
        throw new FerryError(ErrorCode.KvValueInvalid, `object ${bucketName}/${key} is not JSON`, { cause: error });
      }
    },
  };
}
