import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The user a pod's processes run as. */
export interface PodUser {
  /** Login name (in the pod's /etc/passwd). */
  readonly name: string;
  /** `runAsUser`. */
  readonly uid: number;
  /** `runAsGroup`. */
  readonly gid: number;
  /** Home directory. */
  readonly home: string;
  /** Supplementary groups: the kubelet adds `fsGroup`. */
  readonly groups: number[];
}

/** A file the pod's image holds, written into the pod's own filesystem. */
export interface PodFile {
  readonly podPath: string;
  readonly content: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** What an emulated pod's filesystem holds beyond this machine's. */
export interface PodSandboxSpec {
  /** The pod's hostname (its UTS namespace gets it). */
  readonly hostname: string;
  /** This pod's own directory on this machine, for its overlays and files. */
  readonly localDirectory: string;
  /** Directories that must exist in the pod, with their owner. */
  readonly directories: Array<{ podPath: string; uid: number; gid: number }>;
  /** Files of the image. */
  readonly files: PodFile[];
  /** Local files bind-mounted over a pod path that exists here (`/etc/hosts`, `/etc/passwd`...). */
  readonly fileBinds: Array<{ local: string; podPath: string }>;
  /** Local directories mounted read-only at a pod path (the Secret volume). */
  readonly readOnlyMounts: Array<{ local: string; podPath: string }>;
  /** Paths that must stay visible (the work directory, the executables): no overlay may hide them. */
  readonly keepVisible: string[];
}

/** Directories never hidden by an overlay: hiding them would hide this machine's system. */
const SYSTEM_DIRECTORIES = ['/', '/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/proc', '/run', '/sbin', '/sys', '/tmp', '/usr', '/var'];

function inside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function deepestExisting(podPath: string): string {
  let current = podPath;
  while (!fs.existsSync(current)) current = path.dirname(current);
  return current;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Where an overlay can stand in for a directory this machine lacks: the deepest existing
 * ancestor, when it is not a system directory and hides nothing the run needs. Undefined
 * when there is none.
 */
export function overlayFor(podPath: string, keepVisible: string[]): string | undefined {
  if (fs.existsSync(podPath)) return undefined;
  const ancestor = deepestExisting(podPath);
  if (SYSTEM_DIRECTORIES.includes(ancestor)) return undefined;
  if (keepVisible.some(p => inside(p, ancestor))) return undefined;
  return ancestor;
}

/** Whether `podPath` exists here or can be given to the pod by an overlay. */
export function canProvide(podPath: string, keepVisible: string[]): boolean {
  return fs.existsSync(podPath) || overlayFor(podPath, keepVisible) !== undefined;
}

/**
 * Lays out the pod's filesystem on this machine and returns the shell lines, run as root in
 * the pod's fresh mount namespace, that mount it: one bind mount per overlaid directory (the
 * pod's copy of e.g. /home or /opt), the image's files over this machine's, and the Secret
 * volume read-only. Nothing outside the namespace changes. Throws when a path can be given
 * neither directly nor by an overlay.
 */
export function preparePodFilesystem(spec: PodSandboxSpec): string[] {
  const overlays = new Map<string, string>();
  const localPath = (podPath: string): string => {
    for (const [ancestor, local] of overlays) {
      if (inside(podPath, ancestor)) return path.join(local, path.relative(ancestor, podPath));
    }
    return podPath;
  };
  const require = (podPath: string, what: string) => {
    if (fs.existsSync(podPath) || [...overlays.keys()].some(a => inside(podPath, a))) return;
    const ancestor = overlayFor(podPath, spec.keepVisible);
    if (!ancestor) {
      throw new Error(`cannot give the pod ${spec.hostname} ${what} ${podPath}: this machine lacks it, and its nearest existing directory ${deepestExisting(podPath)} cannot be overlaid`);
    }
    const local = path.join(spec.localDirectory, 'fs', ancestor);
    fs.mkdirSync(local, { recursive: true });
    fs.chmodSync(local, fs.statSync(ancestor).mode & 0o7777);
    overlays.set(ancestor, local);
  };
  const makeDirectory = (podPath: string, uid: number, gid: number) => {
    const local = localPath(podPath);
    if (local === podPath) return;
    // Parents the pod lacks are made root-owned 0755, as an image build leaves them.
    const missing: string[] = [];
    for (let dir = local; !fs.existsSync(dir); dir = path.dirname(dir)) missing.unshift(dir);
    for (const dir of missing) {
      fs.mkdirSync(dir);
      fs.chmodSync(dir, 0o755);
    }
    fs.chownSync(local, uid, gid);
  };

  for (const dir of spec.directories) require(dir.podPath, 'the directory');
  for (const file of spec.files) require(path.dirname(file.podPath), 'the directory of');
  for (const mount of spec.readOnlyMounts) require(mount.podPath, 'the mount point');
  for (const dir of spec.directories) makeDirectory(dir.podPath, dir.uid, dir.gid);
  for (const mount of spec.readOnlyMounts) makeDirectory(mount.podPath, 0, 0);

  const lines: string[] = [];
  const sortedOverlays = [...overlays].sort((a, b) => a[0].length - b[0].length);
  for (const [ancestor, local] of sortedOverlays) lines.push(`mount --bind ${shellQuote(local)} ${shellQuote(ancestor)}`);
  for (const file of spec.files) {
    let local = localPath(file.podPath);
    if (local === file.podPath) {
      // The machine has its own file there: the pod's goes over it.
      local = path.join(spec.localDirectory, 'files', file.podPath);
      lines.push(`mount --bind ${shellQuote(local)} ${shellQuote(file.podPath)}`);
    }
    makeDirectory(path.dirname(file.podPath), 0, 0);
    fs.mkdirSync(path.dirname(local), { recursive: true });
    fs.writeFileSync(local, file.content);
    fs.chownSync(local, file.uid, file.gid);
    fs.chmodSync(local, file.mode);
  }
  for (const bind of spec.fileBinds) lines.push(`mount --bind ${shellQuote(bind.local)} ${shellQuote(bind.podPath)}`);
  for (const mount of spec.readOnlyMounts) {
    lines.push(`mount --bind ${shellQuote(mount.local)} ${shellQuote(mount.podPath)}`);
    lines.push(`mount -o remount,bind,ro ${shellQuote(mount.podPath)}`);
  }
  return lines;
}

/** The tools the real-OpenSSH mode needs; the reason it cannot run, or undefined. */
export function sandboxUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `the real-OpenSSH rehearsal needs Linux namespaces; this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'the real-OpenSSH rehearsal runs as root (mount namespaces, sshd as the image user); run it as root or use the stand-in mode';
  for (const tool of ['unshare', 'setpriv', 'mount', 'hostname']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} not found: install util-linux (and hostname), or run scripts/install-test-deps.sh`;
    }
  }
  return undefined;
}

/** A process running inside an emulated pod. */
export interface PodProcess {
  readonly child: ChildProcess;
  /** Stops everything in the pod (its PID namespace dies with it). */
  kill(): void;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A pod that outlives its rehearsal would keep an sshd listening: kill them all on the way out.
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Starts `argv` in a new pod: fresh PID, mount and UTS namespaces (`unshare --fork --pid
 * --kill-child`, so killing it kills every process the pod started, sessions that sshd forked
 * included), the pod's hostname and mounts, then `setpriv` to the pod's user and groups.
 */
export function startInPod(spec: PodSandboxSpec, user: PodUser, mountLines: string[], cwd: string, argv: string[], env: { [name: string]: string }): PodProcess {
  const groups = user.groups.length > 0 ? `--groups=${user.groups.join(',')}` : '--clear-groups';
  const script = [
    'set -eu',
    `hostname ${shellQuote(spec.hostname)}`,
    ...mountLines,
    `cd ${shellQuote(cwd)}`,
    // No exec: this root shell stays the namespace's init, so killing unshare kills the whole pod.
    // (The kernel clears the parent-death signal of a process that changes its uid.)
    `setpriv --reuid=${user.uid} --regid=${user.gid} ${groups} -- "$@"`,
  ].join('\n');
  fs.writeFileSync(path.join(spec.localDirectory, 'start.sh'), `${script}\n`);
  const child = spawn('unshare', ['--fork', '--pid', '--kill-child=SIGKILL', '--mount', '--uts', '--propagation', 'private',
    '/bin/sh', path.join(spec.localDirectory, 'start.sh'), ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  installExitHook();
  running.add(child);
  child.on('close', () => running.delete(child));
  return {
    child,
    kill: () => {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
