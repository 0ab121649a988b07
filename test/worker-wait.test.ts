import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { parseWorkerWaitStep, WORKER_WAIT_PROGRAM } from '../src/worker-wait';
import { container, synthJob } from './support/synth';
import { JOB_VARIATIONS } from './support/job-variations';

// Every test here runs the wait program with this machine's python3, against real sockets.
jest.setTimeout(30_000);

const PYTHON = 'python3';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pid: number;
  readonly seconds: number;
}

/** Runs `argv` and collects what it prints. */
function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise(resolve => {
    const started = Date.now();
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('close', code => resolve({ code, stdout, stderr, pid: child.pid!, seconds: (Date.now() - started) / 1000 }));
  });
}

/** The wait step as the launcher runs it, with a hostfile of this test. */
function waitArgv(hostfile: string, port: number, timeout: number, command: string[]): string[] {
  return [PYTHON, '-c', WORKER_WAIT_PROGRAM, '--hostfile', hostfile, '--port', String(port), '--timeout', String(timeout), '--', ...command];
}

/** A TCP server on a free loopback port (the stand-in for a worker's sshd). */
async function listen(port = 0): Promise<net.Server> {
  const server = net.createServer(socket => socket.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/** A free loopback port nobody listens on (yet). */
async function freePort(): Promise<number> {
  const server = await listen();
  const port = portOf(server);
  await new Promise(resolve => server.close(resolve));
  return port;
}

let work: string;
const servers: net.Server[] = [];
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-wait-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => new Promise(resolve => s.close(resolve))));
  fs.rmSync(work, { recursive: true, force: true });
});

function hostfile(text: string): string {
  const file = path.join(work, 'hostfile');
  fs.writeFileSync(file, text);
  return file;
}

/** A command that prints its pid and exits 7: shows the wait step exec'd it in its own process. */
const PID_AND_EXIT_7 = [PYTHON, '-c', 'import os, sys; print("pid", os.getpid()); sys.exit(7)'];

describe('the wait program, run with python3', () => {
  test('hosts that resolve and listen: one line per host, then it execs the command, which keeps the pid and the exit code', async () => {
    const server = await listen();
    servers.push(server);
    const port = portOf(server);
    // Open MPI and Hydra lines, a comment, a blank line and a duplicate.
    const file = hostfile(`# workers\nlocalhost slots=2\n\n127.0.0.1:4\nlocalhost slots=2\n`);
    const result = await run(waitArgv(file, port, 10, PID_AND_EXIT_7));
    expect(result.code).toBe(7);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`wait-for-workers: waiting up to 10 s for 2 host(s) of ${file} to accept connections on port ${port}`);
    expect(lines[1]).toMatch(new RegExp(`^wait-for-workers: localhost accepts connections on port ${port} after 0\\.\\d s$`));
    expect(lines[2]).toMatch(new RegExp(`^wait-for-workers: 127\\.0\\.0\\.1 accepts connections on port ${port} after 0\\.\\d s$`));
    expect(lines[3]).toMatch(/^wait-for-workers: all hosts up after 0\.\d s: running python3$/);
    expect(lines[4]).toBe(`pid ${result.pid}`);
    expect(lines).toHaveLength(5);
    expect(result.stderr).toBe('');
  });

  test('a host that never resolves: exit 1 at the deadline, naming the host and why', async () => {
    const server = await listen();
    servers.push(server);
    const file = hostfile('localhost slots=1\nnever-started-worker-1.job.default.invalid slots=1\n');
    const result = await run(waitArgv(file, portOf(server), 2, ['true']));
    expect(result.code).toBe(1);
    expect(result.seconds).toBeGreaterThanOrEqual(2);
    expect(result.seconds).toBeLessThan(15);
    expect(result.stderr).toMatch(/^wait-for-workers: 1 of 2 host\(s\) did not come up within 2 s: never-started-worker-1\.job\.default\.invalid does not resolve \([^)]+\)\. Check that these worker pods are Running and Ready \(kubectl describe pod\): a pod still pulling its image, pending for resources or with an sshd that does not start keeps its name out of DNS and its port closed\n$/);
    expect(result.stdout).not.toContain('running');
  });

  test('a host that resolves but never listens: the failure says the port is closed', async () => {
    const port = await freePort();
    const result = await run(waitArgv(hostfile('127.0.0.1:1\n'), port, 1, ['true']));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`wait-for-workers: 1 of 1 host(s) did not come up within 1 s: 127.0.0.1 resolves, but port ${port} does not accept connections `
      + '(127.0.0.1: Connection refused). Check that these worker pods are Running and Ready (kubectl describe pod): a pod still pulling its image, '
      + 'pending for resources or with an sshd that does not start keeps its name out of DNS and its port closed\n');
  });

  test('a host that comes up late is waited for, then the command runs', async () => {
    const port = await freePort();
    const pending = run(waitArgv(hostfile('127.0.0.1 slots=1\n'), port, 20, PID_AND_EXIT_7));
    await new Promise(resolve => setTimeout(resolve, 2500));
    servers.push(await listen(port));
    const result = await pending;
    expect(result.code).toBe(7);
    const seconds = Number(/127\.0\.0\.1 accepts connections on port \d+ after ([\d.]+) s/.exec(result.stdout)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(10);
    expect(result.stdout).toContain(`pid ${result.pid}`);
  });

  // A private /etc/hosts in a private mount namespace (root only) stands in for the Service's DNS.
  const asRoot = process.getuid?.() === 0 ? test : test.skip;
  asRoot('a host whose name resolves only later (a worker that becomes Ready) is waited for', async () => {
    const server = await listen();
    servers.push(server);
    const hosts = path.join(work, 'hosts');
    fs.copyFileSync('/etc/hosts', hosts);
    const name = `late-worker-${process.pid}.job.default.svc`;
    const argv = waitArgv(hostfile(`${name} slots=1\n`), portOf(server), 20, PID_AND_EXIT_7);
    const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
    const pending = run(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, hosts, ...argv]);
    await new Promise(resolve => setTimeout(resolve, 2500));
    // Appending keeps the inode, so the bind mount shows the new line.
    fs.appendFileSync(hosts, `127.0.0.1 ${name}\n`);
    const result = await pending;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(7);
    const seconds = Number(new RegExp(`${name.replace(/\./g, '\\.')} accepts connections on port \\d+ after ([\\d.]+) s`).exec(result.stdout)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(10);
    expect(fs.readFileSync('/etc/hosts', 'utf8')).not.toContain(name);
  });

  test('the pod\'s own host (the launcher as a worker) is not waited for', async () => {
    const own = os.hostname().split('.')[0];
    const result = await run(waitArgv(hostfile(`${own}.job.default.svc slots=2\n`), await freePort(), 1, ['true']));
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').slice(0, 2)).toEqual([
      `wait-for-workers: ${own}.job.default.svc is this pod: not waited for`,
      `wait-for-workers: waiting up to 1 s for 0 host(s) of ${work}/hostfile to accept connections on port ${(/port (\d+)/.exec(result.stdout) ?? [])[1]}`,
    ]);
  });

  test('usage errors and a command that cannot run', async () => {
    const file = hostfile('localhost slots=1\n');
    const noSeparator = await run([PYTHON, '-c', WORKER_WAIT_PROGRAM, '--hostfile', file, '--port', '2222', '--timeout', '1', 'mpirun']);
    expect([noSeparator.code, noSeparator.stderr]).toEqual([2, 'wait-for-workers: usage: --hostfile PATH --port PORT --timeout SECONDS -- COMMAND [ARG...]\n']);
    const unknown = await run([PYTHON, '-c', WORKER_WAIT_PROGRAM, '--hostfile', file, '--ports', '2222', '--', 'true']);
    expect([unknown.code, unknown.stderr]).toEqual([2, 'wait-for-workers: unknown option or missing value: \'--ports\'\n']);
    const missing = await run(waitArgv(path.join(work, 'absent'), 2222, 1, ['true']));
    expect([missing.code, missing.stderr]).toEqual([2, `wait-for-workers: cannot read the hostfile ${work}/absent: No such file or directory\n`]);
    const server = await listen();
    servers.push(server);
    const noCommand = await run(waitArgv(file, portOf(server), 1, ['/nonexistent/mpirun', '-np', '2']));
    expect(noCommand.code).toBe(127);
    expect(noCommand.stderr).toBe('wait-for-workers: cannot run /nonexistent/mpirun: No such file or directory\n');
  });
});

describe('the launcher argv', () => {
  test('python -c <program> --hostfile /etc/mpi/hostfile --port <sshPort> --timeout <seconds> -- <mpirun argv>', () => {
    const { job, launcher } = synthJob({ ...JOB_VARIATIONS['4 workers x 2 GPUs with resources and a DeepSpeed config'], workerWaitTimeout: Duration.minutes(5) });
    const command: string[] = container(launcher).command;
    expect(command.slice(0, 10)).toEqual([
      job.image.pythonPath, '-c', WORKER_WAIT_PROGRAM, '--hostfile', '/etc/mpi/hostfile', '--port', String(job.image.sshPort), '--timeout', '300', '--',
    ]);
    expect(command.slice(10)).toEqual(job.launcher.mpirunCommand);
    expect(job.launcher.mpirunCommand[0]).toBe('mpirun');
    expect(parseWorkerWaitStep(command)).toEqual({
      interpreter: job.image.pythonPath, program: WORKER_WAIT_PROGRAM, hostfile: '/etc/mpi/hostfile', port: String(job.image.sshPort), timeout: '300',
      command: job.launcher.mpirunCommand,
    });
  });

  test('waitForWorkers: false runs mpirun directly', () => {
    const { job, launcher } = synthJob({ ...JOB_VARIATIONS['4 workers x 2 GPUs with resources and a DeepSpeed config'], waitForWorkers: false });
    expect(container(launcher).command).toEqual(job.launcher.mpirunCommand);
    expect(parseWorkerWaitStep(container(launcher).command)).toBeUndefined();
  });

  test('the synthesized wait step runs as written: only the hostfile path and the interpreter are this machine\'s', async () => {
    const server = await listen();
    servers.push(server);
    const { manifests } = synthJob({ ...JOB_VARIATIONS['Intel MPI image'], workerWaitTimeout: Duration.seconds(5) });
    const argv: string[] = [...container(manifests.find(m => m.kind === 'MPIJob').spec.mpiReplicaSpecs.Launcher).command];
    const file = hostfile('127.0.0.1:2\nlocalhost:2\n');
    argv[0] = PYTHON;
    argv[argv.indexOf('/etc/mpi/hostfile')] = file;
    argv[argv.indexOf('--port') + 1] = String(portOf(server));
    const split = argv.indexOf('--');
    expect(argv[split + 1]).toBe('mpirun');
    // In place of Intel's mpirun: echo its arguments back, so the exec'd argv can be compared.
    const result = await run([...argv.slice(0, split + 1), PYTHON, '-c', 'import json, sys; print(json.dumps(sys.argv[1:]))', ...argv.slice(split + 2)]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trimEnd().split('\n').pop()!)).toEqual(argv.slice(split + 2));
    expect(result.stdout).toContain('waiting up to 5 s for 2 host(s)');
  });
});

test('python3 is available for these tests', () => {
  expect(spawnSync(PYTHON, ['--version'], { encoding: 'utf8' }).stdout).toMatch(/^Python 3\./);
});
