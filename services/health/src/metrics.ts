import { Counter, Gauge, Histogram } from '@ferry/runtime';
import type { Registry } from '@ferry/runtime';
import { HealthStatus } from '@ferry/contracts';

/** What one app assessment ended in (label `result` of ferry_health_assessments_total). */
export const AssessmentResult = {
  /** The app's record changed (status, message, revision or a resource's health) and was written. */
  Changed: 'changed',
  /** Nothing changed; nothing was written or published. */
  Unchanged: 'unchanged',
  /** The assessment failed (KV or NATS unavailable); it is retried. */
  Error: 'error',
} as const;
export type AssessmentResult = (typeof AssessmentResult)[keyof typeof AssessmentResult];

/** The health service's metrics, registered on the injected registry. */
export interface HealthMetrics {
  /** ferry_health_assessments_total{result}. */
  readonly assessments: Counter<'result'>;
  /** ferry_health_app_status{app,status}: 1 for the app's current status, 0 for the others. */
  readonly appStatus: Gauge<'app' | 'status'>;
  /** ferry_health_assessment_duration_seconds: one app assessment, from reading state to writing it. */
  readonly duration: Histogram;
  /** Sets the status gauge of `app` (1 for `status`, 0 for every other status). */
  setAppStatus(app: string, status: HealthStatus): void;
  /** Removes every series of `app` (the app was deleted). */
  forgetApp(app: string): void;
}

export function createHealthMetrics(registry: Registry): HealthMetrics {
  const assessments = new Counter({
    name: 'ferry_health_assessments_total',
    help: 'App health assessments, by result (changed, unchanged, error).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of Object.values(AssessmentResult)) assessments.inc({ result }, 0);
  const appStatus = new Gauge({
    name: 'ferry_health_app_status',
    help: 'Health status of each app: 1 for its current status, 0 for the others.',
    labelNames: ['app', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ferry_health_assessment_duration_seconds',
    help: 'Duration of one app health assessment, in seconds.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    assessments,
    appStatus,
    duration,
    setAppStatus(app, status) {
      for (const s of Object.values(HealthStatus)) appStatus.set({ app, status: s }, s === status ? 1 : 0);
    },
    forgetApp(app) {
      for (const s of Object.values(HealthStatus)) appStatus.remove({ app, status: s });
    },
  };
}
