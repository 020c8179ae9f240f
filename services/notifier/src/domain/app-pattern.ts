/**
 * App name patterns in subscriptions: an exact name, or a glob where `*` matches any run of
 * characters (including none) and `?` one character. `*` alone matches every app.
 */
export const APP_PATTERN = /^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$/;

export function isAppPattern(value: string): boolean {
  return APP_PATTERN.test(value);
}

/** True when `app` matches `pattern` (whole name). */
export function matchesAppPattern(pattern: string, app: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === app;
  const source = pattern.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(app);
}
