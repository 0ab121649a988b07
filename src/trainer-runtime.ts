/**
 * Which kind of Trainer runtime a TrainJob references (`spec.runtimeRef.kind`).
 */
export enum TrainingRuntimeKind {
  /** A cluster-wide runtime the platform installs, such as `deepspeed-distributed`. */
  CLUSTER = 'ClusterTrainingRuntime',
  /** A runtime in the TrainJob's namespace. */
  NAMESPACED = 'TrainingRuntime',
}

/**
 * Options of a TrainingRuntime generated from the job's props and the image's facts.
 */
export interface GeneratedTrainingRuntimeOptions {
  /**
   * Name of the TrainingRuntime, in the job's namespace.
   * @default `<job name>-runtime`
   */
  readonly name?: string;
  /**
   * `schedulerName` of the pods when the job asks for gang scheduling: the Trainer's
   * coscheduling and Volcano plugins create the PodGroup but leave the scheduler to the runtime.
   * @default - 'volcano' when `scheduling.gangScheduling.volcanoQueue` is set, else
   * 'scheduler-plugins-scheduler' (the scheduler-plugins chart's second scheduler)
   */
  readonly gangSchedulerName?: string;
}

/**
 * The runtime a DeepSpeed TrainJob runs with: one the platform provides, referenced by name,
 * or a namespaced TrainingRuntime the job generates from its image's facts.
 */
export class TrainerRuntime {
  /**
   * Generates a namespaced TrainingRuntime from the image's facts (user, ssh port, sshd
   * config, slots, launcher as a node or not), so that any image the library describes runs.
   * The TrainJob references it by kind and name; apply the runtime first (the Trainer's
   * webhook rejects a TrainJob whose runtime does not exist yet).
   */
  public static generated(options: GeneratedTrainingRuntimeOptions = {}): TrainerRuntime {
    return new TrainerRuntime(TrainingRuntimeKind.NAMESPACED, options.name, true, options.gangSchedulerName);
  }

  /**
   * References a ClusterTrainingRuntime the platform provides, e.g. `deepspeed-distributed`.
   * The TrainJob sets only what a TrainJob may set; synth reports what the runtime would have
   * to provide for the props (the workers' image, sshd, priority, ...).
   */
  public static clusterRuntime(name: string): TrainerRuntime {
    return new TrainerRuntime(TrainingRuntimeKind.CLUSTER, name, false);
  }

  /**
   * References a TrainingRuntime that already exists in the job's namespace, with the same
   * reporting as `clusterRuntime`.
   */
  public static namespacedRuntime(name: string): TrainerRuntime {
    return new TrainerRuntime(TrainingRuntimeKind.NAMESPACED, name, false);
  }

  /** `spec.runtimeRef.kind`. */
  public readonly kind: TrainingRuntimeKind;
  /**
   * The runtime's name.
   * @default - for a generated runtime without a name, `<job name>-runtime`
   */
  public readonly name?: string;
  /** Whether the job generates the runtime. */
  public readonly generatesRuntime: boolean;
  /**
   * `schedulerName` of a generated runtime's pods under gang scheduling.
   * @default - chosen from the gang-scheduling props
   */
  public readonly gangSchedulerName?: string;

  private constructor(kind: TrainingRuntimeKind, name: string | undefined, generatesRuntime: boolean, gangSchedulerName?: string) {
    this.kind = kind;
    this.name = name;
    this.generatesRuntime = generatesRuntime;
    this.gangSchedulerName = gangSchedulerName;
  }
}

/**
 * What the v2.3.0 `deepspeed-distributed` ClusterTrainingRuntime provides (its manifest
 * `manifests/base/runtimes/deepspeed_distributed.yaml` and its image's Dockerfile).
 * @internal
 */
export const DEEPSPEED_DISTRIBUTED_RUNTIME = {
  name: 'deepspeed-distributed',
  image: 'ghcr.io/kubeflow/trainer/deepspeed-runtime',
  uid: 1000,
  sshPort: 2222,
  sshdConfigPath: '/home/mpiuser/.sshd_config',
  sshAuthMountPath: '/home/mpiuser/.ssh',
  runLauncherAsNode: true,
  launcherWaitsForReadyNodes: true,
} as const;
