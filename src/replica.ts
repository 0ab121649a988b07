import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import * as mpi from '../imports/kubeflow.org';
import { IDeepSpeedTrainingImage } from './image';
import { cpuToQuantity, normalizeQuantity, sizeToQuantity } from './quantity';
import { ReplicaRestartPolicy } from './types';

type Limits = mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesLimits;
type Requests = mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersResourcesRequests;

/**
 * Options shared by the launcher and the workers.
 */
export interface MpiReplicaOptions {
  /**
   * CPU request, also used as the limit unless `cpuLimit` is set.
   * @default - no CPU request or limit
   */
  readonly cpu?: kplus.Cpu;
  /**
   * CPU limit.
   * @default - the value of `cpu`
   */
  readonly cpuLimit?: kplus.Cpu;
  /**
   * Memory request, also used as the limit unless `memoryLimit` is set.
   * @default - no memory request or limit
   */
  readonly memory?: Size;
  /**
   * Memory limit.
   * @default - the value of `memory`
   */
  readonly memoryLimit?: Size;
  /**
   * Taints the pods tolerate (e.g. `NodeTaintQuery.is('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })`).
   * @default - none
   */
  readonly tolerations?: kplus.NodeTaintQuery[];
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
}

interface Mount {
  readonly path: string;
  readonly volume: kplus.Volume;
  readonly options: kplus.MountOptions;
}

/**
 * One replica type of an MPIJob (the launcher or the workers): a pod template with one
 * container, built through the types imported from the MPIJob CRD.
 */
export abstract class MpiReplica extends Construct {
  /** The image this replica runs. */
  public readonly image: IDeepSpeedTrainingImage;
  /** Restart policy of the replica. */
  public readonly restartPolicy: ReplicaRestartPolicy;

  private readonly env = new Map<string, kplus.EnvValue>();
  private readonly volumes: kplus.Volume[] = [];
  private readonly mounts: Mount[] = [];
  private readonly tolerations: kplus.NodeTaintQuery[] = [];
  private readonly nodeSelector: { [key: string]: string } = {};
  private readonly requiredNodeLabels: kplus.NodeLabelQuery[] = [];
  private readonly podLabels: { [key: string]: string } = {};
  private readonly podAnnotations: { [key: string]: string } = {};
  private readonly requests = new Map<string, string | number>();
  private readonly limits = new Map<string, string | number>();

  protected constructor(scope: Construct, id: string, props: MpiReplicaProps, defaultRestartPolicy: ReplicaRestartPolicy) {
    super(scope, id);
    this.image = props.image;
    this.restartPolicy = props.restartPolicy ?? defaultRestartPolicy;
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
   * Sets a variable on this replica's container. On workers it only reaches sshd, not the
   * ranks; use the job's training env for variables the training processes need.
   */
  public addEnv(name: string, value: kplus.EnvValue): void {
    this.env.set(name, value);
  }

  /** Names of the variables set on this replica's container, in order. */
  public get envNames(): string[] {
    return [...this.env.keys()];
  }

  /** Adds a volume to the pod without mounting it. */
  public addVolume(volume: kplus.Volume): void {
    if (!this.volumes.includes(volume)) this.volumes.push(volume);
  }

  /** Mounts a volume into the container at `path`, adding the volume to the pod. */
  public mount(path: string, volume: kplus.Volume, options: kplus.MountOptions = {}): void {
    this.addVolume(volume);
    this.mounts.push({ path, volume, options });
  }

  /** Lets the pods schedule onto nodes with these taints. */
  public tolerate(...queries: kplus.NodeTaintQuery[]): void {
    this.tolerations.push(...queries);
  }

  /** Requires nodes labelled `key=value` (`nodeSelector`). */
  public addNodeSelector(key: string, value: string): void {
    this.nodeSelector[key] = value;
  }

  /** Requires nodes matching all these label queries (required node affinity). */
  public requireNodeLabels(...queries: kplus.NodeLabelQuery[]): void {
    this.requiredNodeLabels.push(...queries);
  }

  /** Adds a label to the pod template. */
  public addPodLabel(key: string, value: string): void {
    this.podLabels[key] = value;
  }

  /** Adds an annotation to the pod template. */
  public addPodAnnotation(key: string, value: string): void {
    this.podAnnotations[key] = value;
  }

  /**
   * Requests an extended resource (a GPU, an RDMA or EFA device). Kubernetes requires the
   * request of an extended resource to equal its limit, so one count sets both.
   */
  public addExtendedResource(name: string, count: number): void {
    this.setResource(name, count, count);
  }

  /** The request of a resource, as rendered (e.g. `8`, `32Gi`, 1). */
  public resourceRequest(name: string): string | number | undefined {
    return this.requests.get(name);
  }

  /** The limit of a resource, as rendered. */
  public resourceLimit(name: string): string | number | undefined {
    return this.limits.get(name);
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
  protected renderPorts(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersPorts[] | undefined {
    return undefined;
  }

  /**
   * Container readiness probe.
   * @internal
   */
  protected renderReadinessProbe(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersReadinessProbe | undefined {
    return undefined;
  }

  private setResource(name: string, request: string | number | undefined, limit: string | number | undefined): void {
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
        ? { runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } }
        : {
          runAsUser: user.uid,
          runAsGroup: user.gid,
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        },
      containers: [this.renderContainer()],
      volumes: this.volumes.length > 0 ? this.volumes.map(renderVolume) : undefined,
      tolerations: this.tolerations.length > 0 ? this.tolerations.map(t => t._toKube()) : undefined,
      nodeSelector: Object.keys(this.nodeSelector).length > 0 ? { ...this.nodeSelector } : undefined,
      affinity: this.requiredNodeLabels.length > 0
        ? {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: this.requiredNodeLabels.map(q => q._toKube()) }],
            },
          },
        }
        : undefined,
    };
  }

  private renderContainer(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainers {
    const user = this.image.user;
    return {
      name: this.containerName,
      image: this.image.imageRef,
      command: this.renderCommand(),
      workingDir: this.image.workingDirectory,
      env: this.env.size > 0
        ? [...this.env.entries()].map(([name, value]) => ({ name, value: value.value, valueFrom: value.valueFrom }))
        : undefined,
      ports: this.renderPorts(),
      readinessProbe: this.renderReadinessProbe(),
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
      securityContext: user.isRoot ? undefined : { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    };
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

/** A cdk8s-plus volume as a pod-template volume, with its size limit in the largest exact unit. */
function renderVolume(volume: kplus.Volume): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecVolumes {
  const kube = volume._toKube();
  const sizeLimit = kube.emptyDir?.sizeLimit?.value;
  if (typeof sizeLimit !== 'string') return kube;
  return {
    ...kube,
    emptyDir: {
      ...kube.emptyDir,
      sizeLimit: mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecVolumesEmptyDirSizeLimit.fromString(normalizeQuantity(sizeLimit)),
    },
  };
}
