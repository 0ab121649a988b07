// Runs scripts/synth-examples.sh, the synth:examples task's step, on a fresh compile: the cdk8s CLI
// must write every example's manifests and Dockerfiles, and each README's dist/examples paths must exist.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { transformFileSync } from '@swc/core';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES_DIR, exampleNames, referencedOutputPaths, synthExample } from './support/examples';

const root = path.resolve(__dirname, '..');

/** Transpiles every .ts file under the repository's `dirs` to CommonJS in `outDir`, keeping the layout of lib/. */
function transpileTree(dirs: string[], outDir: string): void {
  for (const dir of dirs) {
    for (const file of filesUnder(path.join(root, dir)).filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
      const source = path.join(root, dir, file);
      const { code } = transformFileSync(source, {
        swcrc: false,
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      });
      const target = path.join(outDir, dir, file.replace(/\.ts$/, '.js'));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, code);
    }
  }
}

/** Every file under a directory, relative to it. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile())
    .map(entry => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('scripts/synth-examples.sh', () => {
  let work: string;
  let out: string;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-deepspeed-examples-'));
    out = path.join(work, 'examples');
    // A compile of its own, so it never races the other tests for lib/. swc strips the types
    // (the test task's tsc step type-checks the same files), in a fraction of tsc's time.
    const lib = path.join(work, 'lib');
    transpileTree(['src', 'imports', 'examples'], lib);
    execFileSync(path.join(root, 'scripts', 'synth-examples.sh'), [out, path.join(lib, 'examples')], {
      cwd: root,
      stdio: 'pipe',
      // The compiled examples live outside the repository; they resolve cdk8s from its node_modules.
      env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') },
    });
  }, 180_000);

  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('finds every example directory by its main.ts', () => {
    expect(fs.readdirSync(out).sort()).toEqual(exampleNames());
    expect(exampleNames()).toEqual(expect.arrayContaining(['bert-zero3', 'cifar10', 'kueue-gang', 'rdma']));
  });

  test.each(exampleNames())('examples/%s: the cdk8s CLI writes one file per chart, equal to the in-memory synthesis, and the recipes\' Dockerfiles', name => {
    const example = synthExample(name);
    const files = filesUnder(path.join(out, name));
    expect(files).toEqual([
      ...Object.keys(example.charts).map(chart => `${chart}.k8s.yaml`),
      ...example.images.flatMap(image => [image.dockerfilePath, ...(image.dockerignore() === undefined ? [] : [`${image.dockerfilePath}.dockerignore`])]),
    ].sort());
    for (const [chart, manifests] of Object.entries(example.charts)) {
      const written = parseAllDocuments(fs.readFileSync(path.join(out, name, `${chart}.k8s.yaml`), 'utf8')).map(doc => doc.toJS());
      expect(written).toEqual(manifests);
    }
    for (const image of example.images) {
      expect(fs.readFileSync(path.join(out, name, image.dockerfilePath), 'utf8')).toBe(image.dockerfile);
    }
  });

  test.each(exampleNames())('examples/%s/README.md names only paths the task writes', name => {
    const readme = fs.readFileSync(path.join(EXAMPLES_DIR, name, 'README.md'), 'utf8');
    const paths = referencedOutputPaths(readme);
    expect(paths.length).toBeGreaterThan(0);
    const missing = paths.filter(p => !fs.existsSync(path.join(out, path.relative('dist/examples', p))));
    expect(missing).toEqual([]);
  });
});
