import { inspect } from 'node:util';

/**
 * A secret string (webhook HMAC key, a URL read from the environment). It never prints itself:
 * `String()`, JSON, template literals and `util.inspect` (what pino and console use) all show
 * `[Redacted]`. Call `reveal()` at the one place the value is needed.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[Redacted]';
  }

  toJSON(): string {
    return '[Redacted]';
  }

  [inspect.custom](): string {
    return '[Redacted]';
  }
}
