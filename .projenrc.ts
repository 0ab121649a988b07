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
  copyrightOwner: 'The cdk8s-deepspeed authors',

  // No GitHub here: CI is .ci/run.
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  eslint: false,

  // cdk8s construct-library convention: the app owns one copy of each.
  peerDeps: ['cdk8s@^2.68.12', 'cdk8s-plus-27@^2.9.5', 'constructs@^10.3.0'],
  peerDependencyOptions: { pinnedDevDependency: false },
  devDeps: [
    'cdk8s@2.70.106', 'cdk8s-plus-27@2.9.5', 'constructs@10.8.1', 'cdk8s-cli@2.207.60', 'yaml@^2.6.0',
    'ajv@^8.17.1', 'ajv-formats@^3.0.1', 'kubernetes-models@^4.5.1', 'dockerfile-ast@^0.7.1', 'dockerfile-utils@^0.16.3',
    'fast-check@^4.3.0', 'typedoc@^0.28.0',
  ],

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
  gitignore: ['/dist/', '/coverage/', '/test-reports/', '*.tgz'],
});

const cdk8sEnv = { CDK8S_CHECK_UPGRADE: 'false' };

project.addTask('import', {
  description: 'Regenerate imports/ from a local copy of the MPI Operator v0.8.0 MPIJob CRD (MPIJOB_CRD overrides the path)',
  exec: 'scripts/import-crd.sh',
});

const synth = project.addTask('synth', {
  description: 'Compile and synthesize the example app into dist/manifests',
  env: cdk8sEnv,
});
synth.spawn(project.compileTask);
synth.exec('cdk8s synth');

// The benchmark runs compiled (lib/scripts) so that its child processes measure the library, not ts-node.
const bench = project.addTask('bench', {
  description: 'Compile, then print synthesis speed, memory and package footprint figures (see docs/benchmarks.md)',
  env: cdk8sEnv,
});
bench.spawn(project.compileTask);
bench.exec('node lib/scripts/bench.js');

// The package is lib/ (JavaScript and typings): leave out the sources, examples and tooling.
project.npmignore?.exclude('/imports/', '/examples/', '/scripts/', '/lib/examples/', '/lib/scripts/', '/.ci/', '/cdk8s.yaml');

project.synth();
