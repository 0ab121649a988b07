import { ImageUser } from './image-user';
import { MpiImplementation } from './types';

/**
 * Facts about a training image that the job needs to run it correctly.
 *
 * A prebuilt image declares them; an image recipe derives them from what it installs.
 */
export interface TrainingImageOptions {
  /**
   * The user that runs sshd and the training processes.
   * @default ImageUser.nonRoot() - `mpiuser`, uid 1000, as in the MPI Operator's base image
   */
  readonly user?: ImageUser;

  /**
   * Port sshd listens on. Above 1024 so a non-root sshd can bind it and it does not
   * collide with the node's sshd under hostNetwork.
   * @default 2222
   */
  readonly sshPort?: number;

  /**
   * sshd configuration file for a non-root user (PidFile and HostKey under the home directory).
   * Ignored for root, which uses the system configuration.
   * @default `<home>/.sshd_config`
   */
  readonly sshdConfigPath?: string;

  /**
   * Absolute path of the Python interpreter. ssh sessions do not inherit the image's
   * `ENV PATH`, so ranks started over ssh need the full path.
   * @default '/opt/conda/bin/python' (the pytorch/pytorch images)
   */
  readonly pythonPath?: string;

  /**
   * MPI implementation installed in the image.
   * @default MpiImplementation.OPEN_MPI
   */
  readonly mpiImplementation?: MpiImplementation;

  /**
   * Working directory of the launcher and the workers; relative script paths resolve against it.
   * @default - the image's WORKDIR
   */
  readonly workingDirectory?: string;

  /**
   * Variables that the image itself defines (Docker `ENV`) and every rank needs; they are
   * forwarded to the ranks with `mpirun -x NAME`.
   * @default ['PATH', 'LD_LIBRARY_PATH']
   */
  readonly forwardedImageEnv?: string[];
}

/**
 * A training image that a DeepSpeed MPIJob can run: its reference and the facts the
 * launcher and worker pods must agree with.
 */
export interface IDeepSpeedTrainingImage {
  /** Image reference, e.g. `registry.example.com/cifards:v0.0.1`. */
  readonly imageRef: string;
  /** User that runs sshd and the ranks. */
  readonly user: ImageUser;
  /** Port sshd listens on. */
  readonly sshPort: number;
  /**
   * sshd configuration file for a non-root user.
   * @default - none: root uses the system configuration
   */
  readonly sshdConfigPath?: string;
  /** Absolute path of the Python interpreter. */
  readonly pythonPath: string;
  /** MPI implementation installed in the image. */
  readonly mpiImplementation: MpiImplementation;
  /**
   * Working directory the job sets on its containers.
   * @default - the image's WORKDIR
   */
  readonly workingDirectory?: string;
  /** Image-defined variables forwarded to every rank. */
  readonly forwardedImageEnv: string[];
}

/**
 * Resolves the facts of a training image from the declared options and their defaults.
 * @internal
 */
export function resolveImageFacts(imageRef: string, options: TrainingImageOptions): IDeepSpeedTrainingImage {
  const user = options.user ?? ImageUser.nonRoot();
  return {
    imageRef,
    user,
    sshPort: options.sshPort ?? 2222,
    sshdConfigPath: user.isRoot ? undefined : (options.sshdConfigPath ?? `${user.home}/.sshd_config`),
    pythonPath: options.pythonPath ?? '/opt/conda/bin/python',
    mpiImplementation: options.mpiImplementation ?? MpiImplementation.OPEN_MPI,
    workingDirectory: options.workingDirectory,
    forwardedImageEnv: options.forwardedImageEnv ?? ['PATH', 'LD_LIBRARY_PATH'],
  };
}

/**
 * An MPI-ready DeepSpeed training image.
 *
 * Use `DeepSpeedTrainingImage.fromImage()` for an image built elsewhere.
 */
export class DeepSpeedTrainingImage {
  /**
   * A prebuilt image. Declare the facts that differ from the MPI Operator base-image
   * layout (non-root `mpiuser`, sshd on 2222, Open MPI).
   *
   * @param imageRef the image reference; pin a tag or digest (never `latest`)
   */
  public static fromImage(imageRef: string, options: TrainingImageOptions = {}): IDeepSpeedTrainingImage {
    return resolveImageFacts(imageRef, options);
  }

  private constructor() {}
}
