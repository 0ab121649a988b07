import { Size } from 'cdk8s';
import { HugePageSize, MpiReplica } from './replica';

/** The network fabric an Interconnect preset targets. */
export enum InterconnectKind {
  /** Plain TCP sockets over the pod network. */
  TCP = 'tcp',
  /** InfiniBand or RoCE verbs through an RDMA device plugin. */
  INFINIBAND = 'infiniband',
  /** AWS Elastic Fabric Adapter through libfabric and the aws-ofi-nccl plugin. */
  EFA = 'efa',
}

/**
 * Options every interconnect preset accepts.
 */
export interface InterconnectOptions {
  /**
   * Run the pods that host ranks in the node's network namespace (`hostNetwork: true` with
   * DNS policy `ClusterFirstWithHostNet`). NCCL then sees the node's NICs without a secondary
   * network (Multus, SR-IOV), at a price: the pods leave the `baseline` Pod Security Standard,
   * NetworkPolicies do not apply to them, and sshd shares the node's ports, so it must not
   * listen on the node's own ssh port (22).
   * @default false
   */
  readonly hostNetwork?: boolean;
  /**
   * Keep Open MPI's own messages (the launch, mpi4py's rank discovery, any MPI calls of the
   * script) on TCP: `--mca pml ob1 --mca btl ^openib`, for Open MPI images. NCCL carries the GPU
   * traffic over the fabric either way; without these Open MPI may pick UCX or openib on RDMA
   * adapters, which need locked memory and warn about fork() when DataLoader workers start. The
   * job's own `mpirun.mcaParameters` win over these.
   * @default true
   */
  readonly openMpiOverTcp?: boolean;
}

/** Open MPI's own point-to-point traffic on TCP (and shared memory between local ranks): ob1 with every BTL but openib. */
const OPEN_MPI_OVER_TCP: { [name: string]: string } = { pml: 'ob1', btl: '^openib' };

/**
 * Options of the plain TCP preset.
 */
export interface TcpInterconnectOptions extends InterconnectOptions {
  /**
   * Interfaces NCCL may use (`NCCL_SOCKET_IFNAME`: prefix match, `^` excludes, `=` matches exactly).
   * @default 'eth0', the pod's cluster interface; not set with hostNetwork, where NCCL already skips `lo` and `docker*`
   */
  readonly socketInterface?: string;
}

/**
 * Options of the InfiniBand / RoCE preset.
 */
export interface InfinibandInterconnectOptions extends InterconnectOptions {
  /**
   * Extended resource of the RDMA device plugin.
   * @default 'rdma/hca_shared_devices_a' (Mellanox k8s-rdma-shared-dev-plugin)
   */
  readonly rdmaResource?: string;
  /**
   * RDMA devices requested per pod that hosts ranks.
   * @default 1
   */
  readonly rdmaDevicesPerPod?: number;
  /**
   * HCAs NCCL may use (`NCCL_IB_HCA`, e.g. `['mlx5_0', 'mlx5_1']`).
   * @default - every HCA NCCL finds
   */
  readonly hcas?: string[];
  /**
   * GID index for RoCE (`NCCL_IB_GID_INDEX`); RoCE v2 over IPv4 is usually 3.
   * @default - NCCL's default, right for InfiniBand
   */
  readonly gidIndex?: number;
  /**
   * Interfaces for NCCL's TCP bootstrap (`NCCL_SOCKET_IFNAME`).
   * @default - NCCL's choice
   */
  readonly socketInterface?: string;
  /**
   * Add the IPC_LOCK capability to the pods that host ranks. What lets verbs pin (register)
   * memory is the locked-memory limit (RLIMIT_MEMLOCK) the node's container runtime gives the
   * containers (containerd's systemd unit often sets `LimitMEMLOCK=infinity`, not everywhere);
   * IPC_LOCK only lifts that limit for a process that holds the capability, which a non-root
   * process never does: Kubernetes adds no ambient capabilities, so it is dropped at exec
   * (kubernetes/kubernetes#56374), and ranks started by sshd have none either. The capability
   * also takes the pods out of the `baseline` and `restricted` Pod Security Standards.
   * @default - added for a root image only; a non-root image gets none (asking for it is reported)
   */
  readonly ipcLock?: boolean;
}

/**
 * Options of the AWS EFA preset. libfabric's EFA provider registers (pins) its buffers, so the
 * node's container runtime must give the containers a high enough locked-memory limit
 * (RLIMIT_MEMLOCK; the EKS GPU AMIs set it unlimited); no capability changes that for a
 * non-root rank.
 */
export interface EfaInterconnectOptions extends InterconnectOptions {
  /** EFA devices per pod that hosts ranks (`vpc.amazonaws.com/efa`), e.g. 4 on p4d.24xlarge, 32 on p5.48xlarge. */
  readonly devicesPerPod: number;
  /**
   * 2 MiB huge pages per pod for libfabric's buffers (`hugepages-2Mi`). Kubernetes requires a
   * memory or CPU request next to them.
   * @default Size.mebibytes(5120)
   */
  readonly hugePages?: Size;
  /**
   * Let libfabric use GPUDirect RDMA (`FI_EFA_USE_DEVICE_RDMA=1`), on instance types that support it
   * (p4d, p5). Recent libfabric releases enable it by themselves.
   * @default false
   */
  readonly gpuDirectRdma?: boolean;
}

/** What a preset sets; variables left undefined are not set. */
interface InterconnectSpec {
  readonly kind: InterconnectKind;
  readonly hostNetwork?: boolean;
  readonly env: { [name: string]: string | undefined };
  readonly devices?: { [resource: string]: number };
  readonly capabilities?: string[];
  /** Whether IPC_LOCK was asked for; undefined: root images only. */
  readonly ipcLock?: boolean;
  readonly hugePages?: Size;
  readonly mcaParameters?: { [name: string]: string };
}

/**
 * The network fabric NCCL uses between ranks: the device resources, pod settings and NCCL or
 * libfabric variables one fabric needs. Variables go to every rank (`mpirun -x`); resources,
 * capabilities and hostNetwork go to every pod that hosts ranks (the workers, and the launcher
 * when it runs as a worker).
 */
export class Interconnect {
  /** Plain TCP sockets: NCCL stays off InfiniBand verbs (`NCCL_IB_DISABLE=1`) and on the pod interface. */
  public static tcp(options: TcpInterconnectOptions = {}): Interconnect {
    const hostNetwork = options.hostNetwork ?? false;
    const socketInterface = options.socketInterface ?? (hostNetwork ? undefined : 'eth0');
    return new Interconnect({
      kind: InterconnectKind.TCP,
      hostNetwork,
      env: { NCCL_IB_DISABLE: '1', NCCL_SOCKET_IFNAME: socketInterface },
      mcaParameters: (options.openMpiOverTcp ?? true) ? OPEN_MPI_OVER_TCP : {},
    });
  }

  /**
   * InfiniBand or RoCE through an RDMA device plugin. Pinned memory is governed by the node's
   * RLIMIT_MEMLOCK (see `ipcLock`); Open MPI's own traffic stays on TCP (`openMpiOverTcp`).
   */
  public static infiniband(options: InfinibandInterconnectOptions = {}): Interconnect {
    return new Interconnect({
      kind: InterconnectKind.INFINIBAND,
      hostNetwork: options.hostNetwork,
      env: {
        NCCL_IB_DISABLE: '0',
        NCCL_IB_HCA: options.hcas && options.hcas.length > 0 ? options.hcas.join(',') : undefined,
        NCCL_IB_GID_INDEX: options.gidIndex === undefined ? undefined : String(options.gidIndex),
        NCCL_SOCKET_IFNAME: options.socketInterface,
      },
      devices: { [options.rdmaResource ?? 'rdma/hca_shared_devices_a']: options.rdmaDevicesPerPod ?? 1 },
      ipcLock: options.ipcLock,
      mcaParameters: (options.openMpiOverTcp ?? true) ? OPEN_MPI_OVER_TCP : {},
    });
  }

  /**
   * AWS Elastic Fabric Adapter: EFA devices, huge pages and libfabric's EFA provider. Pinned
   * memory is governed by the node's RLIMIT_MEMLOCK; Open MPI's own traffic stays on TCP
   * (`openMpiOverTcp`) rather than its OFI transport over EFA.
   */
  public static efa(options: EfaInterconnectOptions): Interconnect {
    return new Interconnect({
      kind: InterconnectKind.EFA,
      hostNetwork: options.hostNetwork,
      env: { FI_PROVIDER: 'efa', FI_EFA_USE_DEVICE_RDMA: options.gpuDirectRdma ? '1' : undefined },
      devices: { 'vpc.amazonaws.com/efa': options.devicesPerPod },
      hugePages: options.hugePages ?? Size.mebibytes(5120),
      mcaParameters: (options.openMpiOverTcp ?? true) ? OPEN_MPI_OVER_TCP : {},
    });
  }

  /** The fabric this preset targets. */
  public readonly kind: InterconnectKind;
  /** Whether the pods that host ranks use the node's network namespace. */
  public readonly hostNetwork: boolean;
  /** NCCL or libfabric variables for every rank. */
  public readonly env: { [name: string]: string };
  /** Device plugin resources per pod that hosts ranks (request = limit). */
  public readonly devices: { [resource: string]: number };
  /** Capabilities added to the containers that host ranks, whatever the image user. */
  public readonly capabilities: string[];
  /**
   * IPC_LOCK as asked for: true adds it, false never; undefined adds it for a root image only.
   * @default - root images only
   */
  public readonly ipcLock?: boolean;
  /** 2 MiB huge pages per pod that hosts ranks. */
  public readonly hugePages?: Size;
  /** Open MPI MCA parameters the preset adds to mpirun (Open MPI images only; the job's own win). */
  public readonly mcaParameters: { [name: string]: string };

  private constructor(spec: InterconnectSpec) {
    this.kind = spec.kind;
    this.hostNetwork = spec.hostNetwork ?? false;
    this.env = Object.fromEntries(Object.entries(spec.env).filter((e): e is [string, string] => e[1] !== undefined));
    this.devices = spec.devices ?? {};
    this.capabilities = spec.capabilities ?? [];
    this.ipcLock = spec.ipcLock;
    this.hugePages = spec.hugePages;
    this.mcaParameters = { ...spec.mcaParameters };
  }

  /** The capabilities a container that hosts ranks gets with this image user. */
  public capabilitiesFor(runsAsRoot: boolean): string[] {
    const ipcLock = this.kind === InterconnectKind.INFINIBAND && (this.ipcLock ?? runsAsRoot);
    return [...this.capabilities, ...(ipcLock ? ['IPC_LOCK'] : [])];
  }

  /**
   * Gives a pod that hosts ranks the fabric's devices, huge pages, capabilities and network namespace.
   * @internal
   */
  public _applyTo(replica: MpiReplica): void {
    for (const [resource, count] of Object.entries(this.devices)) replica.addExtendedResource(resource, count);
    if (this.hugePages) replica.addHugePages(HugePageSize.TWO_MEBIBYTES, this.hugePages);
    for (const capability of this.capabilitiesFor(replica.image.user.isRoot)) replica.addCapability(capability);
    if (this.hostNetwork) replica.useHostNetwork();
  }
}
