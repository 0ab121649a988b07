import { Duration, Size } from 'cdk8s';
import { Construct } from 'constructs';
import { Cpu } from './cpu';
import { EnvValue } from './env-value';
import { buildLaunchCommand, MpirunOptions } from './mpirun';
import { MpiReplica, MpiReplicaOptions, MpiReplicaProps } from './replica';
import { ReplicaRestartPolicy } from './types';
import { MpiWorkerPool } from './worker-pool';
import { workerWaitCommand } from './worker-wait';

/** How long the launcher waits for its workers by default: a cold pull of a CUDA image onto a new GPU node. */
export const DEFAULT_WORKER_WAIT_TIMEOUT = Duration.minutes(15);

/**
 * Options for the launcher pod. Its `cpu` defaults to `Cpu.units(1)` and its `memory` to
 * `Size.gibibytes(2)` (unless a limit is set): mpirun needs little, and a request keeps the launcher out of
 * the BestEffort class that is evicted first.
 */
export interface MpiLauncherOptions extends MpiReplicaOptions {
  /**
   * GPUs on the launcher. The operator hides launcher GPUs unless the launcher runs as a worker.
   * @default - the workers' GPU count when the launcher runs as a worker, otherwise 0
   */
  readonly gpus?: number;
}

/**
 * Properties of the launcher.
 */
export interface MpiLauncherProps extends MpiLauncherOptions, MpiReplicaProps {
  /** The workers the launcher starts ranks on. */
  readonly workers: MpiWorkerPool;
  /** Training script, absolute or relative to the image's working directory. */
  readonly script: string;
  /**
   * Arguments passed to the script.
   * @default - none
   */
  readonly args?: string[];
  /**
   * How mpirun is invoked.
   * @default - Open MPI defaults of this library
   */
  readonly mpirun?: MpirunOptions;
  /**
   * Absolute path of a DeepSpeed config file passed as `--deepspeed_config`.
   * @default - the script receives no `--deepspeed_config`
   */
  readonly deepspeedConfigFile?: string;
  /**
   * Whether the launcher also hosts ranks (`runLauncherAsWorker`).
   * @default false
   */
  readonly runAsWorker?: boolean;
  /**
   * Whether the launcher waits, before mpirun, until every host of the hostfile resolves and
   * accepts connections on the ssh port (a Python program run with the image's interpreter).
   * @default true
   */
  readonly waitForWorkers?: boolean;
  /**
   * How long the launcher waits for its workers before it fails, naming the hosts that never
   * came up. Whole seconds.
   * @default Duration.minutes(15)
   */
  readonly workerWaitTimeout?: Duration;
}

/**
 * The launcher replica of an MPIJob: one pod that runs `mpirun` against the operator's
 * hostfile. CPU-only unless it also runs as a worker.
 */
export class MpiLauncher extends MpiReplica {
  /** The workers the launcher starts ranks on. */
  public readonly workers: MpiWorkerPool;
  /** Training script. */
  public readonly script: string;
  /** Arguments passed to the script. */
  public readonly args: string[];
  /** How mpirun is invoked. */
  public readonly mpirun: MpirunOptions;
  /** DeepSpeed config file passed as `--deepspeed_config`, if any. */
  public readonly deepspeedConfigFile?: string;
  /** Whether the launcher also hosts ranks. */
  public readonly runAsWorker: boolean;
  /** GPUs on the launcher. */
  public readonly gpus: number;
  /** Whether the launcher waits for its workers before mpirun. */
  public readonly waitForWorkers: boolean;
  /** How long the launcher waits for its workers. */
  public readonly workerWaitTimeout: Duration;

  private readonly trainingEnv: string[] = [];

  public constructor(scope: Construct, id: string, props: MpiLauncherProps) {
    super(scope, id, {
      ...props,
      cpu: props.cpu ?? (props.cpuLimit ? undefined : Cpu.units(1)),
      // A launcher that hosts ranks needs the ranks' memory, not mpirun's: no 2 GiB default there.
      memory: props.memory ?? (props.memoryLimit || props.runAsWorker ? undefined : Size.gibibytes(2)),
    }, ReplicaRestartPolicy.ON_FAILURE);
    this.workers = props.workers;
    this.script = props.script;
    this.args = props.args ?? [];
    this.mpirun = props.mpirun ?? {};
    this.deepspeedConfigFile = props.deepspeedConfigFile;
    this.runAsWorker = props.runAsWorker ?? false;
    this.gpus = props.gpus ?? (this.runAsWorker ? props.workers.gpusPerWorker : 0);
    this.waitForWorkers = props.waitForWorkers ?? true;
    this.workerWaitTimeout = props.workerWaitTimeout ?? DEFAULT_WORKER_WAIT_TIMEOUT;

    if (this.gpus > 0) {
      this.addExtendedResource(props.workers.gpuResourceName, this.gpus);
    }
    if (this.runAsWorker) {
      // Ranks run here too, so they need the same shared memory as on a worker.
      this.mountSharedMemory(props.workers.sharedMemorySize);
    }
  }

  /** Name of the launcher container. */
  public get containerName(): string {
    return this.givenContainerName ?? 'launcher';
  }

  /** MPI slots the launcher itself hosts. */
  public get slots(): number {
    return this.runAsWorker ? this.workers.slotsPerWorker : 0;
  }

  /** Total number of ranks: workers × slots, plus the launcher's slots when it runs as a worker. */
  public get worldSize(): number {
    return this.workers.totalSlots + this.slots;
  }

  /**
   * Sets a variable for the training processes: on the launcher, forwarded to every rank with `-x`.
   */
  public addTrainingEnv(name: string, value: EnvValue): void {
    this.addEnv(name, value);
    if (!this.trainingEnv.includes(name)) this.trainingEnv.push(name);
  }

  /** Variables forwarded to every rank: the image's own, then the training env. */
  public get forwardedEnv(): string[] {
    return [...new Set([...this.image.forwardedImageEnv, ...this.trainingEnv])];
  }

  /**
   * The launcher container's argv: the wait step (unless `waitForWorkers` is false), which
   * execs `mpirunCommand` once every worker accepts ssh connections.
   */
  public get command(): string[] {
    if (!this.waitForWorkers) return this.mpirunCommand;
    // A fractional timeout is reported by validation (launch/worker-wait-timeout); never throw while rendering.
    const seconds = Math.ceil(this.workerWaitTimeout.toSeconds({ integral: false }));
    return workerWaitCommand(this.image.pythonPath, this.image.sshPort, seconds, this.mpirunCommand);
  }

  /** The mpirun argv: mpirun, its flags, the interpreter, the script and its arguments. */
  public get mpirunCommand(): string[] {
    return buildLaunchCommand({
      implementation: this.image.mpiImplementation,
      processCount: this.worldSize,
      slotsPerWorker: this.workers.slotsPerWorker,
      forwardedEnv: this.forwardedEnv,
      runAsRoot: this.image.user.isRoot,
      sshPort: this.image.sshPort,
      workingDirectory: this.image.workingDirectory,
      pythonPath: this.image.pythonPath,
      script: this.script,
      scriptArgs: this.args,
      deepspeedConfigFile: this.deepspeedConfigFile,
      options: this.mpirun,
    });
  }

  protected renderCommand(): string[] {
    return this.command;
  }
}
