import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Volume } from './volume';

/**
 * How the nodes of a job may mount a volume a claim creates.
 */
export enum PersistentVolumeAccessMode {
  /** Read-write by many nodes; what a volume shared by every pod of a job needs. */
  READ_WRITE_MANY = 'ReadWriteMany',
  /** Read-write by one node only. */
  READ_WRITE_ONCE = 'ReadWriteOnce',
  /** Read-write by one pod only. */
  READ_WRITE_ONCE_POD = 'ReadWriteOncePod',
  /** Read-only by many nodes. */
  READ_ONLY_MANY = 'ReadOnlyMany',
}

/**
 * Where and how a volume is mounted on the launcher and every worker.
 */
export interface StorageMountOptions {
  /** Absolute mount path, the same on the launcher and every worker. */
  readonly mountPath: string;
  /**
   * Mount read-only (datasets).
   * @default false
   */
  readonly readOnly?: boolean;
  /**
   * Mount only this directory of the volume.
   * @default - the volume's root
   */
  readonly subPath?: string;
}

/**
 * A PersistentVolumeClaim that already exists in the job's namespace.
 */
export interface ExistingClaimOptions extends StorageMountOptions {
  /** Name of the claim. */
  readonly claimName: string;
}

/**
 * A PersistentVolumeClaim the job creates, named `<job name>-<volume name>`. It is a separate
 * object, not owned by the MPIJob: it outlives the job, so a rerun with the same name finds
 * its checkpoints again.
 */
export interface NewClaimOptions extends StorageMountOptions {
  /** Requested capacity. */
  readonly size: Size;
  /**
   * StorageClass that provisions the volume.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * Access mode. Every pod of the job mounts the volume, on different nodes, so shared
   * checkpoints need ReadWriteMany; ReadWriteOnce attaches to one node only.
   * @default PersistentVolumeAccessMode.READ_WRITE_MANY
   */
  readonly accessMode?: PersistentVolumeAccessMode;
}

/** Every pod mounts the volume, on different nodes. */
const SHARED_ACCESS = PersistentVolumeAccessMode.READ_WRITE_MANY;

/** Either the name of an existing claim or the options of a claim to create. */
interface ClaimSource {
  readonly existingName?: string;
  readonly create?: NewClaimOptions;
}

/**
 * A persistent volume for datasets or checkpoints, mounted at the same path on the launcher
 * and every worker.
 */
export class TrainingStorage {
  /**
   * Mounts an existing PersistentVolumeClaim.
   * @param name the volume's name in the pods (a DNS label)
   */
  public static existingClaim(name: string, options: ExistingClaimOptions): TrainingStorage {
    return new TrainingStorage(name, options, { existingName: options.claimName });
  }

  /**
   * Creates a PersistentVolumeClaim with the job and mounts it.
   * @param name the volume's name in the pods (a DNS label); the claim is `<job name>-<name>`
   */
  public static newClaim(name: string, options: NewClaimOptions): TrainingStorage {
    return new TrainingStorage(name, options, { create: options });
  }

  /** Absolute mount path. */
  public readonly mountPath: string;
  /** Whether the mount is read-only. */
  public readonly readOnly: boolean;
  /** Directory of the volume that is mounted, if not its root. */
  public readonly subPath?: string;
  /** Access mode of a claim the job creates; undefined for an existing claim, whose mode the job cannot see. */
  public readonly accessMode?: PersistentVolumeAccessMode;

  private constructor(
    /** The volume's name in the pods. */
    public readonly name: string,
    mount: StorageMountOptions,
    private readonly claim: ClaimSource,
  ) {
    this.mountPath = mount.mountPath;
    this.readOnly = mount.readOnly ?? false;
    this.subPath = mount.subPath;
    this.accessMode = claim.create ? (claim.create.accessMode ?? SHARED_ACCESS) : undefined;
  }

  /** Whether the job creates the claim. */
  public get createsClaim(): boolean {
    return this.claim.create !== undefined;
  }

  /**
   * The claim as given: the existing claim's name, or the new claim's size and StorageClass.
   * @internal
   */
  public get _claimSource(): { readonly existingName?: string; readonly size?: Size; readonly storageClassName?: string } {
    return { existingName: this.claim.existingName, size: this.claim.create?.size, storageClassName: this.claim.create?.storageClassName };
  }

  /**
   * The claim (created when asked) and the pod volume that refers to it.
   * @internal
   */
  public _bind(scope: Construct, id: string, jobName: string, namespace: string | undefined): Volume {
    const create = this.claim.create;
    const claimName = create
      ? new kplus.PersistentVolumeClaim(scope, `${id}Claim`, {
        metadata: { name: `${jobName}-${this.name}`, namespace },
        storage: create.size,
        storageClassName: create.storageClassName,
        accessModes: [(create.accessMode ?? SHARED_ACCESS) as string as kplus.PersistentVolumeAccessMode],
      }).name
      : this.claim.existingName ?? this.name;
    return Volume.fromPersistentVolumeClaim(claimName, { name: this.name, readOnly: this.readOnly });
  }
}

/**
 * Where DeepSpeed writes checkpoints, passed to the training script.
 */
export interface CheckpointOptions {
  /**
   * Absolute directory for checkpoints. Put it on a read-write TrainingStorage shared by every
   * pod: each rank writes its own shards, and resuming reads them all.
   */
  readonly directory: string;
  /**
   * The script flag that receives the directory (`<argument> <directory>` after the script's
   * arguments).
   * @default '--checkpoint_dir'
   */
  readonly argument?: string;
}

/**
 * When the kubelet makes a volume's files group-owned by the pod's `fsGroup`
 * (`fsGroupChangePolicy`).
 */
export enum FsGroupChangePolicy {
  /**
   * Only when the volume root's owner or permissions do not match already: one check per
   * start instead of a walk over every file of a large checkpoint volume.
   */
  ON_ROOT_MISMATCH = 'OnRootMismatch',
  /** On every mount, recursively (Kubernetes' default): slow on volumes with many files. */
  ALWAYS = 'Always',
}

/**
 * Persistent storage of a job.
 */
export interface JobStorageOptions {
  /**
   * Volumes mounted on the launcher and every worker.
   * @default - none
   */
  readonly volumes?: TrainingStorage[];
  /**
   * Group that owns the files of the mounted volumes (pod `fsGroup`). Many CSI drivers create a
   * volume root as root:root 0755, which a non-root job cannot write, and fix its ownership
   * only for an fsGroup: without one the job starts and fails at its first checkpoint save.
   * @default - the image user's gid on every pod that mounts a persistent volume (anything but a
   * ConfigMap, Secret, emptyDir, downward API or projected volume), for a non-root image; none
   * for a root image
   */
  readonly fsGroup?: number;
  /**
   * When the kubelet changes the volumes' ownership to `fsGroup`.
   * @default FsGroupChangePolicy.ON_ROOT_MISMATCH
   */
  readonly fsGroupChangePolicy?: FsGroupChangePolicy;
  /**
   * Whether the pods get an `fsGroup` at all. Turn it off where the platform assigns one itself
   * (OpenShift's restricted SCCs reject an fsGroup outside the namespace's range).
   * @default true
   */
  readonly setFsGroup?: boolean;
  /**
   * Checkpoint directory passed to the script.
   * @default - no checkpoint argument
   */
  readonly checkpoint?: CheckpointOptions;
}

/**
 * The script arguments that pass the checkpoint directory.
 * @internal
 */
export function checkpointArgs(checkpoint: CheckpointOptions | undefined): string[] {
  return checkpoint ? [checkpoint.argument ?? '--checkpoint_dir', checkpoint.directory] : [];
}
