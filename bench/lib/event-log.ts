/**
 * Records every Ferry event seen on core NATS (`<prefix>.>`) with the time it arrived in this
 * process (performance.now(), ms), and lets callers wait for one that matches.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, type CloudEvent } from '@ferry/contracts';

export interface SeenEvent {
  /** performance.now() when the message arrived. */
  at: number;
  subject: string;
  event: CloudEvent;
}

export interface EventLog {
  readonly events: readonly SeenEvent[];
  /** Messages on the subject that did not decode. */
  readonly invalid: number;
  /** Calls `listener` for every event from now on; returns an unsubscribe function. */
  onEvent(listener: (seen: SeenEvent) => void): () => void;
  /** The first event (already seen, from index `from`, or coming) matching `predicate`. */
  waitFor(predicate: (seen: SeenEvent) => boolean, timeoutMs: number, what: string, from?: number): Promise<SeenEvent>;
  close(): Promise<void>;
}

export async function startEventLog(natsUrl: string, prefix = 'gitops'): Promise<EventLog> {
  const nc: NatsConnection = await connect({ servers: natsUrl, name: 'ferry-bench' });
  const events: SeenEvent[] = [];
  const listeners = new Set<(seen: SeenEvent) => void>();
  let invalid = 0;
  const sub = nc.subscribe(`${prefix}.>`, {
    callback: (error, msg) => {
      if (error) return;
      const at = performance.now();
      let event: CloudEvent;
      try {
        event = decodeEvent(msg.data);
      } catch {
        invalid += 1;
        return;
      }
      const seen = { at, subject: msg.subject, event };
      events.push(seen);
      for (const listener of listeners) listener(seen);
    },
  });
  await nc.flush();

  let closing: Promise<void> | undefined;
  return {
    events,
    get invalid() {
      return invalid;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor(predicate, timeoutMs, what, from = 0) {
      for (let i = from; i < events.length; i++) {
        const seen = events[i] as SeenEvent;
        if (predicate(seen)) return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const listener = (seen: SeenEvent): void => {
          if (!predicate(seen)) return;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(seen);
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        timer.unref();
        listeners.add(listener);
      });
    },
    close() {
      closing ??= (async () => {
        sub.unsubscribe();
        await nc.drain().catch(() => undefined);
      })();
      return closing;
    },
  };
}
