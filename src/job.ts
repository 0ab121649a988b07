import { ApiObject, ApiObjectMetadata, Duration, JsonPatch, Lazy, Names } from 'cdk8s';
import { Construct } from 'constructs';
import * as mpi from '../imports/kubeflow.org';
import { MpiOperatorVersion, operatorVersionAtLeast } from './compatibility';
import { DeepSpeedConfigRegistry } from './config-registry';
import { DeepSpeedConfig } from './deepspeed-config';
import { IDeepSpeedJob } from './deepspeed-job';
import { EnvValue } from './env-value';
import { IDeepSpeedTrainingImage } from './image';
import { buildJobParts, OperatorPodConventions } from './job-parts';
import { MpiLauncher, MpiLauncherOptions } from './launcher';
import { MpirunOptions } from './mpirun';
import { JobNetworkOptions } from './network';
import { JOB_ROLE_LABEL, jobPodLabels, MpiJobRole } from './operator-labels';
import { MpiReplica } from './replica';
import { JobSchedulingOptions, MULTIKUEUE_CONTROLLER, renderSchedulingPolicy } from './scheduling';
import { JobSecurityOptions } from './security';
import { JobStorageOptions } from './storage';
import { CleanPodPolicy, LauncherCreationPolicy } from './types';
import { TypedSpecRenderer } from './typed-render';
import { registerJobValidation } from './validation';
import { MountOptions, Volume } from './volume';
import { MpiWorkerPool, MpiWorkerPoolOptions } from './worker-pool';

/** Launcher retries (`runPolicy.backoffLimit`) unless the job sets its own. */
export const DEFAULT_BACKOFF_LIMIT = 3;

/** The MPI Operator names containers after their replica and labels pods with its own labels. */
const MPI_OPERATOR_POD_CONVENTIONS: OperatorPodConventions = {
  podLabels: jobPodLabels,
  rankPodSelector: (name, launcherHostsRanks) => ({
    matchLabels: jobPodLabels(name),
    roleLabel: JOB_ROLE_LABEL,
    roles: launcherHostsRanks ? [MpiJobRole.LAUNCHER, MpiJobRole.WORKER] : [MpiJobRole.WORKER],
  }),
};

/**
 * The generated MpiJob, rendered by TypedSpecRenderer: JSON patches apply to the final
 * manifest and the spec skips the cdk8s resolver when nothing needs it.
 */
class MpiJobResource extends mpi.MpiJob {
  private readonly renderer: TypedSpecRenderer<mpi.MpiJobSpec>;

  public constructor(scope: Construct, id: string, metadata: ApiObjectMetadata, renderSpec: () => mpi.MpiJobSpec, revision: () => number) {
    super(scope, id, { metadata, spec: Lazy.any({ produce: renderSpec }) });
    this.renderer = new TypedSpecRenderer(this, renderSpec,
      (meta, spec) => ({ ...mpi.MpiJob.GVK, ...mpi.toJson_MpiJobProps({ metadata: meta, spec }) }), revision);
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.renderer.addJsonPatch(ops);
  }

  public toJson(): any {
    return this.renderer.toJson(() => super.toJson());
  }

  /**
   * The manifest as validation sees it: the same as `toJson()`, and kept for the next `toJson()`.
   * @internal
   */
  public _toJsonForValidation(): any {
    return this.renderer.toJson(() => super.toJson(), true);
  }
}

/**
 * Properties of a DeepSpeed job, whichever operator runs it: `DeepSpeedMpiJob` (MPI Operator)
 * and `DeepSpeedTrainJob` (Kubeflow Trainer v2) take the same props.
 */
export interface DeepSpeedJobProps {
  /** The training image the launcher and the workers run. */
  readonly image: IDeepSpeedTrainingImage;

  /** The worker pods: count, GPUs, CPU, memory and scheduling. */
  readonly workers: MpiWorkerPoolOptions;

  /**
   * The launcher pod.
   * @default - a CPU-only launcher; with `runLauncherAsWorker`, the workers' CPU, memory,
   * tolerations and node selector
   */
  readonly launcher?: MpiLauncherOptions;

  /** Training script, absolute or relative to the image's working directory. */
  readonly script: string;

  /**
   * Arguments passed to the script.
   * @default - none
   */
  readonly args?: string[];

  /**
   * Variables for the training processes (NCCL_*, ...). They are set on the launcher and
   * forwarded to every rank with `mpirun -x`; variables on worker pods never reach ranks
   * started over ssh.
   * @default - none
   */
  readonly env?: { [name: string]: EnvValue };

  /**
   * The DeepSpeed configuration, written to a ConfigMap mounted at
   * `/etc/deepspeed/ds_config.json` on the launcher and every worker.
   * @default - no ConfigMap; the script builds its own configuration
   */
  readonly deepspeedConfig?: DeepSpeedConfig;

  /**
   * Takes the DeepSpeed config ConfigMap from this registry, which creates one ConfigMap per
   * distinct config and namespace and shares it between the jobs that render the same file.
   * @default - the job creates its own ConfigMap `<name>-deepspeed`
   */
  readonly configRegistry?: DeepSpeedConfigRegistry;

  /**
   * Whether to pass `--deepspeed_config /etc/deepspeed/ds_config.json` to the script. Turn it
   * off for scripts that read the file themselves or pass `config=` to `deepspeed.initialize`
   * (DeepSpeed rejects a config given both ways).
   * @default true
   */
  readonly passDeepSpeedConfigArgument?: boolean;

  /**
   * How the launcher invokes mpirun (MCA parameters, extra arguments, binding).
   * @default - `--bind-to none --map-by slot`, no MCA parameters
   */
  readonly mpirun?: MpirunOptions;

  /**
   * Whether the launcher also hosts ranks (and gets GPUs, shared memory and the interconnect's
   * devices). The operator lists it first in the hostfile with `slotsPerWorker` slots, so the
   * world size grows by one pod's slots.
   * @default false
   */
  readonly runLauncherAsWorker?: boolean;

  /**
   * When the operator creates the launcher. On Kubeflow Trainer (`DeepSpeedTrainJob`) the
   * generated runtime makes the launcher Job depend on Ready nodes unless AT_STARTUP is given.
   * @default LauncherCreationPolicy.AT_STARTUP (an MPIJob); WAIT_FOR_WORKERS_READY (a TrainJob)
   */
  readonly launcherCreationPolicy?: LauncherCreationPolicy;

  /**
   * Whether the launcher waits, before mpirun, until every host of the operator's hostfile
   * resolves and accepts connections on the ssh port. Worker names resolve only once a worker
   * is Ready, and with `AtStartup` (and under Kueue with `WaitForWorkersReady` too,
   * kubeflow/mpi-operator#615) the launcher starts with the workers. The wait runs with the
   * image's Python (`pythonPath`) and then execs mpirun.
   * @default true
   */
  readonly waitForWorkers?: boolean;

  /**
   * How long the launcher waits for its workers before it exits non-zero naming the hosts
   * that never came up (a launcher retry, see `backoffLimit`). Whole seconds.
   * @default Duration.minutes(15)
   */
  readonly workerWaitTimeout?: Duration;

  /**
   * What happens to worker pods once the job finishes. The operator's own default, None,
   * leaves sshd workers (and their GPUs) running forever. Kubeflow Trainer has no such field:
   * its JobSet deletes running workers once the launcher finishes (RUNNING); other values are
   * reported for a TrainJob.
   * @default CleanPodPolicy.RUNNING
   */
  readonly cleanPodPolicy?: CleanPodPolicy;

  /**
   * Delete the launcher Job this long after it finishes (`ttlSecondsAfterFinished`). The
   * operator copies it to the launcher Job only: the MPIJob, its workers (see `cleanPodPolicy`)
   * and any claim the job created stay.
   * @default - kept until deleted
   */
  readonly ttlAfterFinished?: Duration;

  /**
   * Fail the launcher Job if it runs longer than this (`activeDeadlineSeconds`), counted from
   * the launcher Job's start, not from the workers'. The MPIJob then fails and
   * `cleanPodPolicy` decides what happens to the workers.
   * @default - no deadline
   */
  readonly activeDeadline?: Duration;

  /**
   * Retries of the launcher pod before the launcher Job, and with it the MPIJob, fails
   * (`backoffLimit`). Workers are not restarted: a retry reruns mpirun against the same workers.
   * With the launcher waiting for its workers (`waitForWorkers`), a retry follows a real failure
   * (a crashed rank, a lost node) or a worker that never came up, so a few retries are enough;
   * Kubernetes' own default, 6, reruns a failing training up to seven times.
   * @default 3
   */
  readonly backoffLimit?: number;

  /**
   * Create the job suspended (`runPolicy.suspend`): no worker pods and a suspended launcher Job
   * until it is set to false.
   * @default - false; true when the job is queued through Kueue
   */
  readonly suspend?: boolean;

  /**
   * NetworkPolicy, ServiceAccount and token mounting.
   * @default - a NetworkPolicy confining ingress to the job's pods, no token mounted
   */
  readonly security?: JobSecurityOptions;

  /**
   * Kueue, priority, gang scheduling and placement.
   * @default - no queue, default priority, no gang scheduling
   */
  readonly scheduling?: JobSchedulingOptions;

  /**
   * Network fabric and NCCL settings.
   * @default - NCCL's own transport choice and NCCL's and PyTorch's own defaults
   */
  readonly network?: JobNetworkOptions;

  /**
   * Persistent volumes and the checkpoint directory.
   * @default - no persistent volumes
   */
  readonly storage?: JobStorageOptions;

  /**
   * The MPI Operator release installed in the cluster. Fields its CRD lacks are reported at
   * synth instead of being pruned by the API server. A TrainJob reports it as meaningless.
   * @default MpiOperatorVersion.V0_8
   */
  readonly operatorVersion?: MpiOperatorVersion;

  /**
   * Metadata of the MPIJob (name, namespace, labels, annotations).
   * @default - the name is derived from the construct path
   */
  readonly metadata?: ApiObjectMetadata;
}

/**
 * Properties of a DeepSpeed MPIJob: the props of every DeepSpeed job.
 */
export interface DeepSpeedMpiJobProps extends DeepSpeedJobProps {}

/**
 * A DeepSpeed training job on the Kubeflow MPI Operator: the MPIJob (launcher and worker
 * replicas) and a ConfigMap holding the DeepSpeed configuration.
 */
export class DeepSpeedMpiJob extends Construct implements IDeepSpeedJob {
  /** The MPIJob API object; use it for escape hatches such as `addJsonPatch` (applied to the final manifest). */
  public readonly apiObject: ApiObject;
  /** The launcher replica. */
  public readonly launcher: MpiLauncher;
  /** The worker replicas. */
  public readonly workers: MpiWorkerPool;
  /**
   * The ConfigMap that holds the DeepSpeed configuration, if one was given (shared when it comes
   * from a registry).
   */
  public readonly configMap?: ApiObject;
  /** The DeepSpeed configuration as written to the ConfigMap (DeepSpeed's key names). */
  public readonly deepspeedConfigJson?: { [key: string]: any };
  /** The image the job runs. */
  public readonly image: IDeepSpeedTrainingImage;
  /** What happens to worker pods once the job finishes. */
  public readonly cleanPodPolicy: CleanPodPolicy;
  /** When the operator creates the launcher. */
  public readonly launcherCreationPolicy: LauncherCreationPolicy;
  /** Whether the launcher also hosts ranks. */
  public readonly runLauncherAsWorker: boolean;
  /** Whether the job is created suspended (`runPolicy.suspend`), as every Kueue job is. */
  public readonly suspend: boolean;
  /** The MPI Operator release the job targets. */
  public readonly operatorVersion: MpiOperatorVersion;
  /** Security settings as given. */
  public readonly security: JobSecurityOptions;
  /** Scheduling settings as given. */
  public readonly scheduling: JobSchedulingOptions;
  /** Network settings as given. */
  public readonly network: JobNetworkOptions;
  /** Storage settings as given. */
  public readonly storage: JobStorageOptions;
  /** The NetworkPolicy confining ingress to the job's pods, unless turned off. */
  public readonly networkPolicy?: ApiObject;
  /** The ServiceAccount the job created, if asked to. */
  public readonly serviceAccount?: ApiObject;

  /**
   * The props as given, for the job facts validation reads.
   * @internal
   */
  public readonly _props: DeepSpeedMpiJobProps;

  public constructor(scope: Construct, id: string, props: DeepSpeedMpiJobProps) {
    super(scope, id);
    this._props = props;
    this.image = props.image;
    this.cleanPodPolicy = props.cleanPodPolicy ?? CleanPodPolicy.RUNNING;
    this.launcherCreationPolicy = props.launcherCreationPolicy ?? LauncherCreationPolicy.AT_STARTUP;
    this.runLauncherAsWorker = props.runLauncherAsWorker ?? false;
    this.operatorVersion = props.operatorVersion ?? MpiOperatorVersion.V0_8;
    this.security = props.security ?? {};
    this.scheduling = props.scheduling ?? {};
    this.network = props.network ?? {};
    this.storage = props.storage ?? {};
    this.suspend = props.suspend ?? (this.scheduling.kueue ? true : false);

    this.apiObject = new MpiJobResource(this, 'Resource', {
      ...props.metadata,
      name: props.metadata?.name ?? Names.toDnsLabel(this, { includeHash: false }),
    }, () => this.renderSpec(), () => this.launcher._revision + this.workers._revision);

    const parts = buildJobParts(this, this.apiObject, props, MPI_OPERATOR_POD_CONVENTIONS);
    this.workers = parts.workers;
    this.launcher = parts.launcher;
    this.configMap = parts.configMap;
    this.deepspeedConfigJson = parts.deepspeedConfigJson;
    this.networkPolicy = parts.networkPolicy;
    this.serviceAccount = parts.serviceAccount;

    registerJobValidation(this);
  }

  /**
   * The MPIJob as it will be written, for the job's registered validation: the synthesis that
   * follows reuses its spec when nothing changed in between.
   * @internal
   */
  public _manifestForValidation(): any {
    return (this.apiObject as MpiJobResource)._toJsonForValidation();
  }

  /** The replicas whose pods host ranks: the workers, and the launcher when it runs as a worker. */
  public get rankReplicas(): MpiReplica[] {
    return this.runLauncherAsWorker ? [this.launcher, this.workers] : [this.workers];
  }

  /** The MPIJob's name (`metadata.name`). */
  public get name(): string {
    return this.apiObject.name;
  }

  /** Total number of ranks (`mpirun -np`). */
  public get worldSize(): number {
    return this.launcher.worldSize;
  }

  /** MPI slots per worker (`slotsPerWorker`). */
  public get slotsPerWorker(): number {
    return this.workers.slotsPerWorker;
  }

  /**
   * Sets a variable for the training processes: on the launcher, forwarded to every rank with `-x`.
   */
  public addEnv(name: string, value: EnvValue): void {
    this.launcher.addTrainingEnv(name, value);
  }

  /** Mounts a volume at `path` on the launcher and on every worker. */
  public addVolume(path: string, volume: Volume, options: MountOptions = {}): void {
    this.launcher.mount(path, volume, options);
    this.workers.mount(path, volume, options);
  }

  private renderSpec(): mpi.MpiJobSpec {
    const replicaSpecs: { [key: string]: mpi.MpiJobSpecMpiReplicaSpecs } = {
      Launcher: this.launcher._toReplicaSpec(1),
    };
    // With the launcher as the only worker the operator wants no Worker entry at all.
    if (!(this.runLauncherAsWorker && this.workers.replicas === 0)) {
      replicaSpecs.Worker = this.workers._toReplicaSpec(this.workers.replicas);
    }
    const props = this._props;
    return {
      slotsPerWorker: this.workers.slotsPerWorker,
      runLauncherAsWorker: this.runLauncherAsWorker ? true : undefined,
      mpiImplementation: this.image.mpiImplementation as string as mpi.MpiJobSpecMpiImplementation,
      // Older CRDs prune the field; AtStartup is their only behaviour, so it is left out there.
      launcherCreationPolicy: this.launcherCreationPolicy === LauncherCreationPolicy.AT_STARTUP
        && !operatorVersionAtLeast(this.operatorVersion, MpiOperatorVersion.V0_5) ? undefined : this.launcherCreationPolicy,
      sshAuthMountPath: this.image.user.sshDirectory,
      runPolicy: {
        cleanPodPolicy: this.cleanPodPolicy,
        ttlSecondsAfterFinished: props.ttlAfterFinished?.toSeconds({ integral: false }),
        activeDeadlineSeconds: props.activeDeadline?.toSeconds({ integral: false }),
        backoffLimit: props.backoffLimit ?? DEFAULT_BACKOFF_LIMIT,
        suspend: this.suspend ? true : (props.suspend === false ? false : undefined),
        managedBy: this.scheduling.kueue?.multiKueue ? MULTIKUEUE_CONTROLLER : undefined,
        schedulingPolicy: this.scheduling.gangScheduling ? renderSchedulingPolicy(this, this.scheduling.gangScheduling) : undefined,
      },
      mpiReplicaSpecs: replicaSpecs,
    };
  }
}
