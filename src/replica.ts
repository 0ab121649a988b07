import { Size } from 'cdk8s';
import { Construct } from 'constructs';
import * as mpi from '../imports/kubeflow.org';
import { Cpu } from './cpu';
import { EnvValue } from './env-value';
import { IDeepSpeedTrainingImage } from './image';
import { JOB_ROLE_LABEL, jobPodLabels, MpiJobRole } from './operator-labels';
import { cpuToQuantity, sizeToQuantity } from './quantity';
import { NodeLabelQuery, Toleration } from './toleration';
import { ReplicaRestartPolicy } from './types';
import { EmptyDirMedium, MountOptions, Volume } from './volume';

/** Where the memory-backed shared-memory volume is mounted. */
export const SHARED_MEMORY_PATH = '/dev/shm';

type Limits = mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesLimits;
type Requests = mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesRequests;

/**
 * Options shared by the launcher and the workers.
 */
export interface MpiReplicaOptions {
  /**
   * CPU request, also used as the limit unless `cpuLimit` is set.
   * @default - no CPU request or limit; `Cpu.units(1)` on the launcher
   */
  readonly cpu?: Cpu;
  /**
   * CPU limit.
   * @default - the value of `cpu`
   */
  readonly cpuLimit?: Cpu;
  /**
   * Memory request, also used as the limit unless `memoryLimit` is set.
   * @default - no memory request or limit; `Size.gibibytes(2)` on the launcher
   */
  readonly memory?: Size;
  /**
   * Memory limit.
   * @default - the value of `memory`
   */
  readonly memoryLimit?: Size;
  /**
   * Taints the pods tolerate (e.g. `Toleration.nvidiaGpu()` or
   * `Toleration.equal('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })`).
   * @default - none
   */
  readonly tolerations?: Toleration[];
  /**
   * Node labels the pods require (`nodeSelector`).
   * @default - none
   */
  readonly nodeSelector?: { [key: string]: string };
  /**
   * Labels on the pod template.
   * @default - none
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Annotations on the pod template.
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };
  /**
   * Restart policy of the replica.
   * @default - OnFailure for the launcher, Never for the workers
   */
  readonly restartPolicy?: ReplicaRestartPolicy;
}

/**
 * Properties of a replica.
 */
export interface MpiReplicaProps extends MpiReplicaOptions {
  /** The image the replica runs. */
  readonly image: IDeepSpeedTrainingImage;
  /**
   * Name of the replica's container. The Trainer mounts its ssh keys and hostfile only into
   * containers named `node`.
   * @default - `launcher` for the launcher, `worker` for the workers
   */
  readonly containerName?: string;
}

/**
 * The pods a rank pod keeps off its node: those with all `matchLabels` and a `roleLabel` in `roles`.
 * @internal
 */
export interface RankPodSelector {
  readonly matchLabels: { [key: string]: string };
  readonly roleLabel: string;
  readonly roles: string[];
}

/**
 * Page size of a huge-page resource (`hugepages-<size>`).
 */
export enum HugePageSize {
  /** 2 MiB pages (`hugepages-2Mi`), the size libfabric and DPDK use. */
  TWO_MEBIBYTES = '2Mi',
  /** 1 GiB pages (`hugepages-1Gi`). */
  ONE_GIBIBYTE = '1Gi',
}

/**
 * Who runs the replica's pods and whether the API token is mounted.
 */
export interface PodIdentity {
  /**
   * The ServiceAccount the pods run as.
   * @default - the namespace's `default` ServiceAccount
   */
  readonly serviceAccountName?: string;
  /** Whether Kubernetes mounts the ServiceAccount token into the pods. */
  readonly automountServiceAccountToken: boolean;
}

/**
 * Who owns the files of the pod's persistent volumes (`fsGroup`).
 * @internal
 */
export interface VolumeOwnership {
  /** Whether to set fsGroup at all. */
  readonly enabled: boolean;
  /** The group, when the job sets one; otherwise the image user's gid on pods with persistent volumes. */
  readonly fsGroup?: number;
  /** `fsGroupChangePolicy`. */
  readonly changePolicy: string;
}

/** Volume sources the kubelet writes itself, world- or user-readable: no fsGroup needed. */
const NON_PERSISTENT_SOURCES = ['configMap', 'secret', 'emptyDir', 'downwardAPI', 'projected'];

interface Mount {
  readonly path: string;
  readonly volume: Volume;
  readonly options: MountOptions;
}

/**
 * One replica type of an MPIJob (the launcher or the workers): a pod template with one
 * container, built through the types imported from the MPIJob CRD.
 */
export abstract class MpiReplica extends Construct {
  /** Where the memory-backed shared-memory volume is mounted (`/dev/shm`). */
  public static readonly SHARED_MEMORY_PATH: string = SHARED_MEMORY_PATH;

  /** The image this replica runs. */
  public readonly image: IDeepSpeedTrainingImage;
  /** Restart policy of the replica. */
  public readonly restartPolicy: ReplicaRestartPolicy;

  private readonly env = new Map<string, EnvValue>();
  private readonly volumes: Volume[] = [];
  private readonly mounts: Mount[] = [];
  private readonly tolerations: Toleration[] = [];
  private readonly nodeSelector: { [key: string]: string } = {};
  private readonly requiredNodeLabels: NodeLabelQuery[] = [];
  private readonly podLabels: { [key: string]: string } = {};
  private readonly podAnnotations: { [key: string]: string } = {};
  private readonly requests = new Map<string, string | number>();
  private readonly limits = new Map<string, string | number>();
  private readonly addedCapabilities: string[] = [];
  /** Counts the changes to what the replica renders, so an unchanged render can be reused. */
  private revision = 0;
  private antiAffinity?: RankPodSelector;
  private readonly containerNameOverride?: string;
  private hostNetwork = false;
  private priorityClassName?: string;
  private identity?: PodIdentity;
  private volumeOwnership?: VolumeOwnership;

  protected constructor(scope: Construct, id: string, props: MpiReplicaProps, defaultRestartPolicy: ReplicaRestartPolicy) {
    super(scope, id);
    this.image = props.image;
    this.restartPolicy = props.restartPolicy ?? defaultRestartPolicy;
    this.containerNameOverride = props.containerName;
    if (props.cpu) this.setResource('cpu', cpuToQuantity(props.cpu), cpuToQuantity(props.cpuLimit ?? props.cpu));
    else if (props.cpuLimit) this.setResource('cpu', undefined, cpuToQuantity(props.cpuLimit));
    if (props.memory) this.setResource('memory', sizeToQuantity(props.memory), sizeToQuantity(props.memoryLimit ?? props.memory));
    else if (props.memoryLimit) this.setResource('memory', undefined, sizeToQuantity(props.memoryLimit));
    this.tolerate(...(props.tolerations ?? []));
    for (const [key, value] of Object.entries(props.nodeSelector ?? {})) this.addNodeSelector(key, value);
    for (const [key, value] of Object.entries(props.podLabels ?? {})) this.addPodLabel(key, value);
    for (const [key, value] of Object.entries(props.podAnnotations ?? {})) this.addPodAnnotation(key, value);
  }

  /** Name of the replica's container. */
  public abstract get containerName(): string;

  /**
   * How many times what the replica renders has changed.
   * @internal
   */
  public get _revision(): number {
    return this.revision;
  }

  /**
   * Sets a variable on this replica's container. On workers it only reaches sshd, not the
   * ranks; use the job's training env for variables the training processes need.
   */
  public addEnv(name: string, value: EnvValue): void {
    this.revision++;
    this.env.set(name, value);
  }

  /** Names of the variables set on this replica's container, in order. */
  public get envNames(): string[] {
    return [...this.env.keys()];
  }

  /** Adds a volume to the pod without mounting it. */
  public addVolume(volume: Volume): void {
    this.revision++;
    if (!this.volumes.includes(volume)) this.volumes.push(volume);
  }

  /** Mounts a volume into the container at `path`, adding the volume to the pod. */
  public mount(path: string, volume: Volume, options: MountOptions = {}): void {
    this.revision++;
    this.addVolume(volume);
    this.mounts.push({ path, volume, options });
  }

  /**
   * Mounts a memory-backed emptyDir of `size` at /dev/shm: container runtimes give 64 MiB, and
   * NCCL and the PyTorch data loader need more on every pod that hosts ranks.
   */
  public mountSharedMemory(size: Size): void {
    const shm = Volume.fromEmptyDir('dshm', { medium: EmptyDirMedium.MEMORY, sizeLimit: size });
    this.mount(SHARED_MEMORY_PATH, shm);
  }

  /** Lets the pods schedule onto nodes with these taints. */
  public tolerate(...tolerations: Toleration[]): void {
    this.revision++;
    this.tolerations.push(...tolerations);
  }

  /** Requires nodes labelled `key=value` (`nodeSelector`). */
  public addNodeSelector(key: string, value: string): void {
    this.revision++;
    this.nodeSelector[key] = value;
  }

  /** Requires nodes matching all these label queries (required node affinity). */
  public requireNodeLabels(...queries: NodeLabelQuery[]): void {
    this.revision++;
    this.requiredNodeLabels.push(...queries);
  }

  /** Adds a label to the pod template. */
  public addPodLabel(key: string, value: string): void {
    this.revision++;
    this.podLabels[key] = value;
  }

  /** Adds an annotation to the pod template. */
  public addPodAnnotation(key: string, value: string): void {
    this.revision++;
    this.podAnnotations[key] = value;
  }

  /**
   * Requests an extended resource (a GPU, an RDMA or EFA device). Kubernetes requires the
   * request of an extended resource to equal its limit, so one count sets both.
   */
  public addExtendedResource(name: string, count: number): void {
    this.setResource(name, count, count);
  }

  /**
   * Requests huge pages. Kubernetes does not overcommit them, so the request equals the limit,
   * and it requires a CPU or memory request next to them.
   */
  public addHugePages(pageSize: HugePageSize, total: Size): void {
    const quantity = sizeToQuantity(total);
    this.setResource(`hugepages-${pageSize}`, quantity, quantity);
  }

  /** Names of the resources the container requests or limits. */
  public get resourceNames(): string[] {
    return [...new Set([...this.requests.keys(), ...this.limits.keys()])];
  }

  /**
   * Adds a Linux capability to the container (on top of dropping all others for a non-root user).
   * Anything but NET_BIND_SERVICE takes the pods out of the `restricted` Pod Security Standard.
   */
  public addCapability(capability: string): void {
    this.revision++;
    if (!this.addedCapabilities.includes(capability)) this.addedCapabilities.push(capability);
  }

  /**
   * Runs the pods in the node's network namespace, with the DNS policy that keeps cluster names
   * resolvable (`ClusterFirstWithHostNet`).
   */
  public useHostNetwork(): void {
    this.revision++;
    this.hostNetwork = true;
  }

  /** Sets the pods' PriorityClass (`priorityClassName`). */
  public usePriorityClassName(name: string): void {
    this.revision++;
    this.priorityClassName = name;
  }

  /**
   * Sets who owns the files of the pods' persistent volumes.
   * @internal
   */
  public _setVolumeOwnership(ownership: VolumeOwnership): void {
    this.revision++;
    this.volumeOwnership = ownership;
  }

  /** Whether the pods mount a persistent volume (anything but a ConfigMap, Secret, emptyDir, downward API or projected volume). */
  public get mountsPersistentVolume(): boolean {
    return this.volumes.some(volume => Object.keys(volume._toKube()).some(key => key !== 'name' && !NON_PERSISTENT_SOURCES.includes(key)));
  }

  /** The pods' `fsGroup` and its change policy, if any. */
  private renderFsGroup(): { fsGroup?: number; fsGroupChangePolicy?: string } {
    const ownership = this.volumeOwnership;
    if (!ownership?.enabled) return {};
    const fsGroup = ownership.fsGroup ?? (!this.image.user.isRoot && this.mountsPersistentVolume ? this.image.user.gid : undefined);
    return fsGroup === undefined ? {} : { fsGroup, fsGroupChangePolicy: ownership.changePolicy };
  }

  /** Sets the pods' ServiceAccount and whether its token is mounted. */
  public useIdentity(identity: PodIdentity): void {
    this.revision++;
    this.identity = identity;
  }

  /**
   * Keeps this replica's pods off nodes that already run a pod of job `jobName` with one of
   * these roles (required pod anti-affinity on `kubernetes.io/hostname`): one rank pod per node.
   * The selector uses the labels the MPI Operator puts on the pods it creates.
   */
  public spreadAcrossNodes(jobName: string, roles: MpiJobRole[]): void {
    this._spreadAcrossNodesMatching({ matchLabels: jobPodLabels(jobName), roleLabel: JOB_ROLE_LABEL, roles: [...roles] });
  }

  /**
   * Like `spreadAcrossNodes`, with the pod labels of another operator (the Trainer's JobSet labels).
   * @internal
   */
  public _spreadAcrossNodesMatching(selector: RankPodSelector): void {
    this.revision++;
    this.antiAffinity = selector;
  }

  /** The container name given in the props, if any; subclasses fall back to their own. */
  protected get givenContainerName(): string | undefined {
    return this.containerNameOverride;
  }

  /** The request of a resource as a quantity (e.g. `8`, `32Gi`, `1`), or undefined when not requested. */
  public resourceRequest(name: string): string | undefined {
    const value = this.requests.get(name);
    return value === undefined ? undefined : String(value);
  }

  /** The limit of a resource as a quantity, or undefined when not limited. */
  public resourceLimit(name: string): string | undefined {
    const value = this.limits.get(name);
    return value === undefined ? undefined : String(value);
  }

  /** Names of the volumes mounted into the container or added to the pod. */
  public get volumeNames(): string[] {
    return this.volumes.map(v => v.name);
  }

  /**
   * Renders this replica as an MPIJob replica spec.
   * @internal
   */
  public _toReplicaSpec(replicas: number): mpi.MpiJobSpecMpiReplicaSpecs {
    return {
      replicas,
      restartPolicy: this.restartPolicy,
      template: {
        metadata: this.renderTemplateMetadata(),
        spec: this.renderPodSpec(),
      },
    };
  }

  /** The container's argv. */
  protected abstract renderCommand(): string[];

  /**
   * Container ports.
   * @internal
   */
  protected _renderPorts(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersPorts[] | undefined {
    return undefined;
  }

  /**
   * Container readiness probe.
   * @internal
   */
  protected _renderReadinessProbe(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersReadinessProbe | undefined {
    return undefined;
  }

  private setResource(name: string, request: string | number | undefined, limit: string | number | undefined): void {
    this.revision++;
    if (request !== undefined) this.requests.set(name, request);
    if (limit !== undefined) this.limits.set(name, limit);
  }

  private renderTemplateMetadata(): mpi.MpiJobSpecMpiReplicaSpecsTemplateMetadata | undefined {
    const hasLabels = Object.keys(this.podLabels).length > 0;
    const hasAnnotations = Object.keys(this.podAnnotations).length > 0;
    if (!hasLabels && !hasAnnotations) return undefined;
    return {
      labels: hasLabels ? { ...this.podLabels } : undefined,
      annotations: hasAnnotations ? { ...this.podAnnotations } : undefined,
    };
  }

  private renderPodSpec(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpec {
    const user = this.image.user;
    return {
      securityContext: user.isRoot
        ? { runAsUser: 0, runAsGroup: 0, ...this.renderFsGroup(), seccompProfile: { type: 'RuntimeDefault' } }
        : {
          runAsUser: user.uid,
          runAsGroup: user.gid,
          runAsNonRoot: true,
          ...this.renderFsGroup(),
          seccompProfile: { type: 'RuntimeDefault' },
        },
      hostNetwork: this.hostNetwork || undefined,
      // The operator sets this too; stating it keeps the manifest honest about the pods' DNS.
      dnsPolicy: this.hostNetwork ? 'ClusterFirstWithHostNet' : undefined,
      priorityClassName: this.priorityClassName,
      serviceAccountName: this.identity?.serviceAccountName,
      automountServiceAccountToken: this.identity?.automountServiceAccountToken,
      containers: [this.renderContainer()],
      volumes: this.volumes.length > 0 ? this.volumes.map(v => v._toKube()) : undefined,
      tolerations: this.tolerations.length > 0 ? this.tolerations.map(t => t._toKube()) : undefined,
      nodeSelector: Object.keys(this.nodeSelector).length > 0 ? { ...this.nodeSelector } : undefined,
      affinity: this.renderAffinity(),
    };
  }

  private renderAffinity(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecAffinity | undefined {
    const nodeAffinity = this.requiredNodeLabels.length > 0
      ? {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: this.requiredNodeLabels.map(q => q._toKube()) }],
        },
      }
      : undefined;
    const podAntiAffinity = this.antiAffinity
      ? {
        requiredDuringSchedulingIgnoredDuringExecution: [{
          topologyKey: 'kubernetes.io/hostname',
          labelSelector: {
            matchLabels: { ...this.antiAffinity.matchLabels },
            matchExpressions: [{ key: this.antiAffinity.roleLabel, operator: 'In', values: [...this.antiAffinity.roles] }],
          },
        }],
      }
      : undefined;
    if (!nodeAffinity && !podAntiAffinity) return undefined;
    return { nodeAffinity, podAntiAffinity };
  }

  private renderContainer(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainers {
    return {
      name: this.containerName,
      image: this.image.imageRef,
      command: this.renderCommand(),
      workingDir: this.image.workingDirectory,
      env: this.env.size > 0
        ? [...this.env.entries()].map(([name, value]) => value._toKube(name))
        : undefined,
      ports: this._renderPorts(),
      readinessProbe: this._renderReadinessProbe(),
      resources: this.renderResources(),
      volumeMounts: this.mounts.length > 0
        ? this.mounts.map(m => ({
          name: m.volume.name,
          mountPath: m.path,
          readOnly: m.options.readOnly,
          subPath: m.options.subPath,
          subPathExpr: m.options.subPathExpr,
          mountPropagation: m.options.propagation,
        }))
        : undefined,
      // A root sshd needs its capabilities (chroot, setuid); root mode is an explicit opt-in.
      securityContext: this.renderContainerSecurityContext(),
    };
  }

  private renderContainerSecurityContext(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersSecurityContext | undefined {
    const add = this.addedCapabilities.length > 0 ? [...this.addedCapabilities] : undefined;
    // A root sshd needs its capabilities (chroot, setuid); root mode is an explicit opt-in.
    if (this.image.user.isRoot) return add ? { capabilities: { add } } : undefined;
    return { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add } };
  }

  private renderResources(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResources | undefined {
    if (this.requests.size === 0 && this.limits.size === 0) return undefined;
    const quantities = <T>(values: Map<string, string | number>, fromString: (s: string) => T, fromNumber: (n: number) => T) =>
      values.size === 0 ? undefined : Object.fromEntries(
        [...values.entries()].map(([name, v]) => [name, typeof v === 'number' ? fromNumber(v) : fromString(v)]));
    return {
      requests: quantities<Requests>(this.requests,
        mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesRequests.fromString,
        mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesRequests.fromNumber),
      limits: quantities<Limits>(this.limits,
        mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesLimits.fromString,
        mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesLimits.fromNumber),
    };
  }
}
