import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Duration, JsonPatch, Testing } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { buildTrainJob } from '../examples/trainjob/main';
import { CheckStatus, DeepSpeedMpiJobProps } from '../src';
import * as loopback from '../src/rehearsal/loopback';
import { generateOperatorSshKey, writeSshAuthMount } from '../src/rehearsal/ssh-auth-mount';
import { JOB_VARIATIONS } from './support/job-variations';
import { check, rehearseOverOpenSsh } from './support/rehearsal';
import { container, synthJob } from './support/synth';

// Real sshd, ssh and mpirun, one PID/mount/UTS namespace per pod (docs/rehearsal.md): needs root,
// util-linux and openssh-server (scripts/install-test-deps.sh).
jest.setTimeout(60_000);

const cifar10 = () => Testing.synth(buildCifar10(Testing.app()));

/** The manifests with a JSON patch applied to the MPIJob. */
function patched(manifests: any[], ...patches: JsonPatch[]): any[] {
  return manifests.map(m => m.kind === 'MPIJob' ? JsonPatch.apply(m, ...patches) : m);
}

/** Both pod templates with `securityContext.fsGroup`. */
function withFsGroup(manifests: any[], fsGroup: number): any[] {
  return patched(manifests, ...['Launcher', 'Worker'].map(role => JsonPatch.add(`/spec/mpiReplicaSpecs/${role}/template/spec/securityContext/fsGroup`, fsGroup)));
}

describe('the operator\'s key, generated and laid out as it mounts it', () => {
  test('an ECDSA P-521 key in SEC 1 PEM whose public half OpenSSH derives from the private one', () => {
    const key = generateOperatorSshKey();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-'));
    fs.writeFileSync(path.join(dir, 'id'), key.privateKey, { mode: 0o600 });
    expect(key.privateKey).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(execFileSync('ssh-keygen', ['-y', '-f', path.join(dir, 'id')]).toString().trim()).toBe(key.publicKey.trim());
    expect(execFileSync('ssh-keygen', ['-l', '-f', path.join(dir, 'id')]).toString()).toMatch(/^521 SHA256:\S+ .*\(ECDSA\)$/m);
    fs.rmSync(dir, { recursive: true });
  });

  test('the kubelet\'s Secret volume: files behind ..data, 0644 root:root, or group fsGroup; 0600 only at /root/.ssh, 0640 with fsGroup', () => {
    const layout = (mountPath: string, fsGroup?: number) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-'));
      // The MPI Operator's modes: defaultMode 0600 at /root/.ssh only, else the Secret default 0644.
      const mode = mountPath === '/root/.ssh' ? 0o600 : 0o644;
      const operatorModes = { 'id_rsa': mode, 'id_rsa.pub': mode, 'authorized_keys': mode };
      const result = writeSshAuthMount(dir, generateOperatorSshKey(), { mountPath, operatorModes, fsGroup });
      const stat = fs.statSync(path.join(dir, 'id_rsa'));
      const seen = { link: fs.readlinkSync(path.join(dir, 'id_rsa')), mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, dir: fs.statSync(dir).mode & 0o7777 };
      fs.rmSync(dir, { recursive: true });
      return { files: result.files.map(f => `${f.path} ${f.mode.toString(8)} ${f.uid}:${f.gid}`), seen };
    };
    expect(layout('/home/mpiuser/.ssh')).toEqual({
      files: ['/home/mpiuser/.ssh/id_rsa 644 0:0', '/home/mpiuser/.ssh/id_rsa.pub 644 0:0', '/home/mpiuser/.ssh/authorized_keys 644 0:0'],
      seen: { link: '..data/id_rsa', mode: 0o644, uid: 0, gid: 0, dir: 0o1777 },
    });
    expect(layout('/home/mpiuser/.ssh', 1000).seen).toEqual({ link: '..data/id_rsa', mode: 0o644, uid: 0, gid: 1000, dir: 0o3777 });
    expect(layout('/root/.ssh').seen.mode).toBe(0o600);
    expect(layout('/root/.ssh', 1000).seen).toMatchObject({ mode: 0o640, gid: 1000 });
  });
});

describe('the CIFAR-10 example over real OpenSSH', () => {
  const manifests = cifar10();
  const worker = manifests.find(m => m.kind === 'MPIJob').spec.mpiReplicaSpecs.Worker;
  let report: Awaited<ReturnType<typeof rehearseOverOpenSsh>>;
  beforeAll(async () => {
    report = await rehearseOverOpenSsh(manifests);
  });

  test('every check passes', () => {
    expect(report.checks.filter(c => c.status !== CheckStatus.PASSED)).toEqual([]);
    expect(report.mode).toBe('openssh');
  });

  test('each worker pod runs the synthesized sshd as uid 1000 on its own loopback address and the job\'s port, and accepts the operator\'s key', () => {
    const addresses = report.workers!.map(w => w.address!);
    expect(new Set(addresses).size).toBe(2);
    for (const [i, w] of report.workers!.entries()) {
      expect(w.hostname).toBe(`cifar10-train-worker-${i}`);
      expect(w.hostfileName).toBe(`cifar10-train-worker-${i}.cifar10-train.default.svc`);
      expect(w.address).toMatch(/^127\.\d+\.\d+\.\d+$/);
      expect(w.port).toBe(2222);
      expect(w.sshdCommand).toEqual([...container(worker).command, '-o', `ListenAddress=${w.address}`]);
      expect(w.sshdLog).toContain(`Server listening on ${w.address} port 2222.`);
      expect(w.sshdLog).toMatch(/^Accepted publickey for mpiuser from \S+ port \d+ ssh2: ECDSA SHA256:\S+$/m);
    }
    expect(report.keyFiles!.map(f => `${f.path} ${f.mode.toString(8)} ${f.uid}:${f.gid}`)).toEqual([
      '/home/mpiuser/.ssh/id_rsa 644 0:0', '/home/mpiuser/.ssh/id_rsa.pub 644 0:0', '/home/mpiuser/.ssh/authorized_keys 644 0:0',
    ]);
  });

  test('every rank reports the hostname of the pod it ran in, and ran in the image\'s directory', () => {
    expect(report.ranks.map(r => `${r.rank} ${r.pod} ${r.cwd}`)).toEqual([
      '0 cifar10-train-worker-0 /opt/DeepSpeedExamples', '1 cifar10-train-worker-1 /opt/DeepSpeedExamples',
    ]);
    expect(report.ranks.map(r => r.env.USER)).toEqual(['mpiuser', 'mpiuser']);
  });

  test('no ssh stand-in, no TMPDIR, no run-as-root: only mpirun, the hostfile path and the program are replaced', () => {
    const changes = report.localChanges.join('\n');
    expect(changes).not.toMatch(/plm_rsh_agent|TMPDIR|OMPI_ALLOW_RUN_AS_ROOT|--wdir/);
    expect(report.localCommand).not.toContain('plm_rsh_agent');
    const synthesized = container(manifests.find(m => m.kind === 'MPIJob').spec.mpiReplicaSpecs.Launcher).command as string[];
    const split = synthesized.indexOf('--');
    const [python, dashC, program, ...waitOptions] = synthesized.slice(0, split);
    const launcher = synthesized.slice(split + 1);
    const hostfile = report.localCommand[report.localCommand.lastIndexOf('--hostfile') + 1];
    // The wait step as synthesized: only its interpreter and the hostfile path are this machine's.
    expect([python, dashC, program.split('\n')[0], ...waitOptions]).toEqual([
      '/opt/conda/bin/python', '-c', '# cdk8s-deepspeed: wait until every hostfile host accepts ssh connections, then exec mpirun',
      '--hostfile', '/etc/mpi/hostfile', '--port', '2222', '--timeout', '900',
    ]);
    expect(report.localCommand.slice(0, split + 1)).toEqual(['/usr/bin/python3', '-c', program, '--hostfile', hostfile, '--port', '2222', '--timeout', '900', '--']);
    const at = launcher.indexOf('/opt/conda/bin/python');
    expect(report.localCommand.slice(split + 1)).toEqual([
      '/usr/bin/mpirun', ...launcher.slice(1, at).map(arg => arg === '/etc/mpi/hostfile' ? hostfile : arg), process.execPath, expect.stringMatching(/probe\.js$/), ...launcher.slice(at + 1),
    ]);
  });
});

describe('the launcher\'s wait step, run as synthesized over real OpenSSH', () => {
  const job = (props: Partial<DeepSpeedMpiJobProps> = {}) => synthJob({ ...JOB_VARIATIONS['minimal CPU job'], workers: { replicas: 2 }, ...props }).manifests;

  test('a worker that starts late is waited for: its name resolves only once its sshd listens, then the launch succeeds', async () => {
    const report = await rehearseOverOpenSsh(job(), { workerStartDelays: { 'test-train-worker-1': Duration.seconds(3) } });
    expect(report.checks.filter(c => c.status !== CheckStatus.PASSED)).toEqual([]);
    const late = report.workers!.find(w => w.hostname === 'test-train-worker-1')!;
    expect(late.upAfterSeconds).toBeGreaterThanOrEqual(3);
    const waitLines = report.mpirunOutput.split('\n').filter(l => l.startsWith('wait-for-workers: '));
    expect(waitLines[0]).toMatch(/^wait-for-workers: waiting up to 900 s for 2 host\(s\) of \/tmp\/\S+\/hostfile to accept connections on port 2222$/);
    expect(waitLines).toContainEqual(expect.stringMatching(/^wait-for-workers: test-train-worker-1\.test-train\.default\.svc accepts connections on port 2222 after [3-9]\.\d s$/));
    expect(waitLines[waitLines.length - 1]).toMatch(/^wait-for-workers: all hosts up after [3-9]\.\d s: running \/usr\/bin\/mpirun$/);
    expect(report.ranks.map(r => r.pod)).toEqual(['test-train-worker-0', 'test-train-worker-1']);
    expect(check(report, 'worker wait').detail).toBe('before mpirun the launcher waits up to 900 s until 2 worker pods of /etc/mpi/hostfile accept connections on port 2222, where their sshd listens (ran here, over real OpenSSH)');
  });

  test('a worker that never starts fails the launch at the wait step\'s deadline, naming the worker', async () => {
    const started = Date.now();
    const report = await rehearseOverOpenSsh(job({ workerWaitTimeout: Duration.seconds(4) }), { workersThatNeverStart: ['test-train-worker-1'] });
    const seconds = (Date.now() - started) / 1000;
    expect(report.passed).toBe(false);
    expect(report.exitCode).toBe(1);
    expect(report.ranks).toEqual([]);
    expect(seconds).toBeLessThan(15);
    expect(check(report, 'worker sshd').status).toBe(CheckStatus.PASSED);
    expect(check(report, 'mpirun')).toEqual({
      name: 'mpirun',
      status: CheckStatus.FAILED,
      detail: expect.stringMatching(new RegExp('^the wait step exited with code 1 before mpirun ran: 1 of 2 host\\(s\\) did not come up within 4 s: '
        + 'test-train-worker-1\\.test-train\\.default\\.svc does not resolve \\(Name or service not known\\)\\. Check that these worker pods are Running and Ready')),
    });
  });

  test('without the wait step the launcher races its workers: ssh cannot resolve a worker that is still starting', async () => {
    const report = await rehearseOverOpenSsh(job({ waitForWorkers: false }), { workerStartDelays: { 'test-train-worker-1': Duration.seconds(3) } });
    expect(report.passed).toBe(false);
    const detail = check(report, 'mpirun').detail;
    // Worker 0 may not be up yet either when mpirun starts: ssh fails on every name that does not resolve yet.
    expect(detail).toMatch(/^mpirun exited with code \d+: ssh said "ssh: Could not resolve hostname test-train-worker-[01]\.test-train\.default\.svc: Name or service not known"/);
    expect(detail).toContain('"ssh: Could not resolve hostname test-train-worker-1.test-train.default.svc: Name or service not known"');
    expect(detail).toContain('; ORTE was unable to reliably start one or more daemons.');
  });
});

describe('loopback addresses', () => {
  test('an address another process holds on the ssh port is given up for another: sshd\'s bind failure picks again', async () => {
    // Hold a random address on the ssh port ourselves (another run may hold any fixed one), then make it the first pick.
    const real = loopback.randomLoopbackAddress;
    const server = net.createServer();
    let held = '';
    for (let bound = false; !bound;) {
      held = real();
      bound = await new Promise<boolean>(resolve => {
        server.once('error', () => resolve(false));
        server.listen(2222, held, () => resolve(true));
      });
    }
    const pick = jest.spyOn(loopback, 'randomLoopbackAddress').mockImplementationOnce(() => held).mockImplementation(taken => real(taken));
    const lines: string[] = [];
    try {
      const report = await rehearseOverOpenSsh(synthJob(JOB_VARIATIONS['minimal CPU job']).manifests, { progress: { report: l => lines.push(l) } });
      expect(report.passed).toBe(true);
      expect(lines).toContain(`  test-train-worker-0: ${held}:2222 is taken, picking another address`);
      expect(report.workers![0].address).not.toBe(held);
      expect(pick).toHaveBeenCalledTimes(2);
    } finally {
      pick.mockRestore();
      server.close();
    }
  });
});

describe('other job shapes over real OpenSSH', () => {
  test('fsGroup: the key files are group fsGroup and stay 0644, which sshd and ssh accept', async () => {
    const report = await rehearseOverOpenSsh(withFsGroup(cifar10(), 1000));
    expect(report.passed).toBe(true);
    expect(report.keyFiles!.map(f => [f.mode, f.uid, f.gid])).toEqual([[0o644, 0, 1000], [0o644, 0, 1000], [0o644, 0, 1000]]);
    expect(check(report, 'worker sshd').detail).toBe('2 of 2 worker pods listened (sshd as uid 1000, the mounted id_rsa as host key); '
      + '2 accepted the operator\'s ECDSA P-521 key, mounted root:1000 0644 at /home/mpiuser/.ssh');
  });

  test('root image: sshd as root with the keys 0600 at /root/.ssh', async () => {
    const report = await rehearseOverOpenSsh(synthJob(JOB_VARIATIONS['root image with custom env from every source']).manifests);
    expect(report.passed).toBe(true);
    expect(report.keyFiles!.map(f => `${f.path} ${f.mode.toString(8)}`)).toEqual(['/root/.ssh/id_rsa 600', '/root/.ssh/id_rsa.pub 600', '/root/.ssh/authorized_keys 600']);
    expect(report.workers!.every(w => /^Accepted publickey for root from /m.test(w.sshdLog))).toBe(true);
  });

  test('launcher as a worker: its own name resolves to itself, so mpirun starts its ranks directly and reaches the workers over ssh', async () => {
    const report = await rehearseOverOpenSsh(synthJob(JOB_VARIATIONS['launcher as a worker next to 2 workers']).manifests);
    expect(report.passed).toBe(true);
    expect(report.ranks.map(r => `${r.rank}:${r.pod}`)).toEqual([
      '0:test-train-launcher', '1:test-train-launcher', '2:test-train-worker-0', '3:test-train-worker-0', '4:test-train-worker-1', '5:test-train-worker-1',
    ]);
    expect(report.ranks.map(r => r.env.K_MPI_JOB_ROLE)).toEqual(['launcher', 'launcher', undefined, undefined, undefined, undefined]);
  });
});

describe('key files mounted other than the operator mounts them fail as OpenSSH fails', () => {
  test('a TrainJob: the Trainer mounts id_rsa 0640, readable to uid 1000 through fsGroup only (which the library sets)', async () => {
    const manifests = Testing.synth(buildTrainJob(Testing.app()));
    const passes = await rehearseOverOpenSsh(manifests);
    expect(passes.passed).toBe(true);
    expect(passes.keyFiles!.map(f => `${f.path} ${f.mode.toString(8)} ${f.uid}:${f.gid}`)).toEqual([
      '/home/mpiuser/.ssh/id_rsa 640 0:1000', '/home/mpiuser/.ssh/id_rsa.pub 644 0:1000', '/home/mpiuser/.ssh/authorized_keys 644 0:1000',
    ]);
    const withoutFsGroup = manifests.map(m => JSON.parse(JSON.stringify(m), (key, value) => key === 'fsGroup' || key === 'fsGroupChangePolicy' ? undefined : value));
    const fails = await rehearseOverOpenSsh(withoutFsGroup);
    expect(fails.keyFiles![0]).toMatchObject({ mode: 0o640, uid: 0, gid: 0 });
    expect(check(fails, 'worker sshd').detail).toContain('cifar10-node-0-0: sshd exited before listening: Unable to load host key: /home/mpiuser/.ssh/id_rsa / sshd: no hostkeys available -- exiting.');
  });

  test('a root job with fsGroup: the kubelet makes /root/.ssh/id_rsa 0640, and sshd refuses it as host key (kubeflow/mpi-operator#429)', async () => {
    const report = await rehearseOverOpenSsh(withFsGroup(synthJob(JOB_VARIATIONS['root image with custom env from every source']).manifests, 1000));
    expect(report.passed).toBe(false);
    const sshd = check(report, 'worker sshd');
    expect(sshd.status).toBe(CheckStatus.FAILED);
    expect(sshd.detail).toContain('test-train-worker-0: sshd exited before listening: ');
    expect(report.workers![0].sshdLog).toContain('WARNING: UNPROTECTED PRIVATE KEY FILE!');
    expect(report.workers![0].sshdLog).toContain('Permissions 0640 for \'/root/.ssh/id_rsa\' are too open.');
    expect(sshd.detail).toContain('Unable to load host key "/root/.ssh/id_rsa": bad permissions / Unable to load host key: /root/.ssh/id_rsa / sshd: no hostkeys available -- exiting.');
  });

  test('key files owned by the image user: sshd refuses a host key its owner left readable by others', async () => {
    const report = await rehearseOverOpenSsh(cifar10(), { keyFileOwner: 1000 });
    expect(report.passed).toBe(false);
    expect(report.localChanges).toContain('key files owned by uid 1000 instead of root, as the kubelet writes them (fault injection)');
    expect(report.workers![0].sshdLog).toContain('Permissions 0644 for \'/home/mpiuser/.ssh/id_rsa\' are too open.');
    expect(check(report, 'worker sshd').detail).toContain('cifar10-train-worker-0: sshd exited before listening: '
      + 'Permissions 0644 for \'/home/mpiuser/.ssh/id_rsa\' are too open. / It is required that your private key files are NOT accessible by others. / '
      + 'This private key will be ignored. / Unable to load host key "/home/mpiuser/.ssh/id_rsa": bad permissions / Unable to load host key: /home/mpiuser/.ssh/id_rsa / sshd: no hostkeys available -- exiting.;');
  });

  test('key files 0600 at a non-root path: the root-owned key is unreadable to uid 1000', async () => {
    const report = await rehearseOverOpenSsh(cifar10(), { keyFileMode: 0o600 });
    expect(report.passed).toBe(false);
    expect(report.localChanges).toEqual(expect.arrayContaining(['id_rsa', 'id_rsa.pub', 'authorized_keys']
      .map(file => `${file} written with mode 0600 instead of the operator's 0644 (fault injection)`)));
    expect(check(report, 'worker sshd').detail).toContain('cifar10-train-worker-0: sshd exited before listening: Unable to load host key: /home/mpiuser/.ssh/id_rsa / sshd: no hostkeys available -- exiting.');
  });
});
