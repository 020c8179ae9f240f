import { NotificationTrigger } from '@ferry/contracts';

/** The placeholders a template may use, `{{name}}` (spaces inside the braces allowed). */
export const TemplatePlaceholder = {
  App: 'app',
  Revision: 'revision',
  ShortRevision: 'shortRevision',
  Health: 'health',
  SyncStatus: 'syncStatus',
  Message: 'message',
  Trigger: 'trigger',
} as const;
export type TemplatePlaceholder = (typeof TemplatePlaceholder)[keyof typeof TemplatePlaceholder];

const placeholders: ReadonlySet<string> = new Set(Object.values(TemplatePlaceholder));

export function isTemplatePlaceholder(value: string): value is TemplatePlaceholder {
  return placeholders.has(value);
}

/** A message's title and body, before (templates) or after (messages) rendering. */
export interface MessageTemplate {
  readonly title: string;
  readonly body: string;
}

/** The values a template is rendered with. */
export type TemplateContext = Readonly<Record<TemplatePlaceholder, string>>;

/**
 * Defaults, worded as Argo CD Notifications' catalog (app-deployed, app-sync-succeeded,
 * app-sync-failed, app-health-degraded).
 */
export const DEFAULT_TEMPLATES: Readonly<Record<NotificationTrigger, MessageTemplate>> = Object.freeze({
  [NotificationTrigger.OnDeployed]: {
    title: 'New version of an application {{app}} is up and running.',
    body: 'Application {{app}} is now running new version of deployments manifests.\nRevision: {{revision}}\nSync status: {{syncStatus}}, health: {{health}}.',
  },
  [NotificationTrigger.OnSyncSucceeded]: {
    title: 'Application {{app}} has been successfully synced.',
    body: 'Application {{app}} has been successfully synced at revision {{shortRevision}}.\nSync operation details: {{message}}',
  },
  [NotificationTrigger.OnSyncFailed]: {
    title: 'Failed to sync application {{app}}.',
    body: 'The sync operation of application {{app}} has failed at revision {{shortRevision}} with the following error: {{message}}',
  },
  [NotificationTrigger.OnHealthDegraded]: {
    title: 'Application {{app}} has degraded.',
    body: 'Application {{app}} has degraded at revision {{shortRevision}}.\nHealth: {{health}}. {{message}}',
  },
  [NotificationTrigger.OnRollback]: {
    title: 'Application {{app}} has been rolled back.',
    body: 'Application {{app}} has been rolled back to revision {{shortRevision}}. {{message}}',
  },
});

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Names used in `template` that are not placeholders (empty when the template is valid). */
export function unknownPlaceholders(template: string): string[] {
  const unknown: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!isTemplatePlaceholder(name) && !unknown.includes(name)) unknown.push(name);
  }
  return unknown;
}

/** Replaces each `{{placeholder}}` with its value; unknown names are left as written. */
export function renderTemplate(template: string, context: TemplateContext): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (isTemplatePlaceholder(name) ? context[name] : whole));
}

/** Renders a title and body. */
export function renderMessage(template: MessageTemplate, context: TemplateContext): MessageTemplate {
  return { title: renderTemplate(template.title, context), body: renderTemplate(template.body, context) };
}

/** The first 7 characters of a commit SHA (Git's default abbreviation); other strings unchanged. */
export function shortRevision(revision: string): string {
  return /^[0-9a-f]{40}$/.test(revision) ? revision.slice(0, 7) : revision;
}
