import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { DeepSpeedMpiJob, DeepSpeedTrainingImage, SourceCode } from '../src';
import { BASE_RECIPE, imageRecipe, synthError } from './support/synth';

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile())
    .map(e => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('writing the Dockerfile during synth', () => {
  test('app.synth() writes images/<name>/Dockerfile next to the manifests', () => {
    const { app, image } = imageRecipe();
    app.synth();
    expect(filesUnder(app.outdir)).toEqual(['images/test-image/Dockerfile', 'test.k8s.yaml']);
    expect(fs.readFileSync(path.join(app.outdir, image.dockerfilePath), 'utf8')).toBe(image.dockerfile);
  });

  test('the name prop picks the directory', () => {
    const { app } = imageRecipe({ name: 'trainer' });
    app.synth();
    expect(filesUnder(app.outdir)).toContain('images/trainer/Dockerfile');
  });

  test('nothing is written when the image fails validation', () => {
    const { app } = imageRecipe({ deepspeedVersion: 'latest' });
    expect(synthError(app)).toContain('deepspeedVersion is \'latest\'');
    expect(filesUnder(app.outdir)).toEqual([]);
  });

  test('nothing is written when another construct fails validation', () => {
    const { app, chart, image } = imageRecipe();
    new DeepSpeedMpiJob(chart, 'train', { image, workers: { replicas: 1, gpusPerWorker: 1 }, launcher: { gpus: 1 }, script: 'train.py' });
    expect(synthError(app)).toContain('launcher.gpus is 1');
    expect(filesUnder(app.outdir)).toEqual([]);
  });

  test('Testing.synth(chart) returns the manifests and writes nothing', () => {
    const { app, chart } = imageRecipe();
    expect(Testing.synth(chart)).toEqual([]);
    expect(filesUnder(app.outdir)).toEqual([]);
  });

  test('a second synth replaces the directory, dropping stale files', () => {
    const { app, image } = imageRecipe();
    const stale = path.join(app.outdir, 'images', image.name, 'stale.txt');
    fs.mkdirSync(path.dirname(stale), { recursive: true });
    fs.writeFileSync(stale, 'old');
    app.synth();
    expect(filesUnder(path.join(app.outdir, 'images'))).toEqual(['test-image/Dockerfile']);
  });

  test('a build-context source also gets Dockerfile.dockerignore, leaving out the output inside the context', () => {
    const context = fs.mkdtempSync(path.join(os.tmpdir(), 'context-'));
    const app = Testing.app({ outdir: path.join(context, 'dist', 'manifests') });
    new DeepSpeedTrainingImage(new Chart(app, 'test'), 'image', { ...BASE_RECIPE, source: SourceCode.fromBuildContext(context) });
    app.synth();
    expect(filesUnder(app.outdir)).toEqual(['images/test-image/Dockerfile', 'images/test-image/Dockerfile.dockerignore', 'test.k8s.yaml']);
    const ignore = fs.readFileSync(path.join(app.outdir, 'images/test-image/Dockerfile.dockerignore'), 'utf8').split('\n');
    expect(ignore).toContain('dist/manifests');
  });

  test('writeBuildFiles() writes to any directory, and refuses an invalid recipe', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'out-'));
    imageRecipe().image.writeBuildFiles(dir);
    expect(filesUnder(dir)).toEqual(['images/test-image/Dockerfile']);

    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'out-'));
    const { image } = imageRecipe({ imageRef: 'registry.example.com/train' });
    expect(() => image.writeBuildFiles(other)).toThrow(
      'Not writing the Dockerfile of test/image, which fails validation:\n  imageRef is \'registry.example.com/train\'');
    expect(filesUnder(other)).toEqual([]);
  });
});
