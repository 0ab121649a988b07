// Builds the library the way it ships (jsii, no warnings), packs it, and checks what each language gets:
// the .jsii assembly and API.md in the tarball, the generated Python package byte-compiled with the system
// Python (and the README's and the CIFAR-10 example's Python checked against it), and a fresh cdk8s app
// that installs the tarball, compiles a program written only against the public API and synthesizes it with
// the cdk8s CLI: what an npm user does. Apps on each cdk8s-plus flavour: test/apps (npx projen test:apps).
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(__dirname, '..', '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });

const USER_PROGRAM = `
import { App, Chart, Size } from 'cdk8s';
import { BaseImage, Cpu, DeepSpeedMpiJob, DeepSpeedTrainingImage, EnvValue, OptimizerType, ZeroStage } from 'cdk8s-deepspeed';

const app = new App();
const chart = new Chart(app, 'consumer');
new DeepSpeedMpiJob(chart, 'train', {
  image: new DeepSpeedTrainingImage(chart, 'image', {
    imageRef: 'registry.example.com/train:1.0',
    baseImage: BaseImage.pytorch({ torchVersion: '2.4.1', cudaVersion: '12.4', cudnnVersion: '9' }),
    deepspeedVersion: '0.16.3',
  }),
  workers: { replicas: 3, gpusPerWorker: 2, cpu: Cpu.units(4), memory: Size.gibibytes(16) },
  script: '/workspace/train.py',
  env: { NCCL_DEBUG: EnvValue.fromValue('WARN') },
  deepspeedConfig: {
    trainMicroBatchSizePerGpu: 4,
    gradientAccumulationSteps: 2,
    optimizer: { kind: OptimizerType.ADAM, lr: 0.0001 },
    zeroOptimization: { stage: ZeroStage.STAGE_1 },
  },
});
app.synth();
`;

/** Runs a command and returns stdout and stderr together (jsii reports its diagnostics on either). */
const runAll = (cmd: string, args: string[], cwd: string) => {
  const result = spawnSync(cmd, args, { cwd, encoding: 'utf-8', env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' } });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
};

/** Every `fqn` a JSON document refers to. */
function fqns(value: any, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach(v => fqns(v, out));
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'fqn' && typeof v === 'string') out.push(v); else fqns(v, out);
    }
  }
  return out;
}

describe('npm package', () => {
  let work: string;
  let tarball: string;
  let jsiiOutput: string;

  beforeAll(() => {
    // The compile task's command: jsii with every warning an error.
    jsiiOutput = runAll(bin('jsii'), ['--fail-on-warnings'], root);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-deepspeed-consumer-'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root));
    tarball = path.join(work, packed[0].filename);
  }, 240_000);

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('the tarball holds the library, its declarations, the .jsii assembly, API.md, README, LICENSE and the bundled yaml only', () => {
    const listing = run('tar', ['-tzf', tarball], work).split('\n').filter(Boolean).map(f => f.replace(/^package\//, ''));
    expect(listing).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'LICENSE', '.jsii', 'API.md', 'lib/src/index.js', 'lib/src/index.d.ts',
      'lib/imports/kubeflow.org.js', 'lib/imports/kubeflow.org.d.ts',
    ]));
    // yaml is bundled (jsii takes no runtime dependency that is not a jsii module unless it is bundled).
    expect(listing).toContain('node_modules/yaml/package.json');
    const unexpected = listing.filter(f => !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|API\.md|\.jsii|lib\/(src|imports)\/.+\.(js|d\.ts)|node_modules\/yaml\/.+)$/.test(f));
    expect(unexpected).toEqual([]);
  });

  test('jsii compiles without a warning, into an assembly with the four targets, free of cdk8s-plus types, every member documented', () => {
    expect(jsiiOutput).not.toMatch(/warning JSII|error JSII/);
    const assembly = JSON.parse(fs.readFileSync(path.join(root, '.jsii'), 'utf-8'));
    expect(assembly.name).toBe('cdk8s-deepspeed');
    expect(assembly.targets).toEqual({
      js: { npm: 'cdk8s-deepspeed' },
      python: { distName: 'cdk8s-deepspeed', module: 'cdk8s_deepspeed' },
      java: { package: 'io.github.cdk8sdeepspeed', maven: { groupId: 'io.github.cdk8s-deepspeed', artifactId: 'cdk8s-deepspeed' } },
      dotnet: { namespace: 'Cdk8sDeepSpeed', packageId: 'Cdk8sDeepSpeed' },
      go: { moduleName: 'github.com/cdk8s-deepspeed/cdk8s-deepspeed-go', packageName: 'cdk8sdeepspeed' },
    });
    expect(fqns(assembly.types).filter(fqn => fqn.startsWith('cdk8s-plus-'))).toEqual([]);
    const undocumented: string[] = [];
    for (const [fqn, type] of Object.entries<any>(assembly.types)) {
      if (!type.docs?.summary) undocumented.push(fqn);
      for (const member of [...type.properties ?? [], ...type.methods ?? [], ...type.members ?? []]) {
        if (!member.docs?.summary) undocumented.push(`${fqn}.${member.name}`);
      }
    }
    expect(undocumented).toEqual([]);
    // The free functions and constants of the TypeScript API live on classes now.
    expect(assembly.types['cdk8s-deepspeed.DeepSpeedConfigFile'].methods.map((m: any) => m.name).sort()).toEqual(['deepMerge', 'render', 'toText']);
    expect(assembly.types['cdk8s-deepspeed.Validation'].methods.map((m: any) => m.name).sort()).toEqual(['validateImage', 'validateJob', 'validateTrainJob']);
  });

  test('API.md is what jsii-docgen makes of the assembly (regenerate: npx projen docgen)', () => {
    const generated = path.join(work, 'API.md');
    run(bin('jsii-docgen'), ['-o', generated], root);
    expect(fs.readFileSync(generated, 'utf-8') === fs.readFileSync(path.join(root, 'API.md'), 'utf-8')).toBe(true);
  }, 120_000);

  test('jsii-pacmak generates the Python package; it byte-compiles, and the README and CIFAR-10 Python use only its names', () => {
    const out = path.join(work, 'pacmak');
    runAll(bin('jsii-pacmak'), ['--code-only', '--target', 'python', '--outdir', out], root);
    const pkg = path.join(out, 'python', 'src', 'cdk8s_deepspeed');
    runAll('python3', ['-m', 'compileall', '-q', pkg], root);
    const init = path.join(pkg, '__init__.py');
    expect(fs.readFileSync(init, 'utf-8')).toMatch(/^class DeepSpeedMpiJob\(/m);
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf-8');
    const quickStart = /^```python\n([\s\S]*?)^```$/m.exec(readme)![1];
    fs.writeFileSync(path.join(work, 'readme.py'), quickStart);
    for (const program of [path.join(work, 'readme.py'), path.join(root, 'examples', 'cifar10', 'main.py')]) {
      const problems = runAll('python3', [path.join(root, 'test', 'support', 'python_api_check.py'), program, init], root).trim();
      expect(`${path.basename(program)}: ${problems}`).toBe(`${path.basename(program)}: `);
    }
  }, 180_000);

  test('installs into a fresh cdk8s app, compiles against the public API, and the cdk8s CLI writes manifests and the Dockerfile', () => {
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
    // The launcher waits for its workers with the image's Python, then execs mpirun.
    expect(launcher.command[1]).toBe('-c');
    expect(launcher.command.slice(launcher.command.indexOf('--') + 1).slice(0, 3)).toEqual(['mpirun', '-np', '6']);
    expect(mpiJob.spec.mpiReplicaSpecs.Worker.template.spec.containers[0].resources.limits).toEqual({ 'cpu': '4', 'memory': '16Gi', 'nvidia.com/gpu': 2 });
    const dockerfile = fs.readFileSync(path.join(app, 'dist', 'images', 'consumer-image', 'Dockerfile'), 'utf-8');
    expect(dockerfile.split('\n')[0]).toBe('# Generated by cdk8s-deepspeed from consumer/image (image registry.example.com/train:1.0).');
    expect(launcher.image).toBe('registry.example.com/train:1.0');
    const configMap = docs.find(d => d.kind === 'ConfigMap');
    expect(JSON.parse(configMap.data['ds_config.json'])).toEqual({
      train_micro_batch_size_per_gpu: 4,
      gradient_accumulation_steps: 2,
      optimizer: { type: 'Adam', params: { lr: 0.0001 } },
      zero_optimization: { stage: 1 },
    });
  }, 300_000);
});
