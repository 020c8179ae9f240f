import type { ChannelConfig } from '../domain/notifications-config.js';
import { buildChannelRequest, type Notification } from '../domain/payloads.js';
import { deliverHttp, type HttpDeliveryOptions, type HttpDeliveryResult } from './http-delivery.js';

export interface SendNotificationOptions {
  /** Aborts the delivery (shutdown). */
  signal?: AbortSignal;
  random?: () => number;
  onRetry?: HttpDeliveryOptions['onRetry'];
}

/**
 * Sends `notification` to `channel` (webhook: signed JSON; slack: `{ text, attachments }`), with the
 * channel's timeout and retries. Rejects with ChannelDeliveryError (FERRY_ERR_NOTIFIER_DELIVERY_FAILED).
 */
export function sendNotification(channel: ChannelConfig, notification: Notification, options: SendNotificationOptions = {}): Promise<HttpDeliveryResult> {
  const request = buildChannelRequest(channel, notification);
  return deliverHttp({
    channel: channel.name,
    url: channel.url.reveal(),
    body: request.body,
    headers: request.headers,
    timeoutMs: channel.timeoutMs,
    attempts: channel.attempts,
    baseDelayMs: channel.baseDelayMs,
    maxDelayMs: channel.maxDelayMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  });
}
