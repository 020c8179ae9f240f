/**
 * What is sent to each channel type. Pure: builds the body and headers; the transport is in
 * src/channels/.
 */
import type { CloudEvent, HealthStatus, NotificationTrigger, SyncStatus } from '@ferry/contracts';
import { NotificationTrigger as Trigger } from '@ferry/contracts';
import { ChannelType, type ChannelConfig } from './notifications-config.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signBody } from './signature.js';
import type { MessageTemplate } from './templates.js';

/** One rendered notification, before it is shaped for a channel. */
export interface Notification {
  readonly trigger: NotificationTrigger;
  readonly app: string;
  readonly revision: string;
  /** De-duplicated on this instead of `revision` (on-rollback: `<toRevision>.<fromRevision>`). */
  readonly dedupe?: string;
  readonly title: string;
  readonly message: string;
  readonly health: HealthStatus | 'Unknown';
  readonly syncStatus: SyncStatus;
  /** The CloudEvent that fired the trigger, as received. */
  readonly event: CloudEvent;
}

/** The generic webhook's JSON body (version 1; fields may be added). */
export interface WebhookBody {
  readonly version: 1;
  readonly trigger: NotificationTrigger;
  readonly app: string;
  readonly revision: string;
  readonly title: string;
  readonly message: string;
  readonly health: string;
  readonly syncStatus: string;
  readonly channel: string;
  /** Same value as the X-Ferry-Delivery header. */
  readonly deliveryId: string;
  readonly event: CloudEvent;
}

/** An HTTP request ready to send (the URL is added by the transport). */
export interface ChannelRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Stable id of one notification to one channel: `<trigger>:<app>:<revision>:<channel>`. */
export function deliveryId(trigger: NotificationTrigger, app: string, revision: string, channel: string): string {
  return `${trigger}:${app}:${revision}:${channel}`;
}

/** Slack attachment colours, as Argo CD's catalog uses them. */
const colours: Record<NotificationTrigger, string> = {
  [Trigger.OnDeployed]: '#18be52',
  [Trigger.OnSyncSucceeded]: '#18be52',
  [Trigger.OnSyncFailed]: '#E96D76',
  [Trigger.OnHealthDegraded]: '#f4c030',
  [Trigger.OnRollback]: '#f4c030',
};

/** Builds the request body and headers for `channel`. Signs webhook bodies when the channel has a secret. */
export function buildChannelRequest(channel: ChannelConfig, notification: Notification): ChannelRequest {
  const id = deliveryId(notification.trigger, notification.app, notification.dedupe ?? notification.revision, channel.name);
  const headers: Record<string, string> = {
    ...channel.headers,
    'Content-Type': 'application/json',
    'User-Agent': 'Ferry-Notifier/1',
    [EVENT_HEADER]: notification.trigger,
    [DELIVERY_HEADER]: id,
  };
  let body: string;
  if (channel.type === ChannelType.Slack) {
    body = JSON.stringify({
      text: notification.title,
      attachments: [
        {
          color: colours[notification.trigger],
          title: notification.title,
          text: notification.message,
          fields: [
            { title: 'Application', value: notification.app, short: true },
            { title: 'Revision', value: notification.revision, short: true },
            { title: 'Sync Status', value: notification.syncStatus, short: true },
            { title: 'Health', value: notification.health, short: true },
          ],
        },
      ],
    });
  } else {
    const payload: WebhookBody = {
      version: 1,
      trigger: notification.trigger,
      app: notification.app,
      revision: notification.revision,
      title: notification.title,
      message: notification.message,
      health: notification.health,
      syncStatus: notification.syncStatus,
      channel: channel.name,
      deliveryId: id,
      event: notification.event,
    };
    body = JSON.stringify(payload);
  }
  if (channel.secret) headers[SIGNATURE_HEADER] = signBody(channel.secret.reveal(), body);
  return { body, headers };
}

/** Convenience: a notification from a rendered message. */
export function toNotification(
  base: Omit<Notification, 'title' | 'message'>,
  rendered: MessageTemplate,
): Notification {
  return { ...base, title: rendered.title, message: rendered.body };
}
