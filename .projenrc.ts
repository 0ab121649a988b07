import { javascript, typescript } from 'projen';

const project = new typescript.TypeScriptProject({
  name: 'cdk8s-deepspeed',
  description: 'Typed cdk8s constructs that synthesize correct Kubeflow MPI Operator MPIJobs for DeepSpeed distributed training.',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  typescriptVersion: '~6.0.3',
  minNodeVersion: '20.0.0',
  license: 'Apache-2.0',
  keywords: ['cdk8s', 'kubernetes', 'deepspeed', 'mpi', 'mpi-operator', 'mpijob', 'kubeflow', 'distributed-training', 'gpu'],
  repository: 'https://github.com/cdk8s-deepspeed/cdk8s-deepspeed.git',
  homepage: 'https://github.com/cdk8s-deepspeed/cdk8s-deepspeed#readme',
  authorName: 'The cdk8s-deepspeed authors',
  copyrightOwner: 'The cdk8s-deepspeed authors',

  // No GitHub here: CI is .ci/run.
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  eslint: false,

  // cdk8s construct-library convention: the app owns one copy of each.
  peerDeps: ['cdk8s@^2.68.12', 'constructs@^10.3.0'],
  // Used inside only: no cdk8s-plus type is in the public API, so the user's app may use any flavour
  // (a peer would make npm install a second, silent copy next to the app's own; README, Compatibility).
  deps: ['cdk8s-plus-27@^2.9.5'],
  peerDependencyOptions: { pinnedDevDependency: false },
  devDeps: [
    'cdk8s@2.70.106', 'constructs@10.8.1', 'cdk8s-cli@2.207.60', 'yaml@^2.6.0',
    'ajv@^8.17.1', 'ajv-formats@^3.0.1', 'dockerfile-ast@^0.7.1', 'dockerfile-utils@^0.16.3',
    // 4.3.x and 4.4.x carry the Kubernetes 1.27.1 schemas (4.5 jumps to 1.33): the minor cdk8s-plus-27 targets.
    'kubernetes-models@4.4.2',
    'fast-check@^4.3.0', 'typedoc@^0.28.0',
  ],

  // `npx cdk8s-deepspeed rehearse <manifest>` runs a synthesized job's launch locally (docs/rehearsal.md).
  bin: { 'cdk8s-deepspeed': 'lib/src/cli.js' },

  entrypoint: 'lib/src/index.js',
  entrypointTypes: 'lib/src/index.d.ts',
  tsconfig: {
    compilerOptions: {
      rootDir: '.',
      lib: ['es2022'],
      target: 'ES2022',
      // The generated imports/ file has unused locals; keep strict everywhere else.
      noUnusedLocals: true,
      skipLibCheck: true,
      // Keep the published package small; the inline sources of the generated imports alone are megabytes.
      inlineSourceMap: false,
      inlineSources: false,
    },
    include: ['src/**/*.ts', 'imports/**/*.ts', 'examples/**/*.ts', 'scripts/**/*.ts'],
  },
  tsconfigDev: {
    compilerOptions: {},
    include: ['src/**/*.ts', 'imports/**/*.ts', 'examples/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', '.projenrc.ts', 'projenrc/**/*.ts'],
  },
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // Coverage of the generated imports/ file is noise.
      coveragePathIgnorePatterns: ['/node_modules/', '/imports/'],
    },
  },
  gitignore: ['/docs/api/', '/dist/', '/coverage/', '/test-reports/', '*.tgz'],
});

project.package.addVersion('0.1.0');
// The tarball holds the compiled library (src and the generated imports), its declarations,
// README and LICENSE; nothing else (no tests, examples, scripts or synth output).
project.package.addField('files', [
  'lib/src/**/*.js',
  'lib/src/**/*.d.ts',
  'lib/imports/**/*.js',
  'lib/imports/**/*.d.ts',
  'CHANGELOG.md',
]);
project.package.addField('exports', {
  '.': { types: './lib/src/index.d.ts', default: './lib/src/index.js' },
  './package.json': './package.json',
});

const cdk8sEnv = { CDK8S_CHECK_UPGRADE: 'false' };

project.addTask('import', {
  description: 'Regenerate imports/ from local copies of the MPI Operator v0.8.0 MPIJob CRD and the Kubeflow Trainer v2.3.0 TrainJob and TrainingRuntime CRDs (MPIJOB_CRD and TRAINER_CRD_DIR override the paths)',
  exec: 'scripts/import-crd.sh',
});

project.addTask('docs', {
  description: 'Generate the API reference from the TSDoc comments into docs/api/ (typedoc.json)',
  exec: 'typedoc',
});

const synth = project.addTask('synth', {
  description: 'Compile and synthesize the example app into dist/manifests',
  env: cdk8sEnv,
});
synth.spawn(project.compileTask);
synth.exec('cdk8s synth');

const synthExamples = project.addTask('synth:examples', {
  description: 'Compile and synthesize every example (examples/<name>/main.ts) into dist/examples/<name>',
  env: cdk8sEnv,
});
synthExamples.spawn(project.compileTask);
synthExamples.exec('scripts/synth-examples.sh');

const rehearse = project.addTask('rehearse', {
  description: 'Synthesize, then run every MPIJob launch in dist/manifests with the real mpirun and a probe (pass manifest files to pick some)',
  env: cdk8sEnv,
});
rehearse.spawn(synth);
rehearse.exec('node lib/src/cli.js rehearse', { receiveArgs: true });

// CI rehearses every MPIJob and TrainJob of every example chart over real OpenSSH (docs/rehearsal.md): one sshd per
// worker pod, the operator's key files, the hostfile names and the wait step. Needs root on Linux.
const rehearseExamples = project.addTask('rehearse:examples', {
  description: 'Synthesize every example, then rehearse each MPIJob and TrainJob over real OpenSSH (root on Linux; scripts/install-test-deps.sh)',
  env: cdk8sEnv,
});
rehearseExamples.spawn(synthExamples);
rehearseExamples.exec('node lib/src/cli.js rehearse --ssh openssh --timeout 120 dist/examples/*/*.k8s.yaml');

// The benchmark runs compiled (lib/scripts) so that its child processes measure the library, not ts-node.
const bench = project.addTask('bench', {
  description: 'Compile, then print synthesis speed, memory and package footprint figures (see docs/benchmarks.md)',
  env: cdk8sEnv,
});
bench.spawn(project.compileTask);
bench.exec('node lib/scripts/bench.js');

project.synth();
