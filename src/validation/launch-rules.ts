import { JobContext, JobRule } from './context';
import { error, Finding, show, warning } from './finding';

/** The operator blanks NVIDIA_VISIBLE_DEVICES on a launcher that does not run as a worker. */
const launcherGpus: JobRule = (ctx: JobContext): Finding[] => {
  const launcher = ctx.job.launcher;
  if (launcher.runAsWorker || launcher.gpus === 0) return [];
  return [error('launch/launcher-gpus', {
    path: ctx.path,
    field: 'launcher.gpus',
    value: show(launcher.gpus),
    why: 'the MPI Operator hides GPUs from a launcher that does not run as a worker, so they would sit idle',
    fix: 'Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.',
  })];
};

/** One rank drives one GPU: fewer slots leave GPUs idle, more oversubscribe them. */
const slotsMatchGpus: JobRule = (ctx: JobContext): Finding[] => {
  const workers = ctx.job.workers;
  if (workers.gpusPerWorker === 0 || workers.slotsPerWorker === workers.gpusPerWorker) return [];
  const idle = workers.slotsPerWorker < workers.gpusPerWorker;
  const gap = Math.abs(workers.gpusPerWorker - workers.slotsPerWorker);
  return [warning('launch/slots-match-gpus', {
    path: ctx.path,
    field: 'workers.gpusPerWorker',
    value: `${workers.gpusPerWorker} but slotsPerWorker is ${workers.slotsPerWorker}`,
    why: idle
      ? `${gap} GPU${gap === 1 ? '' : 's'} per worker would sit idle`
      : `${gap} rank${gap === 1 ? '' : 's'} per worker would share a GPU`,
    fix: `Remove slotsPerWorker (it defaults to the GPU count) or set it to ${workers.gpusPerWorker}.`,
  })];
};

/** Rules that keep the launch command consistent with the pods. */
export const LAUNCH_RULES: JobRule[] = [launcherGpus, slotsMatchGpus];
