import { Size } from 'cdk8s';
import * as mpi from '../imports/kubeflow.org';
import { sizeToQuantity } from './quantity';

/**
 * Where an emptyDir volume lives.
 */
export enum EmptyDirMedium {
  /** The node's default medium (its disk). */
  DEFAULT = '',
  /** A tmpfs in the node's memory, counted against the container's memory limit. */
  MEMORY = 'Memory',
}

/**
 * Options of an emptyDir volume.
 */
export interface EmptyDirVolumeOptions {
  /**
   * Where the volume lives.
   * @default EmptyDirMedium.DEFAULT
   */
  readonly medium?: EmptyDirMedium;
  /**
   * The most the volume may hold (`sizeLimit`).
   * @default - no limit
   */
  readonly sizeLimit?: Size;
}

/**
 * Options of a volume that projects the keys of a ConfigMap or a Secret as files.
 */
export interface KeyVolumeOptions {
  /**
   * The volume's name in the pod.
   * @default - `configmap-<name>` or `secret-<name>`
   */
  readonly name?: string;
  /**
   * Project only these keys, each to the file path given (relative to the mount path).
   * @default - every key, each as a file named after it
   */
  readonly items?: { [key: string]: string };
  /**
   * Permission bits of the files (e.g. `0o400`).
   * @default - 0644
   */
  readonly defaultMode?: number;
  /**
   * Start the pod even if the ConfigMap or Secret is missing.
   * @default false
   */
  readonly optional?: boolean;
}

/**
 * Options of a PersistentVolumeClaim volume.
 */
export interface ClaimVolumeOptions {
  /**
   * The volume's name in the pod.
   * @default - `pvc-<claim name>`
   */
  readonly name?: string;
  /**
   * Mount the claim read-only.
   * @default false
   */
  readonly readOnly?: boolean;
}

/**
 * What a hostPath volume expects to find on the node.
 */
export enum HostPathVolumeType {
  /** No check. */
  DEFAULT = '',
  /** A directory, created if missing. */
  DIRECTORY_OR_CREATE = 'DirectoryOrCreate',
  /** An existing directory. */
  DIRECTORY = 'Directory',
  /** A file, created if missing. */
  FILE_OR_CREATE = 'FileOrCreate',
  /** An existing file. */
  FILE = 'File',
  /** An existing UNIX socket. */
  SOCKET = 'Socket',
  /** An existing character device. */
  CHAR_DEVICE = 'CharDevice',
  /** An existing block device. */
  BLOCK_DEVICE = 'BlockDevice',
}

/**
 * Options of a hostPath volume.
 */
export interface HostPathVolumeOptions {
  /** The path on the node. */
  readonly path: string;
  /**
   * What must exist at the path.
   * @default HostPathVolumeType.DEFAULT
   */
  readonly hostPathType?: HostPathVolumeType;
}

/**
 * How mounts propagate between the container and the node.
 */
export enum MountPropagation {
  /** No propagation (`None`). */
  NONE = 'None',
  /** Mounts the node makes later appear in the container (`HostToContainer`). */
  HOST_TO_CONTAINER = 'HostToContainer',
  /** Both ways; needs a privileged container (`Bidirectional`). */
  BIDIRECTIONAL = 'Bidirectional',
}

/**
 * How a volume is mounted into a container.
 */
export interface MountOptions {
  /**
   * Mount read-only.
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * Mount only this path inside the volume.
   * @default - the volume's root
   */
  readonly subPath?: string;
  /**
   * Like `subPath`, with `$(VAR)` references to the container's variables expanded.
   * @default - the volume's root
   */
  readonly subPathExpr?: string;
  /**
   * How mounts propagate.
   * @default MountPropagation.NONE
   */
  readonly propagation?: MountPropagation;
}

/**
 * A pod volume. Sources are named, so Secrets, ConfigMaps and claims made with any cdk8s-plus
 * flavour (or outside cdk8s) work: pass their `name`.
 */
export class Volume {
  /** A scratch directory that lives as long as the pod. */
  public static fromEmptyDir(name: string, options: EmptyDirVolumeOptions = {}): Volume {
    return new Volume(name, {
      emptyDir: {
        medium: options.medium || undefined,
        sizeLimit: options.sizeLimit
          ? mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecVolumesEmptyDirSizeLimit.fromString(sizeToQuantity(options.sizeLimit))
          : undefined,
      },
    });
  }

  /** The keys of the ConfigMap `configMapName` as files. */
  public static fromConfigMap(configMapName: string, options: KeyVolumeOptions = {}): Volume {
    return new Volume(options.name ?? `configmap-${configMapName}`, {
      configMap: { name: configMapName, items: keyItems(options.items), defaultMode: options.defaultMode, optional: options.optional },
    });
  }

  /** The keys of the Secret `secretName` as files. */
  public static fromSecret(secretName: string, options: KeyVolumeOptions = {}): Volume {
    return new Volume(options.name ?? `secret-${secretName}`, {
      secret: { secretName, items: keyItems(options.items), defaultMode: options.defaultMode, optional: options.optional },
    });
  }

  /** The PersistentVolumeClaim `claimName`. */
  public static fromPersistentVolumeClaim(claimName: string, options: ClaimVolumeOptions = {}): Volume {
    return new Volume(options.name ?? `pvc-${claimName}`, {
      persistentVolumeClaim: { claimName, readOnly: options.readOnly },
    });
  }

  /** A path of the node (devices such as `/dev/infiniband`); outside the restricted Pod Security Standard. */
  public static fromHostPath(name: string, options: HostPathVolumeOptions): Volume {
    return new Volume(name, { hostPath: { path: options.path, type: options.hostPathType || undefined } });
  }

  /** The volume's name in the pod. */
  public readonly name: string;

  private readonly source: Omit<mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecVolumes, 'name'>;

  private constructor(name: string, source: Omit<mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecVolumes, 'name'>) {
    this.name = name;
    this.source = source;
  }

  /**
   * The pod-template volume.
   * @internal
   */
  public _toKube(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecVolumes {
    return { name: this.name, ...this.source };
  }
}

function keyItems(items: { [key: string]: string } | undefined): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecVolumesConfigMapItems[] | undefined {
  return items ? Object.entries(items).map(([key, path]) => ({ key, path })) : undefined;
}

