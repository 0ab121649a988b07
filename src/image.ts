import * as fs from 'fs';
import * as path from 'path';
import { Names } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { BaseImage } from './base-image';
import { DeepSpeedOp, MpiInstallation, TorchPackages } from './image-packages';
import { ImageRecipe, renderDockerignore, renderTrainingImage } from './image-recipe';
import { BakedData, SourceCode } from './image-source';
import { ImageUser } from './image-user';
import { writeAfterSynth } from './synth-output';
import { MpiImplementation } from './types';
import { registerImageValidation } from './validation';

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

  /**
   * DeepSpeed version installed in the image (e.g. `0.16.3`), for the checks that depend on it.
   * @default - unknown: version-dependent problems are reported as warnings
   */
  readonly deepspeedVersion?: string;
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
  /**
   * DeepSpeed version installed in the image.
   * @default - unknown
   */
  readonly deepspeedVersion?: string;
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
    deepspeedVersion: options.deepspeedVersion,
  };
}

/** Directory under the synth output that holds one build directory per image. */
export const IMAGES_DIRECTORY = 'images';

/**
 * Properties of an image recipe.
 */
export interface DeepSpeedTrainingImageProps {
  /** Reference the image is pushed to and the pods pull, e.g. `registry.example.com/cifards:v0.0.1`. Pin a tag. */
  readonly imageRef: string;

  /** The image to build on: a CUDA `-devel` image whose CUDA version matches the torch build. */
  readonly baseImage: BaseImage;

  /** DeepSpeed version, exact (e.g. `0.16.3`). */
  readonly deepspeedVersion: string;

  /**
   * torch (and torchvision) to install from the PyTorch index.
   * @default - the torch the base image ships
   */
  readonly torch?: TorchPackages;

  /**
   * mpi4py version, exact. mpi4py is always installed (DeepSpeed discovers ranks through it
   * under mpirun) and compiled against the image's MPI.
   * @default '4.0.3'
   */
  readonly mpi4pyVersion?: string;

  /**
   * More Python packages with exact versions, e.g. `{ pillow: '10.4.0', matplotlib: '3.9.2' }`.
   * torch, torchvision, deepspeed and mpi4py have their own props.
   * @default - none
   */
  readonly pipPackages?: { [name: string]: string };

  /**
   * More Debian/Ubuntu packages (optionally `name=version`).
   * @default - none
   */
  readonly systemPackages?: string[];

  /**
   * The MPI to install; the MPIJob's `mpiImplementation` follows it.
   * @default MpiInstallation.openMpi()
   */
  readonly mpi?: MpiInstallation;

  /**
   * The training code: a git repository at a commit, or a local build context.
   * @default - no code; the base image or a volume provides it
   */
  readonly source?: SourceCode;

  /**
   * Working directory of the launcher and the workers; relative script paths resolve against it.
   * @default - the source's destination, otherwise the base image's WORKDIR
   */
  readonly workingDirectory?: string;

  /**
   * DeepSpeed ops compiled at build time instead of at first use.
   * @default - none; ops compile just-in-time on first use
   */
  readonly prebuiltOps?: DeepSpeedOp[];

  /**
   * GPU architectures the pre-built ops are compiled for (`TORCH_CUDA_ARCH_LIST`), e.g. `['8.0', '9.0']`.
   * @default - DeepSpeed's defaults, since no GPU is visible during the build
   */
  readonly cudaArchitectures?: string[];

  /**
   * Accept the CPU ops listed in `prebuiltOps` (CPU_ADAM, CPU_ADAGRAD, CPU_LION, AIO) although
   * DeepSpeed 0.16 compiles them for the build host's CPU (`-march=native`): set it when the image
   * is built on the oldest CPU generation of the training nodes (an `InClusterImageBuild`
   * `nodeSelector`, or a CI runner of that generation). Otherwise the recipe reports them.
   * @default false
   */
  readonly allowBuildHostCpuOps?: boolean;

  /**
   * Data baked into the image.
   * @default - none
   */
  readonly data?: BakedData[];

  /**
   * The user that runs sshd and the ranks.
   * @default ImageUser.nonRoot() - `mpiuser`, uid 1000
   */
  readonly user?: ImageUser;

  /**
   * Port sshd listens on, and that ssh connects to.
   * @default 2222
   */
  readonly sshPort?: number;

  /**
   * Variables set in the image (Docker ENV syntax: `$NAME` expands) and forwarded to every rank.
   * @default - none
   */
  readonly environment?: { [name: string]: string };

  /**
   * Name of the image's build directory, `<outdir>/images/<name>/`, and of its in-cluster build objects.
   * @default - derived from the construct path, e.g. `cifar10-image`
   */
  readonly name?: string;
}

/** The image recipes of each app, so that a rule finds an app's recipes without walking the whole tree. */
const recipesByApp = new WeakMap<IConstruct, DeepSpeedTrainingImage[]>();

/**
 * The image recipes created in the app (construct tree root) `root`.
 * @internal
 */
export function recipesOf(root: IConstruct): DeepSpeedTrainingImage[] {
  let recipes = recipesByApp.get(root);
  if (!recipes) recipesByApp.set(root, recipes = []);
  return recipes;
}

/**
 * A recipe for an MPI-ready DeepSpeed training image.
 *
 * It renders a Dockerfile (and a `Dockerfile.dockerignore` for a local build context) that
 * `app.synth()` writes to `<outdir>/images/<name>/`, and it tells the job the facts of the
 * image it describes: user, sshd port and config, Python path, MPI and working directory.
 *
 * Use `DeepSpeedTrainingImage.fromImage()` for an image built elsewhere.
 */
export class DeepSpeedTrainingImage extends Construct implements IDeepSpeedTrainingImage {
  /** The directory under the synth output where each recipe's build directory is written (`images`). */
  public static readonly IMAGES_DIRECTORY: string = IMAGES_DIRECTORY;

  /**
   * A prebuilt image. Declare the facts that differ from the MPI Operator base-image
   * layout (non-root `mpiuser`, sshd on 2222, Open MPI).
   *
   * @param imageRef the image reference; pin a tag or digest (never `latest`)
   */
  public static fromImage(imageRef: string, options: TrainingImageOptions = {}): IDeepSpeedTrainingImage {
    return resolveImageFacts(imageRef, options);
  }

  public readonly imageRef: string;
  public readonly user: ImageUser;
  public readonly sshPort: number;
  public readonly sshdConfigPath?: string;
  public readonly pythonPath: string;
  public readonly mpiImplementation: MpiImplementation;
  public readonly workingDirectory?: string;
  public readonly forwardedImageEnv: string[];

  /** Name of the build directory, `<outdir>/images/<name>/`. */
  public readonly name: string;
  /** The base image. */
  public readonly baseImage: BaseImage;
  /** DeepSpeed version (always set on a recipe; optional because `IDeepSpeedTrainingImage` may not know it). */
  public readonly deepspeedVersion?: string;
  /** torch installed by the recipe, if any. */
  public readonly torch?: TorchPackages;
  /** mpi4py version. */
  public readonly mpi4pyVersion: string;
  /** Python packages of the training code. */
  public readonly pipPackages: { [name: string]: string };
  /** More system packages. */
  public readonly systemPackages: string[];
  /** The MPI the image installs. */
  public readonly mpi: MpiInstallation;
  /** The training code, if any. */
  public readonly source?: SourceCode;
  /** Ops compiled at build time. */
  public readonly prebuiltOps: DeepSpeedOp[];
  /** GPU architectures of the pre-built ops. */
  public readonly cudaArchitectures: string[];
  /** Whether CPU ops in prebuiltOps are accepted for the build host's CPU. */
  public readonly allowBuildHostCpuOps: boolean;
  /** Data baked into the image. */
  public readonly data: BakedData[];
  /** Variables set in the image and forwarded to every rank. */
  public readonly environment: { [name: string]: string };

  public constructor(scope: Construct, id: string, props: DeepSpeedTrainingImageProps) {
    super(scope, id);
    recipesOf(this.node.root).push(this);
    this.name = props.name ?? Names.toDnsLabel(this, { includeHash: false });
    this.baseImage = props.baseImage;
    this.deepspeedVersion = props.deepspeedVersion;
    this.torch = props.torch;
    this.mpi4pyVersion = props.mpi4pyVersion ?? '4.0.3';
    this.pipPackages = { ...props.pipPackages };
    this.systemPackages = [...(props.systemPackages ?? [])];
    this.mpi = props.mpi ?? MpiInstallation.openMpi();
    this.source = props.source;
    this.prebuiltOps = [...(props.prebuiltOps ?? [])];
    this.cudaArchitectures = [...(props.cudaArchitectures ?? [])];
    this.allowBuildHostCpuOps = props.allowBuildHostCpuOps ?? false;
    this.data = [...(props.data ?? [])];
    this.environment = { ...props.environment };

    const facts = resolveImageFacts(props.imageRef, {
      user: props.user,
      sshPort: props.sshPort,
      pythonPath: this.baseImage.pythonPath,
      mpiImplementation: this.mpi.implementation,
      workingDirectory: props.workingDirectory ?? props.source?.destination,
      forwardedImageEnv: [...new Set([
        'PATH', 'LD_LIBRARY_PATH', ...Object.keys(this.mpi.environment), ...Object.keys(this.environment),
      ])],
    });
    this.imageRef = facts.imageRef;
    this.user = facts.user;
    this.sshPort = facts.sshPort;
    this.sshdConfigPath = facts.sshdConfigPath;
    this.pythonPath = facts.pythonPath;
    this.mpiImplementation = facts.mpiImplementation;
    this.workingDirectory = facts.workingDirectory;
    this.forwardedImageEnv = facts.forwardedImageEnv;

    registerImageValidation(this);
    writeAfterSynth(this, outdir => this.writeBuildFiles(outdir));
  }

  /** Where `app.synth()` writes the Dockerfile, relative to the app's output directory. */
  public get dockerfilePath(): string {
    return `${IMAGES_DIRECTORY}/${this.name}/Dockerfile`;
  }

  /** The Dockerfile text. */
  public get dockerfile(): string {
    return renderTrainingImage(this.recipe).render();
  }

  /**
   * The `Dockerfile.dockerignore` for a build-context source (undefined otherwise), leaving out
   * `outputDirectory` when it lies inside the context.
   */
  public dockerignore(outputDirectory?: string): string | undefined {
    return renderDockerignore(this.recipe, outputDirectory);
  }

  /**
   * Writes the Dockerfile (and `Dockerfile.dockerignore` for a build-context source) to
   * `<outdir>/images/<name>/`, replacing what was there. `app.synth()` calls it after the
   * manifests; call it yourself when you synthesize another way. Throws, writing nothing,
   * when the recipe fails validation.
   */
  public writeBuildFiles(outdir: string): void {
    const errors = this.node.validate();
    if (errors.length > 0) {
      throw new Error(`Not writing the Dockerfile of ${this.node.path}, which fails validation:\n  ${errors.join('\n  ')}`);
    }
    const directory = path.join(outdir, IMAGES_DIRECTORY, this.name);
    const dockerfile = this.dockerfile;
    const dockerignore = this.dockerignore(outdir);
    fs.rmSync(directory, { recursive: true, force: true });
    fs.mkdirSync(directory, { recursive: true });
    fs.writeFileSync(path.join(directory, 'Dockerfile'), dockerfile);
    if (dockerignore !== undefined) fs.writeFileSync(path.join(directory, 'Dockerfile.dockerignore'), dockerignore);
  }

  private get recipe(): ImageRecipe {
    return {
      constructPath: this.node.path,
      imageRef: this.imageRef,
      base: this.baseImage,
      torch: this.torch,
      deepspeedVersion: this.deepspeedVersion ?? '',
      mpi4pyVersion: this.mpi4pyVersion,
      pipPackages: Object.entries(this.pipPackages),
      systemPackages: this.systemPackages,
      mpi: this.mpi,
      source: this.source,
      workingDirectory: this.workingDirectory,
      prebuiltOps: this.prebuiltOps,
      cudaArchitectures: this.cudaArchitectures,
      allowBuildHostCpuOps: this.allowBuildHostCpuOps,
      data: this.data,
      user: this.user,
      sshPort: this.sshPort,
      sshdConfigPath: this.sshdConfigPath,
      environment: Object.entries(this.environment),
    };
  }
}
