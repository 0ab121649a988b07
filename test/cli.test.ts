import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, JsonPatch, Testing, Yaml } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { DeepSpeedMpiJob, DeepSpeedTrainingImage, DeepSpeedTrainJob, EnvValue, TrainerRuntime } from '../src';
import { main, USAGE } from '../src/cli';
import { renderUnvalidated } from './support/synth';

jest.setTimeout(60_000);

const REPO = path.resolve(__dirname, '..');

/** Runs the CLI as users do, in its own node process (TypeScript sources, transpiled on the fly by swc). */
function cli(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, ['-r', require.resolve('ts-node/register'), path.join(REPO, 'src', 'cli.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_SWC: 'true', TS_NODE_PROJECT: path.join(REPO, 'tsconfig.json') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A plain cdk8s app directory (no cdk8s.yaml output): `cdk8s synth` wrote the CIFAR-10 example to dist/. */
function appWithCifar10(outdir = 'dist'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-test-'));
  const app = new App({ outdir: path.join(dir, outdir) });
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

  test('rehearses dist/, where cdk8s synth writes, by default: progress on stderr, per-rank summary on stdout, exit 0', () => {
    const { status, stdout, stderr } = cli(['rehearse'], dir);
    expect(stderr).toContain('rehearsing cifar10-train from dist/cifar10.k8s.yaml');
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
    expect(stdout).toContain(`    PATH=${process.env.PATH}  (not in the manifest: this machine's PATH, standing in for the image's PATH)`);
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
    const file = path.join(dir, 'dist', 'cifar10.k8s.yaml');
    const { status, out } = await run(['rehearse', '--json', '--keep', '--job', 'cifar10-train', file], dir);
    expect(status).toBe(0);
    const [report] = JSON.parse(out);
    expect(report.ranks.map((r: any) => r.pod)).toEqual(['cifar10-train-worker-0', 'cifar10-train-worker-1']);
    expect(fs.readFileSync(path.join(report.workDirectory, 'hostfile'), 'utf8')).toBe(report.hostfile);
    fs.rmSync(report.workDirectory, { recursive: true, force: true });
  });

  test('usage errors exit 2 with a reason', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-empty-'));
    expect(await run(['rehearse'], empty)).toMatchObject({ status: 2, err: `cdk8s-deepspeed: no manifests given and no *.k8s.yaml in dist/: run \`cdk8s synth\` in your cdk8s app first, or name the files\n\n${USAGE}` });
    fs.writeFileSync(path.join(empty, 'cdk8s.yaml'), 'language: typescript\napp: node main.js\noutput: out/k8s  # where synth writes\n');
    expect(await run(['rehearse'], empty)).toMatchObject({ status: 2, err: expect.stringMatching(/^cdk8s-deepspeed: no manifests given and no \*\.k8s\.yaml in out\/k8s\/: run `cdk8s synth`/) });
    expect(await run(['rehearse', '--expect-missing', 'HF-TOKEN'], dir)).toMatchObject({ status: 2, err: expect.stringMatching(/^cdk8s-deepspeed: --expect-missing takes a variable name, got 'HF-TOKEN'/) });
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
      err: 'rehearsing cifar10-train from dist/cifar10.k8s.yaml\n'
        + 'cdk8s-deepspeed: /nonexistent/mpirun not found: install Open MPI (Debian: apt-get install openmpi-bin, or run scripts/install-test-deps.sh)',
    });
  });

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(await run(['--version'], dir)).toEqual({ status: 0, out: version, err: '' });
  });

  test('reads cdk8s.yaml\'s output folder', async () => {
    const app = appWithCifar10('dist/manifests');
    fs.writeFileSync(path.join(app, 'cdk8s.yaml'), 'language: typescript\napp: node main.js\noutput: dist/manifests\n');
    const { status, err } = await run(['rehearse'], app);
    expect(err.split('\n')[0]).toBe('rehearsing cifar10-train from dist/manifests/cifar10.k8s.yaml');
    expect(status).toBe(0);
    fs.rmSync(app, { recursive: true, force: true });
  });

  test('an unreadable YAML is reported as a YAML error with its line', async () => {
    const file = path.join(dir, 'broken-yaml.k8s.yaml');
    fs.writeFileSync(file, 'apiVersion: kubeflow.org/v2beta1\nkind: MPIJob\nmetadata:\n  name: x\nspec:\n  mpiReplicaSpecs:\n    Launcher:\n      replicas: 1\n     template: {}\n');
    expect(await run(['rehearse', file], dir)).toEqual({
      status: 2,
      out: '',
      err: `cdk8s-deepspeed: ${file} line 9, column 1: not valid YAML: All mapping items must start at the same column`,
    });
  });
});

describe('a forwarded variable that only the cluster can fill in (a Secret-backed HF_TOKEN)', () => {
  async function run(args: string[], cwd: string, env: { [name: string]: string } = {}) {
    const out: string[] = [];
    const status = await main(args, cwd, { out: t => out.push(t), err: () => undefined }, env);
    return { status, out: out.join('\n') };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-secret-'));
  const chart = buildCifar10(Testing.app());
  const job = chart.node.findAll().find((c): c is DeepSpeedMpiJob => c instanceof DeepSpeedMpiJob)!;
  job.addEnv('HF_TOKEN', EnvValue.fromSecretKey('hf-token', 'token'));
  const file = path.join(dir, 'cifar10.k8s.yaml');
  fs.writeFileSync(file, Yaml.stringify(...renderUnvalidated(chart)));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('fails the rehearsal: it would not reach the ranks here', async () => {
    const { status, out } = await run(['rehearse', file], dir);
    expect(out).toContain('    HF_TOKEN  (manifest: the key token of Secret hf-token; left out, only the cluster can read it)');
    expect(out).toContain('    FAIL  forwarded env: HF_TOKEN is the key token of Secret hf-token, which only the cluster can read, so it did not reach ranks 0-1: '
      + 'set HF_TOKEN in the rehearsal\'s environment to stand in for it, or expect it missing (--expect-missing HF_TOKEN)');
    expect(status).toBe(1);
  });

  test('passes with --expect-missing, and says so', async () => {
    const { status, out } = await run(['rehearse', '--expect-missing', 'HF_TOKEN', file], dir);
    expect(out).toContain('    PASS  forwarded env: PATH, LD_LIBRARY_PATH, NCCL_DEBUG reached all 2 ranks with the launcher\'s values; '
      + 'HF_TOKEN (the key token of Secret hf-token) did not, as expected');
    expect(status).toBe(0);
  });

  test('passes with a stand-in value from the rehearsal\'s environment, labelled as one', async () => {
    const { status, out } = await run(['rehearse', file], dir, { HF_TOKEN: 'hf_standin' });
    expect(out).toContain('    HF_TOKEN=hf_standin  (manifest: the key token of Secret hf-token; the rehearsal environment\'s HF_TOKEN stands in)');
    expect(out).toContain('    PASS  forwarded env: PATH, LD_LIBRARY_PATH, NCCL_DEBUG, HF_TOKEN reached all 2 ranks with the launcher\'s values');
    expect(status).toBe(0);
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
