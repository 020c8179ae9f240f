import { ErrorCode, FerryError } from '@ferry/contracts';

/** Why a delivery failed. */
export const DeliveryFailureReason = {
  /** The endpoint answered with a non-2xx status (see `status`). */
  HttpStatus: 'http-status',
  /** An attempt exceeded the channel's timeoutMs. */
  Timeout: 'timeout',
  /** Connection refused/reset, DNS failure, TLS failure. */
  Network: 'network',
  /** The notifier is shutting down; nothing is recorded, the event is redelivered later. */
  Aborted: 'aborted',
} as const;
export type DeliveryFailureReason = (typeof DeliveryFailureReason)[keyof typeof DeliveryFailureReason];

/**
 * A notification could not be delivered to a channel. Names the channel, never its URL, headers or
 * secret. Code: FERRY_ERR_NOTIFIER_DELIVERY_FAILED.
 */
export class ChannelDeliveryError extends FerryError {
  readonly channel: string;
  readonly reason: DeliveryFailureReason;
  /** HTTP status of the last attempt, when there was a response. */
  readonly status: number | undefined;
  /** Attempts made (1-based count). */
  readonly attempts: number;

  constructor(
    fields: { channel: string; reason: DeliveryFailureReason; status?: number; attempts: number; detail: string },
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.NotifierDeliveryFailed, `channel ${fields.channel}: ${fields.detail} (after ${fields.attempts} attempt${fields.attempts === 1 ? '' : 's'})`, options);
    this.channel = fields.channel;
    this.reason = fields.reason;
    this.status = fields.status;
    this.attempts = fields.attempts;
  }
}
