import { ApiObject, Duration } from 'cdk8s';
import * as mpi from '../imports/kubeflow.org';
import type { DeepSpeedMpiJob } from './job';
import { formatQuantity, parseQuantity, quantityToNumber } from './quantity';
import { MpiReplica } from './replica';
import { LauncherCreationPolicy } from './types';

/** Kueue's label for the LocalQueue a job is submitted to. */
export const KUEUE_QUEUE_LABEL = 'kueue.x-k8s.io/queue-name';
/** Kueue's label for a WorkloadPriorityClass. */
export const KUEUE_PRIORITY_LABEL = 'kueue.x-k8s.io/priority-class';
/** `runPolicy.managedBy` value that hands the job to MultiKueue. */
export const MULTIKUEUE_CONTROLLER = 'kueue.x-k8s.io/multikueue';

/**
 * Submission through Kueue.
 */
export interface KueueOptions {
  /**
   * The LocalQueue (`kueue.x-k8s.io/queue-name` label). The job is created suspended and
   * Kueue resumes it once the queue admits it.
   */
  readonly queueName: string;
  /**
   * Kueue WorkloadPriorityClass (`kueue.x-k8s.io/priority-class` label).
   * @default - Kueue takes the priority from the pods' priorityClassName
   */
  readonly priorityClass?: string;
  /**
   * Dispatch through MultiKueue (`runPolicy.managedBy: kueue.x-k8s.io/multikueue`): the
   * manager cluster's MPI Operator leaves the job alone and Kueue runs a copy on a worker
   * cluster. Needs MPI Operator v0.6 or later.
   * @default false
   */
  readonly multiKueue?: boolean;
}

/**
 * Gang scheduling through the PodGroup the MPI Operator creates when it runs with
 * `--gang-scheduling` (Volcano or scheduler-plugins coscheduling): the pods start together
 * or not at all, so a half-scheduled job does not hold GPUs.
 */
export interface GangSchedulingOptions {
  /**
   * Pods that must be schedulable together (PodGroup `minMember`).
   * @default - every pod (workers + launcher); the worker count with
   * `LauncherCreationPolicy.WAIT_FOR_WORKERS_READY` on a job that is not created suspended,
   * because the launcher is only created once the workers are ready. A suspended job (every
   * Kueue job) starts its launcher together with the workers (kubeflow/mpi-operator#615), so
   * its gang is every pod.
   */
  readonly minAvailable?: number;
  /**
   * Volcano queue of the PodGroup (ignored by scheduler-plugins).
   * @default - the MPIJob's `scheduling.volcano.sh/queue-name` annotation, else Volcano's default queue
   */
  readonly volcanoQueue?: string;
  /**
   * PriorityClass of the PodGroup (Volcano only).
   * @default - the pods' priorityClassName
   */
  readonly priorityClass?: string;
  /**
   * How long scheduler-plugins coscheduling waits for the whole group before it gives up
   * and retries (ignored by Volcano).
   * @default - not set: the operator passes 0 and the plugin uses its own default
   */
  readonly scheduleTimeout?: Duration;
  /**
   * Write `minResources`: the requests (limits where no request is set) of the pods counted in
   * `minAvailable` — with `WAIT_FOR_WORKERS_READY` and no suspension, the workers alone. Volcano before operator
   * v0.5 has no computed fallback, and an explicit figure shows in the manifest what the gang needs.
   * @default true
   */
  readonly computeMinResources?: boolean;
}

/**
 * Queueing, priority and placement of a job.
 */
export interface JobSchedulingOptions {
  /**
   * Submit through Kueue.
   * @default - not queued by Kueue
   */
  readonly kueue?: KueueOptions;
  /**
   * Kubernetes PriorityClass of the launcher and worker pods (`priorityClassName`).
   * @default - the cluster's default priority
   */
  readonly priorityClassName?: string;
  /**
   * Gang scheduling (`runPolicy.schedulingPolicy`). The operator must run with `--gang-scheduling`.
   * @default - no schedulingPolicy
   */
  readonly gangScheduling?: GangSchedulingOptions;
  /**
   * Place at most one pod that hosts ranks per node (required pod anti-affinity on
   * `kubernetes.io/hostname`), so ranks do not share a node's NICs and a node failure takes one pod.
   * @default false
   */
  readonly spreadWorkers?: boolean;
  /**
   * GPU model the pods that host ranks need, as the node label value (e.g. `NVIDIA-A100-SXM4-80GB`).
   * @default - any GPU model
   */
  readonly gpuProduct?: string;
  /**
   * Node label that holds the GPU model.
   * @default 'nvidia.com/gpu.product' (NVIDIA GPU feature discovery)
   */
  readonly gpuProductLabel?: string;
}

/**
 * The pods of a job that scheduling settings apply to.
 * @internal
 */
export interface ScheduledPods {
  readonly launcher: MpiReplica;
  readonly workers: MpiReplica;
  /** The replicas whose pods host ranks. */
  readonly rankReplicas: MpiReplica[];
  /** The job's API object, which carries the Kueue labels. */
  readonly apiObject: ApiObject;
  /** Keeps the rank pods one per node, selected by the labels their operator gives them. */
  spreadRankPods(): void;
}

/**
 * Applies priority, spreading and GPU model to the pods.
 * @internal
 */
export function applyPodScheduling(job: ScheduledPods, options: JobSchedulingOptions): void {
  if (options.priorityClassName) {
    job.launcher.usePriorityClassName(options.priorityClassName);
    job.workers.usePriorityClassName(options.priorityClassName);
  }
  if (options.spreadWorkers) job.spreadRankPods();
  if (options.gpuProduct) {
    for (const replica of job.rankReplicas) replica.addNodeSelector(options.gpuProductLabel ?? 'nvidia.com/gpu.product', options.gpuProduct);
  }
  if (options.kueue) {
    job.apiObject.metadata.addLabel(KUEUE_QUEUE_LABEL, options.kueue.queueName);
    if (options.kueue.priorityClass) job.apiObject.metadata.addLabel(KUEUE_PRIORITY_LABEL, options.kueue.priorityClass);
  }
}

/**
 * Whether the operator creates the launcher only after the workers are ready. Not for a job
 * created suspended (every Kueue job): while it is suspended there are no workers, so "all
 * workers ready" holds at once, the launcher Job is created suspended and on resume it starts
 * together with the workers (kubeflow/mpi-operator#615).
 * @internal
 */
export function launcherCreatedAfterWorkers(job: DeepSpeedMpiJob): boolean {
  return job.launcherCreationPolicy === LauncherCreationPolicy.WAIT_FOR_WORKERS_READY && !job.suspend && job.workers.replicas > 0;
}

/**
 * The PodGroup minMember the job asks for.
 * @internal
 */
export function effectiveMinAvailable(job: DeepSpeedMpiJob, gang: GangSchedulingOptions): number {
  if (gang.minAvailable !== undefined) return gang.minAvailable;
  const workers = job.workers.replicas;
  return launcherCreatedAfterWorkers(job) ? workers : workers + 1;
}

/**
 * Renders `runPolicy.schedulingPolicy`.
 * @internal
 */
export function renderSchedulingPolicy(job: DeepSpeedMpiJob, gang: GangSchedulingOptions): mpi.MpiJobSpecRunPolicySchedulingPolicy {
  const minAvailable = effectiveMinAvailable(job, gang);
  return {
    minAvailable,
    queue: gang.volcanoQueue,
    priorityClass: gang.priorityClass,
    scheduleTimeoutSeconds: gang.scheduleTimeout?.toSeconds({ integral: false }),
    minResources: (gang.computeMinResources ?? true) ? renderMinResources(job, minAvailable) : undefined,
  };
}

/**
 * What the gang needs: the requests (limits where no request is set) of the pods counted in
 * `minAvailable`. Like the operator, the launcher counts first and the workers are cut to
 * `minAvailable - 1`; but when the operator creates the launcher only after the workers are
 * ready (WaitForWorkersReady on a job not created suspended) the gang is the workers alone (the
 * operator would count the launcher and one worker fewer, understating the GPUs).
 */
function renderMinResources(job: DeepSpeedMpiJob, minAvailable: number): { [name: string]: mpi.MpiJobSpecRunPolicySchedulingPolicyMinResources } | undefined {
  const workers = job.workers.replicas;
  const totals = launcherCreatedAfterWorkers(job)
    ? podResourceTotals([[job.workers, Math.min(minAvailable, workers)]])
    : podResourceTotals([[job.launcher, 1], [job.workers, workers + 1 > minAvailable ? Math.max(minAvailable - 1, 0) : workers]]);
  if (totals.size === 0) return undefined;
  return Object.fromEntries([...totals.entries()].map(([name, amount]) =>
    [name, mpi.MpiJobSpecRunPolicySchedulingPolicyMinResources.fromString(formatQuantity(name, amount))]));
}

/**
 * The resources a set of pods asks for, as schedulers and Kueue count them: each replica's
 * requests (its limits where it sets no request) times its pod count.
 * @internal
 */
export function podResourceTotals(pods: Array<[MpiReplica, number]>): Map<string, number> {
  const totals = new Map<string, number>();
  for (const [replica, count] of pods) {
    for (const name of replica.resourceNames) {
      const parsed = parseQuantity(replica.resourceRequest(name) ?? replica.resourceLimit(name));
      const amount = parsed ? quantityToNumber(parsed) : 0;
      totals.set(name, (totals.get(name) ?? 0) + amount * count);
    }
  }
  return totals;
}
