import * as path from 'path';
import { OPERATOR_HOSTFILE } from '../mpirun';
import { WorkerWaitStep } from '../worker-wait';
import { LauncherEnvVar } from './container-env';
import { ILaunchManifest } from './manifest';
import { MpirunCommandLine } from './mpirun-cli';
import { configMapFileAt } from './pod-files';
import { ProbeRecord } from './scripts';

/** Outcome of one rehearsal check. */
export enum CheckStatus {
  /** What the check looks at is as the job needs it. */
  PASSED = 'passed',
  /** The launch would not do what the job needs. */
  FAILED = 'failed',
  /** Worth a look; does not fail the rehearsal. */
  WARNING = 'warning',
}

/** One check of a rehearsal and its reason. */
export interface RehearsalCheck {
  /** Short name, e.g. `world size`. */
  readonly name: string;
  /** Outcome. */
  readonly status: CheckStatus;
  /** What was found, in a sentence. */
  readonly detail: string;
}

/** One ssh connection mpirun made, as the ssh stand-in logged it. */
export interface SshConnection {
  /** The host mpirun connected to. */
  readonly host: string;
  /** The port it connected to. */
  readonly port: number;
}

/** What the checks look at: the job, its command as synthesized, and what the ranks recorded. */
export interface CheckContext {
  readonly job: ILaunchManifest;
  readonly commandLine: MpirunCommandLine;
  /** The launcher's wait-for-workers step, if its argv has one. */
  readonly wait?: WorkerWaitStep;
  /** Whether the wait step ran (real OpenSSH) rather than being read only (stand-in). */
  readonly waitRan?: boolean;
  readonly ranks: ProbeRecord[];
  /** The environment mpirun ran with. */
  readonly launcherEnv: LauncherEnvVar[];
  /** Forwarded variables that only the cluster can fill in, left out of that environment. */
  readonly leftOutEnv: LauncherEnvVar[];
  /** Names the user expects to be left out. */
  readonly expectedMissingEnv: string[];
  /** Every ssh connection the stand-in received. */
  readonly sshConnections: SshConnection[];
}

const passed = (name: string, detail: string): RehearsalCheck => ({ name, status: CheckStatus.PASSED, detail });
const failed = (name: string, detail: string): RehearsalCheck => ({ name, status: CheckStatus.FAILED, detail });
const warned = (name: string, detail: string): RehearsalCheck => ({ name, status: CheckStatus.WARNING, detail });

/** `0, 1, 2, 5` → `0-2, 5`. */
export function rankList(ranks: number[]): string {
  const sorted = [...new Set(ranks)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function topology(job: ILaunchManifest): string {
  const workers = job.workerHostnames.length;
  const hosts = job.runLauncherAsWorker ? `(1 launcher + ${plural(workers, 'worker')})` : plural(workers, 'worker');
  return `${hosts} × ${plural(job.slotsPerWorker, 'slot')}`;
}

function worldSize(ctx: CheckContext): RehearsalCheck {
  const name = 'world size';
  const np = ctx.commandLine.processCount;
  if (np === undefined || !Number.isInteger(np)) return failed(name, 'the launcher command sets no -np');
  if (np !== ctx.job.totalSlots) {
    return failed(name, `-np ${np} but the hostfile has ${ctx.job.totalSlots} slots, ${topology(ctx.job)}: ${np < ctx.job.totalSlots ? 'slots would sit idle' : 'mpirun cannot place every rank'}`);
  }
  const wrongSize = ctx.ranks.filter(r => r.worldSize !== np).map(r => r.rank);
  if (wrongSize.length > 0) return failed(name, `ranks ${rankList(wrongSize)} report a world size other than ${np}`);
  const seen = ctx.ranks.map(r => r.rank);
  const missing = Array.from({ length: np }, (_, i) => i).filter(i => !seen.includes(i));
  if (missing.length > 0 || seen.length !== np) {
    return failed(name, `${plural(seen.length, 'rank')} ran instead of ${np}${missing.length > 0 ? `; missing ranks ${rankList(missing)}` : ''}`);
  }
  return passed(name, `${plural(np, 'rank')}: -np ${np} = ${topology(ctx.job)}`);
}

function placement(ctx: CheckContext): RehearsalCheck {
  const name = 'placement';
  const slots = ctx.job.slotsPerWorker;
  const pods = ctx.job.hostfileHosts.map(host => host.split('.')[0]);
  const problems: string[] = [];
  for (const pod of pods) {
    const here = ctx.ranks.filter(r => r.pod === pod);
    const localRanks = here.map(r => r.localRank).sort((a, b) => a - b);
    const expected = Array.from({ length: slots }, (_, i) => i);
    if (JSON.stringify(localRanks) !== JSON.stringify(expected) || here.some(r => r.localSize !== slots)) {
      problems.push(`${pod} runs ${plural(here.length, 'rank')} with local ranks [${localRanks.join(', ')}] instead of ${slots}`);
    }
  }
  const stray = ctx.ranks.filter(r => !pods.includes(r.pod));
  if (stray.length > 0) problems.push(`ranks ${rankList(stray.map(r => r.rank))} ran outside the hostfile's pods`);
  if (problems.length > 0) return failed(name, problems.join('; '));
  return passed(name, `${plural(slots, 'rank')} on each of ${pods.join(', ')}, local ${slots === 1 ? 'rank 0' : `ranks 0-${slots - 1}`}`);
}

/** What a shell and Open MPI accept as a variable name. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Search paths that Open MPI prefixes with its own bin or lib directory on the ranks it starts remotely. */
const OPEN_MPI_PREFIXED = ['PATH', 'LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH'];

function sameForwardedValue(name: string, received: string, sent: string): boolean {
  return received === sent || (OPEN_MPI_PREFIXED.includes(name) && received.endsWith(`:${sent}`) && !received.slice(0, -sent.length - 1).includes(':'));
}

function forwardedEnv(ctx: CheckContext): RehearsalCheck {
  const name = 'forwarded env';
  const launcher = new Map(ctx.launcherEnv.map(v => [v.name, v.value]));
  const entries = ctx.commandLine.exportedEnv.map(entry => {
    const eq = entry.indexOf('=');
    return eq < 0 ? { name: entry, value: launcher.get(entry) } : { name: entry.slice(0, eq), value: entry.slice(eq + 1) };
  });
  if (entries.length === 0) return passed(name, 'the command forwards no variables with -x');
  const problems: string[] = [];
  const leftOut = new Map(ctx.leftOutEnv.map(v => [v.name, v]));
  const expectedMissing: string[] = [];
  for (const entry of entries) {
    if (!ENV_NAME.test(entry.name)) {
      problems.push(`-x ${entry.name} is not a variable name: a -x without one takes the next argument`);
      continue;
    }
    const unknown = leftOut.get(entry.name)?.unknownValue;
    if (entry.value === undefined && unknown !== undefined) {
      if (ctx.expectedMissingEnv.includes(entry.name)) {
        expectedMissing.push(`${entry.name} (the ${unknown}) did not, as expected`);
      } else {
        problems.push(`${entry.name} is the ${unknown}, which only the cluster can read, so it did not reach ranks ${rankList(ctx.ranks.map(r => r.rank))}: `
          + `set ${entry.name} in the rehearsal's environment to stand in for it, or expect it missing (--expect-missing ${entry.name})`);
      }
      continue;
    }
    if (entry.value === undefined) {
      problems.push(`${entry.name} is forwarded with -x but the launcher does not set it`);
      continue;
    }
    const missing = ctx.ranks.filter(r => r.env[entry.name] === undefined).map(r => r.rank);
    const differs = ctx.ranks.filter(r => r.env[entry.name] !== undefined && !sameForwardedValue(entry.name, r.env[entry.name], entry.value!)).map(r => r.rank);
    if (missing.length > 0) problems.push(`${entry.name} did not reach ranks ${rankList(missing)}`);
    if (differs.length > 0) problems.push(`${entry.name} reached ranks ${rankList(differs)} with another value than ${JSON.stringify(entry.value)}`);
  }
  if (problems.length > 0) return failed(name, problems.join('; '));
  const reached = entries.filter(e => e.value !== undefined).map(e => e.name);
  return passed(name, [
    ...reached.length > 0 ? [`${reached.join(', ')} reached all ${plural(ctx.ranks.length, 'rank')} with the launcher's values`] : [],
    ...expectedMissing,
  ].join('; '));
}

/** Variables on the launcher container that some ranks never see because no -x forwards them. */
function launcherOnlyEnv(ctx: CheckContext): RehearsalCheck | undefined {
  const forwarded = new Set(ctx.commandLine.exportedEnv.map(e => e.split('=')[0]));
  const manifestNames: string[] = (ctx.job.launcher.container.env ?? []).map((e: any) => e.name);
  // Open MPI passes OMPI_* on by itself.
  const notForwarded = manifestNames.filter(n => !forwarded.has(n) && !n.startsWith('OMPI_'));
  const unseen = notForwarded
    .map(n => ({ name: n, ranks: ctx.ranks.filter(r => r.env[n] === undefined).map(r => r.rank) }))
    .filter(u => u.ranks.length > 0);
  if (unseen.length === 0) return undefined;
  return {
    name: 'launcher-only env',
    status: CheckStatus.WARNING,
    detail: unseen.map(u => `${u.name} is set on the launcher but not forwarded with -x, so ranks ${rankList(u.ranks)} do not see it`).join('; '),
  };
}

/** mpirun must start the Python interpreter; anything else means the command is shifted or wraps another launcher. */
function program(ctx: CheckContext): RehearsalCheck {
  const name = 'program';
  const started = ctx.commandLine.program!;
  if (!/^python[0-9.]*$/.test(path.posix.basename(started))) {
    return { name, status: CheckStatus.WARNING, detail: `mpirun starts ${started} on every rank, which is not a Python interpreter` };
  }
  return passed(name, `mpirun starts ${started} on every rank (the probe took its place here)`);
}

function programArguments(ctx: CheckContext): RehearsalCheck {
  const name = 'program arguments';
  const expected = ctx.commandLine.programArgs;
  const wrong = ctx.ranks.filter(r => JSON.stringify(r.argv) !== JSON.stringify(expected));
  if (wrong.length > 0) {
    const sample = wrong[0];
    return failed(name, `ranks ${rankList(wrong.map(r => r.rank))} received ${JSON.stringify(sample.argv)} instead of ${JSON.stringify(expected)}`);
  }
  return passed(name, `every rank received ${JSON.stringify(expected)}`);
}

function workingDirectory(ctx: CheckContext): RehearsalCheck | undefined {
  const name = 'working directory';
  const wdir = ctx.commandLine.optionsNamed('--wdir', '-wdir', '--wd', '-wd').pop()?.values[0] ?? ctx.job.launcher.container.workingDir;
  if (wdir === undefined) return undefined;
  const wrong = ctx.ranks.filter(r => r.cwd !== path.posix.normalize(wdir));
  if (wrong.length > 0) {
    return failed(name, `ranks ${rankList(wrong.map(r => r.rank))} started in ${wrong[0].cwd} instead of ${wdir}`);
  }
  return passed(name, `every rank started in ${wdir}`);
}

/** The value of `--flag VALUE` or `--flag=VALUE` in a program's arguments. */
function argumentValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i].startsWith(`${flag}=`)) return args[i].slice(flag.length + 1);
  }
  return undefined;
}

function deepspeedConfigFile(ctx: CheckContext): RehearsalCheck | undefined {
  const name = 'DeepSpeed config';
  const file = argumentValue(ctx.commandLine.programArgs, '--deepspeed_config');
  if (file === undefined) return undefined;
  const problems: string[] = [];
  const found = new Set<string>();
  const pods = [...new Set(ctx.ranks.map(r => r.pod))];
  for (const pod of pods) {
    const replica = ctx.job.replicaOf(pod);
    if (!replica) continue;
    const cwd = ctx.ranks.find(r => r.pod === pod)!.cwd;
    const absolute = path.posix.resolve(cwd, file);
    const mounted = configMapFileAt(ctx.job, replica, absolute);
    const where = `${replica.role.toLowerCase()} pod ${pod}`;
    if (!mounted) {
      const mounts = (replica.container.volumeMounts ?? []).map((m: any) => m.mountPath).join(', ') || 'none';
      problems.push(`${absolute} is not on a ConfigMap volume in the ${where} (mounts: ${mounts})`);
    } else if (mounted.problem) {
      problems.push(`${absolute} is missing in the ${where}: ${mounted.problem}`);
    } else {
      try {
        JSON.parse(mounted.content!);
        found.add(`key ${mounted.key} of ConfigMap ${mounted.configMapName} mounted at ${mounted.mountPath}`);
      } catch (e) {
        problems.push(`${absolute} in the ${where} is not valid JSON: ${(e as Error).message}`);
      }
    }
  }
  if (problems.length > 0) return failed(name, `--deepspeed_config ${file}: ${problems.join('; ')}`);
  return passed(name, `--deepspeed_config ${file} is ${[...found].join(' and ')} in every rank's pod, and parses as JSON`);
}

/**
 * The port the workers' sshd listens on: `-p N` in its command, else the container port named
 * ssh, else the port of its tcp readiness probe (an sshd that reads its Port from a config file,
 * as in the Trainer's deepspeed-distributed runtime), else 22.
 */
export function workerSshPort(job: ILaunchManifest): number {
  const container = job.worker?.container ?? {};
  const argv: string[] = [...(container.command ?? []), ...(container.args ?? [])].map(String);
  const flag = argv.findIndex(a => a === '-p');
  if (flag >= 0) return Number(argv[flag + 1]);
  const joined = argv.find(a => /^-p[0-9]+$/.test(a));
  if (joined) return Number(joined.slice(2));
  const named = (container.ports ?? []).find((p: any) => p.name === 'ssh');
  if (named) return Number(named.containerPort);
  const probed = container.readinessProbe?.tcpSocket?.port;
  return typeof probed === 'number' ? probed : 22;
}

function sshPort(ctx: CheckContext): RehearsalCheck | undefined {
  const name = 'ssh port';
  if (ctx.sshConnections.length === 0) return undefined;
  const port = workerSshPort(ctx.job);
  const wrong = ctx.sshConnections.filter(c => c.port !== port);
  if (wrong.length > 0) {
    return failed(name, `mpirun connects to ${wrong[0].host} on port ${wrong[0].port}, but the workers' sshd listens on ${port}`);
  }
  const hosts = new Set(ctx.sshConnections.map(c => c.host)).size;
  return passed(name, `mpirun reached ${plural(hosts, 'worker pod')} over ssh port ${port}, where their sshd listens`);
}

/**
 * The wait step must watch the hostfile the operator mounts and the port the workers' sshd
 * listens on, or it waits for nothing (or forever). The stand-in rehearsal does not run it:
 * the emulated hosts do not resolve on this machine.
 */
function workerWait(ctx: CheckContext): RehearsalCheck {
  const name = 'worker wait';
  const wait = ctx.wait;
  if (!wait) {
    return warned(name, 'the launcher runs mpirun at once: worker names resolve only once each worker is Ready, so ssh fails on a worker that is still starting and the launcher retries');
  }
  if (wait.hostfile !== OPERATOR_HOSTFILE) {
    return failed(name, `the wait step reads --hostfile ${wait.hostfile ?? '(not given)'}, but the MPI Operator mounts the hostfile at ${OPERATOR_HOSTFILE}`);
  }
  const timeout = Number(wait.timeout);
  if (wait.timeout === undefined || !Number.isFinite(timeout) || timeout <= 0) {
    return failed(name, `the wait step's --timeout is ${wait.timeout ?? '(not given)'}, not a positive number of seconds`);
  }
  const hosts = ctx.job.workerHostnames.length;
  if (hosts === 0) {
    return passed(name, `the hostfile names only the launcher itself, which the wait step does not wait for (up to ${timeout} s)`);
  }
  const port = workerSshPort(ctx.job);
  if (Number(wait.port) !== port) {
    return failed(name, `the wait step waits for port ${wait.port ?? '(not given)'}, but the workers' sshd listens on ${port}, so it would wait until its deadline and fail`);
  }
  return passed(name, `before mpirun the launcher waits up to ${timeout} s until ${plural(hosts, 'worker pod')} of ${OPERATOR_HOSTFILE} accept connections on port ${port}, where their sshd listens (${ctx.waitRan ? 'ran here, over real OpenSSH' : 'not run here'})`);
}

/** Every check of a finished launch, in report order. */
export function launchChecks(ctx: CheckContext): RehearsalCheck[] {
  return [
    worldSize(ctx),
    placement(ctx),
    forwardedEnv(ctx),
    launcherOnlyEnv(ctx),
    program(ctx),
    programArguments(ctx),
    workingDirectory(ctx),
    deepspeedConfigFile(ctx),
    sshPort(ctx),
    workerWait(ctx),
  ].filter((c): c is RehearsalCheck => c !== undefined);
}
