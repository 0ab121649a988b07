import { parseQuantity, quantityToNumber } from '../quantity';
import { parseWorkerWaitStep, WorkerWaitStep } from '../worker-wait';
import { plural } from './finding';

/**
 * Read-only accessors for the rendered MPIJob JSON, shared by the rules so that every rule
 * reads defaults (and missing pieces) the way the MPI Operator does.
 */

/** The replica types the MPI Operator knows, in the order rules report them. */
export const REPLICA_TYPES = ['Launcher', 'Worker'];

/** The JSON path prefix of a replica's pod template spec, for messages. */
export function podSpecPath(replicaType: string): string {
  return `spec.mpiReplicaSpecs.${replicaType}.template.spec`;
}

/** A replica spec, or undefined when the manifest has none. */
export function replicaSpec(manifest: any, replicaType: string): any | undefined {
  return manifest.spec?.mpiReplicaSpecs?.[replicaType];
}

/** The pod spec of a replica's template, or an empty object. */
export function podSpec(manifest: any, replicaType: string): any {
  return replicaSpec(manifest, replicaType)?.template?.spec ?? {};
}

/** The first container of a replica: the one the operator sets up ssh in and ranks run in. */
export function mainContainer(manifest: any, replicaType: string): any | undefined {
  return podSpec(manifest, replicaType).containers?.[0];
}

/** `slotsPerWorker` with the CRD default of 1. */
export function slotsPerWorker(manifest: any): number {
  return manifest.spec?.slotsPerWorker ?? 1;
}

/** Whether the launcher hosts ranks too (`runLauncherAsWorker`). */
export function launcherRunsAsWorker(manifest: any): boolean {
  return manifest.spec?.runLauncherAsWorker === true;
}

/** Worker pods the operator creates: the Worker replicas, 0 without a Worker spec. */
export function workerReplicas(manifest: any): number {
  const replicas = replicaSpec(manifest, 'Worker')?.replicas;
  return typeof replicas === 'number' ? replicas : 0;
}

/** Hosts in the operator's hostfile: the workers, and the launcher when it runs as a worker. */
export function hostCount(manifest: any): number {
  return workerReplicas(manifest) + (launcherRunsAsWorker(manifest) ? 1 : 0);
}

/** The number of ranks the operator's hostfile has room for: slotsPerWorker on every host. */
export function worldSize(manifest: any): number {
  return hostCount(manifest) * slotsPerWorker(manifest);
}

/** How the world size is made up, for messages: `2 workers × 4 slots + 4 launcher slots`. */
export function worldSizeTerms(manifest: any): string {
  const slots = slotsPerWorker(manifest);
  const workers = `${plural(workerReplicas(manifest), 'worker')} × ${plural(slots, 'slot')}`;
  return launcherRunsAsWorker(manifest) ? `${workers} + ${plural(slots, 'launcher slot')}` : workers;
}

/** The launcher container's argv as written: command then args. */
function containerArgv(manifest: any): string[] {
  const container = mainContainer(manifest, 'Launcher');
  return [...(container?.command ?? []), ...(container?.args ?? [])].filter(w => typeof w === 'string');
}

/** The launcher's wait-for-workers step, undefined when its argv does not start with one. */
export function launcherWaitStep(manifest: any): WorkerWaitStep | undefined {
  return parseWorkerWaitStep(containerArgv(manifest));
}

/**
 * The launcher's argv (command then args), after the wait-for-workers step when there is one:
 * the command the wait step execs. A shell invocation (`sh -c '...'`) is split into words so
 * that the mpirun line inside it can be checked too.
 */
export function launcherArgv(manifest: any): string[] {
  const written = containerArgv(manifest);
  const argv = parseWorkerWaitStep(written)?.command ?? written;
  const shell = argv.findIndex((word, i) => /(^|\/)(ba|da|z)?sh$/.test(word) && argv[i + 1] === '-c');
  if (shell < 0 || argv[shell + 2] === undefined) return argv;
  return argv[shell + 2].split(/\s+/).filter(word => word !== '');
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
 * The port the workers' sshd listens on: `sshd -p PORT` in the worker command, else the
 * container port named `ssh`, else sshd's default 22. Undefined without a worker container.
 */
export function workerSshPort(manifest: any): number | undefined {
  const container = mainContainer(manifest, 'Worker');
  if (!container) return undefined;
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])].map(String);
  const flag = argv.indexOf('-p');
  if (flag >= 0) return Number(argv[flag + 1]);
  const joined = argv.find(word => /^-p[0-9]+$/.test(word));
  if (joined) return Number(joined.slice(2));
  const named = (container.ports ?? []).find((p: any) => p.name === 'ssh');
  return named ? Number(named.containerPort) : 22;
}

/** Mount paths of a replica's main container. */
export function mountPaths(manifest: any, replicaType: string): string[] {
  return (mainContainer(manifest, replicaType)?.volumeMounts ?? []).map((m: any) => m.mountPath).filter((p: unknown) => typeof p === 'string');
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
    .map(([, amount]) => parseQuantity(amount))
    .reduce((sum: number, q) => sum + (q ? quantityToNumber(q) : 0), 0);
}
