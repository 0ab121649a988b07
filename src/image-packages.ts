import { MpiImplementation } from './types';

/**
 * torch (and torchvision) wheels to install, from the PyTorch index for one CUDA version.
 */
export interface TorchPackages {
  /** torch version, e.g. `2.4.1`. */
  readonly version: string;
  /**
   * CUDA version of the wheels, `major.minor`, e.g. `12.4`. Selects the index
   * `https://download.pytorch.org/whl/cu124` and is checked against the base image.
   */
  readonly cudaVersion: string;
  /**
   * torchvision version built for this torch, e.g. `0.19.1`.
   * @default - torchvision is not installed
   */
  readonly torchvisionVersion?: string;
  /**
   * Package index serving wheels for `cudaVersion` (a mirror, for example).
   * @default `https://download.pytorch.org/whl/cu<major><minor>`
   */
  readonly indexUrl?: string;
}

/**
 * Options of Intel MPI.
 */
export interface IntelMpiOptions {
  /**
   * Version of the `intel-oneapi-mpi-devel-<version>` package from Intel's apt repository.
   * @default '2021.14'
   */
  readonly version?: string;
}


/**
 * The MPI the image installs; mpi4py is compiled against it and the MPIJob's
 * `mpiImplementation` follows it.
 */
export class MpiInstallation {
  /** Open MPI from the distribution (`openmpi-bin`, `libopenmpi-dev`). DeepSpeed's usual choice. */
  public static openMpi(): MpiInstallation {
    return new MpiInstallation(MpiImplementation.OPEN_MPI, ['openmpi-bin', 'libopenmpi-dev']);
  }

  /** MPICH from the distribution (`mpich`, `libmpich-dev`). */
  public static mpich(): MpiInstallation {
    return new MpiInstallation(MpiImplementation.MPICH, ['mpich', 'libmpich-dev']);
  }

  /** Intel MPI from Intel's oneAPI apt repository. */
  public static intel(options: IntelMpiOptions = {}): MpiInstallation {
    const version = options.version ?? '2021.14';
    return new MpiInstallation(MpiImplementation.INTEL, [`intel-oneapi-mpi-devel-${version}`], version);
  }

  private constructor(
    /** The implementation, as the MPIJob names it. */
    public readonly implementation: MpiImplementation,
    /** The packages that provide `mpirun` and `mpicc`. */
    public readonly packages: string[],
    /** The Intel MPI version, for Intel MPI. */
    public readonly version?: string,
  ) {}

  /**
   * Variables the MPI needs in every process (Intel MPI lives outside the default paths).
   * Ranks start over ssh without the image's ENV, so the job forwards these by name.
   */
  public get environment(): { [name: string]: string } {
    if (this.implementation !== MpiImplementation.INTEL) return {};
    // Where Intel's package installs this version.
    const root = `/opt/intel/oneapi/mpi/${this.version}`;
    return {
      I_MPI_ROOT: root,
      FI_PROVIDER_PATH: `${root}/opt/mpi/libfabric/lib/prov`,
      PATH: `${root}/bin:$PATH`,
      LD_LIBRARY_PATH: `${root}/lib:${root}/opt/mpi/libfabric/lib:$LD_LIBRARY_PATH`,
    };
  }
}

/**
 * DeepSpeed's CPU ops: DeepSpeed 0.16 compiles them with `-march=native` and the SIMD width
 * (AVX-512, AVX2) of the machine that builds them (`op_builder/builder.py` `cpu_arch()`,
 * `simd_width()`), with no setting to choose another target, so a pre-built one crashes with
 * SIGILL on an older CPU (DeepSpeed issue #1886). The GDS op (`DS_BUILD_GDS`) builds on the AIO op.
 * @internal
 */
export const CPU_OPS: string[] = ['CPU_ADAM', 'CPU_ADAGRAD', 'CPU_LION', 'AIO', 'GDS'];

/**
 * DeepSpeed ops compiled when the image is built (`DS_BUILD_<op>=1`) instead of
 * just-in-time on first use. Needs the CUDA toolkit at build time (a `-devel` base).
 */
export enum DeepSpeedOp {
  /**
   * Every op compatible with the image (`DS_BUILD_OPS=1`) except the CPU ops, which the recipe
   * turns off (`DS_BUILD_CPU_ADAM=0`, ...) unless listed too: they compile at first use on the
   * node that runs them, for its own CPU.
   */
  ALL = 'OPS',
  /** FusedAdam, used by the `Adam`/`AdamW` optimizer types on GPU. */
  FUSED_ADAM = 'FUSED_ADAM',
  /** FusedLamb, used by the `Lamb` optimizer type. */
  FUSED_LAMB = 'FUSED_LAMB',
  /** FusedLion, used by the `Lion` optimizer type. */
  FUSED_LION = 'FUSED_LION',
  /** DeepSpeedCPUAdam, used with ZeRO optimizer offload to CPU. A CPU op: compiled for the build host's CPU. */
  CPU_ADAM = 'CPU_ADAM',
  /** DeepSpeedCPUAdagrad. A CPU op: compiled for the build host's CPU. */
  CPU_ADAGRAD = 'CPU_ADAGRAD',
  /** DeepSpeedCPULion. A CPU op: compiled for the build host's CPU. */
  CPU_LION = 'CPU_LION',
  /** Async I/O, used by ZeRO-Infinity NVMe offload (needs libaio, which the recipe installs). A CPU op: compiled for the build host's CPU. */
  AIO = 'AIO',
  /** Flatten/unflatten utilities used by ZeRO. */
  UTILS = 'UTILS',
  /** Transformer kernels. */
  TRANSFORMER = 'TRANSFORMER',
  /** Quantizer kernels. */
  QUANTIZER = 'QUANTIZER',
}
