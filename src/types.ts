/**
 * The MPI implementation that the image ships and the operator configures the launcher for.
 *
 * Values are the MPIJob `spec.mpiImplementation` strings.
 */
export enum MpiImplementation {
  /** Open MPI: hostfile lines `host slots=N`; the only format DeepSpeed's own launcher parses. */
  OPEN_MPI = 'OpenMPI',
  /** Intel MPI (Hydra): hostfile lines `host:N`. */
  INTEL = 'Intel',
  /** MPICH (Hydra): hostfile lines `host:N`. */
  MPICH = 'MPICH',
}

/**
 * What the operator does with worker pods once the job has finished.
 */
export enum CleanPodPolicy {
  /** Keep every worker pod. Workers run `sshd` forever, so they keep their GPUs until deleted by hand. */
  NONE = 'None',
  /** Delete running and pending workers when the job finishes; keep terminated ones for their logs. */
  RUNNING = 'Running',
  /** Delete all worker pods when the job finishes. */
  ALL = 'All',
}

/**
 * When the operator creates the launcher.
 */
export enum LauncherCreationPolicy {
  /** Create the launcher together with the workers. */
  AT_STARTUP = 'AtStartup',
  /** Create the launcher only once every worker pod is Ready (needs a worker readiness probe). */
  WAIT_FOR_WORKERS_READY = 'WaitForWorkersReady',
}

/**
 * Restart policy of a replica. The operator accepts only these two values.
 */
export enum ReplicaRestartPolicy {
  /** Never restart a failed container in place. */
  NEVER = 'Never',
  /** Restart a failed container in place. */
  ON_FAILURE = 'OnFailure',
}
