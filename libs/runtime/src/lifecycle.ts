import { ErrorCode, FerryError } from '@ferry/contracts';
import type { Logger } from './logger.js';

/** A named step of a staged close. */
export type CloseStep = readonly [name: string, run: () => Promise<void> | void];

/**
 * Returns an idempotent close function: the first call runs `steps` in order (each awaited; a
 * failing step is logged and the next one still runs); every call returns that same promise, which
 * never rejects. Order steps as STYLE.md says: readiness false → stop intake → in-flight work →
 * drain NATS → flush telemetry → close HTTP.
 */
export function createCloser(steps: ReadonlyArray<CloseStep>, logger?: Logger): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => {
    promise ??= (async () => {
      for (const [name, run] of steps) {
        try {
          await run();
          logger?.debug({ step: name }, 'close step done');
        } catch (error) {
          logger?.error({ err: error, step: name, code: codeOf(error) }, 'close step failed');
        }
      }
    })();
    return promise;
  };
}

/** Runs `promise` but gives up waiting after `ms` (returns false then). For grace periods. */
export async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** The part of `process` runMain uses. */
export interface MainProcess {
  on(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface RunMainOptions {
  logger: Logger;
  /** How long close() may take before the process exits anyway (exit 1). */
  graceMs: number;
  /** For tests: the process to hook signals and exit on. Default `process`. */
  proc?: MainProcess;
}

function codeOf(error: unknown): string | undefined {
  if (error instanceof FerryError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The body of a service's main.ts: starts the service, logs `ready`, and on SIGINT/SIGTERM closes it
 * once (a second signal, or close taking longer than graceMs + 5 s, exits 1). Exit code 0 after a
 * clean close, 1 when start fails (the error is logged with its code; FERRY_ERR_START_FAILED when it
 * has none).
 */
export function runMain(start: () => Promise<{ close(): Promise<void> }>, options: RunMainOptions): void {
  const { logger } = options;
  const proc: MainProcess = options.proc ?? process;
  let service: { close(): Promise<void> } | undefined;
  let closing: Promise<void> | undefined;
  let signalled = false;

  const exit = (code: number): void => {
    logger.flush?.();
    proc.exit(code);
  };

  const onSignal = (signal: string): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    if (service === undefined) {
      // Still starting: the start promise's handler closes once it settles.
      return;
    }
    shutdown(service);
  };

  const shutdown = (svc: { close(): Promise<void> }): void => {
    closing ??= (async () => {
      const hard = setTimeout(() => {
        logger.error({ graceMs: options.graceMs }, 'close took too long: exiting');
        exit(1);
      }, options.graceMs + 5_000);
      hard.unref();
      try {
        await svc.close();
        clearTimeout(hard);
        logger.info('stopped');
        exit(0);
      } catch (error) {
        clearTimeout(hard);
        logger.error({ err: error, code: codeOf(error) }, 'close failed');
        exit(1);
      }
    })();
  };

  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);

  start().then(
    (svc) => {
      service = svc;
      if (signalled) {
        shutdown(svc);
        return;
      }
      logger.info('ready');
    },
    (error: unknown) => {
      logger.fatal({ err: error, code: codeOf(error) ?? ErrorCode.StartFailed }, 'failed to start');
      exit(1);
    },
  );
}
