// The library the way users get it (issue 13): one packed tarball, installed from the registry into fresh
// apps on cdk8s-plus-27, -30 and -33, with TypeScript 5.9 and with the registry's default TypeScript. Each
// app uses its own flavour's Secret, ConfigMap and claim next to the library's values (a Secret-backed
// HF_TOKEN, GPU tolerations, volumes), compiles with `strict`, synthesizes, and holds one copy of cdk8s
// and of constructs. One more app is the README's quick start, set up by running its blocks as written, with
// its shown error output compared with a real `cdk8s synth` of its mistake. Needs the registry, so it runs as
// `npx projen test:apps` (and in .ci/run), not in the fast suite.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(__dirname, '..', '..');

interface AppSpec {
  readonly flavour: number;
  /** The TypeScript the app installs: a range, or `latest` for the registry's default. */
  readonly typescript: string;
}

const APPS: AppSpec[] = [
  { flavour: 27, typescript: '~5.9.0' },
  { flavour: 30, typescript: '~5.9.0' },
  { flavour: 33, typescript: '~5.9.0' },
  { flavour: 33, typescript: 'latest' },
];

/** An app written against its own cdk8s-plus flavour and the library's public API only. */
const program = (flavour: number) => `
import { App, Chart, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-${flavour}';
import {
  Cpu, DeepSpeedMpiJob, DeepSpeedTrainingImage, EnvValue, OptimizerType, TaintEffect, Toleration, Volume, ZeroStage,
} from 'cdk8s-deepspeed';

const app = new App();
const chart = new Chart(app, 'app');
// Objects of the app's own flavour; the library takes their names.
const token = new kplus.Secret(chart, 'HfToken', { metadata: { name: 'hf-token' }, stringData: { token: 'set-by-the-cluster' } });
const settings = new kplus.ConfigMap(chart, 'Settings', { metadata: { name: 'train-settings' }, data: { 'epochs.txt': '3' } });
const datasets = new kplus.PersistentVolumeClaim(chart, 'Datasets', { metadata: { name: 'datasets' }, storage: Size.gibibytes(100) });

const job = new DeepSpeedMpiJob(chart, 'train', {
  image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0'),
  workers: {
    replicas: 2, gpusPerWorker: 1, cpu: Cpu.units(8), memory: Size.gibibytes(32),
    tolerations: [Toleration.nvidiaGpu(), Toleration.equal('pool', 'a100', { effect: TaintEffect.NO_SCHEDULE })],
  },
  script: '/workspace/train.py',
  env: { HF_TOKEN: EnvValue.fromSecretKey(token.name, 'token'), EPOCHS: EnvValue.fromConfigMapKey(settings.name, 'epochs.txt') },
  deepspeedConfig: { trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.ADAM, lr: 0.0001 }, zeroOptimization: { stage: ZeroStage.STAGE_1 } },
});
job.addVolume('/data', Volume.fromPersistentVolumeClaim(datasets.name, { readOnly: true }), { readOnly: true });
job.addVolume('/etc/train', Volume.fromConfigMap(settings.name, { name: 'settings' }), { readOnly: true });
app.synth();
`;

/** Runs a command asynchronously (the apps install in parallel) and resolves with its output. */
function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });
    let output = '';
    child.stdout.on('data', d => output += d);
    child.stderr.on('data', d => output += d);
    child.on('close', code => code === 0 ? resolve(output) : reject(new Error(`${cmd} ${args.join(' ')} in ${cwd} failed (${code}):\n${output}`)));
  });
}

/** Every installed copy of a package (its directories), however deep npm nested it. */
function copiesOf(appDir: string, name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    const modules = path.join(dir, 'node_modules');
    if (!fs.existsSync(modules)) return;
    for (const entry of fs.readdirSync(modules)) {
      const entries = entry.startsWith('@') ? fs.readdirSync(path.join(modules, entry)).map(e => `${entry}/${e}`) : [entry];
      for (const pkg of entries) {
        const pkgDir = path.join(modules, pkg);
        if (pkg === name) found.push(pkgDir);
        walk(pkgDir);
      }
    }
  };
  walk(appDir);
  return found;
}

/** The quick start of README.md: its shell blocks, its first TypeScript block, and the error output it shows. */
function readmeQuickStart() {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf-8');
  const section = /^## Quick start\n([\s\S]*?)^## /m.exec(readme)![1];
  const fenced = (lang: string) => [...section.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].filter(m => m[1] === lang).map(m => m[2]);
  const [setup, build] = fenced('sh');
  const [program] = fenced('ts');
  const errorOutput = fenced('').find(block => block.includes('Validation failed'))!;
  return { setup, build, program, errorOutput };
}

/** A regular expression for output shown with cuts: `…` alone on a line stands for any lines, within a line for any text. */
function shownOutput(shown: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lines = shown.trimEnd().split('\n').map(line => line.trim() === '…' ? '[\\s\\S]*?' : line.split('…').map(escape).join('.*?'));
  return new RegExp(`^${lines.join('\n')}$`);
}

/** Runs a command and resolves with its exit code and output (stdout, then stderr), whatever the code. */
function runStatus(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => stdout += d);
    child.stderr.on('data', d => stderr += d);
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
}

interface AppResult {
  readonly spec: AppSpec;
  readonly dir: string;
  readonly typescriptVersion: string;
  readonly manifests: any[];
}

describe('fresh apps on every cdk8s-plus flavour', () => {
  let work: string;
  const results: AppResult[] = [];
  let quickStartResult: any;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-deepspeed-apps-'));
    // One pack for every app; the tarball is what `npm publish` would upload.
    const packed = JSON.parse(spawnSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf-8' }).stdout);
    const tarball = path.join(work, packed[0].filename);
    const quickStart = async () => {
      // The README's commands as written, in a fresh directory, with the tarball in place of the registry's package.
      const { setup, build, program } = readmeQuickStart();
      const install = setup.split('\n').filter(line => line.startsWith('npm install '));
      expect(install).toHaveLength(1);
      const script = setup.replace(install[0], install[0].replace(/ cdk8s-deepspeed( |$)/, ` ${tarball}$1`));
      expect(script).not.toBe(setup);
      const dir = (await run('bash', ['-euo', 'pipefail', '-c', `${script}\npwd`], work)).trim().split('\n').pop()!;
      fs.writeFileSync(path.join(dir, 'main.ts'), program);
      const synth = await runStatus('bash', ['-euo', 'pipefail', '-c', build], dir);
      const manifests = synth.code === 0 && fs.existsSync(path.join(dir, 'dist', 'cifar10.k8s.yaml'))
        ? parseAllDocuments(fs.readFileSync(path.join(dir, 'dist', 'cifar10.k8s.yaml'), 'utf-8')).map(d => d.toJS()) : [];
      // The README's mistake, built and synthesized the same way.
      fs.writeFileSync(path.join(dir, 'main.ts'), program.replace('trainMicroBatchSizePerGpu: 8,', 'trainBatchSize: 12, trainMicroBatchSizePerGpu: 8,'));
      const broken = await runStatus('bash', ['-euo', 'pipefail', '-c', build], dir);
      const typescriptVersion = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'typescript', 'package.json'), 'utf-8')).version;
      quickStartResult = { dir, synth, manifests, broken, typescriptVersion };
    };
    await Promise.all([quickStart(), ...APPS.map(async spec => {
      const dir = path.join(work, `plus-${spec.flavour}-ts-${spec.typescript.replace(/[^0-9a-z]/g, '')}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
        name: path.basename(dir), version: '1.0.0', private: true,
        // What `cdk8s init typescript-app` gives, on the flavour under test; versions come from the registry.
        dependencies: { 'cdk8s': 'latest', 'constructs': 'latest', [`cdk8s-plus-${spec.flavour}`]: 'latest', 'cdk8s-deepspeed': `file:${tarball}` },
        devDependencies: { 'typescript': spec.typescript, '@types/node': '^20' },
      }));
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], dir);
      fs.writeFileSync(path.join(dir, 'main.ts'), program(spec.flavour));
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: false, types: ['node'] },
        files: ['main.ts'],
      }));
      await run(path.join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], dir);
      await run('node', ['main.js'], dir);
      const manifests = parseAllDocuments(fs.readFileSync(path.join(dir, 'dist', 'app.k8s.yaml'), 'utf-8')).map(d => d.toJS());
      const typescriptVersion = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', 'typescript', 'package.json'), 'utf-8')).version;
      results.push({ spec, dir, typescriptVersion, manifests });
    })]);
  }, 600_000);

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test.each(APPS.map(spec => [`cdk8s-plus-${spec.flavour}, TypeScript ${spec.typescript}`, spec] as const))('%s: compiles strict and synthesizes the job', (_, spec) => {
    const result = results.find(r => r.spec === spec)!;
    expect(result).toBeDefined();
    if (spec.typescript !== 'latest') expect(result.typescriptVersion).toMatch(/^5\.9\./);
    const kinds = result.manifests.map(m => m.kind).sort();
    expect(kinds).toEqual(['ConfigMap', 'ConfigMap', 'MPIJob', 'NetworkPolicy', 'PersistentVolumeClaim', 'Secret']);
    const mpiJob = result.manifests.find(m => m.kind === 'MPIJob');
    const launcher = mpiJob.spec.mpiReplicaSpecs.Launcher.template.spec;
    const worker = mpiJob.spec.mpiReplicaSpecs.Worker.template.spec;
    expect(launcher.containers[0].env).toEqual(expect.arrayContaining([
      { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } },
      { name: 'EPOCHS', valueFrom: { configMapKeyRef: { name: 'train-settings', key: 'epochs.txt' } } },
    ]));
    expect(launcher.containers[0].command).toEqual(expect.arrayContaining(['-x', 'HF_TOKEN']));
    expect(worker.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'pool', operator: 'Equal', value: 'a100', effect: 'NoSchedule' },
    ]);
    for (const spec_ of [launcher, worker]) {
      expect(spec_.volumes).toEqual(expect.arrayContaining([
        { name: 'pvc-datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } },
        { name: 'settings', configMap: { name: 'train-settings' } },
      ]));
    }
    // The app's own objects carry the names the job refers to.
    expect(result.manifests.find(m => m.kind === 'Secret').metadata.name).toBe('hf-token');
    expect(result.manifests.find(m => m.kind === 'PersistentVolumeClaim').metadata.name).toBe('datasets');
  });

  test.each(APPS.map(spec => [`cdk8s-plus-${spec.flavour}, TypeScript ${spec.typescript}`, spec] as const))('%s: one copy of cdk8s and of constructs', (_, spec) => {
    const result = results.find(r => r.spec === spec)!;
    expect(copiesOf(result.dir, 'cdk8s').map(d => path.relative(result.dir, d))).toEqual([path.join('node_modules', 'cdk8s')]);
    expect(copiesOf(result.dir, 'constructs').map(d => path.relative(result.dir, d))).toEqual([path.join('node_modules', 'constructs')]);
  });

  test('the README quick start, run as written (npm install, cdk8s.yaml, tsconfig.json, main.ts, tsc, cdk8s synth), writes the MPIJob', () => {
    const result = quickStartResult;
    expect(`${result.synth.code}\n${result.synth.stderr}`).toBe('0\n');
    expect(result.synth.stdout).toContain('dist/cifar10.k8s.yaml');
    // npm's default TypeScript, which is why the README compiles with tsc instead of running ts-node.
    expect(result.typescriptVersion).not.toMatch(/^5\./);
    expect(result.manifests.map((m: any) => m.kind).sort()).toEqual(['ConfigMap', 'MPIJob', 'NetworkPolicy']);
    const mpiJob = result.manifests.find((m: any) => m.kind === 'MPIJob');
    expect(mpiJob.apiVersion).toBe('kubeflow.org/v2beta1');
    expect(mpiJob.metadata.name).toBe('cifar10-train');
    expect(mpiJob.spec.mpiReplicaSpecs.Worker.replicas).toBe(2);
  });

  test('the README\'s error output is what cdk8s synth prints for its mistake (cuts marked …)', () => {
    const result = quickStartResult;
    expect(result.broken.code).not.toBe(0);
    expect(fs.existsSync(path.join(result.dir, 'dist', 'cifar10.k8s.yaml'))).toBe(false);
    const real = `${result.broken.stdout}${result.broken.stderr}`.trimEnd();
    const { errorOutput } = readmeQuickStart();
    expect(real).toMatch(shownOutput(errorOutput));
    // The message line is shown whole.
    const message = errorOutput.split('\n').find(line => line.startsWith('  [cifar10/train]'))!;
    expect(real.split('\n')).toContain(message);
  });

  test('the registry\'s default TypeScript is a different major than 5.9 (so both are covered)', () => {
    const latest = results.find(r => r.spec.typescript === 'latest')!;
    expect(latest.typescriptVersion).not.toMatch(/^5\.9\./);
  });
});
