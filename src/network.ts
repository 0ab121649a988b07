import { Interconnect } from './interconnect';

/**
 * How much NCCL logs (`NCCL_DEBUG`).
 */
export enum NcclDebugLevel {
  /** The NCCL version at initialization. */
  VERSION = 'VERSION',
  /** Warnings and errors: the level to keep in production. */
  WARN = 'WARN',
  /** Transport and topology decisions: what to read when a job is slow or hangs at start. */
  INFO = 'INFO',
  /** Every call; very verbose. */
  TRACE = 'TRACE',
}

/**
 * NCCL subsystems to log at INFO level (`NCCL_DEBUG_SUBSYS`).
 */
export enum NcclDebugSubsystem {
  /** Initialization. */
  INIT = 'INIT',
  /** Collectives. */
  COLL = 'COLL',
  /** Peer-to-peer transport. */
  P2P = 'P2P',
  /** Shared-memory transport. */
  SHM = 'SHM',
  /** Network transports (sockets, IB, plugins such as aws-ofi-nccl). */
  NET = 'NET',
  /** Topology detection and graph search. */
  GRAPH = 'GRAPH',
  /** Algorithm and protocol tuning. */
  TUNING = 'TUNING',
  /** Environment variables NCCL read. */
  ENV = 'ENV',
  /** Memory allocations. */
  ALLOC = 'ALLOC',
  /** Function calls. */
  CALL = 'CALL',
  /** Proxy thread. */
  PROXY = 'PROXY',
  /** NVLink SHARP. */
  NVLS = 'NVLS',
  /** Bootstrap between ranks. */
  BOOTSTRAP = 'BOOTSTRAP',
  /** Every subsystem. */
  ALL = 'ALL',
}

/**
 * What PyTorch does when its NCCL watchdog sees a failed or timed-out collective
 * (`TORCH_NCCL_ASYNC_ERROR_HANDLING`, PyTorch 2.2 and later).
 */
export enum NcclAsyncErrorHandling {
  /** Do nothing: a rank whose peer died waits forever, and so does the job. */
  NO_HANDLING = 0,
  /** Abort the communicator and end the process, so mpirun ends the job and the launcher Job fails. */
  TEAR_DOWN = 1,
  /** Abort the communicator but keep the process. */
  CLEAN_UP_ONLY = 2,
  /** End the process without aborting the communicator (PyTorch's own default). */
  SKIP_CLEAN_UP = 3,
}

/**
 * Network fabric and NCCL settings of a job. Every variable set here reaches every rank
 * (`mpirun -x`); a variable of the same name in the job's `env` wins.
 */
export interface JobNetworkOptions {
  /**
   * The fabric between ranks: `Interconnect.tcp()`, `Interconnect.infiniband()`, `Interconnect.efa()`.
   * @default - none: NCCL picks a transport itself over the pod network
   */
  readonly interconnect?: Interconnect;
  /**
   * NCCL log level (`NCCL_DEBUG`).
   * @default - not set: NCCL prints errors only
   */
  readonly ncclDebug?: NcclDebugLevel;
  /**
   * Subsystems NCCL logs (`NCCL_DEBUG_SUBSYS`).
   * @default - NCCL's default set
   */
  readonly ncclDebugSubsystems?: NcclDebugSubsystem[];
  /**
   * What PyTorch does when a collective fails or times out (`TORCH_NCCL_ASYNC_ERROR_HANDLING`).
   * Ending the process makes mpirun end every rank and the launcher Job fail (and retry up to
   * `backoffLimit`) instead of hanging with GPUs held; PyTorch 2.2 and later do that by default.
   * PyTorch before 2.2 reads `NCCL_ASYNC_ERROR_HANDLING` and defaults to no handling: set
   * `NCCL_ASYNC_ERROR_HANDLING=1` in the job's `env` for those.
   * @default - not set: PyTorch's own default (SKIP_CLEAN_UP since 2.2)
   */
  readonly asyncErrorHandling?: NcclAsyncErrorHandling;
}

/**
 * The variables the network options set on every rank, in the order they are added.
 * @internal
 */
export function networkEnv(options: JobNetworkOptions): { [name: string]: string } {
  const env: { [name: string]: string } = { ...options.interconnect?.env };
  if (options.ncclDebug) env.NCCL_DEBUG = options.ncclDebug;
  if (options.ncclDebugSubsystems && options.ncclDebugSubsystems.length > 0) {
    env.NCCL_DEBUG_SUBSYS = options.ncclDebugSubsystems.join(',');
  }
  if (options.asyncErrorHandling !== undefined) env.TORCH_NCCL_ASYNC_ERROR_HANDLING = String(options.asyncErrorHandling);
  return env;
}
