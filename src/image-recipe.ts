import * as path from 'path';
import { BaseImage } from './base-image';
import { Dockerfile, ShellCommand, shellQuote } from './dockerfile';
import { ImageUser } from './image-user';
import { CPU_OPS, DeepSpeedOp, MpiInstallation, TorchPackages } from './image-packages';
import { BakedData, BakedDataKind, SourceCode } from './image-source';
import { MpiImplementation } from './types';

/**
 * Everything the Dockerfile depends on, resolved from the recipe's props.
 * @internal
 */
export interface ImageRecipe {
  /** Construct path, named in the header. */
  readonly constructPath: string;
  readonly imageRef: string;
  readonly base: BaseImage;
  readonly torch?: TorchPackages;
  readonly deepspeedVersion: string;
  readonly mpi4pyVersion: string;
  /** User pip packages, name and version. */
  readonly pipPackages: Array<[string, string]>;
  readonly systemPackages: string[];
  readonly mpi: MpiInstallation;
  readonly source?: SourceCode;
  readonly workingDirectory?: string;
  readonly prebuiltOps: DeepSpeedOp[];
  readonly cudaArchitectures: string[];
  /** Whether CPU ops listed in prebuiltOps were accepted for the build host's CPU. */
  readonly allowBuildHostCpuOps: boolean;
  readonly data: BakedData[];
  readonly user: ImageUser;
  readonly sshPort: number;
  /** sshd configuration file of a non-root user. */
  readonly sshdConfigPath?: string;
  /** User variables, name and value. */
  readonly environment: Array<[string, string]>;
}

/** Pinned packaging tools for the virtual environment on bases without Python. */
const PACKAGING_TOOLS: Array<[string, string]> = [['pip', '24.2'], ['setuptools', '75.1.0'], ['wheel', '0.44.0']];

/** Packages every image needs, whatever the MPI. */
const CORE_PACKAGES = [
  // mpirun starts ranks over ssh; workers run sshd.
  'openssh-client', 'openssh-server',
  // DeepSpeed's MPI discovery runs `hostname -I`.
  'hostname', 'ca-certificates',
  // Compilers and ninja for DeepSpeed's ops and for building mpi4py; libaio for the AIO op.
  'build-essential', 'ninja-build', 'libaio-dev',
];

/** The index serving torch wheels for a CUDA version, e.g. `cu124` for 12.4. */
function torchIndexUrl(torch: TorchPackages): string {
  return torch.indexUrl ?? `https://download.pytorch.org/whl/cu${torch.cudaVersion.split('.').slice(0, 2).join('')}`;
}

/** Resolves a path in the image against the working directory. */
function imagePath(recipe: ImageRecipe, target: string): string {
  if (target.startsWith('/')) return path.posix.normalize(target);
  return path.posix.join(recipe.workingDirectory ?? '/', target);
}

/** Owner of the files the ranks write: `uid:gid`. */
function owner(user: ImageUser): string {
  return `${user.uid}:${user.gid}`;
}

function pipInstall(recipe: ImageRecipe, ...args: string[]): ShellCommand {
  return ShellCommand.of(shellQuote(recipe.base.pythonPath), '-m', 'pip', 'install', '--no-cache-dir', ...args);
}

function pin(name: string, version: string): string {
  return shellQuote(`${name}==${version}`);
}

/** The apt packages of the first RUN, sorted so the layer only changes when the set does. */
function systemPackages(recipe: ImageRecipe): string[] {
  const packages = new Set([...CORE_PACKAGES, ...recipe.systemPackages]);
  if (recipe.mpi.implementation === MpiImplementation.INTEL) {
    ['curl', 'gnupg'].forEach(p => packages.add(p));
  } else {
    recipe.mpi.packages.forEach(p => packages.add(p));
  }
  if (recipe.base.installsPython) ['python3', 'python3-dev', 'python3-venv'].forEach(p => packages.add(p));
  if (recipe.source?.gitRepository) packages.add('git');
  if (recipe.data.some(d => d._kind === BakedDataKind.URL)) packages.add('curl');
  return [...packages].sort();
}

/**
 * The client settings every rank's ssh needs; the operator's Secret mount is read-only.
 * The launch rehearsal's real-OpenSSH mode runs the launcher with these too.
 * @internal
 */
export function sshClientConfigLines(sshPort: number): string[] {
  return [
    'Host *',
    `    Port ${sshPort}`,
    '    StrictHostKeyChecking no',
    '    UserKnownHostsFile /dev/null',
    '    LogLevel ERROR',
  ];
}

/**
 * sshd settings. The operator mounts an ECDSA key as `id_rsa`, which doubles as the host key,
 * so no host key is baked into the image. The Secret's files fail StrictModes' ownership checks.
 * The launch rehearsal's real-OpenSSH mode runs every worker's sshd with these.
 * @internal
 */
export function sshdConfigLines(user: ImageUser, sshPort: number): string[] {
  return [
    `Port ${sshPort}`,
    `HostKey ${user.sshDirectory}/id_rsa`,
    `PidFile ${user.isRoot ? '/run/sshd.pid' : `${user.home}/sshd.pid`}`,
    'StrictModes no',
    'PasswordAuthentication no',
    ...(user.isRoot ? ['PermitRootLogin prohibit-password'] : []),
  ];
}

function mpiName(mpi: MpiInstallation): string {
  switch (mpi.implementation) {
    case MpiImplementation.INTEL: return `Intel MPI ${mpi.version}`;
    case MpiImplementation.MPICH: return 'MPICH';
    default: return 'Open MPI';
  }
}

/** The torch build the image ends up with. */
function torchBuild(recipe: ImageRecipe): { version: string; cudaVersion: string } | undefined {
  return recipe.torch ?? recipe.base.torch;
}

function addBase(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  const base = recipe.base;
  const torch = base.torch ? `, ships torch ${base.torch.version} built for CUDA ${base.torch.cudaVersion}` : '';
  dockerfile.from(base.reference, `Base: CUDA ${base.cudaVersion} (${base.flavor})${torch}.`);
}

function addSystemPackages(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  const intel = recipe.mpi.implementation === MpiImplementation.INTEL;
  dockerfile.aptInstall(systemPackages(recipe), {
    comment: [
      `System packages: OpenSSH for mpirun over ssh, ${intel ? 'curl and gnupg for Intel\'s repository' : mpiName(recipe.mpi)},`,
      'compilers and ninja for DeepSpeed\'s ops and mpi4py, hostname for DeepSpeed\'s MPI discovery.',
      'The package\'s host keys are removed in the same layer: sshd uses the key the MPI Operator mounts.',
    ].join('\n'),
    then: [
      ShellCommand.of('rm', '-f', '/etc/ssh/ssh_host_*'),
      ShellCommand.of('mkdir', '-p', '/run/sshd'),
    ],
  });
  if (intel) {
    const keyring = '/usr/share/keyrings/oneapi-archive-keyring.gpg';
    dockerfile.aptInstall(recipe.mpi.packages, {
      comment: `${mpiName(recipe.mpi)} from Intel's oneAPI apt repository.`,
      setup: [
        ShellCommand.of('curl', '-fsSL', '-o', '/tmp/intel.pub', 'https://apt.repos.intel.com/intel-gpg-keys/GPG-PUB-KEY-INTEL-SW-PRODUCTS.PUB'),
        ShellCommand.of('gpg', '--dearmor', '-o', keyring, '/tmp/intel.pub'),
        ShellCommand.of('rm', '/tmp/intel.pub'),
        ShellCommand.of('echo', shellQuote(`deb [signed-by=${keyring}] https://apt.repos.intel.com/oneapi all main`),
          '>', '/etc/apt/sources.list.d/oneAPI.list'),
      ],
    });
    dockerfile.env(Object.entries(recipe.mpi.environment),
      'Intel MPI lives outside the default paths; the job forwards these variables to every rank.');
  }
}

function addSsh(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  const commands = [ShellCommand.writeFile('/etc/ssh/ssh_config', sshClientConfigLines(recipe.sshPort))];
  if (recipe.user.isRoot) commands.push(ShellCommand.writeFile('/etc/ssh/sshd_config', sshdConfigLines(recipe.user, recipe.sshPort)));
  dockerfile.run(commands, [
    `ssh client: port ${recipe.sshPort}, no host-key prompts and no known_hosts writes (the key directory is a read-only Secret).`,
    ...(recipe.user.isRoot ? [`sshd (root): port ${recipe.sshPort}, StrictModes off, the mounted key as host key.`] : []),
  ].join('\n'));
}

function addUser(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  const user = recipe.user;
  if (user.isRoot) return;
  const commands: ShellCommand[] = [];
  if (recipe.base.existingUser) commands.push(ShellCommand.of('userdel', '--remove', shellQuote(recipe.base.existingUser)));
  commands.push(
    ShellCommand.of('groupadd', '--gid', String(user.gid), shellQuote(user.name)),
    ShellCommand.of('useradd', '--create-home', '--home-dir', shellQuote(user.home), '--uid', String(user.uid),
      '--gid', String(user.gid), '--shell', '/bin/bash', shellQuote(user.name)),
    // torch keeps JIT-compiled extensions in ~/.cache/torch_extensions.
    ShellCommand.of('mkdir', '-p', shellQuote(`${user.home}/.cache`)),
    ShellCommand.writeFile(recipe.sshdConfigPath!, sshdConfigLines(recipe.user, recipe.sshPort)),
    ShellCommand.of('chown', '-R', owner(user), shellQuote(user.home)),
  );
  dockerfile.run(commands, [
    `Non-root user ${user.name} (uid ${user.uid}) runs sshd and the ranks; the MPI Operator mounts its keys in ${user.sshDirectory}.`,
    `Its sshd listens on ${recipe.sshPort}, above 1024, keeps its pid file at home and uses the mounted key as host key.`,
  ].join('\n'));
}

function addPython(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  const venv = recipe.base.virtualEnvironment;
  if (venv) {
    dockerfile.run([
      ShellCommand.of('python3', '-m', 'venv', shellQuote(venv)),
      pipInstall(recipe, ...PACKAGING_TOOLS.map(([n, v]) => pin(n, v))),
    ], 'Python: a virtual environment, so pip never touches the distribution\'s packages.');
    dockerfile.env([['PATH', `${venv}/bin:$PATH`]]);
  }
  if (recipe.torch) {
    const packages = [pin('torch', recipe.torch.version)];
    if (recipe.torch.torchvisionVersion) packages.push(pin('torchvision', recipe.torch.torchvisionVersion));
    dockerfile.run([pipInstall(recipe, '--index-url', shellQuote(torchIndexUrl(recipe.torch)), ...packages)],
      `torch built for CUDA ${recipe.torch.cudaVersion}.`);
  }
  dockerfile.run([ShellCommand.of('MPICC=mpicc', ...pipInstall(recipe, '--no-binary=mpi4py', pin('mpi4py', recipe.mpi4pyVersion)).words)],
    `mpi4py compiled against the image's ${mpiName(recipe.mpi)}: DeepSpeed discovers ranks through it under mpirun.`);

  const ops = recipe.prebuiltOps.map(op => `DS_BUILD_${op}=1`);
  // DS_BUILD_OPS=1 would also compile the CPU ops for this build host's CPU (-march=native): a
  // per-op 0 overrides it, so they compile at first use on each node instead.
  const portable = recipe.prebuiltOps.includes(DeepSpeedOp.ALL)
    ? CPU_OPS.filter(op => !recipe.prebuiltOps.includes(op as DeepSpeedOp)).map(op => `DS_BUILD_${op}=0`)
    : [];
  ops.push(...portable);
  // The name must stay unquoted for the shell to read the word as an assignment.
  const arch = recipe.cudaArchitectures.length > 0 ? [`TORCH_CUDA_ARCH_LIST=${shellQuote(recipe.cudaArchitectures.join(' '))}`] : [];
  dockerfile.run([ShellCommand.of(...ops, ...arch, ...pipInstall(recipe, '--no-build-isolation', pin('deepspeed', recipe.deepspeedVersion)).words)], [
    `DeepSpeed ${recipe.deepspeedVersion}, built against the installed torch (no build isolation).`,
    ops.length > 0
      ? `Ops compiled now instead of at first use: ${recipe.prebuiltOps.join(', ')}.`
        + (portable.length > 0 ? '\nNot the CPU ops: DeepSpeed compiles them for the build host\'s CPU (-march=native), so they compile at first use on each node.' : '')
      : 'Its CUDA ops compile just-in-time at first use (nvcc and ninja are in the image).',
  ].join('\n'));

  if (recipe.pipPackages.length > 0) {
    dockerfile.run([pipInstall(recipe, ...recipe.pipPackages.map(([n, v]) => pin(n, v)))], 'Python packages of the training code, pinned.');
  }
  addVersionCheck(dockerfile, recipe);
}

/** Fails the build if a later install replaced a pinned package or torch's CUDA is not the declared one. */
function addVersionCheck(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  const torch = torchBuild(recipe);
  const pins: Array<[string, string]> = [
    ...(torch ? [['torch', torch.version] as [string, string]] : []),
    ...(recipe.torch?.torchvisionVersion ? [['torchvision', recipe.torch.torchvisionVersion] as [string, string]] : []),
    ['deepspeed', recipe.deepspeedVersion],
    ['mpi4py', recipe.mpi4pyVersion],
    ...recipe.pipPackages,
  ];
  const expected = `{${pins.map(([n, v]) => `${JSON.stringify(n)}: ${JSON.stringify(v)}`).join(', ')}}`;
  const code = [
    'import importlib.metadata as md, torch',
    `pins = ${expected}`,
    'wrong = {n: md.version(n) for n, v in pins.items() if md.version(n).split("+")[0] != v}',
    'assert not wrong, f"pinned packages were replaced: {wrong}"',
    ...(torch ? [`assert torch.version.cuda == ${JSON.stringify(torch.cudaVersion)}, f"torch is built for CUDA {torch.version.cuda}"`] : []),
  ].join('; ');
  dockerfile.run([ShellCommand.of(shellQuote(recipe.base.pythonPath), '-c', shellQuote(code))],
    `Check the pins${torch ? ` and that torch is built for CUDA ${torch.cudaVersion}` : ''}.`);
}

function addSource(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  const source = recipe.source;
  if (!source) return;
  const destination = shellQuote(source.destination);
  if (source.gitRepository) {
    dockerfile.run([
      ShellCommand.of('git', 'clone', '--filter=blob:none', '--no-checkout', shellQuote(source.gitRepository), destination),
      ShellCommand.of('git', '-C', destination, 'checkout', '--detach', shellQuote(source.commit!)),
      ShellCommand.of('rm', '-rf', shellQuote(`${source.destination}/.git`)),
      ShellCommand.of('chown', '-R', owner(recipe.user), destination),
    ], `Training code: ${source.gitRepository} at commit ${source.commit}.`);
  } else {
    dockerfile.copy(['.'], source.destination, {
      chown: owner(recipe.user),
      comment: 'Training code: the build context.',
    });
  }
}

function addData(dockerfile: Dockerfile, recipe: ImageRecipe): void {
  for (const data of recipe.data) {
    const target = imagePath(recipe, data.destination);
    const quoted = shellQuote(target);
    switch (data._kind) {
      case BakedDataKind.URL:
        dockerfile.run([
          ShellCommand.of('mkdir', '-p', shellQuote(path.posix.dirname(target))),
          ShellCommand.of('curl', '-fsSL', '--retry', '3', '-o', quoted, shellQuote(data.source)),
          ShellCommand.of('echo', shellQuote(`${data.sha256}  ${target}`), '|', 'sha256sum', '--check', '--strict', '-'),
          ShellCommand.of('chown', owner(recipe.user), quoted),
        ], `Data: ${data.source}, checked against its SHA-256.`);
        break;
      case BakedDataKind.BUILD_CONTEXT:
        dockerfile.copy([data.source], target, { chown: owner(recipe.user), comment: `Data: ${data.source} from the build context.` });
        break;
      case BakedDataKind.TORCHVISION: {
        const download = `import torchvision; [torchvision.datasets.${data.source}(root=${JSON.stringify(target)}, train=split, download=True) for split in (True, False)]`;
        dockerfile.run([
          ShellCommand.of('mkdir', '-p', quoted),
          ShellCommand.of(shellQuote(recipe.base.pythonPath), '-c', shellQuote(download)),
          ShellCommand.of('chown', '-R', owner(recipe.user), quoted),
        ], `Data: torchvision ${data.source} in ${target}, so ranks do not download it concurrently at start.`);
        break;
      }
    }
  }
}

/**
 * Renders the Dockerfile of a training image.
 * @internal
 */
export function renderTrainingImage(recipe: ImageRecipe): Dockerfile {
  const dockerfile = new Dockerfile();
  dockerfile.addHeaderComment([
    `Generated by cdk8s-deepspeed from ${recipe.constructPath} (image ${recipe.imageRef}).`,
    'Change the DeepSpeedTrainingImage and synthesize again instead of editing this file.',
  ].join('\n'));
  addBase(dockerfile, recipe);
  addSystemPackages(dockerfile, recipe);
  addSsh(dockerfile, recipe);
  addUser(dockerfile, recipe);
  addPython(dockerfile, recipe);
  addSource(dockerfile, recipe);
  addData(dockerfile, recipe);
  dockerfile.env(recipe.environment, 'Variables of the training code; the job forwards them to every rank.');
  if (recipe.workingDirectory) dockerfile.workdir(recipe.workingDirectory);
  if (!recipe.user.isRoot) {
    dockerfile.user(owner(recipe.user), 'Numeric, so Kubernetes can verify runAsNonRoot.');
  }
  return dockerfile;
}

/** Patterns every build-context source leaves out. */
const DEFAULT_IGNORES = ['.git', '**/__pycache__', '**/*.pyc', '**/.ipynb_checkpoints', '**/.venv', 'node_modules'];

/**
 * The `.dockerignore` of a build-context source, or undefined when the context is empty.
 * `outputDirectory` is left out when it lies inside the context.
 * @internal
 */
export function renderDockerignore(recipe: ImageRecipe, outputDirectory?: string): string | undefined {
  const context = recipe.source?.buildContext;
  if (context === undefined) return undefined;
  const patterns = [...DEFAULT_IGNORES];
  if (outputDirectory) {
    const relative = path.relative(path.resolve(context), path.resolve(outputDirectory));
    if (relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)) {
      patterns.push(relative.split(path.sep).join('/'));
    }
  }
  patterns.push(...recipe.source!.exclude);
  return [
    '# Generated by cdk8s-deepspeed: applies to the build context of the Dockerfile next to it.',
    ...patterns,
  ].join('\n') + '\n';
}
