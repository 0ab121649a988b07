// Runs scripts/synth-examples.sh, the synth:examples task's step, on a fresh compile: the cdk8s CLI
// must write every example's manifests and Dockerfiles, and each README's dist/examples paths must exist.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES_DIR, exampleNames, referencedOutputPaths, synthExample } from './support/examples';

const root = path.resolve(__dirname, '..');

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
    // A compile of its own, so it never races the other tests for lib/.
    const lib = path.join(work, 'lib');
    execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json', '--outDir', lib, '--declaration', 'false'], { cwd: root, stdio: 'pipe' });
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
