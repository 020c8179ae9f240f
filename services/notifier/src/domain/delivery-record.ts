/**
 * De-duplication of deliveries: one KV record per `<trigger>.<app>.<revision>`, created with CAS
 * before anything is sent. Its life: `pending` (owned by one handler, with a lease) → `sent` (every
 * channel delivered) or `failed` (at least one channel gave up). A final record is never sent again.
 * Per-channel results are kept so that a takeover after a crash resends only unfinished channels.
 */
import type { NotificationTrigger } from '@ferry/contracts';

export const DeliveryState = {
  Pending: 'pending',
  Sent: 'sent',
  Failed: 'failed',
} as const;
export type DeliveryState = (typeof DeliveryState)[keyof typeof DeliveryState];

export interface ChannelDelivery {
  readonly result: 'sent' | 'failed';
  readonly attempts: number;
  /** Why it failed (no URL, no secret). */
  readonly error?: string;
  readonly at: string;
  /** notification.sent was published for this channel. */
  readonly published: boolean;
}

export interface DeliveryRecord {
  readonly trigger: NotificationTrigger;
  readonly app: string;
  readonly revision: string;
  readonly state: DeliveryState;
  /** Who is sending (an id per handling attempt) while pending. */
  readonly owner: string;
  /** RFC 3339: after this a pending record may be taken over (its owner is presumed dead). */
  readonly leaseUntil: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly channels: Readonly<Record<string, ChannelDelivery>>;
}

/** The KV key of a delivery record; characters KV keys do not allow become `_`. */
export function dedupeKey(trigger: NotificationTrigger, app: string, revision: string): string {
  const safe = (s: string): string => s.replace(/[^-/_=a-zA-Z0-9]/g, '_');
  return `${safe(trigger)}.${safe(app)}.${safe(revision)}`;
}

export function newDeliveryRecord(
  fields: { trigger: NotificationTrigger; app: string; revision: string; owner: string },
  now: Date,
  leaseMs: number,
): DeliveryRecord {
  return {
    ...fields,
    state: DeliveryState.Pending,
    leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    channels: {},
  };
}

/** What a handler should do with the record it found. */
export type ClaimDecision =
  | { readonly kind: 'done' }
  | { readonly kind: 'proceed' }
  | { readonly kind: 'takeover' }
  | { readonly kind: 'busy'; readonly retryInMs: number };

/** Decides, for the record found under the key, whether `owner` may send now. */
export function claimDecision(record: DeliveryRecord, owner: string, now: Date): ClaimDecision {
  if (record.state !== DeliveryState.Pending) return { kind: 'done' };
  if (record.owner === owner) return { kind: 'proceed' };
  const remaining = Date.parse(record.leaseUntil) - now.getTime();
  if (!Number.isFinite(remaining) || remaining <= 0) return { kind: 'takeover' };
  return { kind: 'busy', retryInMs: remaining };
}

export function takeOver(record: DeliveryRecord, owner: string, now: Date, leaseMs: number): DeliveryRecord {
  return { ...record, owner, leaseUntil: new Date(now.getTime() + leaseMs).toISOString(), updatedAt: now.toISOString() };
}

export function withChannelResult(record: DeliveryRecord, channel: string, result: ChannelDelivery, now: Date): DeliveryRecord {
  return { ...record, channels: { ...record.channels, [channel]: result }, updatedAt: now.toISOString() };
}

/** Marks the record final: `sent` when every listed channel was delivered, else `failed`. */
export function finish(record: DeliveryRecord, now: Date): DeliveryRecord {
  const results = Object.values(record.channels);
  const state = results.every((c) => c.result === 'sent') ? DeliveryState.Sent : DeliveryState.Failed;
  return { ...record, state, updatedAt: now.toISOString() };
}

/** The longest one channel delivery can take: every attempt timing out plus the largest backoffs. */
export function deliveryBudgetMs(channel: { attempts: number; timeoutMs: number; baseDelayMs: number; maxDelayMs: number }): number {
  let total = channel.attempts * channel.timeoutMs;
  for (let i = 1; i < channel.attempts; i++) total += Math.min(channel.maxDelayMs, channel.baseDelayMs * 2 ** (i - 1));
  return total;
}

/** Lease of a pending record that sends to `channels` one after another, plus a margin for KV and publish. */
export function leaseMsFor(channels: ReadonlyArray<{ attempts: number; timeoutMs: number; baseDelayMs: number; maxDelayMs: number }>, marginMs = 10_000): number {
  return channels.reduce((sum, c) => sum + deliveryBudgetMs(c), 0) + marginMs;
}
