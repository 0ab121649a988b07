import { parseQuantity, quantityToNumber } from '../quantity';
import { parseWorkerWaitStep, WorkerWaitStep } from '../worker-wait';
import { JobFacts, mainContainerOf, PodFacts, specOf } from './facts';
import { plural } from './finding';

/**
 * Read-only helpers over a job's facts and the launcher argv, shared by the rules so that
 * every rule reads the launch (and missing pieces) the same way.
 */

export { mainContainerOf, podOf, podSpecPath, specOf } from './facts';

/** How the world size is made up, for messages: `2 workers × 4 slots + 4 launcher slots`. */
export function worldSizeTerms(facts: JobFacts): string {
  const slots = facts.launch.slotsPerWorker;
  const workers = `${plural(facts.launch.workers, 'worker')} × ${plural(slots, 'slot')}`;
  return facts.launch.launcherHostsRanks ? `${workers} + ${plural(slots, 'launcher slot')}` : workers;
}

/** An argv as written: command then args, strings only. */
export function writtenArgv(command: unknown, args: unknown): string[] {
  return [...(Array.isArray(command) ? command : []), ...(Array.isArray(args) ? args : [])].filter(w => typeof w === 'string');
}

/**
 * An argv (command then args), after the launcher's wait-for-workers step when there is one:
 * the command the wait step execs. A shell invocation (`sh -c '...'`) is split into words so
 * that the mpirun line inside it can be checked too.
 */
export function splitArgv(command: unknown, args: unknown): string[] {
  const written = writtenArgv(command, args);
  const argv = parseWorkerWaitStep(written)?.command ?? written;
  const shell = argv.findIndex((word, i) => /(^|\/)(ba|da|z)?sh$/.test(word) && argv[i + 1] === '-c');
  if (shell < 0 || argv[shell + 2] === undefined) return argv;
  return argv[shell + 2].split(/\s+/).filter(word => word !== '');
}

/** What the facts record of a launcher argv: the split argv and what is read from it. */
export interface LaunchArgv {
  readonly argv: string[];
  readonly mpirunOptions?: string[];
  readonly program: string[];
  readonly usesDeepSpeedRunner: boolean;
  readonly wait?: WorkerWaitStep;
}

/** The last argvs read, with what was read from them: the jobs of a sweep have a few argvs between them. */
const recentArgvs: Array<{ readonly written: string[]; readonly read: LaunchArgv }> = [];
const RECENT_ARGVS = 8;

function sameWords(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads a launcher argv (command then args) once for the facts (see splitArgv, mpirunOptions, programArgv). */
export function readLaunchArgv(command: unknown, args: unknown): LaunchArgv {
  const written = writtenArgv(command, args);
  const recent = recentArgvs.find(entry => sameWords(entry.written, written));
  if (recent) return recent.read;
  const argv = splitArgv(command, args);
  const read = {
    argv,
    mpirunOptions: mpirunOptions(argv),
    program: programArgv(argv),
    usesDeepSpeedRunner: usesDeepSpeedRunner(argv),
    wait: parseWorkerWaitStep(written),
  };
  if (recentArgvs.length >= RECENT_ARGVS) recentArgvs.shift();
  recentArgvs.push({ written, read });
  return read;
}

/** The executable of an argv word, without its directory. */
function executable(word: string): string {
  return word.slice(word.lastIndexOf('/') + 1);
}

/** Where the MPI launcher (mpirun and its aliases) stands in an argv, -1 when it does not. */
function mpirunIndex(argv: string[]): number {
  return argv.findIndex(word => ['mpirun', 'mpiexec', 'mpiexec.hydra', 'orterun', 'prterun'].includes(executable(word)));
}

/**
 * mpirun's own options in the launcher argv: the words after `mpirun` up to the Python
 * program. Undefined when the launcher does not run mpirun.
 */
export function mpirunOptions(argv: string[]): string[] | undefined {
  const start = mpirunIndex(argv);
  if (start < 0) return undefined;
  const rest = argv.slice(start + 1);
  const program = rest.findIndex(word => /^python[0-9.]*$/.test(executable(word)) || word.endsWith('.py'));
  return program < 0 ? rest : rest.slice(0, program);
}

/**
 * What the ranks run: the Python interpreter (or script) and every word after it in the
 * launcher argv. Empty when the launcher does not run mpirun.
 */
export function programArgv(argv: string[]): string[] {
  const options = mpirunOptions(argv);
  return options === undefined ? [] : argv.slice(mpirunIndex(argv) + 1 + options.length);
}

/**
 * The port a worker pod's sshd listens on: `sshd -p PORT` in its command, else the container
 * port named `ssh`, else sshd's default 22. Undefined without a worker container.
 */
export function workerSshPort(pod: PodFacts | undefined): number | undefined {
  const container = mainContainerOf(pod);
  if (!container) return undefined;
  const argv = writtenArgv(container.command, container.args).map(String);
  const flag = argv.indexOf('-p');
  if (flag >= 0) return Number(argv[flag + 1]);
  const joined = argv.find(word => /^-p[0-9]+$/.test(word));
  if (joined) return Number(joined.slice(2));
  const named = (container.ports ?? []).find((p: any) => p.name === 'ssh');
  return named ? Number(named.containerPort) : 22;
}

/** Mount paths of a pod's main container. */
export function mountPaths(pod: PodFacts | undefined): string[] {
  return (specOf(pod).containers?.[0]?.volumeMounts ?? []).map((m: any) => m.mountPath).filter((p: unknown) => typeof p === 'string');
}

/** Whether the launcher starts DeepSpeed's own `deepspeed` runner rather than mpirun. */
export function usesDeepSpeedRunner(argv: string[]): boolean {
  return argv.some(word => executable(word) === 'deepspeed' || word === 'deepspeed.launcher.runner');
}

/**
 * GPUs of a container: the limits (or requests) of the job's GPU resource and of any other
 * `<vendor>/gpu` resource, 0 when none parse.
 */
export function gpuCount(container: any, gpuResourceName: string): number {
  const amounts: { [name: string]: unknown } = { ...container?.resources?.requests, ...container?.resources?.limits };
  return Object.entries(amounts)
    .filter(([name]) => name === gpuResourceName || name.endsWith('/gpu'))
    // Whole numbers (what gpusPerWorker writes) need no parsing.
    .reduce((sum: number, [, amount]) => {
      if (typeof amount === 'number' && Number.isSafeInteger(amount)) return sum + amount;
      const q = parseQuantity(amount);
      return sum + (q ? quantityToNumber(q) : 0);
    }, 0);
}
