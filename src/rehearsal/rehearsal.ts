import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { OPERATOR_HOSTFILE } from '../mpirun';
import { MpiImplementation } from '../types';
import { parseWorkerWaitStep, WORKER_WAIT_LOG_PREFIX, WorkerWaitStep } from '../worker-wait';
import { CheckStatus, ENV_NAME, launchChecks, RehearsalCheck, SshConnection } from './checks';
import { EnvSource, launcherArgv, launcherContainerEnv, LauncherEnvVar } from './container-env';
import { ILaunchManifest } from './manifest';
import { formatRehearsalReport } from './report';
import { MpirunCommandLine, parseMpirunHelp } from './mpirun-cli';
import { oneLine, OpenSshPods, podUser } from './openssh';
import { canProvide, PodProcess, sandboxUnavailable } from './pod-sandbox';
import { PROBE_LINE_PREFIX, ProbeRecord, probeSource, sshStandInSource } from './scripts';
import { ownership, SshAuthFile } from './ssh-auth-mount';
import { WorkerPodReport } from './worker-pod-report';

/** How a rehearsal reaches the emulated worker pods. */
export enum RehearsalMode {
  /**
   * An ssh stand-in starts each worker's processes on this machine: needs only `/bin/sh` and
   * Open MPI, no root, no sshd. The launcher's wait step is not run (no worker name resolves).
   */
  STAND_IN = 'stand-in',
  /**
   * Real OpenSSH: one `sshd` per worker pod as the image's user, on its own loopback address and
   * the job's ssh port, the operator's key files, the hostfile's names resolving once a worker
   * is up, and the launcher's wait step and mpirun as synthesized. Needs root on Linux (mount,
   * PID and UTS namespaces), util-linux and openssh-server.
   */
  OPENSSH = 'openssh',
}

/** Receives progress lines while a rehearsal runs. */
export interface IRehearsalProgress {
  /** Called with one line of progress. */
  report(message: string): void;
}

/** Options of a launch rehearsal. */
export interface LaunchRehearsalOptions {
  /**
   * The Open MPI `mpirun` to run, a path or a name on PATH.
   * @default 'mpirun'
   */
  readonly mpirun?: string;
  /**
   * Give up and kill mpirun after this long.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Keep the work directory (hostfile, probe, rank records) instead of deleting it.
   * @default false
   */
  readonly keepWorkDirectory?: boolean;
  /**
   * Where progress lines go.
   * @default - nowhere
   */
  readonly progress?: IRehearsalProgress;
  /**
   * How mpirun reaches the worker pods. The stand-in runs anywhere Open MPI does; real OpenSSH
   * needs root on Linux and proves sshd, the key files, host names and the wait step too.
   * @default RehearsalMode.STAND_IN
   */
  readonly mode?: RehearsalMode;
  /**
   * The image's sshd_config (real OpenSSH only), for an image the recipe did not build.
   * @default - the configuration the image recipe writes for the job's user and ssh port
   */
  readonly sshdConfig?: string;
  /**
   * The image's /etc/ssh/ssh_config (real OpenSSH only).
   * @default - the client configuration the image recipe writes for the job's ssh port
   */
  readonly sshClientConfig?: string;
  /**
   * Workers whose sshd starts late, by pod hostname (real OpenSSH only): a cold image pull.
   * @default - every worker starts with the launcher
   */
  readonly workerStartDelays?: { [hostname: string]: Duration };
  /**
   * Workers whose sshd never starts, by pod hostname (real OpenSSH only).
   * @default - none
   */
  readonly workersThatNeverStart?: string[];
  /**
   * Mode of the mounted key files instead of the operator's (real OpenSSH only; fault injection).
   * @default - the operator's: 0600 at /root/.ssh, 0644 elsewhere, then group-readable with fsGroup
   */
  readonly keyFileMode?: number;
  /**
   * Owner uid of the mounted key files instead of root (real OpenSSH only; fault injection).
   * @default 0
   */
  readonly keyFileOwner?: number;
  /**
   * Values for forwarded variables that only the cluster can fill in (a Secret key, a pod field,
   * a ConfigMap that is not in the manifests), by name: each stands in for the real value.
   * The CLI passes its own environment.
   * @default - none: such variables are left out, and the rehearsal fails unless they are expected
   */
  readonly environment?: { [name: string]: string };
  /**
   * Forwarded variables that may be left out because only the cluster can fill them in, such as a
   * Secret-backed token: the rehearsal passes without them, and says so.
   * @default - none
   */
  readonly expectedMissingEnv?: string[];
}

/** Everything a rehearsal did and found. */
export interface RehearsalReport {
  /** The job's name. */
  readonly jobName: string;
  /** The job's kind, `MPIJob` or `TrainJob`. */
  readonly jobKind: string;
  /** How the worker pods were reached. */
  readonly mode: RehearsalMode;
  /**
   * Each worker pod: its address, when its sshd came up, its sshd log (real OpenSSH only).
   * @default - none: stand-in mode
   */
  readonly workers?: WorkerPodReport[];
  /**
   * The SSH key files as mounted at `sshAuthMountPath` (real OpenSSH only).
   * @default - none: stand-in mode
   */
  readonly keyFiles?: SshAuthFile[];
  /** The launcher's argv as its container receives it. */
  readonly command: string[];
  /** The argv that ran on this machine. */
  readonly localCommand: string[];
  /** Each local-run change to the command or environment, with its reason. */
  readonly localChanges: string[];
  /** The hostfile as the operator writes it. */
  readonly hostfile: string;
  /** The environment mpirun ran with, and where each variable comes from. */
  readonly launcherEnv: LauncherEnvVar[];
  /** Names of the variables the command forwards to the ranks with `-x`. */
  readonly forwardedEnvNames: string[];
  /** Forwarded variables that only the cluster can fill in and that had no stand-in: left out of mpirun's environment. */
  readonly leftOutEnv: LauncherEnvVar[];
  /**
   * mpirun's exit code.
   * @default - none: mpirun did not run, or was stopped at the timeout
   */
  readonly exitCode?: number;
  /** What mpirun printed (stdout and stderr, interleaved as received). */
  readonly mpirunOutput: string;
  /** What each rank recorded, by rank. */
  readonly ranks: ProbeRecord[];
  /** The checks, in order. */
  readonly checks: RehearsalCheck[];
  /** Whether no check failed. */
  readonly passed: boolean;
  /**
   * The work directory, when kept.
   * @default - none: the work directory was deleted
   */
  readonly workDirectory?: string;
}

/** Launcher names of mpirun that the rehearsal runs (Open MPI spells it three ways). */
const MPIRUN_NAMES = ['mpirun', 'mpiexec', 'orterun'];
const HOSTFILE_OPTIONS = ['--hostfile', '-hostfile', '--machinefile', '-machinefile', '--default-hostfile', '-default-hostfile'];
const WDIR_OPTIONS = ['--wdir', '-wdir', '--wd', '-wd'];

/** The local Open MPI: where its mpirun is, its version and its option table. */
interface LocalOpenMpi {
  readonly path: string;
  readonly version: string;
  readonly arity: Map<string, number>;
}

const openMpiCache = new Map<string, LocalOpenMpi>();

function runAsRootEnv(): { [name: string]: string } {
  return process.getuid?.() === 0 ? { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' } : {};
}

function findExecutable(name: string): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? path.resolve(name) : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Finds the local mpirun and checks it is Open MPI; throws a one-line reason otherwise. */
function localOpenMpi(name: string): LocalOpenMpi {
  const cached = openMpiCache.get(name);
  if (cached) return cached;
  const executable = findExecutable(name);
  if (!executable) {
    throw new Error(`${name} not found: install Open MPI (Debian: apt-get install openmpi-bin, or run scripts/install-test-deps.sh)`);
  }
  const env = { ...process.env, ...runAsRootEnv() };
  const versionText = spawnSync(executable, ['--version'], { env, encoding: 'utf8' }).stdout ?? '';
  const version = /\(Open MPI\)\s*(\S+)/.exec(versionText)?.[1];
  if (!version) {
    throw new Error(`${executable} is not Open MPI's mpirun (its --version says: ${versionText.split('\n')[0] || 'nothing'})`);
  }
  const help = spawnSync(executable, ['--help', 'all'], { env, encoding: 'utf8' });
  const found = { path: executable, version, arity: parseMpirunHelp(`${help.stdout}\n${help.stderr}`) };
  openMpiCache.set(name, found);
  return found;
}

/**
 * mpirun's reason for failing: the first paragraph of its first `-----` banner (and the next
 * paragraph when the first ends with a colon), on one line; else its last lines.
 */
export function mpirunFailureReason(output: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex(l => /^-{20,}\s*$/.test(l));
  const end = start < 0 ? -1 : lines.findIndex((l, i) => i > start && /^-{20,}\s*$/.test(l));
  const oneLine = (text: string[]) => text.join(' ').replace(/\s+/g, ' ').trim();
  if (start >= 0 && end > start) {
    const paragraphs = lines.slice(start + 1, end).join('\n').split(/\n\s*\n/).map(p => oneLine(p.split('\n'))).filter(p => p);
    const first = paragraphs[0] ?? '';
    return first.endsWith(':') && paragraphs[1] ? `${first} ${paragraphs[1]}` : first;
  }
  return lines.filter(l => l.trim()).slice(-3).map(l => l.trim()).join(' / ');
}

/** Why a job cannot be rehearsed, or undefined. */
function unsupported(argv: string[], commandLine: MpirunCommandLine): string | undefined {
  if (argv.length === 0) return 'the launcher container has no command';
  if (!MPIRUN_NAMES.includes(path.posix.basename(argv[0]))) {
    return `the launcher runs ${argv[0]}, not mpirun; the rehearsal runs mpirun commands only`;
  }
  if (commandLine.program === undefined) return 'the launcher command names no program after mpirun\'s options';
  return undefined;
}

function failedReport(base: Omit<RehearsalReport, 'checks' | 'passed'>, name: string, detail: string): RehearsalReport {
  return { ...base, checks: [{ name, status: CheckStatus.FAILED, detail }], passed: false };
}

/**
 * Runs a synthesized job's launch (an MPIJob's or a TrainJob's) on this machine with the real Open MPI `mpirun`: the
 * launcher command exactly as synthesized, the hostfile and launcher environment the MPI
 * Operator would provide, and a probe in place of the training program. Each worker pod is
 * emulated by its hostname: an ssh stand-in starts its processes here, with the clean
 * environment an ssh session gets. The report says what each rank received and whether that
 * is what the job needs. See docs/rehearsal.md for every local-run change and why.
 */
export class LaunchRehearsal {
  /**
   * A report as text: the command, one line per rank (pod, local rank, argv), the forwarded
   * variables, then every check and the verdict.
   */
  public static formatReport(report: RehearsalReport): string {
    return formatRehearsalReport(report);
  }

  /** Rehearses one job. Throws only when this machine cannot run the chosen mode (no Open MPI; for real OpenSSH, not root or no util-linux). */
  public static async run(job: ILaunchManifest, options: LaunchRehearsalOptions = {}): Promise<RehearsalReport> {
    const mode = options.mode ?? RehearsalMode.STAND_IN;
    const command = launcherArgv(job);
    const manifestEnv = launcherContainerEnv(job);
    const base: Omit<RehearsalReport, 'checks' | 'passed'> = {
      jobName: job.name, jobKind: job.kind, mode, command, localCommand: [], localChanges: [], hostfile: job.hostfile,
      launcherEnv: manifestEnv, forwardedEnvNames: [], leftOutEnv: [], mpirunOutput: '', ranks: [],
    };
    if (job.mpiImplementation !== MpiImplementation.OPEN_MPI) {
      return failedReport(base, 'launcher command', `the job uses ${job.mpiImplementation}; the rehearsal runs Open MPI's mpirun only`);
    }
    const openMpi = localOpenMpi(options.mpirun ?? 'mpirun');
    // The wait step execs the command after its `--`: that is the mpirun command line.
    const wait = parseWorkerWaitStep(command);
    const mpirunArgv = wait?.command ?? command;
    const commandLine = MpirunCommandLine.parse(mpirunArgv, openMpi.arity);
    const reason = unsupported(mpirunArgv, commandLine);
    if (reason) return failedReport(base, 'launcher command', reason);
    if (mode === RehearsalMode.OPENSSH) {
      const why = sandboxUnavailable();
      if (why) throw new Error(why);
    }

    const workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-deepspeed-rehearsal-'));
    // The pods' users read the probe and write their records here.
    fs.chmodSync(workDirectory, 0o755);
    try {
      const waitStep = wait ? command.slice(0, command.length - wait.command.length) : [];
      const run = { job, options, commandLine, wait, waitStep, manifestEnv, openMpi, workDirectory, base };
      const report = mode === RehearsalMode.OPENSSH ? await LaunchRehearsal.runOverOpenSsh(run) : await LaunchRehearsal.runWithStandIn(run);
      return { ...report, workDirectory: options.keepWorkDirectory ? workDirectory : undefined };
    } finally {
      if (!options.keepWorkDirectory) fs.rmSync(workDirectory, { recursive: true, force: true });
    }
  }

  private static async runWithStandIn(run: RunContext): Promise<RehearsalReport> {
    const { job, commandLine, openMpi } = run;
    const plan = LaunchRehearsal.plan(run);
    const progress = (message: string) => run.options.progress?.report(message);
    progress(`${job.kind} ${job.jobNamespace}/${job.name}: ${job.hostfileHosts.length} host(s) × ${job.slotsPerWorker} slot(s), mpirun from ${openMpi.path} (Open MPI ${openMpi.version}), ssh stand-in`);
    for (const change of plan.localChanges) progress(`  local run: ${change}`);
    progress(`  starting ${commandLine.processCount ?? '?'} rank(s)`);
    const timeout = run.options.timeout ?? Duration.minutes(1);
    const started = Date.now();
    const child = spawn(plan.localCommand[0], plan.localCommand.slice(1), { env: plan.env, cwd: plan.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const result = await watchProcess(child, signal => processGroupSignal(child, signal), timeout, line => {
      if (line.startsWith(PROBE_LINE_PREFIX)) progress(`  ${line.slice(PROBE_LINE_PREFIX.length).trim()}`);
    });
    return LaunchRehearsal.finish(run, plan, result, started, readSshLog(plan.sshLog!), []);
  }

  private static async runOverOpenSsh(run: RunContext): Promise<RehearsalReport> {
    const { job, commandLine, openMpi, options } = run;
    const progress = (message: string) => options.progress?.report(message);
    const plan = LaunchRehearsal.plan(run);
    const millis = (d: Duration) => d.toMilliseconds();
    let stoppedFor: string | undefined;
    let launcher: PodProcess | undefined;
    const pods = new OpenSshPods(job, {
      workDirectory: run.workDirectory,
      sshdConfig: options.sshdConfig,
      sshClientConfig: options.sshClientConfig,
      workerStartDelays: new Map(Object.entries(options.workerStartDelays ?? {}).map(([pod, delay]) => [pod, millis(delay)])),
      heldBackWorkers: new Set(options.workersThatNeverStart ?? []),
      keyFileMode: options.keyFileMode,
      keyFileOwner: options.keyFileOwner,
      keepVisible: plan.keepVisible,
      imageDirectories: plan.imageDirectories,
      progress,
    });
    const localChanges = [...plan.localChanges, ...pods.localChanges];
    const user = pods.workerUser;
    const keys = pods.keyMount.files[0];
    progress(`${job.kind} ${job.jobNamespace}/${job.name}: ${job.hostfileHosts.length} host(s) × ${job.slotsPerWorker} slot(s), mpirun from ${openMpi.path} (Open MPI ${openMpi.version}), real OpenSSH`);
    progress(`  pods run as uid ${user.uid} (${user.name})${user.groups.length ? `, supplementary group ${user.groups.join(',')} (fsGroup)` : ''}; keys at ${job.sshAuthMountPath}: id_rsa, id_rsa.pub, authorized_keys, ${ownership(keys)}`);
    for (const change of localChanges) progress(`  local run: ${change}`);
    const timeout = options.timeout ?? Duration.minutes(1);
    const started = Date.now();
    try {
      // A worker whose sshd exited never comes up: once every worker has settled, the wait step
      // could only run out its deadline, so the launcher is stopped then.
      void pods.startWorkers().then(() => {
        const failed = pods.workerReports.find(w => !w.heldBack && w.address === undefined && w.sshdCommand.length > 0);
        if (!failed || stoppedFor) return;
        stoppedFor = failed.hostname;
        progress(`  stopping the launcher: ${failed.hostname} will never accept connections`);
        launcher?.kill();
      });
      progress(`  launcher ${job.launcherHostname} starts with the workers (${run.waitStep.length > 0 ? 'wait step, then ' : ''}${commandLine.processCount ?? '?'} rank(s))`);
      launcher = pods.startLauncher(plan.localCommand, plan.env, plan.cwd);
      const pod = launcher;
      if (stoppedFor) pod.kill();
      const result = await watchProcess(pod.child, () => pod.kill(), timeout, line => {
        progress(line.startsWith(PROBE_LINE_PREFIX) ? `  ${line.slice(PROBE_LINE_PREFIX.length).trim()}` : `  launcher: ${line}`);
      }, line => progress(`  launcher: ${line}`));
      pods.stop();
      const workers = pods.workerReports;
      const connections = workers.flatMap(w => (w.sshdLog.match(/^Accepted publickey for /gm) ?? []).map(() => ({ host: w.hostfileName, port: w.port })));
      const stopped = stoppedFor === undefined ? result : {
        ...result,
        stoppedBecause: `the launcher was stopped once ${stoppedFor}'s sshd exited: that worker never comes up, so ${run.waitStep.length > 0
          ? `the wait step could only run out its deadline (${run.wait?.timeout} s) and fail naming it` : 'mpirun cannot reach it'}`,
      };
      const report = LaunchRehearsal.finish(run, { ...plan, localChanges }, stopped, started, connections, [workerSshdCheck(workers, pods.keyMount.files, user.uid)]);
      return { ...report, workers, keyFiles: pods.keyMount.files };
    } finally {
      pods.stop();
      launcher?.kill();
    }
  }

  /** The report of a finished launch: the mpirun check first, then the launch checks when it exited with 0. */
  private static finish(run: RunContext, plan: LaunchPlan, result: ProcessResult, started: number, sshConnections: SshConnection[], podChecks: RehearsalCheck[]): RehearsalReport {
    const progress = (message: string) => run.options.progress?.report(message);
    const timeout = run.options.timeout ?? Duration.minutes(1);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    // Over real OpenSSH the launcher runs its wait step first; the stand-in runs mpirun only.
    const what = run.options.mode === RehearsalMode.OPENSSH && run.waitStep.length > 0 ? 'launcher' : 'mpirun';
    progress(result.exitCode === undefined ? `  ${what} stopped after ${seconds} s` : `  ${what} exited with code ${result.exitCode} after ${seconds} s`);
    const ranks = readRankRecords(plan.ranksDirectory, plan.podRoot);
    const report = {
      ...run.base,
      localCommand: plan.localCommand,
      localChanges: plan.localChanges,
      launcherEnv: plan.launcherEnv,
      forwardedEnvNames: run.commandLine.exportedEnv.map(e => e.split('=')[0]),
      leftOutEnv: plan.leftOutEnv,
      exitCode: result.exitCode,
      mpirunOutput: result.output,
      ranks,
    };
    if (result.exitCode !== 0) {
      const why = result.stoppedBecause ?? (result.exitCode === undefined
        ? `${what === 'launcher' ? 'the launcher' : 'mpirun'} did not finish within ${timeout.toMilliseconds() / 1000} s and was stopped`
        : waitStepFailure(run, result) ?? `mpirun exited with code ${result.exitCode}: ${sshErrors(result.output)}${mpirunFailureReason(result.output)}`);
      const checks = [...podChecks, { name: 'mpirun', status: CheckStatus.FAILED, detail: why }];
      return { ...report, checks, passed: false };
    }
    const checks = [
      ...podChecks,
      { name: 'mpirun', status: CheckStatus.PASSED, detail: `exited with code 0 after ${seconds} s` },
      ...launchChecks({
        job: run.job, commandLine: run.commandLine, wait: run.wait, waitRan: run.options.mode === RehearsalMode.OPENSSH,
        ranks, launcherEnv: plan.launcherEnv, sshConnections,
        leftOutEnv: plan.leftOutEnv, expectedMissingEnv: run.options.expectedMissingEnv ?? [],
      }),
    ];
    return { ...report, checks, passed: checks.every(c => c.status !== CheckStatus.FAILED) };
  }

  /** Writes the hostfile and the probe (and the ssh stand-in), and builds the local command and environment. */
  private static plan(run: RunContext): LaunchPlan {
    const { job, commandLine, openMpi, workDirectory } = run;
    const openSsh = run.options.mode === RehearsalMode.OPENSSH;
    const podRoot = path.join(workDirectory, 'pod-root');
    const ranksDirectory = path.join(workDirectory, 'ranks');
    const hostfile = path.join(workDirectory, 'hostfile');
    const probe = path.join(workDirectory, 'probe.js');
    const podDirectory = (podPath: string) => {
      const local = path.join(podRoot, podPath);
      fs.mkdirSync(local, { recursive: true });
      fs.chmodSync(local, 0o755);
      return local;
    };
    fs.mkdirSync(ranksDirectory);
    fs.chmodSync(ranksDirectory, 0o1777);
    // Over real OpenSSH each pod has its own hostname, which the probe reports.
    fs.writeFileSync(probe, probeSource(ranksDirectory, openSsh ? undefined : job.launcherHostname));
    const python = openSsh && run.waitStep.length > 0 ? localPython() : undefined;
    const keepVisible = [workDirectory, process.execPath, openMpi.path, '/usr/sbin/sshd', ...(python ? [python] : [])];
    const imageDirectories: string[] = [];
    // Over real OpenSSH a directory of the image is given to every pod by an overlay where it can be; else it moves into the work directory.
    const imageDirectory = (podPath: string) => {
      if (openSsh && canProvide(podPath, keepVisible)) {
        imageDirectories.push(path.posix.normalize(podPath));
        return podPath;
      }
      return podDirectory(podPath);
    };

    const localChanges: string[] = [];
    const launcherAddress = job.podAddress(job.launcherHostname);
    const localHosts = job.hostfileHosts.map(h => h === launcherAddress && !openSsh ? 'localhost' : h);
    let sshLog: string | undefined;
    if (openSsh) {
      fs.writeFileSync(hostfile, job.hostfile);
    } else {
      // In the cluster the launcher's own hostfile name resolves to the launcher pod, where mpirun runs.
      fs.writeFileSync(hostfile, job.hostfile.split('\n')
        .map(line => line.startsWith(`${launcherAddress} `) ? `localhost${line.slice(launcherAddress.length)}` : line).join('\n'));
      if (job.runLauncherAsWorker) {
        localChanges.push(`hostfile line ${launcherAddress} written as localhost: in the cluster that name resolves to the launcher pod itself, so mpirun starts those ranks directly`);
      }
    }

    const argv = [...commandLine.argv];
    argv[0] = openMpi.path;
    localChanges.push(`${commandLine.argv[0]} → ${openMpi.path}: the Open MPI ${openMpi.version} of this machine stands in for the image's`);
    for (const option of commandLine.optionsNamed(...HOSTFILE_OPTIONS)) {
      if (option.values[0] !== OPERATOR_HOSTFILE) continue;
      argv[option.index + 1] = hostfile;
      localChanges.push(`${option.name} ${OPERATOR_HOSTFILE} → ${hostfile}: the operator's hostfile (${localHosts.length} host(s)), written here`);
    }
    for (const option of commandLine.optionsNamed(...WDIR_OPTIONS)) {
      if (option.values[0] === undefined) continue;
      argv[option.index + 1] = imageDirectory(option.values[0]);
      if (argv[option.index + 1] !== option.values[0]) {
        localChanges.push(`${option.name} ${option.values[0]} → ${argv[option.index + 1]}: the image's directory, emulated`);
      }
    }
    argv.splice(commandLine.programIndex, 1, process.execPath, probe);
    localChanges.push(`${commandLine.program} → ${process.execPath} ${probe}: the probe stands in for the training program and keeps its arguments`);
    if (!openSsh) {
      const sshStandIn = path.join(workDirectory, 'ssh-standin');
      sshLog = path.join(workDirectory, 'ssh.log');
      fs.writeFileSync(sshLog, '');
      const remotePath = [path.dirname(openMpi.path), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
      fs.writeFileSync(sshStandIn, sshStandInSource(sshLog, remotePath, path.join(workDirectory, 'pod-tmp')), { mode: 0o755 });
      argv.splice(1, 0, '--mca', 'plm_rsh_agent', sshStandIn);
      localChanges.push(`added --mca plm_rsh_agent ${sshStandIn}: an ssh stand-in starts each worker pod's processes on this machine, with a fresh environment as sshd would`);
    }

    let localCommand = argv;
    if (run.waitStep.length > 0) {
      if (openSsh) {
        const wait = [...run.waitStep];
        wait[0] = python!;
        localChanges.push(`wait step ${run.waitStep[0]} → ${python}: this machine's Python runs the wait program as synthesized`);
        const at = wait.indexOf('--hostfile', 3);
        if (at > 0 && wait[at + 1] === OPERATOR_HOSTFILE) {
          wait[at + 1] = hostfile;
          localChanges.push(`wait step --hostfile ${OPERATOR_HOSTFILE} → ${hostfile}: the same hostfile mpirun reads`);
        }
        localCommand = [...wait, ...argv];
      } else {
        const wait = run.wait!;
        localChanges.unshift(`wait step (${wait.interpreter} -c <wait program> --hostfile ${wait.hostfile} --port ${wait.port} --timeout ${wait.timeout} --) not run: `
          + 'the stand-in hosts do not resolve here; mpirun runs as the wait step would exec it (the check \'worker wait\' reads its options)');
      }
    }

    const workingDir = job.launcher.container.workingDir;
    const cwd = workingDir === undefined ? (openSsh ? '/' : podDirectory('/')) : imageDirectory(workingDir);
    const { launcherEnv, leftOutEnv } = LaunchRehearsal.localLauncherEnv(run, hostfile, localChanges);
    const env = Object.fromEntries(launcherEnv.map(v => [v.name, v.value]));
    return { podRoot, ranksDirectory, sshLog, localChanges, launcherEnv, leftOutEnv, env, localCommand, cwd, keepVisible, imageDirectories };
  }

  /**
   * mpirun's environment: what the image would provide (PATH, HOME and the like, and a marker
   * for other -x variables the manifest does not set), then the container's env and the
   * operator's, then the local-run additions. A forwarded variable whose value only the cluster
   * has (a Secret key, a pod field) takes its stand-in from `options.environment`, or is left out:
   * it would not reach the ranks.
   */
  private static localLauncherEnv(run: RunContext, hostfile: string, localChanges: string[]): { launcherEnv: LauncherEnvVar[]; leftOutEnv: LauncherEnvVar[] } {
    const { commandLine, manifestEnv, job, openMpi } = run;
    const openSsh = run.options.mode === RehearsalMode.OPENSSH;
    const environment = run.options.environment ?? {};
    const vars = new Map<string, LauncherEnvVar>();
    const set = (name: string, value: string, source: EnvSource, unknownValue?: string) => {
      vars.delete(name);
      vars.set(name, { name, value, source, ...unknownValue === undefined ? {} : { unknownValue } });
    };
    if (openSsh) {
      // The launcher runs as the image's user, with the image's kind of PATH.
      const user = launcherPodUser(job);
      set('PATH', [...new Set([path.dirname(openMpi.path), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])].join(':'), EnvSource.IMAGE);
      set('HOME', user.home, EnvSource.IMAGE);
      set('USER', user.name, EnvSource.IMAGE);
      set('LOGNAME', user.name, EnvSource.IMAGE);
    } else {
      for (const name of ['PATH', 'HOME', 'USER', 'LOGNAME']) {
        const value = process.env[name];
        if (value !== undefined) set(name, value, EnvSource.IMAGE, `the image's ${name}`);
      }
    }
    const defined = new Set(manifestEnv.map(v => v.name));
    for (const entry of commandLine.exportedEnv) {
      if (!ENV_NAME.test(entry) || defined.has(entry) || vars.has(entry)) continue;
      set(entry, process.env[entry] ?? `<${entry} from the image>`, EnvSource.IMAGE, `the image's ${entry}`);
    }
    if (!openSsh) {
      // Each pod has its own /tmp, where Open MPI keeps its session directory; emulated pods sharing one would race.
      const launcherTmp = path.join(run.workDirectory, 'pod-tmp', job.launcherHostname);
      fs.mkdirSync(launcherTmp, { recursive: true });
      set('TMPDIR', launcherTmp, EnvSource.LOCAL_RUN);
      localChanges.push(`TMPDIR=${launcherTmp}: each emulated pod gets its own temporary directory, as each pod has its own /tmp`);
    }
    const forwarded = new Set(commandLine.exportedEnv);
    const leftOutEnv: LauncherEnvVar[] = [];
    for (const v of manifestEnv) {
      if (v.unknownValue === undefined || !forwarded.has(v.name)) set(v.name, v.value, v.source, v.unknownValue);
      else if (environment[v.name] !== undefined) set(v.name, environment[v.name], EnvSource.REHEARSAL_ENVIRONMENT, v.unknownValue);
      else {
        vars.delete(v.name);
        leftOutEnv.push(v);
      }
    }
    if (vars.get('OMPI_MCA_orte_default_hostfile')?.value === OPERATOR_HOSTFILE) {
      set('OMPI_MCA_orte_default_hostfile', hostfile, EnvSource.LOCAL_RUN);
      localChanges.push(`OMPI_MCA_orte_default_hostfile=${hostfile}: the operator's variable, pointed at the hostfile written here`);
    }
    const asRoot = runAsRootEnv();
    if (!openSsh && Object.keys(asRoot).length > 0 && !commandLine.optionsNamed('--allow-run-as-root', '-allow-run-as-root').length) {
      for (const [name, value] of Object.entries(asRoot)) set(name, value, EnvSource.LOCAL_RUN);
      localChanges.push('OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1: this machine runs the rehearsal as root, which Open MPI refuses otherwise; the pods run as the image user');
    }
    return { launcherEnv: [...vars.values()], leftOutEnv };
  }
}

/** What one run needs, whatever the mode. */
interface RunContext {
  readonly job: ILaunchManifest;
  readonly options: LaunchRehearsalOptions;
  readonly commandLine: MpirunCommandLine;
  /** The wait step before mpirun, read back. */
  readonly wait?: WorkerWaitStep;
  /** The wait step's argv up to and including its `--`, or empty. */
  readonly waitStep: string[];
  readonly manifestEnv: LauncherEnvVar[];
  readonly openMpi: LocalOpenMpi;
  readonly workDirectory: string;
  readonly base: Omit<RehearsalReport, 'checks' | 'passed'>;
}

/** The local command, environment and files of one run. */
interface LaunchPlan {
  readonly podRoot: string;
  readonly ranksDirectory: string;
  readonly sshLog?: string;
  readonly localChanges: string[];
  readonly launcherEnv: LauncherEnvVar[];
  readonly leftOutEnv: LauncherEnvVar[];
  readonly env: { [name: string]: string };
  readonly localCommand: string[];
  readonly cwd: string;
  readonly keepVisible: string[];
  readonly imageDirectories: string[];
}

/** This machine's Python for the wait step: the system one, which every pod user can run. */
function localPython(): string {
  const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find(p => fs.existsSync(p)) ?? findExecutable('python3');
  if (!python) throw new Error('python3 not found: the launcher\'s wait step is a Python program (Debian: apt-get install python3)');
  return python;
}

function launcherPodUser(job: ILaunchManifest) {
  return podUser(job, job.launcher);
}

/** The ssh client's own error lines, which say why mpirun could not start a daemon: `ssh said "...": `. */
function sshErrors(output: string): string {
  const lines = [...new Set(output.split('\n').map(l => l.trim())
    .filter(l => /^ssh: |^Load key |Permission denied|Host key verification failed|Connection refused|Connection timed out/.test(l)))];
  return lines.length === 0 ? '' : `ssh said ${lines.map(l => JSON.stringify(l)).join(', ')}; `;
}

/** The wait step's own failure line when it, not mpirun, ended the launch; else undefined. */
function waitStepFailure(run: RunContext, result: ProcessResult): string | undefined {
  if (run.waitStep.length === 0 || run.options.mode !== RehearsalMode.OPENSSH) return undefined;
  const lines = result.output.split('\n').filter(l => l.startsWith(`${WORKER_WAIT_LOG_PREFIX} `));
  if (lines.some(l => l.startsWith(`${WORKER_WAIT_LOG_PREFIX} all hosts up after `))) return undefined;
  const last = lines.pop()?.slice(WORKER_WAIT_LOG_PREFIX.length + 1) ?? oneLine(result.output, 3);
  return `the wait step exited with code ${result.exitCode} before mpirun ran: ${last}`;
}

/** How the worker pods' sshd fared: failed when one exited before listening (a worker held back on purpose is not a failure). */
function workerSshdCheck(workers: WorkerPodReport[], keyFiles: SshAuthFile[], uid: number): RehearsalCheck {
  const name = 'worker sshd';
  const failedWorkers = workers.filter(w => !w.heldBack && w.address === undefined && w.sshdCommand.length > 0);
  if (failedWorkers.length > 0) {
    return { name, status: CheckStatus.FAILED, detail: failedWorkers.map(w => `${w.hostname}: sshd exited before listening: ${oneLine(w.sshdLog)}`).join('; ') };
  }
  const up = workers.filter(w => w.address !== undefined);
  const key = keyFiles[0];
  const accepted = up.filter(w => /^Accepted publickey for /m.test(w.sshdLog)).length;
  return {
    name,
    status: CheckStatus.PASSED,
    detail: `${up.length} of ${workers.length} worker pods listened (sshd as uid ${uid}, the mounted id_rsa as host key); ${accepted} accepted the operator's ECDSA P-521 key, `
      + `mounted ${ownership(key)} at ${path.posix.dirname(key.path)}`,
  };
}

interface ProcessResult {
  readonly exitCode?: number;
  readonly output: string;
  /** Why the rehearsal stopped the launcher itself, when it did. */
  readonly stoppedBecause?: string;
}

function processGroupSignal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, name);
  } catch {
    // already gone
  }
}

/** Collects a process's output, streaming its lines, and stops it on timeout: `stop('SIGTERM')`, then `stop('SIGKILL')`. */
function watchProcess(child: ChildProcess, stop: (signal: NodeJS.Signals) => void, timeout: Duration,
  onLine: (line: string) => void, onErrorLine?: (line: string) => void): Promise<ProcessResult> {
  return new Promise(resolve => {
    let output = '';
    const pending = { out: '', err: '' };
    let killed = false;
    const lines = (stream: 'out' | 'err', chunk: Buffer, handler?: (line: string) => void) => {
      output += chunk.toString();
      pending[stream] += chunk.toString();
      const complete = pending[stream].split('\n');
      pending[stream] = complete.pop() ?? '';
      if (handler) complete.forEach(handler);
    };
    child.stdout!.on('data', (chunk: Buffer) => lines('out', chunk, onLine));
    child.stderr!.on('data', (chunk: Buffer) => lines('err', chunk, onErrorLine));
    let forceKill: NodeJS.Timeout | undefined;
    // SIGTERM first: mpirun then stops its daemons and ranks; SIGKILL if it does not exit.
    const timer = setTimeout(() => {
      killed = true;
      stop('SIGTERM');
      forceKill = setTimeout(() => stop('SIGKILL'), 5000);
    }, timeout.toMilliseconds());
    const stopTimers = () => {
      clearTimeout(timer);
      if (forceKill) clearTimeout(forceKill);
    };
    child.on('error', err => {
      stopTimers();
      resolve({ output: `${output}${err.message}\n` });
    });
    child.on('close', code => {
      stopTimers();
      if (pending.out) onLine(pending.out);
      if (pending.err && onErrorLine) onErrorLine(pending.err);
      resolve({ exitCode: killed || code === null ? undefined : code, output });
    });
  });
}

/** The probe records, by rank, with each working directory written as the path inside the pod. */
function readRankRecords(directory: string, podRoot: string): ProbeRecord[] {
  const inPod = (local: string) => {
    const relative = path.relative(podRoot, local);
    return relative.startsWith('..') ? local : path.posix.join('/', ...relative.split(path.sep));
  };
  return fs.readdirSync(directory)
    .filter(f => f.endsWith('.json'))
    .map(f => JSON.parse(fs.readFileSync(path.join(directory, f), 'utf8')) as ProbeRecord)
    .map(record => ({ ...record, cwd: inPod(record.cwd) }))
    .sort((a, b) => a.rank - b.rank);
}

/** The ssh connections the stand-in received, by host (they arrive in any order). */
function readSshLog(file: string): SshConnection[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(l => l.trim())
    .map(line => {
      const [host, port] = line.trim().split(/\s+/);
      return { host, port: Number(port) };
    })
    .sort((a, b) => a.host.localeCompare(b.host));
}
