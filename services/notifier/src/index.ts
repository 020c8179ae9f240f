export { loadConfig } from './config.js';
export type { NotifierConfig } from './config.js';
export { start, SYNC_DURABLE, HEALTH_DURABLE, ROLLBACK_DURABLE } from './service.js';
export type { NotifierDeps, NotifierService } from './service.js';
export { createNotifierMetrics } from './metrics.js';
export type { NotifierMetrics } from './metrics.js';
export { createNotifyProcessor, notificationSentMsgId, stateKey, toNotifyEvent } from './handlers/notify-processor.js';
export type { NotifyProcessor, NotifyProcessorOptions } from './handlers/notify-processor.js';

export {
  CHANNEL_DEFAULTS,
  ChannelType,
  channelsFor,
  emptyNotificationsConfig,
  parseNotificationsConfig,
} from './domain/notifications-config.js';
export type {
  ChannelConfig,
  NotificationsConfig,
  ParseNotificationsConfigOptions,
  SubscriptionConfig,
} from './domain/notifications-config.js';
export { NotifierConfigError } from './domain/errors.js';
export type { NotifierConfigProblem } from './domain/errors.js';
export { Secret } from './domain/secret.js';
export { matchesAppPattern } from './domain/app-pattern.js';
export {
  evaluateTriggers,
  initialNotifyState,
  rollbackMessage,
  ROLLBACKS_KEPT,
  syncStatusOf,
  UNKNOWN_REVISION,
} from './domain/triggers.js';
export type {
  AppNotifyState,
  FiredTrigger,
  HealthEvent,
  NotifyEvent,
  RollbackEvent,
  SyncCompletedEvent,
  TriggerEvaluation,
} from './domain/triggers.js';
export {
  DEFAULT_TEMPLATES,
  TemplatePlaceholder,
  renderMessage,
  renderTemplate,
  shortRevision,
  unknownPlaceholders,
} from './domain/templates.js';
export type { MessageTemplate, TemplateContext } from './domain/templates.js';
export { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signBody, verifySignature } from './domain/signature.js';
export { buildChannelRequest, deliveryId } from './domain/payloads.js';
export type { ChannelRequest, Notification, WebhookBody } from './domain/payloads.js';
export {
  DeliveryState,
  claimDecision,
  dedupeKey,
  deliveryBudgetMs,
  leaseMsFor,
} from './domain/delivery-record.js';
export type { ChannelDelivery, ClaimDecision, DeliveryRecord } from './domain/delivery-record.js';
export { ChannelDeliveryError, DeliveryFailureReason } from './channels/errors.js';
export { backoffDelayMs, deliverHttp, retryAfterMs } from './channels/http-delivery.js';
export type { HttpDeliveryOptions, HttpDeliveryResult } from './channels/http-delivery.js';
export { sendNotification } from './channels/send.js';
export type { SendNotificationOptions } from './channels/send.js';
