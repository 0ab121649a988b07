import { ApiObject, ApiObjectMetadata, JsonPatch, Lazy, Names } from 'cdk8s';
import { Construct } from 'constructs';
import * as mpi from '../imports/kubeflow.org';
import * as trainer from '../imports/trainer.kubeflow.org';
import { IDeepSpeedJob } from './deepspeed-job';
import { EnvValue } from './env-value';
import { IDeepSpeedTrainingImage } from './image';
import { DEFAULT_BACKOFF_LIMIT } from './job';
import type { DeepSpeedJobProps } from './job';
import { buildJobParts, OperatorPodConventions } from './job-parts';
import { MpiLauncher } from './launcher';
import { JobNetworkOptions } from './network';
import { MpiReplica } from './replica';
import { JobSchedulingOptions, MULTIKUEUE_CONTROLLER } from './scheduling';
import { JobSecurityOptions } from './security';
import { JobStorageOptions } from './storage';
import { REPLICATED_JOB_NAME_LABEL, TRAINJOB_ANCESTOR_LABEL, TrainerReplicatedJob, trainJobPodLabels } from './trainer-labels';
import { TrainerRuntime } from './trainer-runtime';
import { LauncherCreationPolicy } from './types';
import { TypedSpecRenderer } from './typed-render';
import { registerTrainJobValidation } from './validation/trainer';
import { MountOptions, Volume } from './volume';
import { MpiWorkerPool } from './worker-pool';

/** The API group of TrainJob and its runtimes. */
const TRAINER_API_GROUP = 'trainer.kubeflow.org';
/** Manager of the runtime patch that carries the job's pod settings into a referenced runtime. */
const RUNTIME_PATCH_MANAGER = 'cdk8s-deepspeed/job';
/** Volcano reads the PodGroup's queue from this JobSet annotation (the runtime's template metadata). */
const VOLCANO_QUEUE_ANNOTATION = 'scheduling.volcano.sh/queue-name';

/**
 * The Trainer mounts its ssh keys and hostfile only into containers named `node`, and the
 * JobSet controller labels the pods with the JobSet (= TrainJob) name and the replicated job.
 */
const TRAINER_POD_CONVENTIONS: OperatorPodConventions = {
  launcherContainerName: 'node',
  workerContainerName: 'node',
  podLabels: trainJobPodLabels,
  rankPodSelector: (name, launcherHostsRanks) => ({
    matchLabels: trainJobPodLabels(name),
    roleLabel: REPLICATED_JOB_NAME_LABEL,
    roles: launcherHostsRanks ? [TrainerReplicatedJob.LAUNCHER, TrainerReplicatedJob.NODE] : [TrainerReplicatedJob.NODE],
  }),
};

/**
 * Properties of a DeepSpeed TrainJob: the props of every DeepSpeed job (the same as
 * `DeepSpeedMpiJobProps`) and the runtime the TrainJob runs with.
 */
export interface DeepSpeedTrainJobProps extends DeepSpeedJobProps {
  /**
   * The Trainer runtime: generated from the image's facts, or one the platform provides.
   * @default TrainerRuntime.generated()
   */
  readonly runtime?: TrainerRuntime;
}

/** A generated API object rendered through TypedSpecRenderer (JSON patches on the final manifest). */
class TrainJobResource extends trainer.TrainJob {
  private readonly renderer: TypedSpecRenderer<trainer.TrainJobSpec>;

  public constructor(scope: Construct, id: string, metadata: ApiObjectMetadata, renderSpec: () => trainer.TrainJobSpec) {
    super(scope, id, { metadata, spec: Lazy.any({ produce: renderSpec }) });
    this.renderer = new TypedSpecRenderer(this, renderSpec,
      (meta, spec) => ({ ...trainer.TrainJob.GVK, ...trainer.toJson_TrainJobProps({ metadata: meta, spec }) }));
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.renderer.addJsonPatch(ops);
  }

  public toJson(): any {
    return this.renderer.toJson(() => super.toJson());
  }
}

/** The generated TrainingRuntime, rendered like TrainJobResource. */
class TrainingRuntimeResource extends trainer.TrainingRuntime {
  private readonly renderer: TypedSpecRenderer<trainer.TrainingRuntimeSpec>;

  public constructor(scope: Construct, id: string, metadata: ApiObjectMetadata, renderSpec: () => trainer.TrainingRuntimeSpec) {
    super(scope, id, { metadata, spec: Lazy.any({ produce: renderSpec }) });
    this.renderer = new TypedSpecRenderer(this, renderSpec,
      (meta, spec) => ({ ...trainer.TrainingRuntime.GVK, ...trainer.toJson_TrainingRuntimeProps({ metadata: meta, spec }) }));
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.renderer.addJsonPatch(ops);
  }

  public toJson(): any {
    return this.renderer.toJson(() => super.toJson());
  }
}

type PodTemplate = trainer.TrainingRuntimeSpecTemplateSpecReplicatedJobsTemplateSpecTemplate;

/**
 * A DeepSpeed training job on Kubeflow Trainer v2: a TrainJob (`trainer.kubeflow.org/v1alpha1`)
 * running the same launch as `DeepSpeedMpiJob` (the same mpirun argv, pods and DeepSpeed
 * config ConfigMap) through the Trainer's MPI plugin, with a TrainingRuntime generated from the
 * image's facts or one the platform provides. The Trainer's controller creates the SSH Secret,
 * the hostfile, the headless Service and any PodGroup; the job never emits them.
 */
export class DeepSpeedTrainJob extends Construct implements IDeepSpeedJob {
  /** The TrainJob API object; use it for escape hatches such as `addJsonPatch` (applied to the final manifest). */
  public readonly apiObject: ApiObject;
  /** The generated TrainingRuntime, when the runtime is generated (`addJsonPatch` applies to the final manifest). */
  public readonly trainingRuntime?: ApiObject;
  /** The runtime the TrainJob references. */
  public readonly runtime: TrainerRuntime;
  /** The launcher (the `launcher` replicated job, the Trainer's ancestor job). */
  public readonly launcher: MpiLauncher;
  /** The workers (the `node` replicated job). */
  public readonly workers: MpiWorkerPool;
  /** The ConfigMap that holds the DeepSpeed configuration, if one was given (shared when it comes from a registry). */
  public readonly configMap?: ApiObject;
  /** The DeepSpeed configuration as written to the ConfigMap (DeepSpeed's key names). */
  public readonly deepspeedConfigJson?: { [key: string]: any };
  /** The image the job runs. */
  public readonly image: IDeepSpeedTrainingImage;
  /** Whether the launcher also hosts ranks (the runtime's `runLauncherAsNode`). */
  public readonly runLauncherAsWorker: boolean;
  /** Whether the launcher Job waits for every node pod to be Ready (`dependsOn` in a generated runtime). */
  public readonly launcherWaitsForReadyNodes: boolean;
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

  private readonly props: DeepSpeedTrainJobProps;

  public constructor(scope: Construct, id: string, props: DeepSpeedTrainJobProps) {
    super(scope, id);
    this.props = props;
    this.image = props.image;
    this.runtime = props.runtime ?? TrainerRuntime.generated();
    this.runLauncherAsWorker = props.runLauncherAsWorker ?? false;
    // The Trainer's own reference runtime makes the launcher wait for ready nodes (#3748);
    // AtStartup, when asked for, leaves the wait out.
    this.launcherWaitsForReadyNodes = props.launcherCreationPolicy !== LauncherCreationPolicy.AT_STARTUP;
    this.security = props.security ?? {};
    this.scheduling = props.scheduling ?? {};
    this.network = props.network ?? {};
    this.storage = props.storage ?? {};

    const name = props.metadata?.name ?? Names.toDnsLabel(this, { includeHash: false });
    if (this.runtime.generatesRuntime) {
      // Before the TrainJob: the Trainer's webhook rejects a TrainJob whose runtime does not exist.
      this.trainingRuntime = new TrainingRuntimeResource(this, 'Runtime', {
        name: this.runtime.name ?? `${name}-runtime`,
        namespace: props.metadata?.namespace,
        labels: { 'trainer.kubeflow.org/framework': 'deepspeed' },
      }, () => this.renderRuntimeSpec());
    }
    this.apiObject = new TrainJobResource(this, 'Resource', { ...props.metadata, name }, () => this.renderSpec());

    const parts = buildJobParts(this, this.apiObject, props, TRAINER_POD_CONVENTIONS);
    this.workers = parts.workers;
    this.launcher = parts.launcher;
    this.configMap = parts.configMap;
    this.deepspeedConfigJson = parts.deepspeedConfigJson;
    this.networkPolicy = parts.networkPolicy;
    this.serviceAccount = parts.serviceAccount;

    registerTrainJobValidation(this);
  }

  /** The TrainJob's name (`metadata.name`), also the JobSet's and the headless Service's. */
  public get name(): string {
    return this.apiObject.name;
  }

  /** The name of the runtime the TrainJob references. */
  public get runtimeName(): string {
    return this.trainingRuntime?.name ?? this.runtime.name!;
  }

  /** The replicas whose pods host ranks: the workers, and the launcher when it runs as a node. */
  public get rankReplicas(): MpiReplica[] {
    return this.runLauncherAsWorker ? [this.launcher, this.workers] : [this.workers];
  }

  /** Total number of ranks (`mpirun -np`). */
  public get worldSize(): number {
    return this.launcher.worldSize;
  }

  /** MPI slots per host (`numProcPerNode`). */
  public get slotsPerWorker(): number {
    return this.workers.slotsPerWorker;
  }

  /**
   * `trainer.numNodes`: the hosts of the hostfile. The Trainer creates numNodes node pods, or
   * numNodes - 1 when the launcher runs as a node.
   */
  public get numNodes(): number {
    return this.workers.replicas + (this.runLauncherAsWorker ? 1 : 0);
  }

  /** Whether the job is created suspended (Kueue admits it by resuming it). */
  public get suspended(): boolean {
    return this.props.suspend ?? (this.scheduling.kueue ? true : false);
  }

  /** The props the job was created with. */
  public get jobProps(): DeepSpeedTrainJobProps {
    return this.props;
  }

  /** Sets a variable for the training processes: on the launcher, forwarded to every rank with `-x`. */
  public addEnv(name: string, value: EnvValue): void {
    this.launcher.addTrainingEnv(name, value);
  }

  /** Mounts a volume at `path` on the launcher and on every worker. */
  public addVolume(path: string, volume: Volume, options: MountOptions = {}): void {
    this.launcher.mount(path, volume, options);
    this.workers.mount(path, volume, options);
  }

  private renderSpec(): trainer.TrainJobSpec {
    const props = this.props;
    return {
      runtimeRef: { apiGroup: TRAINER_API_GROUP, kind: this.runtime.kind, name: this.runtimeName },
      trainer: this.runtime.generatesRuntime
        ? { numNodes: this.numNodes, numProcPerNode: this.slotsPerWorker }
        : this.renderReferencedTrainer(),
      runtimePatches: this.runtime.generatesRuntime ? undefined : [this.renderRuntimePatch()],
      suspend: props.suspend ?? (this.scheduling.kueue ? true : undefined),
      managedBy: this.scheduling.kueue?.multiKueue ? MULTIKUEUE_CONTROLLER : undefined,
      activeDeadlineSeconds: props.activeDeadline?.toSeconds({ integral: false }),
    };
  }

  /**
   * The pod template of a replica as the runtime holds it: the container named `node`, the
   * pod's restart policy and fsGroup.
   * @internal
   */
  public _podTemplate(replica: MpiReplica): PodTemplate {
    const template: PodTemplate = replica._toReplicaSpec(1).template!;
    const spec = template.spec!;
    const user = this.image.user;
    const gang = this.scheduling.gangScheduling;
    return {
      ...template,
      spec: {
        ...spec,
        restartPolicy: replica.restartPolicy,
        // Writable volumes and the group-readable (0640) key file the Trainer mounts need the user's group.
        securityContext: user.isRoot ? spec.securityContext : { ...spec.securityContext, fsGroup: user.gid },
        schedulerName: gang ? this.gangSchedulerName() : undefined,
      },
    };
  }

  /** The scheduler that honours the PodGroup the Trainer creates. */
  private gangSchedulerName(): string {
    return this.runtime.gangSchedulerName
      ?? (this.scheduling.gangScheduling?.volcanoQueue ? 'volcano' : 'scheduler-plugins-scheduler');
  }

  private renderRuntimeSpec(): trainer.TrainingRuntimeSpec {
    const props = this.props;
    const gang = this.scheduling.gangScheduling;
    const volcano = gang?.volcanoQueue !== undefined;
    return {
      mlPolicy: {
        // The launcher Job's parallelism comes from here: one launcher.
        numNodes: 1,
        mpi: {
          mpiImplementation: this.image.mpiImplementation as string as trainer.TrainingRuntimeSpecMlPolicyMpiMpiImplementation,
          numProcPerNode: this.slotsPerWorker,
          sshAuthMountPath: this.image.user.sshDirectory,
          runLauncherAsNode: this.runLauncherAsWorker,
        },
      },
      podGroupPolicy: gang
        ? (volcano ? { volcano: {} } : { coscheduling: { scheduleTimeoutSeconds: gang.scheduleTimeout?.toSeconds({ integral: false }) } })
        : undefined,
      template: {
        metadata: volcano ? { annotations: { [VOLCANO_QUEUE_ANNOTATION]: gang!.volcanoQueue! } } : undefined,
        spec: {
          // Ranks resolve the node pods' names before they are Ready (the launcher may run first).
          network: { publishNotReadyAddresses: true },
          // sshd on the nodes never exits: the job succeeds when the launcher does.
          successPolicy: { operator: trainer.TrainingRuntimeSpecTemplateSpecSuccessPolicyOperator.ALL, targetReplicatedJobs: [TrainerReplicatedJob.LAUNCHER] },
          ttlSecondsAfterFinished: props.ttlAfterFinished?.toSeconds({ integral: false }),
          replicatedJobs: [
            {
              name: TrainerReplicatedJob.NODE,
              template: { spec: { template: this._podTemplate(this.workers) } },
            },
            {
              name: TrainerReplicatedJob.LAUNCHER,
              dependsOn: this.launcherWaitsForReadyNodes
                ? [{ name: TrainerReplicatedJob.NODE, status: trainer.TrainingRuntimeSpecTemplateSpecReplicatedJobsDependsOnStatus.READY }]
                : undefined,
              template: {
                metadata: { labels: { [TRAINJOB_ANCESTOR_LABEL]: 'trainer' } },
                spec: { backoffLimit: props.backoffLimit ?? DEFAULT_BACKOFF_LIMIT, template: this._podTemplate(this.launcher) },
              },
            },
          ],
        },
      },
    };
  }

  /**
   * What a TrainJob may set for a runtime it does not own: the launcher's image, argv and env,
   * the host and slot counts, and the resources of each pod that hosts ranks.
   */
  private renderReferencedTrainer(): trainer.TrainJobSpecTrainer {
    const launcher: mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainers = this._podTemplate(this.launcher).spec!.containers[0];
    // resourcesPerNode reaches the launcher, and the nodes only when the launcher runs as a node.
    const resources = (this.runLauncherAsWorker ? this._podTemplate(this.workers).spec!.containers[0] : launcher).resources;
    return {
      image: this.image.imageRef,
      command: launcher.command,
      env: launcher.env,
      numNodes: this.numNodes,
      numProcPerNode: this.slotsPerWorker,
      resourcesPerNode: resources,
    };
  }

  /** The pod settings a runtime patch may carry (PodSpecPatch and ContainerPatch fields), for both replicated jobs. */
  private renderRuntimePatch(): trainer.TrainJobSpecRuntimePatches {
    const patch = (jobName: string, replica: MpiReplica): trainer.TrainJobSpecRuntimePatchesTrainingRuntimeSpecTemplateSpecReplicatedJobs => {
      const template = this._podTemplate(replica);
      const spec = template.spec!;
      const container = spec.containers[0];
      return {
        name: jobName,
        template: {
          spec: {
            template: {
              metadata: template.metadata,
              spec: {
                serviceAccountName: spec.serviceAccountName,
                securityContext: spec.securityContext,
                volumes: spec.volumes,
                nodeSelector: spec.nodeSelector,
                tolerations: spec.tolerations,
                affinity: spec.affinity,
                containers: [{ name: container.name, volumeMounts: container.volumeMounts, securityContext: container.securityContext }],
              },
            },
          },
        },
      };
    };
    return {
      manager: RUNTIME_PATCH_MANAGER,
      trainingRuntimeSpec: {
        template: {
          spec: {
            replicatedJobs: [patch(TrainerReplicatedJob.LAUNCHER, this.launcher), patch(TrainerReplicatedJob.NODE, this.workers)],
          },
        },
      },
    };
  }
}
