import { JobRule } from './context';
import { JobFacts, mainContainerOf, podOf, podSpecPath } from './facts';
import { error, Finding, plural, show, warning } from './finding';
import { gangMinAvailable } from './typed-features';

const MIN_AVAILABLE = 'spec.runPolicy.schedulingPolicy.minAvailable';

function waitsForWorkers(ctx: JobFacts): boolean {
  return ctx.manifest.spec?.launcherCreationPolicy === 'WaitForWorkersReady';
}

/** Pods of the job: the workers and the launcher. */
function podCount(ctx: JobFacts): number {
  return ctx.launch.workers + 1;
}

/**
 * The gang can never be larger than the job (the scheduler would wait forever) and needs at
 * least one pod. The value the typed gang props render is checked by gang/min-available.
 */
const minAvailableRange: JobRule = (ctx: JobFacts): Finding[] => {
  const minAvailable = ctx.manifest.spec?.runPolicy?.schedulingPolicy?.minAvailable;
  if (minAvailable === undefined || (ctx.props.scheduling?.gangScheduling && minAvailable === gangMinAvailable(ctx))) return [];
  const pods = podCount(ctx);
  if (Number.isInteger(minAvailable) && minAvailable >= 1 && minAvailable <= pods) return [];
  return [error('scheduling/min-available', {
    path: ctx.path,
    field: MIN_AVAILABLE,
    value: show(minAvailable),
    why: Number.isInteger(minAvailable) && minAvailable > pods
      ? `the gang scheduler waits until ${minAvailable} pods can start together, but the job has only ${pods} (${plural(pods - 1, 'worker')} and the launcher), so no pod ever starts`
      : 'the MPI Operator copies it unchecked into the PodGroup\'s minMember, which needs a whole number of at least one pod',
    fix: `Set it to a whole number from 1 to ${pods}, or leave it out (the operator then uses ${pods}).`,
  })];
};

/**
 * WaitForWorkersReady creates the launcher after the workers are ready, while the gang
 * scheduler (by default waiting for workers + launcher) holds the workers until the launcher
 * can start too: neither ever starts (kubeflow/mpi-operator#608). minAvailable = workers avoids it.
 */
const gangWaitsForWorkers: JobRule = (ctx: JobFacts): Finding[] => {
  const scheduling = ctx.manifest.spec?.runPolicy?.schedulingPolicy;
  const workers = ctx.launch.workers;
  if (!waitsForWorkers(ctx) || scheduling === undefined || scheduling === null || workers === 0) return [];
  const minAvailable = scheduling.minAvailable;
  const typed = gangMinAvailable(ctx);
  if (minAvailable === workers || (Number.isInteger(minAvailable) && minAvailable > podCount(ctx))) return [];
  const gang = minAvailable ?? podCount(ctx);
  return [error('scheduling/gang-wait-for-workers', {
    path: ctx.path,
    field: typed !== undefined && minAvailable === typed ? 'scheduling.gangScheduling.minAvailable' : MIN_AVAILABLE,
    value: minAvailable === undefined ? `not set (the MPI Operator uses ${gang}, the workers and the launcher)` : show(minAvailable),
    why: gang > workers
      ? `with launcherCreationPolicy WaitForWorkersReady the MPI Operator creates the launcher only once the ${plural(workers, 'worker')} are ready, but the gang scheduler holds them until ${gang} pods can start together, so no pod ever starts (kubeflow/mpi-operator#608)`
      : `with launcherCreationPolicy WaitForWorkersReady the gang must be exactly the ${plural(workers, 'worker')}, but the gang scheduler would start as few as ${gang}, so the job is not gang-scheduled`,
    fix: `Set minAvailable to ${workers} (the worker count), or use launcherCreationPolicy AtStartup.`,
  })];
};

/** Without a readiness probe a worker is Ready before sshd listens, so WaitForWorkersReady waits for nothing. */
const workerReadinessProbe: JobRule = (ctx: JobFacts): Finding[] => {
  const worker = podOf(ctx, 'Worker');
  if (!waitsForWorkers(ctx) || !worker) return [];
  if (mainContainerOf(worker)?.readinessProbe) return [];
  return [warning('scheduling/worker-readiness-probe', {
    path: ctx.path,
    field: `${podSpecPath(worker)}.containers[0].readinessProbe`,
    value: 'not set',
    why: 'with launcherCreationPolicy WaitForWorkersReady the MPI Operator waits for Ready workers, and without a probe a worker is Ready as soon as its container starts, before sshd accepts connections',
    fix: 'Keep the worker readiness probe (a TCP check on the sshd port), or use launcherCreationPolicy AtStartup.',
  })];
};

/** Gang scheduling and launcher-creation settings that would stall the job. */
export const SCHEDULING_RULES: JobRule[] = [minAvailableRange, gangWaitsForWorkers, workerReadinessProbe];
