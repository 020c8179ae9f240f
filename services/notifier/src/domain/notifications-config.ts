/**
 * The notifier config file (YAML): channels, subscriptions and templates. Parsed with the `yaml`
 * Document API so that every problem names its file, line, column and field. Pure: the environment
 * (for `secretEnv`/`urlEnv`) is passed in.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node, Pair, YAMLMap } from 'yaml';
import { NotificationTrigger } from '@ferry/contracts';
import { isAppPattern, matchesAppPattern } from './app-pattern.js';
import { NotifierConfigError, type NotifierConfigProblem } from './errors.js';
import { Secret } from './secret.js';
import { DEFAULT_TEMPLATES, unknownPlaceholders, type MessageTemplate } from './templates.js';

/** Channel kinds. */
export const ChannelType = {
  /** Generic webhook: POST of a JSON body, HMAC-SHA256 signed when a secret is set. */
  Webhook: 'webhook',
  /** Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): `{ text, attachments }`. */
  Slack: 'slack',
} as const;
export type ChannelType = (typeof ChannelType)[keyof typeof ChannelType];

/** Delivery defaults (per channel, overridable in the file). */
export const CHANNEL_DEFAULTS = Object.freeze({
  /** Per-attempt request timeout, ms. */
  timeoutMs: 10_000,
  /** Attempts in all (first try included). */
  attempts: 5,
  /** Backoff before the 2nd attempt, ms; doubled each further attempt, with jitter. */
  baseDelayMs: 500,
  /** Backoff cap, ms (also caps a server's Retry-After). */
  maxDelayMs: 30_000,
});

/** One resolved channel. `url` and `secret` are {@link Secret}s: they never print. */
export interface ChannelConfig {
  /** Unique name, `[A-Za-z0-9_-]{1,64}`; appears in metrics, events and logs. */
  readonly name: string;
  readonly type: ChannelType;
  /** The endpoint (from `url` or the variable named by `urlEnv`). Secret because Slack URLs carry a token. */
  readonly url: Secret;
  /** HMAC-SHA256 key (webhook only), from `secret` or the variable named by `secretEnv`. */
  readonly secret?: Secret;
  /** Extra request headers (values are never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Which triggers go to which channels, for which apps. */
export interface SubscriptionConfig {
  readonly triggers: readonly NotificationTrigger[];
  readonly channels: readonly string[];
  /** App names or globs (`*`, `?`); absent = every app. */
  readonly apps?: readonly string[];
}

/** The resolved notifier config file. Frozen. */
export interface NotificationsConfig {
  /** The file it came from (or `<none>` when no file is configured). */
  readonly file: string;
  readonly channels: readonly ChannelConfig[];
  readonly subscriptions: readonly SubscriptionConfig[];
  /** One template per trigger: the file's, field by field, over {@link DEFAULT_TEMPLATES}. */
  readonly templates: Readonly<Record<NotificationTrigger, MessageTemplate>>;
}

export interface ParseNotificationsConfigOptions {
  /** Shown in problems. Default `<inline>`. */
  file?: string;
  /** Read for `secretEnv`/`urlEnv`. Default: empty. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** A config with no channels: what the notifier runs with when no file is configured. */
export function emptyNotificationsConfig(file = '<none>'): NotificationsConfig {
  return Object.freeze({ file, channels: Object.freeze([]), subscriptions: Object.freeze([]), templates: DEFAULT_TEMPLATES });
}

const CHANNEL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers Ferry sets itself; the file may not override them. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'x-ferry-signature', 'x-ferry-event', 'x-ferry-delivery']);
const triggers: readonly string[] = Object.values(NotificationTrigger);

class Checker {
  readonly problems: NotifierConfigProblem[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  add(node: Node | null | undefined, field: string, message: string): void {
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    this.problems.push({ file: this.file, line: Math.max(1, pos.line), column: Math.max(1, pos.col), field, message });
  }

  /** Reports keys of `map` not in `allowed`, at the key. */
  unknownKeys(map: YAMLMap, path: string, allowed: readonly string[]): void {
    for (const pair of map.items) {
      const key = keyOf(pair);
      if (key === undefined || !allowed.includes(key)) {
        this.add(pair.key as Node, join(path, key ?? String(pair.key)), `is not a supported field (supported: ${allowed.join(', ')})`);
      }
    }
  }

  string(map: YAMLMap, path: string, key: string, required: boolean): { value: string; node: Node } | undefined {
    const node = valueNode(map, key);
    if (node === undefined || (isScalar(node) && node.value === null)) {
      if (required) this.add(keyNode(map, key) ?? map, join(path, key), 'is required');
      return undefined;
    }
    if (!isScalar(node) || typeof node.value !== 'string') {
      this.add(node, join(path, key), 'must be a string');
      return undefined;
    }
    if (node.value.trim() === '') {
      this.add(node, join(path, key), 'must not be empty');
      return undefined;
    }
    return { value: node.value, node };
  }

  int(map: YAMLMap, path: string, key: string, def: number, min: number, max: number): number {
    const node = valueNode(map, key);
    if (node === undefined || (isScalar(node) && node.value === null)) return def;
    if (!isScalar(node) || typeof node.value !== 'number' || !Number.isInteger(node.value)) {
      this.add(node, join(path, key), 'must be an integer');
      return def;
    }
    if (node.value < min || node.value > max) {
      this.add(node, join(path, key), `must be between ${min} and ${max}`);
      return def;
    }
    return node.value;
  }

  stringList(map: YAMLMap, path: string, key: string, required: boolean): Array<{ value: string; node: Node; path: string }> | undefined {
    const node = valueNode(map, key);
    if (node === undefined || (isScalar(node) && node.value === null)) {
      if (required) this.add(keyNode(map, key) ?? map, join(path, key), 'is required');
      return undefined;
    }
    if (!isSeq(node)) {
      this.add(node, join(path, key), 'must be a list');
      return undefined;
    }
    if (node.items.length === 0) {
      this.add(node, join(path, key), 'must not be empty');
      return undefined;
    }
    const out: Array<{ value: string; node: Node; path: string }> = [];
    node.items.forEach((item, i) => {
      const p = `${join(path, key)}[${i}]`;
      if (isScalar(item) && typeof item.value === 'string' && item.value !== '') out.push({ value: item.value, node: item, path: p });
      else this.add(item as Node, p, 'must be a non-empty string');
    });
    return out;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function keyOf(pair: Pair): string | undefined {
  return isScalar(pair.key) && typeof pair.key.value === 'string' ? pair.key.value : undefined;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => keyOf(p) === key);
}

function valueNode(map: YAMLMap, key: string): Node | undefined {
  const pair = findPair(map, key);
  if (pair === undefined) return undefined;
  return (pair.value ?? undefined) as Node | undefined;
}

function keyNode(map: YAMLMap, key: string): Node | undefined {
  return findPair(map, key)?.key as Node | undefined;
}

/**
 * Parses and validates the notifier config file. Throws {@link NotifierConfigError}
 * (FERRY_ERR_NOTIFIER_CONFIG_INVALID) listing every problem with file, line and field.
 * An empty document means no channels.
 */
export function parseNotificationsConfig(text: string, options: ParseNotificationsConfigOptions = {}): NotificationsConfig {
  const file = options.file ?? '<inline>';
  const env = options.env ?? {};
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const check = new Checker(file, lines);
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const pos = lines.linePos(error.pos[0]);
      check.problems.push({ file, line: Math.max(1, pos.line), column: Math.max(1, pos.col), field: '', message: `YAML syntax: ${error.message.split('\n')[0] ?? error.code}` });
    }
    throw new NotifierConfigError(file, check.problems);
  }
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) return emptyNotificationsConfig(file);
  if (!isMap(root)) {
    check.add(root, '', 'must be a mapping with channels, subscriptions and templates');
    throw new NotifierConfigError(file, check.problems);
  }
  check.unknownKeys(root, '', ['channels', 'subscriptions', 'templates']);

  const channels = parseChannels(check, root, env);
  const subscriptions = parseSubscriptions(check, root, new Set(channels.map((c) => c.name)));
  const templates = parseTemplates(check, root);
  if (check.problems.length > 0) throw new NotifierConfigError(file, check.problems);
  return Object.freeze({ file, channels: Object.freeze(channels), subscriptions: Object.freeze(subscriptions), templates });
}

function parseChannels(check: Checker, root: YAMLMap, env: Readonly<Record<string, string | undefined>>): ChannelConfig[] {
  const node = valueNode(root, 'channels');
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) {
    check.add(node, 'channels', 'must be a list of channels');
    return [];
  }
  const out: ChannelConfig[] = [];
  const seen = new Set<string>();
  node.items.forEach((item, i) => {
    const path = `channels[${i}]`;
    if (!isMap(item)) {
      check.add(item as Node, path, 'must be a mapping (name, type, url)');
      return;
    }
    check.unknownKeys(item, path, ['name', 'type', 'url', 'urlEnv', 'secret', 'secretEnv', 'headers', 'timeoutMs', 'attempts', 'baseDelayMs', 'maxDelayMs']);
    const name = check.string(item, path, 'name', true);
    if (name && !CHANNEL_NAME.test(name.value)) check.add(name.node, `${path}.name`, 'must be 1-64 letters, digits, _ or -');
    else if (name && seen.has(name.value)) check.add(name.node, `${path}.name`, `duplicate channel name "${name.value}"`);
    if (name) seen.add(name.value);

    const type = check.string(item, path, 'type', true);
    const types: readonly string[] = Object.values(ChannelType);
    if (type && !types.includes(type.value)) check.add(type.node, `${path}.type`, `must be one of ${types.join(', ')}`);

    const url = fromValueOrEnv(check, item, path, 'url', 'urlEnv', env, true);
    if (url) {
      let ok = false;
      try {
        const parsed = new URL(url.value.reveal());
        ok = parsed.protocol === 'http:' || parsed.protocol === 'https:';
      } catch {
        ok = false;
      }
      // The value is not echoed: a Slack URL is a credential.
      if (!ok) check.add(url.node, `${path}.${url.field}`, 'must be an absolute http:// or https:// URL');
    }
    const secret = fromValueOrEnv(check, item, path, 'secret', 'secretEnv', env, false);
    if (secret && type?.value === ChannelType.Slack) {
      check.add(secret.node, `${path}.${secret.field}`, 'is only supported on webhook channels (Slack-compatible endpoints do not verify signatures)');
    }

    const headers: Record<string, string> = {};
    const headersNode = valueNode(item, 'headers');
    if (headersNode !== undefined && !(isScalar(headersNode) && headersNode.value === null)) {
      if (!isMap(headersNode)) check.add(headersNode, `${path}.headers`, 'must be a mapping of header name to value');
      else {
        for (const pair of headersNode.items) {
          const key = keyOf(pair);
          const hp = `${path}.headers.${key ?? '?'}`;
          const value = pair.value as Node | null;
          if (key === undefined || !HEADER_NAME.test(key)) check.add(pair.key as Node, hp, 'is not a valid header name');
          else if (RESERVED_HEADERS.has(key.toLowerCase())) check.add(pair.key as Node, hp, 'is set by Ferry and cannot be configured');
          else if (!isScalar(value) || (typeof value.value !== 'string' && typeof value.value !== 'number')) check.add(value ?? (pair.key as Node), hp, 'must be a string');
          else headers[key] = String(value.value);
        }
      }
    }
    const timeoutMs = check.int(item, path, 'timeoutMs', CHANNEL_DEFAULTS.timeoutMs, 1, 300_000);
    const attempts = check.int(item, path, 'attempts', CHANNEL_DEFAULTS.attempts, 1, 20);
    const baseDelayMs = check.int(item, path, 'baseDelayMs', CHANNEL_DEFAULTS.baseDelayMs, 0, 600_000);
    const maxDelayMs = check.int(item, path, 'maxDelayMs', CHANNEL_DEFAULTS.maxDelayMs, 0, 3_600_000);
    if (name && type && types.includes(type.value) && url) {
      out.push(
        Object.freeze({
          name: name.value,
          type: type.value as ChannelType,
          url: url.value,
          ...(secret ? { secret: secret.value } : {}),
          headers: Object.freeze(headers),
          timeoutMs,
          attempts,
          baseDelayMs,
          maxDelayMs,
        }),
      );
    }
  });
  return out;
}

/** Reads `key` (inline value) or `envKey` (name of an environment variable); at most one may be set. */
function fromValueOrEnv(
  check: Checker,
  map: YAMLMap,
  path: string,
  key: string,
  envKey: string,
  env: Readonly<Record<string, string | undefined>>,
  required: boolean,
): { value: Secret; node: Node; field: string } | undefined {
  const hasInline = findPair(map, key) !== undefined;
  const hasEnv = findPair(map, envKey) !== undefined;
  if (hasInline && hasEnv) {
    check.add(keyNode(map, envKey), `${path}.${envKey}`, `set either ${key} or ${envKey}, not both`);
    return undefined;
  }
  if (!hasInline && !hasEnv) {
    if (required) check.add(map, `${path}.${key}`, `is required (or ${envKey}: the name of an environment variable holding it)`);
    return undefined;
  }
  if (hasInline) {
    const v = check.string(map, path, key, true);
    return v ? { value: new Secret(v.value), node: v.node, field: key } : undefined;
  }
  const v = check.string(map, path, envKey, true);
  if (!v) return undefined;
  if (!ENV_NAME.test(v.value)) {
    check.add(v.node, `${path}.${envKey}`, 'must be an environment variable name (letters, digits, _)');
    return undefined;
  }
  const fromEnv = env[v.value];
  if (fromEnv === undefined || fromEnv === '') {
    check.add(v.node, `${path}.${envKey}`, `environment variable ${v.value} is not set`);
    return undefined;
  }
  return { value: new Secret(fromEnv), node: v.node, field: envKey };
}

function parseSubscriptions(check: Checker, root: YAMLMap, channelNames: ReadonlySet<string>): SubscriptionConfig[] {
  const node = valueNode(root, 'subscriptions');
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) {
    check.add(node, 'subscriptions', 'must be a list of subscriptions');
    return [];
  }
  const out: SubscriptionConfig[] = [];
  node.items.forEach((item, i) => {
    const path = `subscriptions[${i}]`;
    if (!isMap(item)) {
      check.add(item as Node, path, 'must be a mapping (triggers, channels, apps)');
      return;
    }
    check.unknownKeys(item, path, ['triggers', 'channels', 'apps']);
    const trig = check.stringList(item, path, 'triggers', true);
    const chans = check.stringList(item, path, 'channels', true);
    const apps = check.stringList(item, path, 'apps', false);
    let ok = trig !== undefined && chans !== undefined;
    for (const t of trig ?? []) {
      if (!triggers.includes(t.value)) {
        check.add(t.node, t.path, `unknown trigger "${t.value}" (known: ${triggers.join(', ')})`);
        ok = false;
      }
    }
    for (const c of chans ?? []) {
      if (!channelNames.has(c.value)) {
        check.add(c.node, c.path, `no channel named "${c.value}"`);
        ok = false;
      }
    }
    for (const a of apps ?? []) {
      if (!isAppPattern(a.value)) {
        check.add(a.node, a.path, 'must be an app name or a glob of lowercase letters, digits, -, * and ?');
        ok = false;
      }
    }
    if (ok && trig && chans) {
      out.push(
        Object.freeze({
          triggers: Object.freeze(trig.map((t) => t.value as NotificationTrigger)),
          channels: Object.freeze(chans.map((c) => c.value)),
          ...(apps ? { apps: Object.freeze(apps.map((a) => a.value)) } : {}),
        }),
      );
    }
  });
  return out;
}

function parseTemplates(check: Checker, root: YAMLMap): Readonly<Record<NotificationTrigger, MessageTemplate>> {
  const templates: Record<NotificationTrigger, MessageTemplate> = { ...DEFAULT_TEMPLATES };
  const node = valueNode(root, 'templates');
  if (node === undefined || (isScalar(node) && node.value === null)) return Object.freeze(templates);
  if (!isMap(node)) {
    check.add(node, 'templates', 'must be a mapping of trigger to { title, body }');
    return Object.freeze(templates);
  }
  check.unknownKeys(node, 'templates', triggers);
  for (const trigger of Object.values(NotificationTrigger)) {
    const t = valueNode(node, trigger);
    if (t === undefined) continue;
    const path = `templates.${trigger}`;
    if (!isMap(t)) {
      check.add(t, path, 'must be a mapping with title and/or body');
      continue;
    }
    check.unknownKeys(t, path, ['title', 'body']);
    const title = check.string(t, path, 'title', false);
    const body = check.string(t, path, 'body', false);
    for (const part of [title, body]) {
      if (!part) continue;
      const unknown = unknownPlaceholders(part.value);
      if (unknown.length > 0) {
        check.add(
          part.node,
          `${path}.${part === title ? 'title' : 'body'}`,
          `unknown placeholder${unknown.length === 1 ? '' : 's'} ${unknown.map((u) => `{{${u}}}`).join(', ')} (known: app, revision, shortRevision, health, syncStatus, message, trigger)`,
        );
      }
    }
    templates[trigger] = Object.freeze({ title: title?.value ?? DEFAULT_TEMPLATES[trigger].title, body: body?.value ?? DEFAULT_TEMPLATES[trigger].body });
  }
  return Object.freeze(templates);
}

/** The channels that receive `trigger` for `app`, in config order, each once. */
export function channelsFor(config: NotificationsConfig, trigger: NotificationTrigger, app: string): ChannelConfig[] {
  const names = new Set<string>();
  for (const sub of config.subscriptions) {
    if (!sub.triggers.includes(trigger)) continue;
    if (sub.apps !== undefined && !sub.apps.some((p) => matchesAppPattern(p, app))) continue;
    for (const c of sub.channels) names.add(c);
  }
  return config.channels.filter((c) => names.has(c.name));
}
