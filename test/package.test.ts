// Packs the library, installs the tarball into a fresh cdk8s app, compiles a program written
// only against the public API and synthesizes it with the cdk8s CLI: what an npm user does.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(__dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });

const USER_PROGRAM = `
import { App, Chart, Size } from 'cdk8s';
import { Cpu, EnvValue } from 'cdk8s-plus-27';
import { DeepSpeedMpiJob, DeepSpeedTrainingImage, OptimizerType, ZeroStage } from 'cdk8s-deepspeed';

const app = new App();
const chart = new Chart(app, 'consumer');
new DeepSpeedMpiJob(chart, 'train', {
  image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0'),
  workers: { replicas: 3, gpusPerWorker: 2, cpu: Cpu.units(4), memory: Size.gibibytes(16) },
  script: '/workspace/train.py',
  env: { NCCL_DEBUG: EnvValue.fromValue('WARN') },
  deepspeedConfig: {
    trainMicroBatchSizePerGpu: 4,
    gradientAccumulationSteps: 2,
    optimizer: { type: OptimizerType.ADAM, lr: 0.0001 },
    zeroOptimization: { stage: ZeroStage.STAGE_1 },
  },
});
app.synth();
`;

describe('npm package', () => {
  let work: string;
  let tarball: string;

  beforeAll(() => {
    run(bin('tsc'), ['--build'], root);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-deepspeed-consumer-'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root));
    tarball = path.join(work, packed[0].filename);
  }, 120_000);

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('the tarball holds the library, its declarations, README and LICENSE only', () => {
    const listing = run('tar', ['-tzf', tarball], work).split('\n').filter(Boolean).map(f => f.replace(/^package\//, ''));
    expect(listing).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'LICENSE', 'lib/src/index.js', 'lib/src/index.d.ts',
      'lib/imports/kubeflow.org.js', 'lib/imports/kubeflow.org.d.ts',
    ]));
    const unexpected = listing.filter(f => !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|lib\/(src|imports)\/.+\.(js|d\.ts))$/.test(f));
    expect(unexpected).toEqual([]);
  });

  test('installs into a fresh cdk8s app, compiles against the public API and synthesizes with the cdk8s CLI', () => {
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    const peers = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf-8')).peerDependencies;
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
      name: 'consumer', version: '1.0.0', private: true,
      dependencies: { 'cdk8s-deepspeed': `file:${tarball}`, ...peers },
    }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
    fs.writeFileSync(path.join(app, 'main.ts'), USER_PROGRAM);
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'CommonJS', strict: true, esModuleInterop: true, skipLibCheck: false, types: [] },
      files: ['main.ts'],
    }));
    run(bin('tsc'), ['-p', 'tsconfig.json'], app);
    fs.writeFileSync(path.join(app, 'cdk8s.yaml'), 'language: typescript\napp: node main.js\noutput: dist\n');
    run(bin('cdk8s'), ['synth'], app);

    const docs = parseAllDocuments(fs.readFileSync(path.join(app, 'dist', 'consumer.k8s.yaml'), 'utf-8')).map(d => d.toJS());
    const mpiJob = docs.find(d => d.kind === 'MPIJob');
    expect(mpiJob.apiVersion).toBe('kubeflow.org/v2beta1');
    expect(mpiJob.spec.slotsPerWorker).toBe(2);
    const launcher = mpiJob.spec.mpiReplicaSpecs.Launcher.template.spec.containers[0];
    expect(launcher.command.slice(0, 3)).toEqual(['mpirun', '-np', '6']);
    expect(mpiJob.spec.mpiReplicaSpecs.Worker.template.spec.containers[0].resources.limits).toEqual({ 'cpu': '4', 'memory': '16Gi', 'nvidia.com/gpu': 2 });
    const configMap = docs.find(d => d.kind === 'ConfigMap');
    expect(JSON.parse(configMap.data['ds_config.json'])).toEqual({
      train_micro_batch_size_per_gpu: 4,
      gradient_accumulation_steps: 2,
      optimizer: { type: 'Adam', params: { lr: 0.0001 } },
      zero_optimization: { stage: 1 },
    });
  }, 300_000);
});
