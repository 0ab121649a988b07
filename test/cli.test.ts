import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, JsonPatch, Testing, Yaml } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { DeepSpeedMpiJob, DeepSpeedTrainingImage, DeepSpeedTrainJob, TrainerRuntime } from '../src';
import { main } from '../src/cli';
import { renderUnvalidated } from './support/synth';

jest.setTimeout(60_000);

const REPO = path.resolve(__dirname, '..');

/** Runs the CLI as users do, in its own node process (TypeScript sources, transpiled on the fly). */
function cli(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register'), path.join(REPO, 'src', 'cli.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_PROJECT: path.join(REPO, 'tsconfig.json') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A cdk8s app directory whose dist/manifests holds the synthesized CIFAR-10 example. */
function appWithCifar10(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-test-'));
  const app = new App({ outdir: path.join(dir, 'dist', 'manifests') });
  buildCifar10(app);
  app.synth();
  return dir;
}

function brokenCifar10File(dir: string): string {
  const chart = buildCifar10(Testing.app());
  const job = chart.node.findAll().find((c): c is DeepSpeedMpiJob => c instanceof DeepSpeedMpiJob)!;
  // Index 12: -np's value, after the 10 words of the wait step and mpirun itself.
  job.apiObject.addJsonPatch(JsonPatch.replace('/spec/mpiReplicaSpecs/Launcher/template/spec/containers/0/command/12', '4'));
  const file = path.join(dir, 'broken.k8s.yaml');
  fs.writeFileSync(file, Yaml.stringify(...renderUnvalidated(chart)));
  return file;
}

describe('cdk8s-deepspeed rehearse, end to end', () => {
  const dir = appWithCifar10();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the bin entry is this file, run by node', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'cdk8s-deepspeed': 'lib/src/cli.js' });
    expect(fs.readFileSync(path.join(REPO, 'src', 'cli.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test('rehearses dist/manifests by default: progress on stderr, per-rank summary on stdout, exit 0', () => {
    const { status, stdout, stderr } = cli(['rehearse'], dir);
    expect(stderr).toContain('rehearsing cifar10-train from dist/manifests/cifar10.k8s.yaml');
    expect(stderr).toMatch(/mpirun from \S*mpirun \(Open MPI \d/);
    expect(stderr).toContain('rank 0 of 2 on cifar10-train-worker-0');
    expect(stderr).toContain('rank 1 of 2 on cifar10-train-worker-1');
    expect(stderr).toContain('mpirun exited with code 0');
    const rankLines = stdout.split('\n').filter(l => /^\s+[01]\s+cifar10-train-worker-/.test(l)).map(l => l.trim().split(/\s+/));
    expect(rankLines).toEqual([0, 1].map(i => [
      String(i), `cifar10-train-worker-${i}`, '0/1', '/opt/DeepSpeedExamples',
      'training/cifar/cifar10_deepspeed.py', '--deepspeed', '--deepspeed_config', '/etc/deepspeed/ds_config.json',
    ]));
    expect(stdout).toContain('    NCCL_DEBUG=INFO  (manifest)');
    expect(stdout).toContain('    PASS  world size: 2 ranks: -np 2 = 2 workers × 1 slot');
    expect(stdout).not.toContain('FAIL');
    expect(stdout.trimEnd().split('\n').pop()).toBe('1 of 1 job rehearsal passed');
    expect(status).toBe(0);
  });

  test('a broken command line exits 1 and prints mpirun\'s reason', () => {
    const { status, stdout } = cli(['rehearse', brokenCifar10File(dir)], dir);
    expect(stdout).toContain('    FAIL  mpirun: mpirun exited with code 1: There are not enough slots available in the system to satisfy the 4 slots');
    expect(stdout.trimEnd().split('\n').pop()).toBe('0 of 1 job rehearsal passed');
    expect(status).toBe(1);
  });
});

describe('cdk8s-deepspeed options and errors', () => {
  async function run(args: string[], cwd: string) {
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(args, cwd, { out: t => out.push(t), err: t => err.push(t) });
    return { status, out: out.join('\n'), err: err.join('\n') };
  }
  const dir = appWithCifar10();
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('--json prints the reports, --job picks one, --keep leaves the work directory', async () => {
    const file = path.join(dir, 'dist', 'manifests', 'cifar10.k8s.yaml');
    const { status, out } = await run(['rehearse', '--json', '--keep', '--job', 'cifar10-train', file], dir);
    expect(status).toBe(0);
    const [report] = JSON.parse(out);
    expect(report.ranks.map((r: any) => r.pod)).toEqual(['cifar10-train-worker-0', 'cifar10-train-worker-1']);
    expect(fs.readFileSync(path.join(report.workDirectory, 'hostfile'), 'utf8')).toBe(report.hostfile);
    fs.rmSync(report.workDirectory, { recursive: true, force: true });
  });

  test('usage errors exit 2 with a reason', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-empty-'));
    expect(await run(['rehearse'], empty)).toMatchObject({
      status: 2,
      err: expect.stringMatching(/^cdk8s-deepspeed: no manifests given and none in dist\/manifests: run `npx projen synth`/),
    });
    expect(await run(['rehearse', '--job', 'other'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/^cdk8s-deepspeed: no MPIJob or TrainJob named other in /) });
    expect(await run(['rehearse', '--timeout', 'soon'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/--timeout must be a positive number of seconds, got soon/) });
    expect(await run(['rehearse', '--bogus'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/Unknown option '--bogus'/) });
    expect(await run(['deploy'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/^cdk8s-deepspeed: unknown command 'deploy'/) });
    fs.rmSync(empty, { recursive: true, force: true });
  });

  test('--timeout stops an mpirun that runs too long', async () => {
    const { status, out } = await run(['rehearse', '--timeout', '0.001'], dir);
    expect(status).toBe(1);
    expect(out).toContain('    FAIL  mpirun: mpirun did not finish within 0.001 s and was stopped');
  });

  test('--ssh openssh: a real sshd per worker, a late worker waited for, the pods and key files in the summary', async () => {
    const { status, out, err } = await run(['rehearse', '--ssh', 'openssh', '--late-worker', 'cifar10-train-worker-1=1'], dir);
    expect(status).toBe(0);
    expect(err).toContain('MPIJob default/cifar10-train: 2 host(s) × 1 slot(s), mpirun from ');
    expect(err).toMatch(/, real OpenSSH\n/);
    expect(err).toContain('  cifar10-train-worker-1: sshd starts after 1.0 s');
    expect(err).toMatch(/ {2}launcher: wait-for-workers: all hosts up after \d+\.\d s: running \/usr\/bin\/mpirun/);
    expect(out).toContain('  worker pods (real OpenSSH):');
    expect(out).toMatch(/^ {4}cifar10-train-worker-1 +127\.\d+\.\d+\.\d+:2222 +\d+\.\d s +cifar10-train-worker-1\.cifar10-train\.default\.svc$/m);
    expect(out).toContain('  key files: /home/mpiuser/.ssh/id_rsa root:');
    expect(out).toMatch(/^ {4}PASS {2}worker sshd: 2 of 2 worker pods listened/m);
  });

  test('--ssh takes stand-in or openssh; the OpenSSH options need it', async () => {
    expect(await run(['rehearse', '--ssh', 'real'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/^cdk8s-deepspeed: --ssh must be stand-in or openssh, got real/) });
    expect(await run(['rehearse', '--late-worker', 'cifar10-train-worker-1=2'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/^cdk8s-deepspeed: --late-worker needs --ssh openssh/) });
    expect(await run(['rehearse', '--ssh', 'openssh', '--late-worker', 'cifar10-train-worker-1'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/--late-worker takes POD=SECONDS, got cifar10-train-worker-1/) });
    expect(await run(['rehearse', '--ssh', 'openssh', '--sshd-config', 'nowhere'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/nowhere: no such file/) });
  });

  test('a machine without Open MPI gets the install hint', async () => {
    expect(await run(['rehearse', '--mpirun', '/nonexistent/mpirun'], dir)).toEqual({
      status: 2,
      out: '',
      err: 'rehearsing cifar10-train from dist/manifests/cifar10.k8s.yaml\n'
        + 'cdk8s-deepspeed: /nonexistent/mpirun not found: install Open MPI (Debian: apt-get install openmpi-bin, or run scripts/install-test-deps.sh)',
    });
  });
});

describe('cdk8s-deepspeed rehearse, TrainJobs', () => {
  async function run(args: string[], cwd: string) {
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(args, cwd, { out: t => out.push(t), err: t => err.push(t) });
    return { status, out: out.join('\n'), err: err.join('\n') };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-trainjob-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const referenceRuntime = path.resolve(REPO, '../shared/crds/kubeflow-trainer-v2.3.0/deepspeed-distributed-runtime.yaml');
  const image = DeepSpeedTrainingImage.fromImage('ghcr.io/kubeflow/trainer/deepspeed-runtime:v2.3.0', { pythonPath: '/usr/bin/python3' });

  function writeTrainJob(file: string, runtime?: TrainerRuntime): string {
    const chart = new Chart(Testing.app(), 'trainer');
    new DeepSpeedTrainJob(chart, 'train', { image, workers: { replicas: 2, gpusPerWorker: 1 }, script: '/opt/train.py', runtime, runLauncherAsWorker: runtime !== undefined });
    const out = path.join(dir, file);
    fs.writeFileSync(out, Yaml.stringify(...renderUnvalidated(chart)));
    return out;
  }

  test('a TrainJob with its generated runtime in the same file', async () => {
    const { status, out } = await run(['rehearse', writeTrainJob('generated.k8s.yaml')], dir);
    expect(out).toContain('TrainJob trainer-train');
    expect(out.trimEnd().split('\n').pop()).toBe('1 of 1 job rehearsal passed');
    expect(status).toBe(0);
  });

  test('a TrainJob against deepspeed-distributed, its runtime from another file; without it a usage error', async () => {
    const file = writeTrainJob('referenced.k8s.yaml', TrainerRuntime.clusterRuntime('deepspeed-distributed'));
    const { status, out } = await run(['rehearse', file, referenceRuntime], dir);
    expect(out.trimEnd().split('\n').pop()).toBe('1 of 1 job rehearsal passed');
    expect(status).toBe(0);
    expect(await run(['rehearse', file], dir)).toMatchObject({
      status: 2,
      err: expect.stringMatching(/TrainJob trainer-train references ClusterTrainingRuntime deepspeed-distributed, which is neither in the manifests nor among the runtimes given: pass the runtime's manifest as another file/),
    });
  });
});
