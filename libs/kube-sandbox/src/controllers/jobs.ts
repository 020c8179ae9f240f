/**
 * The Job controller: runs up to `parallelism` pods until `completions` succeeded (Complete, with the
 * SuccessCriteriaMet condition 1.31+ writes first) or more than `backoffLimit` failed (FailureTarget,
 * then Failed, reason BackoffLimitExceeded). Also suspend, activeDeadlineSeconds and
 * ttlSecondsAfterFinished, with seconds scaled like progress deadlines.
 */
import type { KubeObject } from '../types.js';
import {
  ControllerName,
  CONTROLLER_MANAGER,
  arr,
  forUpdate,
  isPodReady,
  num,
  owned,
  parseTime,
  podFromTemplate,
  randomSuffix,
  setCondition,
  spec,
  status,
  str,
  timestamp,
  writeStatus,
  type Context,
  type Obj,
} from './runtime.js';

const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

function finishedAt(job: KubeObject): number | undefined {
  for (const c of arr(status(job)['conditions'])) {
    if ((c['type'] === 'Complete' || c['type'] === 'Failed') && c['status'] === 'True') return parseTime(c['lastTransitionTime']) ?? 0;
  }
  return undefined;
}

export function reconcileJob(ctx: Context, namespace: string | undefined, name: string): void {
  const jobType = ctx.resource('batch/v1', 'Job');
  const podType = ctx.resource('v1', 'Pod');
  if (!jobType || !podType) return;
  const job = ctx.api.get(jobType, namespace, name);
  if (!job || job.metadata.deletionTimestamp) return;
  const now = ctx.now();
  const jSpec = spec(job);
  const prev = status(job);
  const scale = ctx.config.progressDeadlineScaleMs;

  // Finished: only the TTL remains.
  const doneAt = finishedAt(job);
  if (doneAt !== undefined) {
    const ttl = jSpec['ttlSecondsAfterFinished'];
    if (typeof ttl === 'number') {
      const at = doneAt + ttl * scale;
      if (at <= now) ctx.api.delete(jobType, namespace, name);
      else ctx.enqueue(ControllerName.job, namespace, name, at - now + 1);
    }
    return;
  }

  // The selector and pod labels are generated from the uid; a server that defaulted the Job before giving
  // it a uid gets them on this no-op update (defaulting runs on every write).
  if (jSpec['manualSelector'] !== true && jSpec['selector'] === undefined) {
    const updated = ctx.api.update(jobType, forUpdate(job), CONTROLLER_MANAGER);
    if (spec(updated)['selector'] !== undefined) return;
  }
  const pods = owned(ctx, podType, job);
  const activePods = pods.filter((p) => {
    const phase = status(p)['phase'];
    return phase !== 'Succeeded' && phase !== 'Failed';
  });
  const podsSucceeded = pods.filter((p) => status(p)['phase'] === 'Succeeded');
  const podsFailed = pods.filter((p) => status(p)['phase'] === 'Failed');
  const succeeded = Math.max(num(prev['succeeded'], 0), podsSucceeded.length);
  const failed = Math.max(num(prev['failed'], 0), podsFailed.length);
  let conditions = arr(prev['conditions']);

  if (jSpec['suspend'] === true) {
    for (const pod of activePods) ctx.api.delete(podType, namespace, pod.metadata.name ?? '');
    conditions = setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, now, { lastProbeTime: true });
    const next: Obj = { conditions };
    if (succeeded > 0) next['succeeded'] = succeeded;
    if (failed > 0) next['failed'] = failed;
    next['ready'] = 0;
    next['terminating'] = 0;
    next['uncountedTerminatedPods'] = {};
    writeStatus(ctx, jobType, job, next);
    return;
  }
  if (conditions.some((c) => c['type'] === 'Suspended' && c['status'] === 'True')) {
    conditions = setCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, now, { lastProbeTime: true });
  }

  const startMs = parseTime(prev['startTime']) ?? now;
  const completions = typeof jSpec['completions'] === 'number' ? jSpec['completions'] : undefined;
  const parallelism = num(jSpec['parallelism'], 1);
  const backoffLimit = num(jSpec['backoffLimit'], 6);
  const activeDeadline = typeof jSpec['activeDeadlineSeconds'] === 'number' ? jSpec['activeDeadlineSeconds'] * scale : undefined;
  const indexed = jSpec['completionMode'] === 'Indexed';

  let failure: { reason: string; message: string } | undefined;
  // With restartPolicy OnFailure, container restarts count against the backoff limit, as in a real cluster.
  const restarts = activePods
    .filter((p) => spec(p)['restartPolicy'] === 'OnFailure')
    .reduce((n, p) => n + arr(status(p)['containerStatuses']).reduce((m, c) => m + num(c['restartCount'], 0), 0), 0);
  if (failed + restarts > backoffLimit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  else if (activeDeadline !== undefined && now - startMs >= activeDeadline) {
    failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
  }
  const complete =
    failure === undefined &&
    (completions !== undefined ? succeeded >= completions : succeeded > 0 && activePods.length === 0);

  let active = activePods.length;
  if (failure) {
    for (const pod of activePods) ctx.api.delete(podType, namespace, pod.metadata.name ?? '');
    active = 0;
    conditions = setCondition(conditions, { type: 'FailureTarget', status: 'True', ...failure }, now, { lastProbeTime: true });
    conditions = setCondition(conditions, { type: 'Failed', status: 'True', ...failure }, now, { lastProbeTime: true });
    ctx.event(job, 'Warning', failure.reason, failure.message, 'job-controller');
  } else if (complete) {
    const reached = { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
    conditions = setCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', ...reached }, now, { lastProbeTime: true });
    conditions = setCondition(conditions, { type: 'Complete', status: 'True', ...reached }, now, { lastProbeTime: true });
    ctx.event(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
  } else {
    const remaining = completions !== undefined ? completions - succeeded : succeeded > 0 ? 0 : parallelism;
    const want = Math.max(0, Math.min(parallelism, remaining) - activePods.length);
    const busy = new Set(
      [...activePods, ...podsSucceeded].map((p) => p.metadata.annotations?.[INDEX_ANNOTATION]).filter((x): x is string => x !== undefined),
    );
    for (let i = 0, index = 0; i < want; i++) {
      let labels: Record<string, string> = {};
      let annotations: Record<string, string> = {};
      let podName = `${name}-${randomSuffix()}`;
      if (indexed) {
        while (busy.has(String(index))) index++;
        busy.add(String(index));
        labels = { [INDEX_ANNOTATION]: String(index) };
        annotations = { [INDEX_ANNOTATION]: String(index) };
        podName = `${name}-${index}-${randomSuffix()}`;
      }
      const pod = podFromTemplate(jSpec['template'], job, podName, { labels, annotations, generateName: `${name}-` });
      const podSpec = pod['spec'] as Obj;
      // A Job's pods must not restart forever; a template without restartPolicy (which a real server rejects) runs once.
      if (!str(podSpec['restartPolicy'])) podSpec['restartPolicy'] = 'Never';
      if (indexed) {
        podSpec['hostname'] = `${name}-${index}`;
        if (typeof podSpec['subdomain'] !== 'string') delete podSpec['subdomain'];
      }
      ctx.api.create(podType, pod, CONTROLLER_MANAGER);
      ctx.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`, 'job-controller');
      active++;
    }
    if (activeDeadline !== undefined) ctx.enqueue(ControllerName.job, namespace, name, Math.max(1, startMs + activeDeadline - now + 1));
  }

  const next: Obj = {};
  if (conditions.length > 0) next['conditions'] = conditions;
  next['startTime'] = timestamp(startMs);
  if (complete) next['completionTime'] = timestamp(now);
  if (active > 0) next['active'] = active;
  if (succeeded > 0) next['succeeded'] = succeeded;
  if (failed > 0) next['failed'] = failed;
  if (indexed && podsSucceeded.length > 0) {
    const indexes = podsSucceeded
      .map((p) => Number(p.metadata.annotations?.[INDEX_ANNOTATION]))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => a - b);
    next['completedIndexes'] = [...new Set(indexes)].join(',');
  }
  next['ready'] = failure || complete ? 0 : activePods.filter(isPodReady).length;
  next['terminating'] = 0;
  next['uncountedTerminatedPods'] = {};
  // Keep the first completionTime on re-reconcile.
  if (complete && typeof prev['completionTime'] === 'string') next['completionTime'] = prev['completionTime'];
  writeStatus(ctx, jobType, job, next);
  if ((complete || failure) && typeof jSpec['ttlSecondsAfterFinished'] === 'number') {
    ctx.enqueue(ControllerName.job, namespace, name, jSpec['ttlSecondsAfterFinished'] * scale + 1);
  }
}
