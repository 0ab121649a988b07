import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BakedData, BaseImage, CudaImageFlavor, DeepSpeedOp, DeepSpeedTrainingImageProps, ImageUser, MpiImplementation, MpiInstallation, SourceCode,
} from '../src';
import { aptProblems, commands, lint, lintAll, parseInstructions, printedFile, runContaining, runs, strayLines } from './support/dockerfile';
import { imageTag } from '../src/validation/image-rules';
import { imageFindings, imageRecipe } from './support/synth';

const DSE = 'https://github.com/deepspeedai/DeepSpeedExamples';
const DSE_COMMIT = '0e0e2ef307dd3d0298b96c4bffea37f6701aee3e';

/** Recipes covering every branch of the renderer; each must parse and lint clean. */
const VARIANTS: { [name: string]: Partial<DeepSpeedTrainingImageProps> } = {
  'minimal': {},
  'cifar': {
    pipPackages: { pillow: '10.4.0', matplotlib: '3.9.2' },
    source: SourceCode.fromGitRepository(DSE, DSE_COMMIT),
    data: [BakedData.torchvisionDataset('CIFAR10', 'data')],
    prebuiltOps: [DeepSpeedOp.FUSED_ADAM, DeepSpeedOp.CPU_ADAM],
    cudaArchitectures: ['8.0', '9.0'],
    allowBuildHostCpuOps: true,
  },
  'all ops': { prebuiltOps: [DeepSpeedOp.ALL] },
  'root': { user: ImageUser.root() },
  'mpich': { mpi: MpiInstallation.mpich() },
  'intel': { mpi: MpiInstallation.intel() },
  'nvidia-cuda': {
    baseImage: BaseImage.nvidiaCuda({ cudaVersion: '12.4.1', operatingSystem: 'ubuntu22.04' }),
    torch: { version: '2.4.1', cudaVersion: '12.4', torchvisionVersion: '0.19.1' },
  },
  'ubuntu-24.04': {
    baseImage: BaseImage.nvidiaCuda({ cudaVersion: '12.6.3', operatingSystem: 'ubuntu24.04' }),
    torch: { version: '2.6.0', cudaVersion: '12.6' },
  },
  'build-context': {
    source: SourceCode.fromBuildContext('.', { destination: '/opt/train', exclude: ['checkpoints/'] }),
    data: [
      BakedData.fromBuildContext('datasets/tokens', 'data/tokens'),
      BakedData.fromUrl('https://example.com/vocab.json', '/opt/assets/vocab.json', { sha256: 'a'.repeat(64) }),
    ],
    environment: { NCCL_DEBUG: 'WARN', HF_HOME: '/opt/hf cache' },
    systemPackages: ['libgl1', 'vim-tiny=2:9.0.1378-2'],
    user: ImageUser.nonRoot({ name: 'trainer', uid: 1500, gid: 1600, home: '/srv/trainer' }),
    sshPort: 30022,
  },
  'custom-base': {
    baseImage: BaseImage.fromReference('registry.example.com/cuda-python:12.4-1', {
      cudaVersion: '12.4', flavor: CudaImageFlavor.DEVEL, torch: { version: '2.4.1', cudaVersion: '12.4' },
    }),
  },
};

function dockerfileOf(name: string): string {
  return imageRecipe(VARIANTS[name]).image.dockerfile;
}

/** The package arguments of every `pip install` in the Dockerfile. */
function pipArguments(text: string): string[] {
  return runs(text).flatMap(commands).filter(c => c.includes(' -m pip install ')).flatMap(c => {
    const words = c.split(' -m pip install ')[1].split(' ');
    return words.filter((w, i) => !w.startsWith('-') && words[i - 1] !== '--index-url');
  });
}

describe.each(Object.keys(VARIANTS))('the %s recipe', name => {
  const text = dockerfileOf(name);

  test('is valid, parses with dockerfile-ast and lints clean with dockerfile-utils', () => {
    expect(imageFindings(imageRecipe(VARIANTS[name]).image)).toEqual([]);
    expect(lintAll(text)).toEqual([]);
    expect(strayLines(text)).toEqual([]);
    const froms = parseInstructions(text).filter(i => i.keyword === 'FROM');
    expect(froms).toHaveLength(1);
    expect(parseInstructions(text)[0].keyword).toBe('FROM');
    expect(imageTag(froms[0].args)).not.toBe('latest');
  });

  test('updates apt in the same RUN as every install, skips recommends and removes the lists', () => {
    expect(aptProblems(text)).toEqual([]);
  });

  test('pins every pip package to an exact version', () => {
    const packages = pipArguments(text);
    expect(packages.length).toBeGreaterThan(0);
    for (const arg of packages) expect(arg).toMatch(/^[A-Za-z0-9._-]+==\d[\w.+]*$/);
  });

  test('installs hostname, ninja, OpenSSH and compiles mpi4py against the image\'s MPI', () => {
    const apt = runContaining(text, 'openssh-server');
    for (const p of ['hostname', 'ninja-build', 'openssh-client', 'build-essential']) expect(apt).toContain(` ${p} `);
    expect(commands(runContaining(text, 'MPICC='))).toEqual([
      expect.stringMatching(/^MPICC=mpicc \S+ -m pip install --no-cache-dir --no-binary=mpi4py mpi4py==4\.0\.3$/),
    ]);
  });

  test('keeps no host keys or credentials in any layer and prepares /run/sshd', () => {
    const apt = commands(runContaining(text, 'openssh-server'));
    const install = apt.findIndex(c => c.includes('apt-get install'));
    expect(apt.indexOf('rm -f /etc/ssh/ssh_host_*')).toBeGreaterThan(install);
    expect(apt).toContain('mkdir -p /run/sshd');
    const instructions = parseInstructions(text);
    expect(instructions.map(i => i.keyword)).not.toContain('ADD');
    for (const env of instructions.filter(i => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      expect(env.args).not.toMatch(/TOKEN|PASSWORD|SECRET|_KEY/i);
    }
    expect(text).not.toMatch(/https?:\/\/[^/\s]*@/);
  });
});

describe('DeepSpeedTrainingImage recipe', () => {
  test('the default: pytorch devel base, Open MPI, non-root mpiuser with sshd on 2222', () => {
    const { image } = imageRecipe();
    const text = image.dockerfile;
    expect(parseInstructions(text)[0]).toEqual({ keyword: 'FROM', args: 'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel', flags: [] });
    expect(runContaining(text, 'openssh-server')).toMatch(/ libopenmpi-dev .* openmpi-bin /s);
    expect(printedFile(text, '/etc/ssh/ssh_config')).toEqual([
      'Host *', '    Port 2222', '    StrictHostKeyChecking no', '    UserKnownHostsFile /dev/null', '    LogLevel ERROR',
    ]);
    expect(printedFile(text, '/home/mpiuser/.sshd_config')).toEqual([
      'Port 2222', 'HostKey /home/mpiuser/.ssh/id_rsa', 'PidFile /home/mpiuser/sshd.pid', 'StrictModes no', 'PasswordAuthentication no',
    ]);
    expect(commands(runContaining(text, 'useradd'))).toEqual(expect.arrayContaining([
      'groupadd --gid 1000 mpiuser',
      'useradd --create-home --home-dir /home/mpiuser --uid 1000 --gid 1000 --shell /bin/bash mpiuser',
      'chown -R 1000:1000 /home/mpiuser',
    ]));
    expect(commands(runContaining(text, 'deepspeed=='))).toEqual([
      '/opt/conda/bin/python -m pip install --no-cache-dir --no-build-isolation deepspeed==0.16.3',
    ]);
    const last = parseInstructions(text).slice(-1)[0];
    expect(last).toEqual({ keyword: 'USER', args: '1000:1000', flags: [] });
    expect(parseInstructions(text).map(i => i.keyword)).not.toContain('WORKDIR');
  });

  test('the image facts follow the recipe', () => {
    const { image } = imageRecipe(VARIANTS['build-context']);
    expect(image.imageRef).toBe('registry.example.com/train:v1');
    expect(image.user.name).toBe('trainer');
    expect(image.sshPort).toBe(30022);
    expect(image.sshdConfigPath).toBe('/srv/trainer/.sshd_config');
    expect(image.pythonPath).toBe('/opt/conda/bin/python');
    expect(image.mpiImplementation).toBe(MpiImplementation.OPEN_MPI);
    expect(image.workingDirectory).toBe('/opt/train');
    expect(image.forwardedImageEnv).toEqual(['PATH', 'LD_LIBRARY_PATH', 'NCCL_DEBUG', 'HF_HOME']);
    expect(image.dockerfilePath).toBe('images/test-image/Dockerfile');
  });

  test('the root variant configures the system sshd and creates no user', () => {
    const { image } = imageRecipe({ user: ImageUser.root() });
    const text = image.dockerfile;
    expect(printedFile(text, '/etc/ssh/sshd_config')).toEqual([
      'Port 2222', 'HostKey /root/.ssh/id_rsa', 'PidFile /run/sshd.pid', 'StrictModes no', 'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
    ]);
    expect(text).not.toContain('useradd');
    expect(parseInstructions(text).map(i => i.keyword)).not.toContain('USER');
    expect(image.sshdConfigPath).toBeUndefined();
  });

  test('Intel MPI comes from Intel\'s repository, with its paths forwarded to the ranks', () => {
    const { image } = imageRecipe({ mpi: MpiInstallation.intel({ version: '2021.13' }) });
    const text = image.dockerfile;
    const intel = commands(runContaining(text, 'intel-oneapi-mpi-devel-2021.13'));
    expect(intel.slice(0, 4)).toEqual([
      'curl -fsSL -o /tmp/intel.pub https://apt.repos.intel.com/intel-gpg-keys/GPG-PUB-KEY-INTEL-SW-PRODUCTS.PUB',
      'gpg --dearmor -o /usr/share/keyrings/oneapi-archive-keyring.gpg /tmp/intel.pub',
      'rm /tmp/intel.pub',
      'echo \'deb [signed-by=/usr/share/keyrings/oneapi-archive-keyring.gpg] https://apt.repos.intel.com/oneapi all main\' > /etc/apt/sources.list.d/oneAPI.list',
    ]);
    expect(runContaining(text, 'openssh-server')).toMatch(/ curl .* gnupg /s);
    expect(text).not.toContain('openmpi');
    const instructions = parseInstructions(text);
    const intelEnv = instructions.findIndex(i => i.keyword === 'ENV');
    expect(instructions[intelEnv].args).toContain('I_MPI_ROOT=/opt/intel/oneapi/mpi/2021.13');
    expect(instructions[intelEnv].args).toContain('PATH=/opt/intel/oneapi/mpi/2021.13/bin:$PATH');
    // mpi4py's MPICC=mpicc must find Intel's compiler wrapper.
    expect(intelEnv).toBeLessThan(instructions.findIndex(i => i.args.includes('MPICC=mpicc')));
    expect(image.mpiImplementation).toBe(MpiImplementation.INTEL);
    expect(image.forwardedImageEnv).toEqual(['PATH', 'LD_LIBRARY_PATH', 'I_MPI_ROOT', 'FI_PROVIDER_PATH']);
  });

  test('MPICH installs mpich and its headers', () => {
    const { image } = imageRecipe({ mpi: MpiInstallation.mpich() });
    expect(runContaining(image.dockerfile, 'openssh-server')).toMatch(/ libmpich-dev .* mpich /s);
    expect(image.mpiImplementation).toBe(MpiImplementation.MPICH);
  });

  test('an nvidia/cuda base gets Python in a virtual environment and torch from the matching index', () => {
    const { image } = imageRecipe(VARIANTS['nvidia-cuda']);
    const text = image.dockerfile;
    expect(parseInstructions(text)[0].args).toBe('nvidia/cuda:12.4.1-devel-ubuntu22.04');
    expect(runContaining(text, 'openssh-server')).toMatch(/ python3 .* python3-dev .* python3-venv /s);
    expect(commands(runContaining(text, 'python3 -m venv'))).toEqual([
      'python3 -m venv /opt/venv',
      '/opt/venv/bin/python -m pip install --no-cache-dir pip==24.2 setuptools==75.1.0 wheel==0.44.0',
    ]);
    expect(commands(runContaining(text, 'torch=='))).toEqual([
      '/opt/venv/bin/python -m pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cu124 torch==2.4.1 torchvision==0.19.1',
    ]);
    expect(parseInstructions(text).find(i => i.keyword === 'ENV')!.args).toBe('PATH=/opt/venv/bin:$PATH');
    expect(image.pythonPath).toBe('/opt/venv/bin/python');
    expect(text).not.toContain('userdel');
  });

  test('Ubuntu 24.04 bases lose their uid-1000 user before mpiuser is created', () => {
    const text = dockerfileOf('ubuntu-24.04');
    expect(commands(runContaining(text, 'useradd'))[0]).toBe('userdel --remove ubuntu');
  });

  test('the build check fails the build when a pin or torch\'s CUDA differs', () => {
    const check = runContaining(dockerfileOf('cifar'), 'importlib.metadata');
    expect(check).toContain('pins = {"torch": "2.4.1", "deepspeed": "0.16.3", "mpi4py": "4.0.3", "pillow": "10.4.0", "matplotlib": "3.9.2"}');
    expect(check).toContain('assert torch.version.cuda == "12.4"');
  });

  test('pre-built ops and CUDA architectures are real shell assignments on the DeepSpeed install', () => {
    const install = commands(runContaining(dockerfileOf('cifar'), 'deepspeed=='))[0];
    expect(install).toBe('DS_BUILD_FUSED_ADAM=1 DS_BUILD_CPU_ADAM=1 TORCH_CUDA_ARCH_LIST=\'8.0 9.0\' '
      + '/opt/conda/bin/python -m pip install --no-cache-dir --no-build-isolation deepspeed==0.16.3');
    const assignments = install.split(' /opt/conda/bin/python')[0];
    expect(execFileSync('/bin/sh', ['-c', `${assignments} env`]).toString().split('\n')).toEqual(
      expect.arrayContaining(['DS_BUILD_FUSED_ADAM=1', 'DS_BUILD_CPU_ADAM=1', 'TORCH_CUDA_ARCH_LIST=8.0 9.0']));
  });

  test('a git source is checked out at its commit and owned by the user; the working directory follows it', () => {
    const { image } = imageRecipe(VARIANTS.cifar);
    const text = image.dockerfile;
    expect(commands(runContaining(text, 'git clone'))).toEqual([
      `git clone --filter=blob:none --no-checkout ${DSE} /opt/DeepSpeedExamples`,
      `git -C /opt/DeepSpeedExamples checkout --detach ${DSE_COMMIT}`,
      'rm -rf /opt/DeepSpeedExamples/.git',
      'chown -R 1000:1000 /opt/DeepSpeedExamples',
    ]);
    expect(runContaining(text, 'openssh-server')).toContain(' git ');
    expect(parseInstructions(text).find(i => i.keyword === 'WORKDIR')!.args).toBe('/opt/DeepSpeedExamples');
    expect(image.workingDirectory).toBe('/opt/DeepSpeedExamples');
  });

  test('torchvision data lands where the script looks, relative to the working directory', () => {
    const data = commands(runContaining(dockerfileOf('cifar'), 'torchvision.datasets'));
    expect(data).toEqual([
      'mkdir -p /opt/DeepSpeedExamples/data',
      '/opt/conda/bin/python -c \'import torchvision; [torchvision.datasets.CIFAR10(root="/opt/DeepSpeedExamples/data", train=split, download=True) for split in (True, False)]\'',
      'chown -R 1000:1000 /opt/DeepSpeedExamples/data',
    ]);
  });

  test('a build-context source is copied with the user as owner, and data from a URL is checksummed', () => {
    const { image } = imageRecipe(VARIANTS['build-context']);
    const text = image.dockerfile;
    const copies = parseInstructions(text).filter(i => i.keyword === 'COPY').map(i => [...i.flags, i.args].join(' '));
    expect(copies).toEqual(['--chown=1500:1600 . /opt/train', '--chown=1500:1600 datasets/tokens /opt/train/data/tokens']);
    expect(commands(runContaining(text, 'curl -fsSL'))).toEqual([
      'mkdir -p /opt/assets',
      'curl -fsSL --retry 3 -o /opt/assets/vocab.json https://example.com/vocab.json',
      expect.stringMatching(/^echo '(a{64}) \/opt\/assets\/vocab\.json' \| sha256sum --check --strict -$/),
      'chown 1500:1600 /opt/assets/vocab.json',
    ]);
    expect(runContaining(text, 'openssh-server')).toMatch(/ curl .* libgl1 .* vim-tiny=2:9.0.1378-2 /s);
    expect(text).toContain('ENV NCCL_DEBUG=WARN \\\n    HF_HOME="/opt/hf cache"');
  });

  test('the checksum command passes for the right file and fails for a changed one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baked-'));
    const file = path.join(dir, 'vocab.json');
    fs.writeFileSync(file, '{"a": 1}\n');
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const check = (data: BakedData) => runs(imageRecipe({ data: [data] }).image.dockerfile)
      .flatMap(run => run.split('&&')).find(c => c.includes('sha256sum'))!;
    const run = (command: string) => execFileSync('/bin/sh', ['-c', command], { stdio: 'pipe' });
    expect(() => run(check(BakedData.fromUrl('https://example.com/v', file, { sha256 })))).not.toThrow();
    expect(() => run(check(BakedData.fromUrl('https://example.com/v', file, { sha256: 'b'.repeat(64) })))).toThrow(/did NOT match/);
  });

  test('a build-context source gets a Dockerfile.dockerignore that leaves out the synth output', () => {
    const { image } = imageRecipe(VARIANTS['build-context']);
    expect(image.dockerignore('dist/manifests')).toBe([
      '# Generated by cdk8s-deepspeed: applies to the build context of the Dockerfile next to it.',
      '.git', '**/__pycache__', '**/*.pyc', '**/.ipynb_checkpoints', '**/.venv', 'node_modules', 'dist/manifests', 'checkpoints/',
      '',
    ].join('\n'));
    expect(image.dockerignore('/elsewhere/out')).not.toContain('elsewhere');
    expect(imageRecipe(VARIANTS.cifar).image.dockerignore('dist')).toBeUndefined();
  });

  test('the header names the construct and the image; comments stay comments', () => {
    const text = dockerfileOf('cifar');
    expect(text.split('\n').slice(0, 2)).toEqual([
      '# Generated by cdk8s-deepspeed from test/image (image registry.example.com/train:v1).',
      '# Change the DeepSpeedTrainingImage and synthesize again instead of editing this file.',
    ]);
    for (const line of text.split('\n')) {
      if (line.trimStart().startsWith('#')) expect(line).toMatch(/^# |^#$/);
    }
    expect(lint(text)).toEqual([]);
  });
});
