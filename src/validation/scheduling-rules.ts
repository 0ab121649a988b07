import { JobRule } from './context';
import { JobFacts, mainContainerOf, podOf, podSpecPath } from './facts';
import { error, Finding, plural, show, warning } from './finding';
import { isDns1123Subdomain } from './kubernetes-syntax';
import { gangMinAvailable } from './typed-features';

const MIN_AVAILABLE = 'spec.runPolicy.schedulingPolicy.minAvailable';

function waitsForWorkers(ctx: JobFacts): boolean {
  return ctx.manifest.spec?.launcherCreationPolicy === 'WaitForWorkersReady';
}

/** Created suspended (every Kueue job): the launcher then starts together with the workers (kubeflow/mpi-operator#615). */
function createdSuspended(ctx: JobFacts): boolean {
  return ctx.launch.suspend === true;
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
  if (minAvailable === undefined || (ctx.props.scheduling?.gangScheduling && Object.is(minAvailable, gangMinAvailable(ctx)))) return [];
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

/** A Volcano queue is an object: its name is a DNS subdomain, or no queue can ever match. */
const volcanoQueueName: JobRule = (ctx: JobFacts): Finding[] => {
  const queue = ctx.props.scheduling?.gangScheduling?.volcanoQueue;
  if (queue === undefined || isDns1123Subdomain(queue)) return [];
  return [error('scheduling/volcano-queue', {
    path: ctx.path,
    field: 'scheduling.gangScheduling.volcanoQueue',
    value: show(queue),
    why: 'a Volcano Queue name is a DNS subdomain (at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit), so no Queue can match it and Volcano never schedules the job\'s PodGroup (its admission webhook refuses a PodGroup whose queue does not exist)',
    fix: 'Use the name of a Volcano Queue as it exists in the cluster (kubectl get queues.scheduling.volcano.sh), or remove it for the \'default\' queue.',
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
  if (createdSuspended(ctx)) return gangOfSuspendedJob(ctx, scheduling.minAvailable, workers);
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

/**
 * A job created suspended starts its launcher with the workers despite WaitForWorkersReady
 * (kubeflow/mpi-operator#615), so a gang of only the workers lets the launcher and one worker
 * fewer start while the last worker waits with nothing to run on.
 */
function gangOfSuspendedJob(ctx: JobFacts, minAvailable: unknown, workers: number): Finding[] {
  if (minAvailable !== workers) return [];
  const typed = gangMinAvailable(ctx);
  return [warning('scheduling/gang-wait-for-workers', {
    path: ctx.path,
    field: typed !== undefined && minAvailable === typed ? 'scheduling.gangScheduling.minAvailable' : MIN_AVAILABLE,
    value: show(minAvailable),
    why: `the job is created suspended (runPolicy.suspend, as every Kueue job is), so the MPI Operator starts the launcher together with the ${plural(workers, 'worker')} despite launcherCreationPolicy WaitForWorkersReady (kubeflow/mpi-operator#615), and a gang of ${minAvailable} can start the launcher and ${plural(workers - 1, 'worker')} while the last worker waits`,
    fix: `Set minAvailable to ${workers + 1} (every pod) or remove it (the job then counts every pod).`,
  })];
}

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

/**
 * A suspended job's launcher starts with its workers despite WaitForWorkersReady
 * (kubeflow/mpi-operator#615): with the launcher's own wait turned off nothing keeps mpirun
 * back until the workers resolve.
 */
const suspendedWaitForWorkers: JobRule = (ctx: JobFacts): Finding[] => {
  if (!waitsForWorkers(ctx) || !createdSuspended(ctx) || ctx.launch.waitForWorkers.enabled || ctx.launch.workers === 0) return [];
  return [warning('scheduling/suspended-wait-for-workers', {
    path: ctx.path,
    field: 'launcherCreationPolicy',
    value: `'WaitForWorkersReady' with waitForWorkers: false on a job created suspended`,
    why: 'the MPI Operator creates the launcher of a suspended job (every Kueue job) at once and starts it together with the workers on resume (kubeflow/mpi-operator#615), so mpirun runs before the workers resolve and every failed attempt uses up a launcher retry',
    fix: 'Remove waitForWorkers: false, so the launcher waits until every worker accepts ssh connections.',
  })];
};

/** Gang scheduling and launcher-creation settings that would stall the job. */
export const SCHEDULING_RULES: JobRule[] = [minAvailableRange, volcanoQueueName, gangWaitsForWorkers, workerReadinessProbe, suspendedWaitForWorkers];
