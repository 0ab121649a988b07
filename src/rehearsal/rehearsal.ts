import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { OPERATOR_HOSTFILE } from '../mpirun';
import { MpiImplementation } from '../types';
import { parseWorkerWaitStep } from '../worker-wait';
import { CheckStatus, ENV_NAME, launchChecks, RehearsalCheck, SshConnection } from './checks';
import { EnvSource, launcherArgv, launcherContainerEnv, LauncherEnvVar } from './container-env';
import { ILaunchManifest } from './manifest';
import { formatRehearsalReport } from './report';
import { MpirunCommandLine, parseMpirunHelp } from './mpirun-cli';
import { PROBE_LINE_PREFIX, ProbeRecord, probeSource, sshStandInSource } from './scripts';

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
}

/** Everything a rehearsal did and found. */
export interface RehearsalReport {
  /** The job's name. */
  readonly jobName: string;
  /** The job's kind, `MPIJob` or `TrainJob`. */
  readonly jobKind: string;
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

  /** Rehearses one job. Throws only when this machine has no usable Open MPI. */
  public static async run(job: ILaunchManifest, options: LaunchRehearsalOptions = {}): Promise<RehearsalReport> {
    const progress = (message: string) => options.progress?.report(message);
    const timeout = options.timeout ?? Duration.minutes(1);
    const command = launcherArgv(job);
    const manifestEnv = launcherContainerEnv(job);
    const base = {
      jobName: job.name, jobKind: job.kind, command, localCommand: [], localChanges: [], hostfile: job.hostfile,
      launcherEnv: manifestEnv, forwardedEnvNames: [], mpirunOutput: '', ranks: [],
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

    const workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-deepspeed-rehearsal-'));
    try {
      const plan = LaunchRehearsal.plan(job, commandLine, manifestEnv, openMpi, workDirectory);
      if (wait) {
        plan.localChanges.unshift(`wait step (${wait.interpreter} -c <wait program> --hostfile ${wait.hostfile} --port ${wait.port} --timeout ${wait.timeout} --) not run: `
          + 'the stand-in hosts do not resolve here; mpirun runs as the wait step would exec it (the check \'worker wait\' reads its options)');
      }
      progress(`${job.kind} ${job.jobNamespace}/${job.name}: ${job.hostfileHosts.length} host(s) × ${job.slotsPerWorker} slot(s), mpirun from ${openMpi.path} (Open MPI ${openMpi.version})`);
      for (const change of plan.localChanges) progress(`  local run: ${change}`);
      progress(`  starting ${commandLine.processCount ?? '?'} rank(s)`);

      const started = Date.now();
      const result = await runMpirun(plan.localCommand, plan.env, plan.cwd, timeout, line => {
        if (line.startsWith(PROBE_LINE_PREFIX)) progress(`  ${line.slice(PROBE_LINE_PREFIX.length).trim()}`);
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      progress(result.exitCode === undefined
        ? `  mpirun stopped after ${seconds} s`
        : `  mpirun exited with code ${result.exitCode} after ${seconds} s`);

      const ranks = readRankRecords(plan.ranksDirectory, plan.podRoot);
      const report = {
        ...base,
        localCommand: plan.localCommand,
        localChanges: plan.localChanges,
        launcherEnv: plan.launcherEnv,
        forwardedEnvNames: commandLine.exportedEnv.map(e => e.split('=')[0]),
        exitCode: result.exitCode,
        mpirunOutput: result.output,
        ranks,
        workDirectory: options.keepWorkDirectory ? workDirectory : undefined,
      };
      if (result.exitCode !== 0) {
        const why = result.exitCode === undefined
          ? `mpirun did not finish within ${timeout.toMilliseconds() / 1000} s and was stopped`
          : `mpirun exited with code ${result.exitCode}: ${mpirunFailureReason(result.output)}`;
        return failedReport(report, 'mpirun', why);
      }
      const checks = [
        { name: 'mpirun', status: CheckStatus.PASSED, detail: `exited with code 0 after ${seconds} s` },
        ...launchChecks({
          job,
          commandLine,
          wait,
          ranks,
          launcherEnv: plan.launcherEnv,
          sshConnections: readSshLog(plan.sshLog),
        }),
      ];
      return { ...report, checks, passed: checks.every(c => c.status !== CheckStatus.FAILED) };
    } finally {
      if (!options.keepWorkDirectory) fs.rmSync(workDirectory, { recursive: true, force: true });
    }
  }

  /** Writes the hostfile, the probe and the ssh stand-in, and builds the local command and environment. */
  private static plan(job: ILaunchManifest, commandLine: MpirunCommandLine, manifestEnv: LauncherEnvVar[], openMpi: LocalOpenMpi, workDirectory: string) {
    const podRoot = path.join(workDirectory, 'pod-root');
    const ranksDirectory = path.join(workDirectory, 'ranks');
    const hostfile = path.join(workDirectory, 'hostfile');
    const probe = path.join(workDirectory, 'probe.js');
    const sshStandIn = path.join(workDirectory, 'ssh-standin');
    const sshLog = path.join(workDirectory, 'ssh.log');
    const podTmpRoot = path.join(workDirectory, 'pod-tmp');
    const podDirectory = (podPath: string) => {
      const local = path.join(podRoot, podPath);
      fs.mkdirSync(local, { recursive: true });
      return local;
    };
    fs.mkdirSync(ranksDirectory);
    fs.writeFileSync(sshLog, '');
    fs.writeFileSync(probe, probeSource(ranksDirectory, job.launcherHostname));
    const remotePath = [path.dirname(openMpi.path), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
    fs.writeFileSync(sshStandIn, sshStandInSource(sshLog, remotePath, podTmpRoot), { mode: 0o755 });

    const localChanges: string[] = [];
    // In the cluster the launcher's own hostfile name resolves to the launcher pod, where mpirun runs.
    const launcherAddress = job.podAddress(job.launcherHostname);
    const localHosts = job.hostfileHosts.map(h => h === launcherAddress ? 'localhost' : h);
    fs.writeFileSync(hostfile, job.hostfile.split('\n')
      .map(line => line.startsWith(`${launcherAddress} `) ? `localhost${line.slice(launcherAddress.length)}` : line).join('\n'));
    if (job.runLauncherAsWorker) {
      localChanges.push(`hostfile line ${launcherAddress} written as localhost: in the cluster that name resolves to the launcher pod itself, so mpirun starts those ranks directly`);
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
      argv[option.index + 1] = podDirectory(option.values[0]);
      localChanges.push(`${option.name} ${option.values[0]} → ${argv[option.index + 1]}: the image's directory, emulated`);
    }
    argv.splice(commandLine.programIndex, 1, process.execPath, probe);
    localChanges.push(`${commandLine.program} → ${process.execPath} ${probe}: the probe stands in for the training program and keeps its arguments`);
    argv.splice(1, 0, '--mca', 'plm_rsh_agent', sshStandIn);
    localChanges.push(`added --mca plm_rsh_agent ${sshStandIn}: an ssh stand-in starts each worker pod's processes on this machine, with a fresh environment as sshd would`);

    const launcherTmp = path.join(podTmpRoot, job.launcherHostname);
    fs.mkdirSync(launcherTmp, { recursive: true });
    const launcherEnv = LaunchRehearsal.localLauncherEnv(commandLine, manifestEnv, hostfile, launcherTmp, localChanges);
    const env = Object.fromEntries(launcherEnv.map(v => [v.name, v.value]));
    const workingDir = job.launcher.container.workingDir;
    return {
      podRoot, ranksDirectory, sshLog, localChanges, launcherEnv, env,
      localCommand: argv,
      cwd: podDirectory(workingDir ?? '/'),
    };
  }

  /**
   * mpirun's environment: what the image would provide (this machine's PATH, HOME and the
   * like, and a marker for other -x variables the manifest does not set), the pod's own
   * TMPDIR, then the container's env and the operator's, then the local-run additions.
   */
  private static localLauncherEnv(commandLine: MpirunCommandLine, manifestEnv: LauncherEnvVar[], hostfile: string, launcherTmp: string, localChanges: string[]): LauncherEnvVar[] {
    const vars = new Map<string, LauncherEnvVar>();
    const set = (name: string, value: string, source: EnvSource) => {
      vars.delete(name);
      vars.set(name, { name, value, source });
    };
    for (const name of ['PATH', 'HOME', 'USER', 'LOGNAME']) {
      const value = process.env[name];
      if (value !== undefined) set(name, value, EnvSource.IMAGE);
    }
    const defined = new Set(manifestEnv.map(v => v.name));
    for (const entry of commandLine.exportedEnv) {
      if (!ENV_NAME.test(entry) || defined.has(entry) || vars.has(entry)) continue;
      set(entry, process.env[entry] ?? `<${entry} from the image>`, EnvSource.IMAGE);
    }
    // Each pod has its own /tmp, where Open MPI keeps its session directory; emulated pods sharing one would race.
    set('TMPDIR', launcherTmp, EnvSource.LOCAL_RUN);
    localChanges.push(`TMPDIR=${launcherTmp}: each emulated pod gets its own temporary directory, as each pod has its own /tmp`);
    for (const v of manifestEnv) set(v.name, v.value, v.source);
    if (vars.get('OMPI_MCA_orte_default_hostfile')?.value === OPERATOR_HOSTFILE) {
      set('OMPI_MCA_orte_default_hostfile', hostfile, EnvSource.LOCAL_RUN);
      localChanges.push(`OMPI_MCA_orte_default_hostfile=${hostfile}: the operator's variable, pointed at the hostfile written here`);
    }
    const asRoot = runAsRootEnv();
    if (Object.keys(asRoot).length > 0 && !commandLine.optionsNamed('--allow-run-as-root', '-allow-run-as-root').length) {
      for (const [name, value] of Object.entries(asRoot)) set(name, value, EnvSource.LOCAL_RUN);
      localChanges.push('OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1: this machine runs the rehearsal as root, which Open MPI refuses otherwise; the pods run as the image user');
    }
    return [...vars.values()];
  }
}

interface MpirunResult {
  readonly exitCode?: number;
  readonly output: string;
}

/** Runs mpirun in its own process group, streaming stdout lines, and stops the group on timeout. */
function runMpirun(argv: string[], env: { [name: string]: string }, cwd: string, timeout: Duration, onLine: (line: string) => void): Promise<MpirunResult> {
  return new Promise(resolve => {
    const child = spawn(argv[0], argv.slice(1), { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let pending = '';
    let killed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // already gone
      }
    };
    let forceKill: NodeJS.Timeout | undefined;
    // SIGTERM first: mpirun then stops its daemons and ranks; SIGKILL if it does not exit.
    const timer = setTimeout(() => {
      killed = true;
      signal('SIGTERM');
      forceKill = setTimeout(() => signal('SIGKILL'), 5000);
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
      if (pending) onLine(pending);
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
