import { Size } from 'cdk8s';
import { Construct } from 'constructs';
import * as mpi from '../imports/kubeflow.org';
import { MpiReplica, MpiReplicaOptions, MpiReplicaProps } from './replica';
import { ReplicaRestartPolicy } from './types';


/**
 * Options for the worker pods.
 */
export interface MpiWorkerPoolOptions extends MpiReplicaOptions {
  /**
   * Number of worker pods.
   */
  readonly replicas: number;

  /**
   * GPUs per worker pod, requested with request equal to limit.
   * @default 0
   */
  readonly gpusPerWorker?: number;

  /**
   * Extended resource name of the GPUs.
   * @default 'nvidia.com/gpu'
   */
  readonly gpuResourceName?: string;

  /**
   * MPI slots (ranks) per worker; each rank drives one GPU.
   * @default - the GPU count, or 1 without GPUs
   */
  readonly slotsPerWorker?: number;

  /**
   * Size of the memory-backed `/dev/shm` volume. NCCL and the PyTorch data loader use it and
   * container runtimes only give 64 MiB. It counts against the pod's memory limit.
   * @default - 1 GiB per slot
   */
  readonly sharedMemorySize?: Size;
}

/**
 * Properties of the worker pool.
 */
export interface MpiWorkerPoolProps extends MpiWorkerPoolOptions, MpiReplicaProps {}

/**
 * The worker replicas of an MPIJob: pods that run sshd and host the MPI ranks, with GPUs,
 * shared memory and the ssh readiness probe.
 */
export class MpiWorkerPool extends MpiReplica {
  /** Number of worker pods. */
  public readonly replicas: number;
  /** GPUs per worker pod. */
  public readonly gpusPerWorker: number;
  /** Extended resource name of the GPUs. */
  public readonly gpuResourceName: string;
  /** MPI slots (ranks) per worker. */
  public readonly slotsPerWorker: number;
  /** Size of the `/dev/shm` volume. */
  public readonly sharedMemorySize: Size;

  public constructor(scope: Construct, id: string, props: MpiWorkerPoolProps) {
    super(scope, id, props, ReplicaRestartPolicy.NEVER);
    this.replicas = props.replicas;
    this.gpusPerWorker = props.gpusPerWorker ?? 0;
    this.gpuResourceName = props.gpuResourceName ?? 'nvidia.com/gpu';
    // Counts that are not whole are reported by validation under their props; the defaults
    // derived from them stay whole so that the job can be built and checked.
    const wholeGpus = Number.isInteger(this.gpusPerWorker) && this.gpusPerWorker > 0 ? this.gpusPerWorker : 1;
    this.slotsPerWorker = props.slotsPerWorker ?? wholeGpus;
    const wholeSlots = Number.isInteger(this.slotsPerWorker) && this.slotsPerWorker > 0 ? this.slotsPerWorker : 1;
    this.sharedMemorySize = props.sharedMemorySize ?? Size.gibibytes(wholeSlots);

    if (this.gpusPerWorker > 0) {
      this.addExtendedResource(this.gpuResourceName, this.gpusPerWorker);
    }
    this.mountSharedMemory(this.sharedMemorySize);
  }

  /** Name of the worker container. */
  public get containerName(): string {
    return this.givenContainerName ?? 'worker';
  }

  /** Total MPI slots across the worker pods. */
  public get totalSlots(): number {
    return this.replicas * this.slotsPerWorker;
  }

  /** The command that runs sshd in the foreground, as the image's user, on the image's port. */
  protected renderCommand(): string[] {
    const command = ['/usr/sbin/sshd', '-De', '-p', String(this.image.sshPort)];
    if (this.image.sshdConfigPath) {
      command.push('-f', this.image.sshdConfigPath);
    }
    return command;
  }

  /** @internal */
  protected _renderPorts(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersPorts[] {
    return [{ name: 'ssh', containerPort: this.image.sshPort, protocol: 'TCP' }];
  }

  /** @internal */
  protected _renderReadinessProbe(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersReadinessProbe {
    // Ready means sshd accepts connections: what the launcher and WaitForWorkersReady need.
    return {
      tcpSocket: { port: mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersReadinessProbeTcpSocketPort.fromNumber(this.image.sshPort) },
      initialDelaySeconds: 2,
      periodSeconds: 5,
    };
  }
}
