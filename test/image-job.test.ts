import { DeepSpeedTrainingImageProps, ImageUser, MpiInstallation, SourceCode } from '../src';
import { commands, envNames, parseInstructions, printedFile, runs } from './support/dockerfile';
import { container, mpirunCommand, synthJobWithRecipe } from './support/synth';
import { takeWarnings } from './support/warnings';

/** What the Dockerfile says, read back from its text rather than from the recipe's facts. */
function readDockerfile(text: string) {
  const instructions = parseInstructions(text);
  const user = instructions.filter(i => i.keyword === 'USER').map(i => i.args)[0];
  const home = /--home-dir (\S+)/.exec(text)?.[1] ?? '/root';
  const pip = runs(text).flatMap(commands).find(c => c.includes(' -m pip install '))!;
  const sshdConfig = /> (\S*sshd_config)\b/.exec(text)![1];
  const sshd = printedFile(text, sshdConfig);
  const client = printedFile(text, '/etc/ssh/ssh_config');
  return {
    uid: user ? Number(user.split(':')[0]) : 0,
    gid: user ? Number(user.split(':')[1]) : 0,
    home,
    python: pip.replace(/^(\S+=\S+ )*/, '').split(' ')[0],
    sshdConfig,
    sshdPort: Number(sshd.find(l => l.startsWith('Port '))!.split(' ')[1]),
    hostKey: sshd.find(l => l.startsWith('HostKey '))!.split(' ')[1],
    clientPort: Number(client.find(l => l.trim().startsWith('Port '))!.trim().split(' ')[1]),
    workdir: instructions.filter(i => i.keyword === 'WORKDIR').map(i => i.args).pop(),
    env: envNames(text),
  };
}

const JOB = { workers: { replicas: 2, gpusPerWorker: 1 }, script: 'train.py' };

function flagValue(command: string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i < 0 ? undefined : command[i + 1];
}

describe.each<[string, Partial<DeepSpeedTrainingImageProps>]>([
  ['non-root default', { source: SourceCode.fromGitRepository('https://github.com/org/train', 'abcdef1') }],
  ['custom user and port', { user: ImageUser.nonRoot({ name: 'trainer', uid: 1500, gid: 1600, home: '/srv/trainer' }), sshPort: 30022, workingDirectory: '/srv/run' }],
  ['root', { user: ImageUser.root(), sshPort: 2022, environment: { NCCL_DEBUG: 'INFO' } }],
  ['Intel MPI', { mpi: MpiInstallation.intel() }],
])('launcher and workers agree with the %s image', (_name, recipe) => {
  const { image, mpiJob, launcher, worker } = synthJobWithRecipe(recipe, JOB);
  const synthWarnings = takeWarnings();
  const built = readDockerfile(image.dockerfile);
  const workerCommand: string[] = container(worker).command;
  const launcherCommand = mpirunCommand(launcher);

  test('synth warns about the image user only when it is root', () => {
    const rootWarning = 'test/train: image.user is ImageUser.root()';
    expect(synthWarnings.map(w => w.slice(0, rootWarning.length))).toEqual(built.uid === 0 ? [rootWarning] : []);
  });

  test('the operator mounts the keys in the home of the user the pods run as', () => {
    expect(mpiJob.spec.sshAuthMountPath).toBe(`${built.home}/.ssh`);
    expect(built.hostKey).toBe(`${built.home}/.ssh/id_rsa`);
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.securityContext.runAsUser).toBe(built.uid);
      expect(replica.template.spec.securityContext.runAsGroup).toBe(built.gid);
    }
  });

  test('workers run the image\'s sshd on its port, and everything connects to that port', () => {
    expect(workerCommand.slice(0, 4)).toEqual(['/usr/sbin/sshd', '-De', '-p', String(built.sshdPort)]);
    expect(built.clientPort).toBe(built.sshdPort);
    expect(container(worker).ports).toEqual([{ name: 'ssh', containerPort: built.sshdPort, protocol: 'TCP' }]);
    expect(container(worker).readinessProbe.tcpSocket.port).toBe(built.sshdPort);
  });

  test('a non-root sshd reads the config the image wrote; root uses the system one', () => {
    if (built.uid === 0) {
      expect(built.sshdConfig).toBe('/etc/ssh/sshd_config');
      expect(flagValue(workerCommand, '-f')).toBeUndefined();
    } else {
      expect(flagValue(workerCommand, '-f')).toBe(built.sshdConfig);
    }
  });

  test('the launcher waits for the workers on the port sshd listens on, with the interpreter the image has', () => {
    const command: string[] = container(launcher).command;
    expect(command.slice(0, 2)).toEqual([built.python, '-c']);
    expect(command.slice(3, 7)).toEqual(['--hostfile', '/etc/mpi/hostfile', '--port', String(built.sshdPort)]);
    expect(command.slice(command.indexOf('--') + 1)).toEqual(launcherCommand);
  });

  test('the launcher runs the interpreter the packages went into, in the image\'s working directory', () => {
    expect(launcherCommand).toContain(built.python);
    expect(launcherCommand[launcherCommand.indexOf(built.python) + 1]).toBe('train.py');
    expect(container(launcher).workingDir).toBe(built.workdir);
    expect(container(worker).workingDir).toBe(built.workdir);
  });

  test('--allow-run-as-root only for root, and every variable of the image reaches the ranks', () => {
    expect(launcherCommand.includes('--allow-run-as-root')).toBe(built.uid === 0 && image.mpiImplementation === 'OpenMPI');
    expect(mpiJob.spec.mpiImplementation).toBe(image.mpi.implementation);
    const forwarded = image.mpiImplementation === 'OpenMPI'
      ? launcherCommand.filter((_, i) => launcherCommand[i - 1] === '-x')
      : flagValue(launcherCommand, '-genvlist')!.split(',');
    expect(forwarded).toEqual(expect.arrayContaining([...new Set(['PATH', 'LD_LIBRARY_PATH', ...built.env])]));
  });
});
