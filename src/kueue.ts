import { KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL, MULTIKUEUE_CONTROLLER } from './scheduling';
import { KUEUE_API_VERSION } from './sweep-queue';

/**
 * The Kueue names the job and the sweep write (labels, the MultiKueue controller, the API version).
 */
export class Kueue {
  /** Label that submits a workload to a LocalQueue. */
  public static readonly QUEUE_LABEL: string = KUEUE_QUEUE_LABEL;
  /** Label that names a WorkloadPriorityClass. */
  public static readonly PRIORITY_LABEL: string = KUEUE_PRIORITY_LABEL;
  /** `runPolicy.managedBy` value that hands a job to MultiKueue. */
  public static readonly MULTIKUEUE_CONTROLLER: string = MULTIKUEUE_CONTROLLER;
  /** API version of the ClusterQueue and LocalQueue a sweep creates. */
  public static readonly API_VERSION: string = KUEUE_API_VERSION;

  private constructor() {}
}
