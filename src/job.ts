import { ApiObject, ApiObjectMetadata, App, Duration, ImplicitTokenResolver, JsonPatch, Lazy, LazyResolver, Names, NumberStringUnionResolver } from 'cdk8s';
import { Construct } from 'constructs';
import * as mpi from '../imports/kubeflow.org';
import { MpiOperatorVersion, operatorVersionAtLeast } from './compatibility';
import { DeepSpeedConfigRegistry, newDeepSpeedConfigMap } from './config-registry';
import { DeepSpeedConfig } from './deepspeed-config';
import { DEEPSPEED_CONFIG_DIR, DEEPSPEED_CONFIG_FILE_NAME, renderDeepSpeedConfig, renderDeepSpeedConfigFile } from './deepspeed-config-render';
import { EnvValue } from './env-value';
import { IDeepSpeedTrainingImage } from './image';
import { MpiLauncher, MpiLauncherOptions } from './launcher';
import { MpirunOptions } from './mpirun';
import { JobNetworkOptions, networkEnv } from './network';
import { MpiReplica } from './replica';
import { applyPodScheduling, JobSchedulingOptions, MULTIKUEUE_CONTROLLER, renderSchedulingPolicy } from './scheduling';
import { createJobNetworkPolicy, createJobServiceAccount, JobSecurityOptions } from './security';
import { checkpointArgs, JobStorageOptions } from './storage';
import { CleanPodPolicy, LauncherCreationPolicy } from './types';
import { registerJobValidation } from './validation';
import { MountOptions, Volume } from './volume';
import { MpiWorkerPool, MpiWorkerPoolOptions } from './worker-pool';

/** Thrown inside `sanitizeTyped` when the spec holds a value only the cdk8s resolver can render. */
const NEEDS_RESOLVER = Symbol('needs the cdk8s resolver');

/**
 * What cdk8s's resolver and sanitizer make of a spec built from typed values (keys sorted unless
 * CDK8S_DISABLE_SORT is set, null and undefined fields dropped), without walking it through the
 * resolver. Number-or-string unions (quantities, ports) stay for the generated converters to
 * unwrap, as they do after the resolver; anything else that is not plain JSON is a token.
 */
function sanitizeTyped(value: any, sortKeys: boolean): any {
  if (value === null || typeof value !== 'object') return value ?? undefined;
  if (Array.isArray(value)) return value.map(item => sanitizeTyped(item, sortKeys));
  if (typeof value.resolve === 'function') throw NEEDS_RESOLVER;
  if (value.constructor !== Object) {
    if (typeof value.value === 'string' || typeof value.value === 'number') return value;
    throw NEEDS_RESOLVER;
  }
  const out: { [key: string]: any } = {};
  const keys = sortKeys ? Object.keys(value).sort() : Object.keys(value);
  for (const key of keys) {
    const item = sanitizeTyped(value[key], sortKeys);
    if (item != null) out[key] = item;
  }
  return out;
}

/** Whether the app uses only cdk8s's own resolvers, which a spec without tokens does not need. */
function onlyBuiltInResolvers(app: App): boolean {
  return app.resolvers.every(r => r instanceof LazyResolver || r instanceof ImplicitTokenResolver || r instanceof NumberStringUnionResolver);
}

/**
 * The generated MpiJob maps its JSON through typed converters after applying JSON patches,
 * which drops unknown fields and turns patched quantities into null. This subclass applies
 * patches to the final manifest instead, so escape hatches do what they say.
 *
 * It also renders the spec without the cdk8s resolver when nothing needs it: the resolver visits
 * every value of the spec and was most of the cost of a render, which validation and synthesis
 * both pay. The output is the same either way.
 */
class MpiJobResource extends mpi.MpiJob {
  private readonly finalPatches: JsonPatch[] = [];
  /**
   * The spec the job's validation rendered, kept for the synthesis that follows it (cdk8s
   * validates right before it renders, once more for every chart with synthYaml). Any change to
   * the replicas or the patches changes the revision and discards it; synthesis takes it once.
   */
  private validatedSpec?: { readonly revision: number; readonly spec: any };

  public constructor(scope: Construct, id: string, metadata: ApiObjectMetadata,
    private readonly renderSpec: () => mpi.MpiJobSpec, private readonly revision: () => number) {
    super(scope, id, { metadata, spec: Lazy.any({ produce: renderSpec }) });
  }

  public addJsonPatch(...ops: JsonPatch[]): void {
    this.finalPatches.push(...ops);
  }

  public toJson(): any {
    return this.render(false);
  }

  /**
   * The manifest as validation sees it: the same as `toJson()`, and kept for the next `toJson()`.
   * @internal
   */
  public _toJsonForValidation(): any {
    return this.render(true);
  }

  private render(forValidation: boolean): any {
    const revision = this.revision() + this.finalPatches.length;
    const kept = this.validatedSpec?.revision === revision ? this.validatedSpec.spec : undefined;
    const spec = kept ?? this.renderSpecWithoutResolver();
    this.validatedSpec = forValidation && spec !== undefined ? { revision, spec } : undefined;
    const json = spec === undefined ? super.toJson() : { ...mpi.MpiJob.GVK, metadata: this.metadata.toJson(), spec };
    if (this.finalPatches.length === 0) return json;
    // JSON patches change the document they are applied to: never the kept spec.
    return JsonPatch.apply(spec === undefined ? json : structuredClone(json), ...this.finalPatches);
  }

  /** The spec as the generated converters write it, or undefined when it needs the cdk8s resolver. */
  private renderSpecWithoutResolver(): any | undefined {
    if (!onlyBuiltInResolvers(App.of(this))) return undefined;
    try {
      return mpi.toJson_MpiJobProps({ metadata: {}, spec: sanitizeTyped(this.renderSpec(), !process.env.CDK8S_DISABLE_SORT) })!.spec;
    } catch (e) {
      if (e === NEEDS_RESOLVER) return undefined;
      throw e;
    }
  }
}

/**
 * What a launcher that hosts ranks takes from the workers unless set on the launcher: it runs the
 * same ranks, so it needs their CPU, memory (which also holds /dev/shm) and GPU node placement.
 */
function rankPodDefaults(workers: MpiWorkerPoolOptions): MpiLauncherOptions {
  return {
    cpu: workers.cpu,
    cpuLimit: workers.cpuLimit,
    memory: workers.memory,
    memoryLimit: workers.memoryLimit,
    tolerations: workers.tolerations,
    nodeSelector: workers.nodeSelector,
  };
}

/**
 * Properties of a DeepSpeed MPIJob.
 */
export interface DeepSpeedMpiJobProps {
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
   * When the operator creates the launcher.
   * @default LauncherCreationPolicy.AT_STARTUP
   */
  readonly launcherCreationPolicy?: LauncherCreationPolicy;

  /**
   * What happens to worker pods once the job finishes. The operator's own default, None,
   * leaves sshd workers (and their GPUs) running forever.
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
   * @default - the Kubernetes Job default, 6
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
   * synth instead of being pruned by the API server.
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
 * A DeepSpeed training job on the Kubeflow MPI Operator: the MPIJob (launcher and worker
 * replicas) and a ConfigMap holding the DeepSpeed configuration.
 */
export class DeepSpeedMpiJob extends Construct {
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

    this.apiObject = new MpiJobResource(this, 'Resource', {
      ...props.metadata,
      name: props.metadata?.name ?? Names.toDnsLabel(this, { includeHash: false }),
    }, () => this.renderSpec(), () => this.launcher._revision + this.workers._revision);

    this.workers = new MpiWorkerPool(this, 'Workers', { ...props.workers, image: props.image });

    let configFile: string | undefined;
    if (props.deepspeedConfig) {
      this.deepspeedConfigJson = renderDeepSpeedConfig(props.deepspeedConfig);
      const namespace = props.metadata?.namespace;
      this.configMap = props.configRegistry
        ? props.configRegistry.configMapFor(this.deepspeedConfigJson, namespace)
        : newDeepSpeedConfigMap(this, 'DeepSpeedConfig', `${this.name}-deepspeed`, renderDeepSpeedConfigFile(this.deepspeedConfigJson), namespace);
      if (props.passDeepSpeedConfigArgument ?? true) {
        configFile = `${DEEPSPEED_CONFIG_DIR}/${DEEPSPEED_CONFIG_FILE_NAME}`;
      }
    }

    this.launcher = new MpiLauncher(this, 'Launcher', {
      ...(this.runLauncherAsWorker ? rankPodDefaults(props.workers) : {}),
      ...props.launcher,
      image: props.image,
      workers: this.workers,
      script: props.script,
      args: [...props.args ?? [], ...checkpointArgs(this.storage.checkpoint)],
      mpirun: props.mpirun,
      deepspeedConfigFile: configFile,
      runAsWorker: this.runLauncherAsWorker,
    });

    if (this.configMap) {
      const volume = Volume.fromConfigMap(this.configMap.name, { name: 'deepspeed-config' });
      this.addVolume(DEEPSPEED_CONFIG_DIR, volume, { readOnly: true });
    }
    for (const [name, value] of Object.entries(props.env ?? {})) {
      this.addEnv(name, value);
    }
    this.applyNetwork();
    for (const [index, storage] of (this.storage.volumes ?? []).entries()) {
      const volume = storage._bind(this, `Storage${index}`, this.name, props.metadata?.namespace);
      this.addVolume(storage.mountPath, volume, { readOnly: storage.readOnly, subPath: storage.subPath });
    }
    applyPodScheduling(this, this.scheduling);
    if (this.security.networkPolicy ?? true) {
      this.networkPolicy = ApiObject.of(createJobNetworkPolicy(this, this.name, props.metadata?.namespace));
    }
    if (this.security.createServiceAccount) {
      this.serviceAccount = ApiObject.of(createJobServiceAccount(this, this.name, props.metadata?.namespace,
        this.security.automountServiceAccountToken ?? false));
    }
    this.applyPodIdentity();

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

  /** Interconnect devices on the rank pods; NCCL variables on every rank, unless the job's env sets them. */
  private applyNetwork(): void {
    const interconnect = this.network.interconnect;
    if (interconnect) {
      for (const replica of this.rankReplicas) interconnect._applyTo(replica);
    }
    for (const [name, value] of Object.entries(networkEnv(this.network))) {
      if (!this.launcher.envNames.includes(name)) this.addEnv(name, EnvValue.fromValue(value));
    }
  }

  private applyPodIdentity(): void {
    const identity = {
      serviceAccountName: this.security.serviceAccountName ?? this.serviceAccount?.name,
      automountServiceAccountToken: this.security.automountServiceAccountToken ?? false,
    };
    this.launcher.setIdentity(identity);
    this.workers.setIdentity(identity);
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
        ttlSecondsAfterFinished: props.ttlAfterFinished?.toSeconds(),
        activeDeadlineSeconds: props.activeDeadline?.toSeconds(),
        backoffLimit: props.backoffLimit,
        suspend: props.suspend ?? (this.scheduling.kueue ? true : undefined),
        managedBy: this.scheduling.kueue?.multiKueue ? MULTIKUEUE_CONTROLLER : undefined,
        schedulingPolicy: this.scheduling.gangScheduling ? renderSchedulingPolicy(this, this.scheduling.gangScheduling) : undefined,
      },
      mpiReplicaSpecs: replicaSpecs,
    };
  }
}
