/**
 * Labels the JobSet controller puts on the pods of a TrainJob (the Trainer adds none of its
 * own). They are not on the pod templates the job renders; selectors that use them match the
 * running pods.
 */

/** The JobSet's name, which is the TrainJob's name. */
export const JOBSET_NAME_LABEL = 'jobset.sigs.k8s.io/jobset-name';
/** The replicated job: `launcher` or `node`. */
export const REPLICATED_JOB_NAME_LABEL = 'jobset.sigs.k8s.io/replicatedjob-name';
/** Job-template label that marks the replicated job TrainJob `trainer` fields go to. */
export const TRAINJOB_ANCESTOR_LABEL = 'trainer.kubeflow.org/trainjob-ancestor-step';

/** Names of the replicated jobs of an MPI runtime, also the JobSet's child Job names' middle part. */
export enum TrainerReplicatedJob {
  /** The launcher Job (`<name>-launcher-0`), which runs mpirun. */
  LAUNCHER = 'launcher',
  /** The node Job (`<name>-node-0`), whose pods run sshd and host ranks. */
  NODE = 'node',
}

/**
 * The labels that select every pod of one TrainJob.
 * @internal
 */
export function trainJobPodLabels(jobName: string): { [key: string]: string } {
  return { [JOBSET_NAME_LABEL]: jobName };
}
