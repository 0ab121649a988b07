import * as path from 'path';

/**
 * The launcher command split at its wait step: the launcher container runs
 * `<python> -c <wait program> --hostfile F --port P --timeout S -- <mpirun argv>`, and the wait
 * program execs the argv after `--` once every hostfile host resolves and accepts TCP on P.
 */
export interface LauncherCommand {
  /** The wait step's argv up to and including `--`; empty when the launcher runs mpirun directly. */
  readonly waitStep: string[];
  /** The mpirun argv. */
  readonly mpirun: string[];
}

/** Python interpreters by name: `python`, `python3`, `python3.11`. */
const PYTHON = /^python[0-9.]*$/;

/** Splits a launcher argv into its wait step (if any) and the mpirun command it hands over to. */
export function splitLauncherCommand(argv: string[]): LauncherCommand {
  if (argv.length > 2 && PYTHON.test(path.posix.basename(argv[0])) && argv[1] === '-c') {
    const separator = argv.indexOf('--', 3);
    if (separator > 0) return { waitStep: argv.slice(0, separator + 1), mpirun: argv.slice(separator + 1) };
  }
  return { waitStep: [], mpirun: argv };
}

/** The value of `--name VALUE` in a wait step's own options (between the program source and `--`). */
export function waitStepOption(waitStep: string[], name: string): string | undefined {
  const at = waitStep.indexOf(name, 3);
  return at > 0 && at + 1 < waitStep.length - 1 ? waitStep[at + 1] : undefined;
}
