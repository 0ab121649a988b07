import { OPERATOR_HOSTFILE } from './mpirun';

/**
 * Labels the MPI Operator puts on the launcher and worker pods it creates. They are not on the
 * pod templates the job renders; selectors that use them match the running pods.
 */

/** Always `mpi-operator`. */
export const OPERATOR_NAME_LABEL = 'training.kubeflow.org/operator-name';
/** Value of OPERATOR_NAME_LABEL. */
export const OPERATOR_NAME = 'mpi-operator';
/** The MPIJob's name. */
export const JOB_NAME_LABEL = 'training.kubeflow.org/job-name';
/** `launcher` or `worker`. */
export const JOB_ROLE_LABEL = 'training.kubeflow.org/job-role';

/** Value of JOB_ROLE_LABEL on the pods that run a replica type. */
export enum MpiJobRole {
  /** The launcher pod (created through the launcher Job). */
  LAUNCHER = 'launcher',
  /** The worker pods. */
  WORKER = 'worker',
}

/**
 * The names the MPI Operator gives things: the labels on the pods it creates and the hostfile it mounts.
 */
export class MpiOperator {
  /** Label whose value is always `mpi-operator` (`OPERATOR_NAME`). */
  public static readonly OPERATOR_NAME_LABEL: string = OPERATOR_NAME_LABEL;
  /** Value of `OPERATOR_NAME_LABEL`. */
  public static readonly OPERATOR_NAME: string = OPERATOR_NAME;
  /** Label holding the MPIJob's name. */
  public static readonly JOB_NAME_LABEL: string = JOB_NAME_LABEL;
  /** Label holding the pod's role, `launcher` or `worker` (`MpiJobRole`). */
  public static readonly JOB_ROLE_LABEL: string = JOB_ROLE_LABEL;
  /** Where the operator mounts the hostfile on the launcher. */
  public static readonly HOSTFILE: string = OPERATOR_HOSTFILE;

  /** The labels that select every pod of the MPIJob `jobName`. */
  public static jobPodLabels(jobName: string): { [key: string]: string } {
    return jobPodLabels(jobName);
  }

  private constructor() {}
}

/**
 * The labels that select every pod of one MPIJob.
 * @internal
 */
export function jobPodLabels(jobName: string): { [key: string]: string } {
  return { [OPERATOR_NAME_LABEL]: OPERATOR_NAME, [JOB_NAME_LABEL]: jobName };
}
