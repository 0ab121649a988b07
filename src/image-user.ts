/**
 * Options for a non-root image user.
 */
export interface NonRootUserOptions {
  /**
   * Login name of the user.
   * @default 'mpiuser'
   */
  readonly name?: string;
  /**
   * Numeric user id baked into the image.
   * @default 1000
   */
  readonly uid?: number;
  /**
   * Numeric primary group id.
   * @default - the same as the uid
   */
  readonly gid?: number;
  /**
   * Home directory; the operator mounts the SSH keys in `<home>/.ssh`.
   * @default `/home/<name>`
   */
  readonly home?: string;
}

/**
 * The user that sshd and the MPI ranks run as inside the training image.
 *
 * The MPI Operator mounts its SSH keys into this user's `~/.ssh`, so the user decides
 * `sshAuthMountPath`, the pods' `runAsUser` and whether mpirun needs `--allow-run-as-root`.
 */
export class ImageUser {
  /**
   * The layout of the MPI Operator's base image: `mpiuser`, uid 1000, home `/home/mpiuser`.
   */
  public static nonRoot(options: NonRootUserOptions = {}): ImageUser {
    const name = options.name ?? 'mpiuser';
    const uid = options.uid ?? 1000;
    return new ImageUser(name, uid, options.gid ?? uid, options.home ?? `/home/${name}`);
  }

  /**
   * root (uid 0). Needs `--allow-run-as-root` for Open MPI and cannot meet the `restricted`
   * Pod Security Standard; prefer a non-root user.
   */
  public static root(): ImageUser {
    return new ImageUser('root', 0, 0, '/root');
  }

  private constructor(
    /** Login name. */
    public readonly name: string,
    /** Numeric user id. */
    public readonly uid: number,
    /** Numeric primary group id. */
    public readonly gid: number,
    /** Home directory. */
    public readonly home: string,
  ) {}

  /** Whether this is uid 0. */
  public get isRoot(): boolean {
    return this.uid === 0;
  }

  /** Where the operator must mount the SSH keys for this user (`sshAuthMountPath`). */
  public get sshDirectory(): string {
    return `${this.home.replace(/\/+$/, '')}/.ssh`;
  }
}
