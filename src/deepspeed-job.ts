import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { EnvValue } from './env-value';
import { IDeepSpeedTrainingImage } from './image';
import { MpiLauncher } from './launcher';
import { MountOptions, Volume } from './volume';
import { MpiWorkerPool } from './worker-pool';

/**
 * A DeepSpeed job on either operator: `DeepSpeedMpiJob` (MPI Operator) or `DeepSpeedTrainJob`
 * (Kubeflow Trainer v2). Both render the same launcher and workers from the same props.
 */
export interface IDeepSpeedJob extends IConstruct {
  /** The name of the job's API object (`metadata.name`). */
  readonly name: string;
  /** The image the job runs. */
  readonly image: IDeepSpeedTrainingImage;
  /** The launcher. */
  readonly launcher: MpiLauncher;
  /** The workers. */
  readonly workers: MpiWorkerPool;
  /**
   * The ConfigMap that holds the DeepSpeed configuration.
   * @default - none: the job was given no DeepSpeed config
   */
  readonly configMap?: ApiObject;
  /** Whether the launcher also hosts ranks. */
  readonly runLauncherAsWorker: boolean;
  /** Total number of ranks (`mpirun -np`). */
  readonly worldSize: number;
  /** MPI slots per host. */
  readonly slotsPerWorker: number;
  /** Sets a variable for the training processes: on the launcher, forwarded to every rank with `-x`. */
  addEnv(name: string, value: EnvValue): void;
  /** Mounts a volume at `path` on the launcher and on every worker. */
  addVolume(path: string, volume: Volume, options?: MountOptions): void;
}
