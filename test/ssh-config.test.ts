import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ImageUser } from '../src';
import { printedFile } from './support/dockerfile';
import { imageRecipe } from './support/synth';

/** OpenSSH's daemon; .ci/run installs it (Debian's openssh-server). */
const SSHD = '/usr/sbin/sshd';

/** Runs a command as an unprivileged user, like the image's sshd (nobody when the tests run as root). */
function runUnprivileged(command: string, args: string[]): string {
  const [file, argv] = process.getuid?.() === 0
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', command, ...args]]
    : [command, args];
  return execFileSync(file, argv, { stdio: 'pipe' }).toString();
}

/**
 * A directory laid out like the operator's Secret mount: an ECDSA P-521 key named id_rsa,
 * owned by root (or the test user) and world-readable, plus the sshd config to test.
 */
function keyDirectory(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssh-'));
  fs.chmodSync(dir, 0o755);
  execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '521', '-N', '', '-f', path.join(dir, 'id_rsa')]);
  fs.chmodSync(path.join(dir, 'id_rsa'), 0o644);
  return dir;
}

/** `sshd -t` on a config, with the key and pid paths moved into `dir`. */
function checkSshdConfig(lines: string[], dir: string): void {
  const config = path.join(dir, 'sshd_config');
  const local = lines.map(line => line
    .replace(/^HostKey .*\/id_rsa$/, `HostKey ${dir}/id_rsa`)
    .replace(/^PidFile .*$/, `PidFile ${dir}/sshd.pid`));
  fs.writeFileSync(config, local.join('\n') + '\n', { mode: 0o644 });
  runUnprivileged(SSHD, ['-t', '-f', config]);
}

describe('the rendered ssh configuration, checked by OpenSSH itself', () => {
  test.each<[string, ImageUser]>([['non-root', ImageUser.nonRoot()], ['root', ImageUser.root()]])(
    'the %s sshd config passes sshd -t with the operator\'s key as host key', (_name, user) => {
      const { image } = imageRecipe({ user, sshPort: 30022 });
      const lines = printedFile(image.dockerfile, image.sshdConfigPath ?? '/etc/ssh/sshd_config');
      expect(lines[0]).toBe('Port 30022');
      expect(() => checkSshdConfig(lines, keyDirectory())).not.toThrow();
    });

  test('sshd -t rejects a broken config, so the check above can fail', () => {
    expect(() => checkSshdConfig(['Port 2222', 'StrictMode no', 'HostKey /x/id_rsa'], keyDirectory()))
      .toThrow(/Bad configuration option: StrictMode/);
  });

  test('the client config connects to the sshd port without host-key checks or known_hosts writes', () => {
    const { image } = imageRecipe({ sshPort: 30022 });
    const dir = keyDirectory();
    const config = path.join(dir, 'ssh_config');
    fs.writeFileSync(config, printedFile(image.dockerfile, '/etc/ssh/ssh_config').join('\n') + '\n');
    const effective = execFileSync('ssh', ['-G', '-F', config, 'train-worker-0']).toString().split('\n');
    expect(effective).toEqual(expect.arrayContaining([
      'port 30022', 'stricthostkeychecking false', 'userknownhostsfile /dev/null', 'loglevel ERROR',
    ]));
  });
});
