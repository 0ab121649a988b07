/**
 * Whether a CUDA image carries the CUDA toolkit (nvcc, headers) or only the runtime libraries.
 */
export enum CudaImageFlavor {
  /** Toolkit included: DeepSpeed can compile its CUDA ops (JIT or at build time). */
  DEVEL = 'devel',
  /** Runtime libraries only: no nvcc, so DeepSpeed cannot compile CUDA ops. */
  RUNTIME = 'runtime',
}

/**
 * A torch build: its version and the CUDA version it was compiled with (`torch.version.cuda`).
 */
export interface TorchBuild {
  /** torch version, e.g. `2.4.1`. */
  readonly version: string;
  /** CUDA version torch was compiled with, `major.minor`, e.g. `12.4`. */
  readonly cudaVersion: string;
}

/**
 * Options of the `pytorch/pytorch` images.
 */
export interface PytorchBaseImageOptions {
  /** torch version in the tag, e.g. `2.4.1`. */
  readonly torchVersion: string;
  /** CUDA version in the tag, `major.minor`, e.g. `12.4`. */
  readonly cudaVersion: string;
  /** cuDNN major version in the tag, e.g. `9`. */
  readonly cudnnVersion: string;
  /**
   * Toolkit or runtime variant.
   * @default CudaImageFlavor.DEVEL
   */
  readonly flavor?: CudaImageFlavor;
}

/**
 * Options of the `nvidia/cuda` images, which ship no Python.
 */
export interface NvidiaCudaBaseImageOptions {
  /** CUDA version in the tag, e.g. `12.4.1`. */
  readonly cudaVersion: string;
  /** Operating system in the tag, e.g. `ubuntu22.04`. */
  readonly operatingSystem: string;
  /**
   * Toolkit or runtime variant.
   * @default CudaImageFlavor.DEVEL
   */
  readonly flavor?: CudaImageFlavor;
}

/**
 * Facts about any other base image.
 */
export interface CustomBaseImageOptions {
  /** CUDA version of the image's toolkit or runtime, e.g. `12.4`. */
  readonly cudaVersion: string;
  /** Whether the image carries the CUDA toolkit. */
  readonly flavor: CudaImageFlavor;
  /**
   * Absolute path of the image's Python interpreter, with pip available.
   * @default '/usr/bin/python3'
   */
  readonly pythonPath?: string;
  /**
   * The torch the image already ships.
   * @default - none; set `torch` on the recipe
   */
  readonly torch?: TorchBuild;
  /**
   * Login name of an existing user with uid 1000 that the recipe must remove before it
   * creates its own user.
   * @default - no such user
   */
  readonly existingUser?: string;
}

/** Where the recipe creates a virtual environment on bases without Python. */
const VENV = '/opt/venv';

/**
 * The image a training image is built on: a CUDA image, with or without Python and torch.
 */
export class BaseImage {
  /**
   * A `pytorch/pytorch:<torch>-cuda<cuda>-cudnn<cudnn>-<flavor>` image: conda Python in
   * `/opt/conda` with torch and torchvision built for exactly that CUDA version.
   */
  public static pytorch(options: PytorchBaseImageOptions): BaseImage {
    const flavor = options.flavor ?? CudaImageFlavor.DEVEL;
    return new BaseImage({
      reference: `pytorch/pytorch:${options.torchVersion}-cuda${options.cudaVersion}-cudnn${options.cudnnVersion}-${flavor}`,
      cudaVersion: options.cudaVersion,
      flavor,
      pythonPath: '/opt/conda/bin/python',
      torch: { version: options.torchVersion, cudaVersion: options.cudaVersion },
      installsPython: false,
    });
  }

  /**
   * An `nvidia/cuda:<cuda>-<flavor>-<os>` image. The recipe installs the distribution's Python
   * into a virtual environment at `/opt/venv`; set `torch` on the recipe.
   */
  public static nvidiaCuda(options: NvidiaCudaBaseImageOptions): BaseImage {
    const flavor = options.flavor ?? CudaImageFlavor.DEVEL;
    return new BaseImage({
      reference: `nvidia/cuda:${options.cudaVersion}-${flavor}-${options.operatingSystem}`,
      cudaVersion: options.cudaVersion,
      flavor,
      pythonPath: `${VENV}/bin/python`,
      installsPython: true,
      // Ubuntu 24.04 images ship a user `ubuntu` with uid 1000.
      existingUser: options.operatingSystem.startsWith('ubuntu24') ? 'ubuntu' : undefined,
    });
  }

  /**
   * Any other Debian or Ubuntu based image, described by its facts.
   *
   * @param reference the image reference; pin a tag or digest (never `latest`)
   */
  public static fromReference(reference: string, options: CustomBaseImageOptions): BaseImage {
    return new BaseImage({
      reference,
      cudaVersion: options.cudaVersion,
      flavor: options.flavor,
      pythonPath: options.pythonPath ?? '/usr/bin/python3',
      torch: options.torch,
      installsPython: false,
      existingUser: options.existingUser,
    });
  }

  /** The image reference. */
  public readonly reference: string;
  /** CUDA version of the image's toolkit or runtime. */
  public readonly cudaVersion: string;
  /** Whether the image carries the CUDA toolkit. */
  public readonly flavor: CudaImageFlavor;
  /** Absolute path of the Python interpreter the recipe installs into. */
  public readonly pythonPath: string;
  /** The torch the image ships, if any. */
  public readonly torch?: TorchBuild;
  /** Whether the recipe must install Python (and create a virtual environment) first. */
  public readonly installsPython: boolean;
  /** Existing user with uid 1000 the recipe removes, if any. */
  public readonly existingUser?: string;

  private constructor(facts: {
    reference: string; cudaVersion: string; flavor: CudaImageFlavor; pythonPath: string;
    torch?: TorchBuild; installsPython: boolean; existingUser?: string;
  }) {
    this.reference = facts.reference;
    this.cudaVersion = facts.cudaVersion;
    this.flavor = facts.flavor;
    this.pythonPath = facts.pythonPath;
    this.torch = facts.torch;
    this.installsPython = facts.installsPython;
    this.existingUser = facts.existingUser;
  }

  /** The directory of the virtual environment the recipe creates, if it installs Python. */
  public get virtualEnvironment(): string | undefined {
    return this.installsPython ? VENV : undefined;
  }
}
