/**
 * v1 Events as client-go's EventRecorder writes them (`<name>.<hex nanoseconds>`, count and
 * lastTimestamp bumped for a repeat). Recording is best effort, as in Kubernetes: a failed event write
 * never fails a reconcile. Only the newest `limit` events are kept (real clusters expire them after 1 h).
 */
import type { KubeObject } from '../types.js';
import { timestamp, type Context } from './runtime.js';

export const EventType = { normal: 'Normal', warning: 'Warning' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export class EventRecorder {
  private readonly byKey = new Map<string, { namespace: string; name: string }>();
  private sequence = 0n;

  constructor(private readonly limit = 2000) {}

  record(ctx: Context, involved: KubeObject, type: EventType, reason: string, message: string, component: string): void {
    const eventType = ctx.resource('v1', 'Event');
    if (!eventType) return;
    const namespace = involved.metadata.namespace ?? 'default';
    const key = `${involved.metadata.uid ?? ''}|${type}|${reason}|${message}`;
    const now = timestamp(ctx.now());
    try {
      const known = this.byKey.get(key);
      if (known) {
        const existing = ctx.api.get(eventType, known.namespace, known.name);
        if (existing) {
          const copy = structuredClone(existing);
          delete copy.metadata.managedFields;
          copy['count'] = (typeof existing['count'] === 'number' ? existing['count'] : 1) + 1;
          copy['lastTimestamp'] = now;
          ctx.api.update(eventType, copy, component);
          // Map order is recency order: move the key to the end.
          this.byKey.delete(key);
          this.byKey.set(key, known);
          return;
        }
      }
      const name = `${involved.metadata.name ?? 'object'}.${(BigInt(ctx.now()) * 1_000_000n + this.sequence++).toString(16)}`;
      ctx.api.create(
        eventType,
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: involved.apiVersion,
            kind: involved.kind,
            name: involved.metadata.name,
            namespace: involved.metadata.namespace,
            uid: involved.metadata.uid,
            resourceVersion: involved.metadata.resourceVersion,
          },
          reason,
          message,
          source: component === 'kubelet' ? { component, host: 'sandbox-node' } : { component },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          type,
          reportingComponent: component,
          reportingInstance: component === 'kubelet' ? 'sandbox-node' : '',
        },
        component,
      );
      this.byKey.set(key, { namespace, name });
      while (this.byKey.size > this.limit) {
        const [oldestKey, oldest] = this.byKey.entries().next().value as [string, { namespace: string; name: string }];
        this.byKey.delete(oldestKey);
        ctx.api.delete(eventType, oldest.namespace, oldest.name);
      }
    } catch {
      // Best effort: events are diagnostics; a namespace being deleted, for one, refuses them.
    }
  }
}
