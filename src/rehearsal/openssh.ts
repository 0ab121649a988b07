import * as fs from 'fs';
import * as path from 'path';
import { sshClientConfigLines, sshdConfigLines } from '../image-recipe';
import { ImageUser } from '../image-user';
import { workerSshPort } from './checks';
import { randomLoopbackAddress } from './loopback';
import { ILaunchManifest, ReplicaManifest } from './manifest';
import { PodFile, PodProcess, PodSandboxSpec, PodUser, preparePodFilesystem, startInPod } from './pod-sandbox';
import { generateOperatorSshKey, SshAuthMountLayout, writeSshAuthMount } from './ssh-auth-mount';
import { WorkerPodReport } from './worker-pod-report';

/** The sshd the operator starts on a worker whose first container has neither command nor args. */
const OPERATOR_SSHD = ['/usr/sbin/sshd', '-De'];
/** Where sshd reads its configuration without `-f`. */
const DEFAULT_SSHD_CONFIG = '/etc/ssh/sshd_config';
/** A PATH like the image's, for sshd and the launcher. */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Tries per worker when another process already holds the picked address and port. */
const BIND_ATTEMPTS = 5;

/** Everything the real-OpenSSH mode needs to know besides the job. */
export interface OpenSshSettings {
  readonly workDirectory: string;
  /** The sshd_config of the image; default: the recipe's for the job's user and port. */
  readonly sshdConfig?: string;
  /** The ssh_config of the image; default: the recipe's. */
  readonly sshClientConfig?: string;
  /** Milliseconds after the launcher's start at which a worker's sshd starts, by hostname. */
  readonly workerStartDelays: Map<string, number>;
  /** Workers whose sshd never starts. */
  readonly heldBackWorkers: Set<string>;
  /** Key file mode instead of the operator's (fault injection). */
  readonly keyFileMode?: number;
  /** Key file owner instead of root (fault injection). */
  readonly keyFileOwner?: number;
  /** Paths no overlay may hide: the work directory and the executables. */
  readonly keepVisible: string[];
  /** Directories of the image every pod has (e.g. `--wdir`), owned by the image user. */
  readonly imageDirectories: string[];
  readonly progress: (message: string) => void;
}

interface WorkerState {
  readonly hostname: string;
  readonly hostfileName: string;
  readonly heldBack: boolean;
  address?: string;
  upAfterSeconds?: number;
  log: string;
  command: string[];
}

/** sshd's last log lines, joined on one line. */
export function oneLine(log: string, lines = 6): string {
  return log.trim().split('\n').filter(l => l.trim() && !/^@+$/.test(l.trim())).slice(-lines).map(l => l.trim()).join(' / ');
}

function securityValue(replica: ReplicaManifest, field: string): number | undefined {
  const value = replica.container.securityContext?.[field] ?? replica.podSpec.securityContext?.[field];
  return value === undefined ? undefined : Number(value);
}

/**
 * The user a replica's pods run as: `runAsUser` and `runAsGroup` (container, then pod), home
 * the parent of `sshAuthMountPath` (where the recipe's user has it), and `fsGroup` as a
 * supplementary group, as the kubelet adds it.
 */
export function podUser(job: ILaunchManifest, replica: ReplicaManifest): PodUser {
  const uid = securityValue(replica, 'runAsUser') ?? 0;
  const gid = securityValue(replica, 'runAsGroup') ?? (uid === 0 ? 0 : uid);
  const fsGroup = replica.podSpec.securityContext?.fsGroup;
  const mount = job.sshAuthMountPath;
  const home = uid === 0 ? '/root' : path.posix.basename(mount) === '.ssh' ? path.posix.dirname(mount) : `/home/uid${uid}`;
  const name = uid === 0 ? 'root' : path.posix.basename(home);
  return { name, uid, gid, home, groups: fsGroup === undefined ? [] : [Number(fsGroup)] };
}

/** The image user the recipe would have made for a pod user. */
function imageUser(user: PodUser): ImageUser {
  return user.uid === 0 ? ImageUser.root() : ImageUser.nonRoot({ name: user.name, uid: user.uid, gid: user.gid, home: user.home });
}

/** A copy of this machine's /etc/passwd or /etc/group with the pod's entry in place of any with its name or id. */
function withEntry(file: string, name: string, id: number, entry: string): string {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '');
  const kept = lines.filter(line => {
    const [entryName, , entryId] = line.split(':');
    return entryName !== name && Number(entryId) !== id;
  });
  return [...kept, entry].join('\n') + '\n';
}

/** The worker container's sshd argv: as synthesized, or the operator's when it sets neither command nor args. */
export function workerSshdArgv(job: ILaunchManifest): string[] {
  const container = job.worker?.container ?? {};
  const argv = [...(container.command ?? []), ...(container.args ?? [])].map(String);
  return argv.length > 0 ? argv : [...OPERATOR_SSHD];
}

function sshdConfigPath(argv: string[]): string {
  const at = argv.indexOf('-f');
  return at >= 0 && argv[at + 1] ? argv[at + 1] : DEFAULT_SSHD_CONFIG;
}

/**
 * The emulated cluster of one job: the operator's key mount, one pod per worker with a real
 * sshd on its own loopback address, and the launcher's /etc/hosts, which gains a worker's name
 * only once that worker's sshd listens (the headless Service publishes a worker once it is Ready).
 */
export class OpenSshPods {
  public readonly port: number;
  public readonly launcherUser: PodUser;
  public readonly workerUser: PodUser;
  public readonly keyMount: SshAuthMountLayout;
  public readonly launcherHosts: string;
  public readonly localChanges: string[] = [];
  private readonly passwd: string;
  private readonly group: string;
  private readonly hostLines: string[];
  private readonly workers = new Map<string, WorkerState>();
  private readonly taken = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly processes: PodProcess[] = [];
  private startedAt = Date.now();
  private stopped = false;

  constructor(private readonly job: ILaunchManifest, private readonly settings: OpenSshSettings) {
    const work = settings.workDirectory;
    this.port = workerSshPort(job);
    this.launcherUser = podUser(job, job.launcher);
    this.workerUser = job.worker ? podUser(job, job.worker) : this.launcherUser;
    const fsGroup = job.worker?.podSpec.securityContext?.fsGroup ?? job.launcher.podSpec.securityContext?.fsGroup;
    fs.mkdirSync(path.join(work, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(work, 'pods'), { recursive: true });
    const users = [this.launcherUser, this.workerUser].filter(u => u.uid !== 0);
    let passwd = fs.readFileSync('/etc/passwd', 'utf8');
    let group = fs.readFileSync('/etc/group', 'utf8');
    for (const user of users) {
      fs.writeFileSync(path.join(work, 'etc', 'passwd.in'), passwd);
      passwd = withEntry(path.join(work, 'etc', 'passwd.in'), user.name, user.uid, `${user.name}:x:${user.uid}:${user.gid}::${user.home}:/bin/bash`);
      fs.writeFileSync(path.join(work, 'etc', 'group.in'), group);
      group = withEntry(path.join(work, 'etc', 'group.in'), user.name, user.gid, `${user.name}:x:${user.gid}:`);
    }
    this.passwd = path.join(work, 'etc', 'passwd');
    this.group = path.join(work, 'etc', 'group');
    fs.writeFileSync(this.passwd, passwd);
    fs.writeFileSync(this.group, group);
    if (users.length > 0) {
      this.localChanges.push(`/etc/passwd and /etc/group of every pod: this machine's, with ${users.map(u => `${u.name} (uid ${u.uid}, gid ${u.gid}, home ${u.home})`).filter((u, i, all) => all.indexOf(u) === i).join(', ')} as the image has it`);
    }

    this.keyMount = writeSshAuthMount(path.join(work, 'secret'), generateOperatorSshKey(), {
      mountPath: job.sshAuthMountPath,
      operatorModes: job.sshKeyFileModes,
      fsGroup: fsGroup === undefined ? undefined : Number(fsGroup),
      fileMode: settings.keyFileMode,
      fileOwner: settings.keyFileOwner,
    });
    this.localChanges.push(...this.keyMount.deviations.map(d => `${d} (fault injection)`));

    // The launcher's own name resolves to itself: 127.0.0.1 is this machine's interface address, as the pod IP is the pod's.
    this.hostLines = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      `127.0.0.1\t${job.podAddress(job.launcherHostname)} ${job.launcherHostname}`,
    ];
    this.launcherHosts = path.join(work, 'pods', job.launcherHostname, 'hosts');
    fs.mkdirSync(path.dirname(this.launcherHosts), { recursive: true });
    fs.writeFileSync(this.launcherHosts, this.hostLines.join('\n') + '\n');
    this.localChanges.push(`/etc/hosts of the launcher: ${job.podAddress(job.launcherHostname)} → 127.0.0.1 (its own address, as its pod IP is in the pod); each worker's name is added, with that worker's loopback address, once its sshd listens`);
    for (const hostname of job.workerHostnames) {
      this.workers.set(hostname, {
        hostname, hostfileName: job.podAddress(hostname), heldBack: settings.heldBackWorkers.has(hostname), log: '', command: [],
      });
    }
  }

  /** The spec of one pod's filesystem. */
  private podSpec(hostname: string, user: PodUser, hosts: string, extraFiles: PodFile[]): PodSandboxSpec {
    const clientConfig = this.settings.sshClientConfig ?? sshClientConfigLines(this.port).join('\n') + '\n';
    return {
      hostname,
      localDirectory: path.join(this.settings.workDirectory, 'pods', hostname),
      directories: [
        { podPath: user.home, uid: user.uid, gid: user.gid },
        ...this.settings.imageDirectories.map(d => ({ podPath: d, uid: user.uid, gid: user.gid })),
      ],
      files: [{ podPath: '/etc/ssh/ssh_config', content: clientConfig, mode: 0o644, uid: 0, gid: 0 }, ...extraFiles],
      fileBinds: [
        { local: this.passwd, podPath: '/etc/passwd' },
        { local: this.group, podPath: '/etc/group' },
        { local: hosts, podPath: '/etc/hosts' },
      ],
      readOnlyMounts: [{ local: this.keyMount.localDirectory, podPath: this.job.sshAuthMountPath }],
      keepVisible: this.settings.keepVisible,
    };
  }

  /** The pod's own /run, with sshd's privilege separation directory, as the recipe's image has it. */
  private static readonly RUN_LINES = ['mount -t tmpfs -o mode=0755 tmpfs /run', 'mkdir -p /run/sshd'];

  /** Starts the launcher pod's process. */
  public startLauncher(argv: string[], env: { [name: string]: string }, cwd: string): PodProcess {
    const spec = this.podSpec(this.job.launcherHostname, this.launcherUser, this.launcherHosts, []);
    const lines = [...OpenSshPods.RUN_LINES, ...preparePodFilesystem(spec)];
    const launcher = startInPod(spec, this.launcherUser, lines, cwd, argv, env);
    this.processes.push(launcher);
    return launcher;
  }

  /** Starts every worker's sshd, each after its delay; resolves once each is up or has failed. */
  public startWorkers(): Promise<void> {
    this.startedAt = Date.now();
    const starts = [...this.workers.keys()].map(hostname => new Promise<void>(resolve => {
      if (this.settings.heldBackWorkers.has(hostname)) {
        this.settings.progress(`  ${hostname}: held back, its sshd never starts`);
        resolve();
        return;
      }
      const delay = this.settings.workerStartDelays.get(hostname) ?? 0;
      if (delay > 0) this.settings.progress(`  ${hostname}: sshd starts after ${(delay / 1000).toFixed(1)} s`);
      this.timers.push(setTimeout(() => void this.startWorker(hostname).then(resolve), delay));
    }));
    return Promise.all(starts).then(() => undefined);
  }

  private async startWorker(hostname: string): Promise<void> {
    const state = this.workers.get(hostname)!;
    const user = this.workerUser;
    const sshdArgv = workerSshdArgv(this.job);
    const configPath = sshdConfigPath(sshdArgv);
    const config = this.settings.sshdConfig ?? sshdConfigLines(imageUser(user), this.port).join('\n') + '\n';
    const hosts = path.join(this.settings.workDirectory, 'pods', hostname, 'hosts');
    fs.mkdirSync(path.dirname(hosts), { recursive: true });
    const spec = this.podSpec(hostname, user, hosts, [{ podPath: configPath, content: config, mode: 0o644, uid: 0, gid: 0 }]);
    for (let attempt = 1; attempt <= BIND_ATTEMPTS && !this.stopped; attempt++) {
      const address = randomLoopbackAddress(this.taken);
      fs.writeFileSync(hosts, ['127.0.0.1\tlocalhost', `${address}\t${this.job.podAddress(hostname)} ${hostname}`].join('\n') + '\n');
      const argv = [...sshdArgv, '-o', `ListenAddress=${address}`];
      if (!fs.existsSync(argv[0])) argv[0] = '/usr/sbin/sshd';
      const lines = [...OpenSshPods.RUN_LINES, ...preparePodFilesystem(spec)];
      state.command = argv;
      state.log = '';
      const sshd = startInPod(spec, user, lines, '/', argv, { PATH: IMAGE_PATH });
      this.processes.push(sshd);
      const listening = `Server listening on ${address} port ${this.port}.`;
      const outcome = await new Promise<'up' | 'exited'>(resolve => {
        const onData = (chunk: Buffer) => {
          state.log += chunk.toString();
          if (state.log.includes(listening)) resolve('up');
        };
        sshd.child.stdout!.on('data', onData);
        sshd.child.stderr!.on('data', onData);
        sshd.child.on('close', () => resolve('exited'));
        sshd.child.on('error', err => {
          state.log += `${err.message}\n`;
          resolve('exited');
        });
      });
      if (outcome === 'up') {
        state.address = address;
        state.upAfterSeconds = (Date.now() - this.startedAt) / 1000;
        // Written in place: the launcher's /etc/hosts is a bind mount of this file's inode.
        this.hostLines.push(`${address}\t${this.job.podAddress(hostname)} ${hostname}`);
        fs.writeFileSync(this.launcherHosts, this.hostLines.join('\n') + '\n');
        this.settings.progress(`  ${hostname}: sshd (uid ${user.uid}) listening on ${address}:${this.port} after ${state.upAfterSeconds.toFixed(1)} s; ${this.job.podAddress(hostname)} now resolves`);
        return;
      }
      if (!/Address already in use/.test(state.log) || this.stopped) break;
      this.settings.progress(`  ${hostname}: ${address}:${this.port} is taken, picking another address`);
    }
    if (this.stopped) return;
    this.settings.progress(`  ${hostname}: sshd exited before listening: ${oneLine(state.log) || 'no output'}`);
  }

  /** What became of each worker, in hostfile order. */
  public get workerReports(): WorkerPodReport[] {
    return [...this.workers.values()].map(w => ({
      hostname: w.hostname, hostfileName: w.hostfileName, address: w.address, port: this.port,
      upAfterSeconds: w.upAfterSeconds, heldBack: w.heldBack, sshdLog: w.log, sshdCommand: w.command,
    }));
  }

  /** Stops every pod, sshd sessions included. */
  public stop(): void {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
    this.processes.forEach(p => p.kill());
  }
}
