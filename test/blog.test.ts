import { BakedData, BaseImage, SourceCode } from '../src';
import { aptProblems, commands, lint, parseInstructions, runContaining } from './support/dockerfile';
import { imageFindings, imageRecipe } from './support/synth';

/**
 * The widely copied blog Dockerfile, reduced to its two bugs: a comment that lost its `#`
 * and an `apt-get install` with no `apt-get update` before it.
 */
const BLOG_EXCERPT = [
  'FROM pytorch/pytorch:1.9.0-cuda11.1-cudnn8-runtime',
  ' Install OpenSSH for MPI to communicate between containers',
  'RUN apt-get install -y --no-install-recommends openssh-client openssh-server',
  '',
].join('\n');

/** The blog's intent as a recipe: Open MPI, ssh, ninja and the CIFAR-10 example's requirements. */
function blogIntent(): string {
  return imageRecipe({
    imageRef: 'registry.example.com/cifards:v0.0.1',
    baseImage: BaseImage.pytorch({ torchVersion: '2.4.1', cudaVersion: '12.4', cudnnVersion: '9' }),
    deepspeedVersion: '0.16.3',
    // training/cifar/requirements.txt: torchvision (shipped by the base, matching its torch), pillow, matplotlib.
    pipPackages: { pillow: '10.4.0', matplotlib: '3.9.2' },
    source: SourceCode.fromGitRepository('https://github.com/deepspeedai/DeepSpeedExamples', '0e0e2ef307dd3d0298b96c4bffea37f6701aee3e'),
    data: [BakedData.torchvisionDataset('CIFAR10', 'data')],
  }).image.dockerfile;
}

describe('the blog post\'s Dockerfile', () => {
  test('as published, the comment is parsed as an INSTALL instruction and apt-get install runs without update', () => {
    expect(parseInstructions(BLOG_EXCERPT).map(i => i.keyword)).toEqual(['FROM', 'INSTALL', 'RUN']);
    expect(lint(BLOG_EXCERPT)).toEqual(['2: Unknown instruction: INSTALL']);
    expect(aptProblems(BLOG_EXCERPT)).toEqual([
      'install without update in the same RUN: apt-get install -y --no-install-recommends openssh-client openssh-server',
      'lists kept: apt-get install -y --no-install-recommends openssh-client openssh-server',
    ]);
  });

  test('rendered from the recipe, it parses and lints clean: no stray instruction, update before every install', () => {
    const text = blogIntent();
    expect(lint(text)).toEqual([]);
    expect(new Set(parseInstructions(text).map(i => i.keyword))).toEqual(new Set(['FROM', 'RUN', 'WORKDIR', 'USER']));
    expect(aptProblems(text)).toEqual([]);
    const ssh = commands(runContaining(text, 'openssh-server'));
    expect(ssh[0]).toBe('apt-get update');
    expect(ssh[1]).toMatch(/^DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends .*openssh-client openssh-server$/);
    expect(ssh[ssh.length - 1]).toBe('rm -rf /var/lib/apt/lists/*');
  });

  test('rendered from the recipe, it keeps the intent: Open MPI, ssh, ninja, mpi4py, the CIFAR requirements and data', () => {
    const text = blogIntent();
    const apt = runContaining(text, 'openssh-server');
    for (const p of ['openmpi-bin', 'libopenmpi-dev', 'openssh-client', 'openssh-server', 'ninja-build', 'hostname', 'git']) {
      expect(apt).toContain(` ${p} `);
    }
    expect(commands(runContaining(text, 'pillow==')).pop()).toBe('/opt/conda/bin/python -m pip install --no-cache-dir pillow==10.4.0 matplotlib==3.9.2');
    expect(runContaining(text, 'MPICC=mpicc')).toContain('mpi4py==4.0.3');
    expect(runContaining(text, 'git clone')).toContain('checkout --detach 0e0e2ef307dd3d0298b96c4bffea37f6701aee3e');
    expect(runContaining(text, 'torchvision.datasets.CIFAR10')).toContain('root="/opt/DeepSpeedExamples/data"');
    expect(imageFindings(imageRecipe().image)).toEqual([]);
  });
});
