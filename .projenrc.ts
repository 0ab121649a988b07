import { cdk8s, javascript } from 'projen';

// A jsii construct library (issue 14): one TypeScript source, packages for Python, Java, .NET and Go.
const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-deepspeed',
  description: 'Typed cdk8s constructs that synthesize correct Kubeflow MPI Operator MPIJobs for DeepSpeed distributed training.',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  typescriptVersion: '~6.0.3',
  minNodeVersion: '20.0.0',
  license: 'Apache-2.0',
  keywords: ['cdk8s', 'kubernetes', 'deepspeed', 'mpi', 'mpi-operator', 'mpijob', 'kubeflow', 'distributed-training', 'gpu'],
  repositoryUrl: 'https://github.com/cdk8s-deepspeed/cdk8s-deepspeed.git',
  homepage: 'https://github.com/cdk8s-deepspeed/cdk8s-deepspeed#readme',
  author: 'The cdk8s-deepspeed authors',
  authorAddress: 'https://github.com/cdk8s-deepspeed/cdk8s-deepspeed',
  authorOrganization: true,
  copyrightOwner: 'The cdk8s-deepspeed authors',

  // jsii 6.0 pairs with TypeScript 6.0 (jsii bundles its own compiler).
  jsiiVersion: '~6.0.0',
  // Peers: jsii wants the devDependency at the peer range's minimum, so the minimum is the version the suite runs.
  cdk8sVersion: '2.70.106',
  constructsVersion: '10.8.1',
  integrationTestAutoDiscover: false,
  // Named after cdk8s-plus's targets (org.cdk8s.plus27 / cdk8s_plus_27 / Org.Cdk8s.Plus27 / cdk8s-plus-go),
  // under the project's own namespace on each registry.
  publishToPypi: { distName: 'cdk8s-deepspeed', module: 'cdk8s_deepspeed' },
  publishToMaven: {
    javaPackage: 'io.github.cdk8sdeepspeed',
    mavenGroupId: 'io.github.cdk8s-deepspeed',
    mavenArtifactId: 'cdk8s-deepspeed',
  },
  publishToNuget: { dotNetNamespace: 'Cdk8sDeepSpeed', packageId: 'Cdk8sDeepSpeed' },
  publishToGo: { moduleName: 'github.com/cdk8s-deepspeed/cdk8s-deepspeed-go', packageName: 'cdk8sdeepspeed' },

  // No GitHub here: CI is .ci/run.
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  eslint: false,

  // Used inside only: no cdk8s-plus type is in the public API, so the user's app may use any flavour
  // (a peer would make npm install a second, silent copy next to the app's own; README, Compatibility).
  // yaml: the rehearse CLI reports YAML syntax errors with their line (cdk8s's bundled parser hides them).
  deps: ['cdk8s-plus-27@^2.9.5'],
  // Not a jsii module, so jsii needs it bundled into the package.
  bundledDeps: ['yaml@^2.6.0'],
  devDeps: [
    'cdk8s-cli@2.207.60',
    'ajv@^8.17.1', 'ajv-formats@^3.0.1', 'dockerfile-ast@^0.7.1', 'dockerfile-utils@^0.16.3',
    // 4.3.x and 4.4.x carry the Kubernetes 1.27.1 schemas (4.5 jumps to 1.33): the minor cdk8s-plus-27 targets.
    'kubernetes-models@4.4.2',
    'fast-check@^4.3.0',
    // The test suite transpiles with swc (no type-checking per file); the test task type-checks once with tsc.
    '@swc/core@^1.16.0', '@swc/jest@^0.2.39', 'jest-environment-node@^30.5.2',
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
      // jsii's strict tsconfig rules: internal members stay in the declarations (they are `_`-prefixed),
      // and nothing is emitted from code that does not compile.
      module: 'commonjs',
      stripInternal: false,
      noEmitOnError: true,
    },
    include: ['src/**/*.ts', 'imports/**/*.ts', 'examples/**/*.ts', 'scripts/**/*.ts'],
  },
  tsconfigDev: {
    // jsii projects default these for the dev config; ts-jest type-checks each file with the whole program.
    compilerOptions: { isolatedModules: false, stripInternal: false, noEmitOnError: false },
    include: ['src/**/*.ts', 'imports/**/*.ts', 'examples/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', '.projenrc.ts', 'projenrc/**/*.ts'],
  },
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // Coverage instrumentation was about 40 % of the suite's CPU time: `npx projen test --coverage` when wanted.
      collectCoverage: false,
      // Coverage of the generated imports/ file is noise.
      coveragePathIgnorePatterns: ['/node_modules/', '/imports/'],
      // Tests that install from the registry into fresh apps run in the test:apps task, not here.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/apps/'],
      // Warnings that tests provoke are asserted, not printed (test/support/warnings.ts).
      setupFilesAfterEnv: ['<rootDir>/test/support/setup.ts'],
      // Two cores: two workers, so one test file's spawned mpirun, tsc or cdk8s CLI overlaps another's work
      // (jest's default of cores - 1 runs the whole suite in one process).
      maxWorkers: 2,
      // Node's environment plus a per-worker cache for the compiled CRD schema (test/support/environment.ts).
      testEnvironment: '<rootDir>/test/support/environment.ts',
    },
  },
  gitignore: ['/dist/', '/coverage/', '/test-reports/', '*.tgz'],
});

// ts-jest type-checks every test file's import graph again (8 of the suite's 10 minutes on 2 cores);
// swc only strips types, and the test task type-checks the sources and tests once with tsc instead.
project.jest!.config.transform = {
  '^.+\\.[t]sx?$': new javascript.Transform('@swc/jest', {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: true,
  }),
};
project.testTask.prependExec('tsc --noEmit -p test/tsconfig.json', { name: 'Type-check the sources and tests once' });

project.package.addVersion('0.1.0');
// Every jsii warning fails the build, reserved words included (projen silences those by default): a name that
// is reserved in Python, Java, C# or Go gets renamed in that language, which its users would trip over.
project.compileTask.reset('jsii --fail-on-warnings');
project.watchTask.reset('jsii -w --fail-on-warnings');
// The tarball holds the compiled library (src and the generated imports), its declarations,
// README and LICENSE; nothing else (no tests, examples, scripts or synth output).
project.package.addField('files', [
  'lib/src/**/*.js',
  'lib/src/**/*.d.ts',
  'lib/imports/**/*.js',
  'lib/imports/**/*.d.ts',
  '.jsii',
  'API.md',
  'CHANGELOG.md',
]);
// The entry point lives under lib/src (rootDir is the repository, so imports/ compiles next to src/).
project.package.addField('types', 'lib/src/index.d.ts');
project.package.addField('exports', {
  '.': { types: './lib/src/index.d.ts', default: './lib/src/index.js' },
  './package.json': './package.json',
});

const cdk8sEnv = { CDK8S_CHECK_UPGRADE: 'false' };

project.addTask('import', {
  description: 'Regenerate imports/ from local copies of the MPI Operator v0.8.0 MPIJob CRD and the Kubeflow Trainer v2.3.0 TrainJob and TrainingRuntime CRDs (MPIJOB_CRD and TRAINER_CRD_DIR override the paths)',
  exec: 'scripts/import-crd.sh',
});

// API.md (Construct Hub's format, from the .jsii assembly) replaces the typedoc HTML reference: one reference
// for every language, generated by the docgen task that projen runs after each compile, kept current by a test.
const docs = project.addTask('docs', { description: 'Compile, then regenerate API.md from the .jsii assembly (jsii-docgen)' });
docs.spawn(project.compileTask);
docs.spawn(project.tasks.tryFind('docgen')!);

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

// The Python package's sources, without building the wheel (that needs the Python build tools from PyPI):
// what this machine can make, byte-compiled with the system Python. docs/python.md has the full build.
const pythonCode = project.addTask('package:python-code', {
  description: 'Generate the Python package sources with jsii-pacmak into dist/python-code and byte-compile them (no wheel)',
});
pythonCode.spawn(project.compileTask);
pythonCode.exec('jsii-pacmak --code-only --target python --outdir dist/python-code');
pythonCode.exec('python3 -m compileall -q dist/python-code/python/src');

// Fresh apps on cdk8s-plus-27, -30 and -33 (TypeScript 5.9 and the registry's default) install the packed
// tarball from the registry: minutes and network, so a task of its own that .ci/run runs after the suite.
const testApps = project.addTask('test:apps', {
  description: 'Compile with jsii, pack, and install the tarball into fresh apps on every cdk8s-plus flavour (test/apps; needs the registry)',
  env: cdk8sEnv,
});
testApps.spawn(project.compileTask);
// The suite's config ignores test/apps/; this task runs only it.
testApps.exec("jest --ci --coverage=false --testPathIgnorePatterns /node_modules/ --testMatch '<rootDir>/test/apps/*.apps.ts'", { receiveArgs: true });

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
