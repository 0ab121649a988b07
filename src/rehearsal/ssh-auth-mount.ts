import { generateKeyPairSync } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The Secret keys the operator projects into `sshAuthMountPath`, by file name. */
export const SSH_AUTH_FILES: ReadonlyArray<[file: string, secretKey: string]> = [
  ['id_rsa', 'ssh-privatekey'],
  ['id_rsa.pub', 'ssh-publickey'],
  ['authorized_keys', 'ssh-publickey'],
];


/** An SSH key pair as the MPI Operator generates it for the `<job>-ssh` Secret. */
export interface OperatorSshKey {
  /** `ssh-privatekey`: ECDSA P-521, PEM `EC PRIVATE KEY`. */
  readonly privateKey: string;
  /** `ssh-publickey`: one authorized_keys line, without a comment. */
  readonly publicKey: string;
}

function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/**
 * A fresh key the way the operator's `newSSHAuthSecret` makes one: an ECDSA P-521 key, the
 * private half PEM-encoded as SEC 1 (`EC PRIVATE KEY`), the public half as an authorized_keys line.
 */
export function generateOperatorSshKey(): OperatorSshKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const blob = Buffer.concat([sshString(Buffer.from('ecdsa-sha2-nistp521')), sshString(Buffer.from('nistp521')), sshString(point)]);
  return {
    privateKey: privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
    publicKey: `ecdsa-sha2-nistp521 ${blob.toString('base64')}\n`,
  };
}

/** How the key files are mounted; the defaults are what the operator and the kubelet do. */
export interface SshAuthMountSpec {
  /** `sshAuthMountPath`. */
  readonly mountPath: string;
  /** The modes the operator gives each file (its Secret volume's `defaultMode` or items), before `fsGroup`. */
  readonly operatorModes: { [file: string]: number };
  /** The pod's `securityContext.fsGroup`, if any. */
  readonly fsGroup?: number;
  /** Mode of every file instead of the operator's (fault injection). */
  readonly fileMode?: number;
  /** Owner of the files; default root (0), as the kubelet writes Secret volumes. */
  readonly fileOwner?: number;
}

/** One file of the mount as a pod sees it. */
export interface SshAuthFile {
  /** Path inside the pod. */
  readonly path: string;
  /** Permission bits. */
  readonly mode: number;
  /** Owner uid. */
  readonly uid: number;
  /** Group gid. */
  readonly gid: number;
}

/** The mount laid out on this machine, ready to be bind-mounted read-only at `mountPath`. */
export interface SshAuthMountLayout {
  /** The directory on this machine. */
  readonly localDirectory: string;
  /** `sshAuthMountPath`. */
  readonly mountPath: string;
  /** The three files, as a pod sees them. */
  readonly files: SshAuthFile[];
  /** What differs from the operator's and kubelet's layout (fault injection); empty when nothing does. */
  readonly deviations: string[];
}

/**
 * Writes the Secret volume the kubelet makes of the operator's `<job>-ssh` Secret: a
 * world-writable sticky directory (setgid with `fsGroup`), the files in a timestamped directory
 * reached through the `..data` symlink, and one symlink per projected item. Modes: the
 * operator's (the MPI Operator: `defaultMode` 0600 only at /root/.ssh, else the Kubernetes
 * default 0644), then the kubelet's `fsGroup` ownership for a read-only volume: group = fsGroup,
 * mode | 0440.
 */
export function writeSshAuthMount(localDirectory: string, key: OperatorSshKey, spec: SshAuthMountSpec): SshAuthMountLayout {
  const uid = spec.fileOwner ?? 0;
  const gid = spec.fsGroup ?? 0;
  const setgid = spec.fsGroup === undefined ? 0 : 0o2000;
  const stamp = `..${new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace(/\..*$/, '')}.${process.pid}`;
  fs.mkdirSync(path.join(localDirectory, stamp), { recursive: true });
  fs.chownSync(localDirectory, 0, gid);
  fs.chmodSync(localDirectory, 0o1777 | setgid);
  fs.chownSync(path.join(localDirectory, stamp), 0, gid);
  fs.chmodSync(path.join(localDirectory, stamp), 0o755 | setgid);
  const content: Record<string, string> = { 'ssh-privatekey': key.privateKey, 'ssh-publickey': key.publicKey };
  const files: SshAuthFile[] = [];
  const deviations: string[] = [];
  for (const [file, secretKey] of SSH_AUTH_FILES) {
    const operatorMode = spec.operatorModes[file] ?? 0o644;
    const baseMode = spec.fileMode ?? operatorMode;
    const mode = spec.fsGroup === undefined ? baseMode : baseMode | 0o440;
    const local = path.join(localDirectory, stamp, file);
    fs.writeFileSync(local, content[secretKey]);
    fs.chownSync(local, uid, gid);
    fs.chmodSync(local, mode);
    files.push({ path: path.posix.join(spec.mountPath, file), mode, uid, gid });
    if (baseMode !== operatorMode) deviations.push(`${file} written with mode ${octal(baseMode)} instead of the operator's ${octal(operatorMode)}`);
  }
  fs.symlinkSync(stamp, path.join(localDirectory, '..data'));
  for (const [file] of SSH_AUTH_FILES) fs.symlinkSync(path.posix.join('..data', file), path.join(localDirectory, file));
  if (spec.fileOwner !== undefined && spec.fileOwner !== 0) {
    deviations.push(`key files owned by uid ${spec.fileOwner} instead of root, as the kubelet writes them`);
  }
  return { localDirectory, mountPath: spec.mountPath, files, deviations };
}

/** `0o644` → `0644`. */
export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** `root:root 0644`, `root:1000 0644`, `uid 1000:root 0644`. */
export function ownership(file: SshAuthFile): string {
  const name = (id: number) => id === 0 ? 'root' : String(id);
  return `${file.uid === 0 ? 'root' : `uid ${file.uid}`}:${name(file.gid)} ${octal(file.mode)}`;
}
