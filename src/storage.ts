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
 * Persistent storage of a job.
 */
export interface JobStorageOptions {
  /**
   * Volumes mounted on the launcher and every worker.
   * @default - none
   */
  readonly volumes?: TrainingStorage[];
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
