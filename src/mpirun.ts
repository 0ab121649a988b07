import { MpiImplementation } from './types';

/** The hostfile the MPI Operator mounts on the launcher. */
export const OPERATOR_HOSTFILE = '/etc/mpi/hostfile';

/**
 * How the launcher invokes `mpirun`.
 */
export interface MpirunOptions {
  /**
   * Open MPI MCA parameters, each rendered as `--mca NAME VALUE`
   * (e.g. `{ pml: 'ob1', btl: '^openib' }`).
   * @default - none
   */
  readonly mcaParameters?: { [name: string]: string };

  /**
   * Extra arguments placed after the generated flags and before the Python program.
   * @default - none
   */
  readonly extraArgs?: string[];

  /**
   * Process binding (`--bind-to`). DeepSpeed pins GPUs itself, so binding is off by default.
   * @default 'none'
   */
  readonly bindTo?: string;

  /**
   * Process mapping (`--map-by`); `slot` fills each worker's slots before the next worker.
   * @default 'slot'
   */
  readonly mapBy?: string;

  /**
   * The `mpirun` executable on the launcher.
   * @default 'mpirun'
   */
  readonly executable?: string;
}

/**
 * Everything the launcher command depends on.
 * @internal
 */
export interface LaunchCommandSpec {
  readonly implementation: MpiImplementation;
  readonly processCount: number;
  readonly slotsPerWorker: number;
  readonly forwardedEnv: string[];
  readonly runAsRoot: boolean;
  readonly sshPort: number;
  readonly workingDirectory?: string;
  readonly pythonPath: string;
  readonly script: string;
  readonly scriptArgs: string[];
  readonly deepspeedConfigFile?: string;
  readonly options: MpirunOptions;
}

/**
 * Builds the launcher's argv. No shell is involved: every element reaches mpirun as one argument.
 * @internal
 */
export function buildLaunchCommand(spec: LaunchCommandSpec): string[] {
  const program = [spec.pythonPath, spec.script, ...spec.scriptArgs];
  if (spec.deepspeedConfigFile) {
    program.push('--deepspeed_config', spec.deepspeedConfigFile);
  }
  const mpirun = spec.options.executable ?? 'mpirun';
  if (spec.implementation === MpiImplementation.OPEN_MPI) {
    return [mpirun, ...openMpiFlags(spec), ...(spec.options.extraArgs ?? []), ...program];
  }
  return [mpirun, ...hydraFlags(spec), ...(spec.options.extraArgs ?? []), ...program];
}

function openMpiFlags(spec: LaunchCommandSpec): string[] {
  const flags = [
    '-np', String(spec.processCount),
    // Explicit: Open MPI 5 ignores the OMPI_MCA_orte_* variables the operator sets.
    '--hostfile', OPERATOR_HOSTFILE,
    '--bind-to', spec.options.bindTo ?? 'none',
    '--map-by', spec.options.mapBy ?? 'slot',
  ];
  if (spec.runAsRoot) {
    flags.push('--allow-run-as-root');
  }
  if (spec.workingDirectory) {
    flags.push('--wdir', spec.workingDirectory);
  }
  const mca = spec.options.mcaParameters ?? {};
  if (mca.plm_rsh_args === undefined) {
    // The operator's own rsh args plus the port sshd really listens on.
    flags.push('--mca', 'plm_rsh_args', `-p ${spec.sshPort} -o ConnectionAttempts=10`);
  }
  for (const [name, value] of Object.entries(mca)) {
    flags.push('--mca', name, value);
  }
  // Ranks start over ssh with a clean environment: forward what they need by name.
  for (const name of spec.forwardedEnv) {
    flags.push('-x', name);
  }
  return flags;
}

function hydraFlags(spec: LaunchCommandSpec): string[] {
  // Intel MPI and MPICH (Hydra): hostfile lines are `host:N`; env is forwarded with -genvlist.
  const flags = [
    '-n', String(spec.processCount),
    '-ppn', String(spec.slotsPerWorker),
    '-f', OPERATOR_HOSTFILE,
  ];
  if (spec.workingDirectory) {
    flags.push('-wdir', spec.workingDirectory);
  }
  if (spec.forwardedEnv.length > 0) {
    flags.push('-genvlist', spec.forwardedEnv.join(','));
  }
  return flags;
}
