import { CudaImageFlavor } from '../base-image';
import { recipesOf } from '../image';
import { CPU_OPS } from '../image-packages';
import { BakedDataKind } from '../image-source';
import { ImageContext, ImageRule } from './context';
import { error, Finding, FindingText, show, warning } from './finding';
import { isImageReference } from './prop-rules';

/** An exact PEP 440 version: no ranges, wildcards or operators. */
const EXACT_VERSION = /^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[A-Za-z0-9.]+)?$/;
/** A PyPI project name. */
const PIP_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** A Debian package name, optionally with `=version`. */
const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/;
/** A git commit id, abbreviated or full. */
const COMMIT = /^[0-9a-f]{7,40}$/;
/** A name usable as a directory and as a prefix of Kubernetes object names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A `TORCH_CUDA_ARCH_LIST` entry, e.g. `8.0`, `9.0a`, `8.6+PTX`. */
const CUDA_ARCH = /^\d+\.\d+a?(\+PTX)?$/;
/** Characters that end a Dockerfile line or a C string. */
const LINE_BREAK = /[\r\n\0]/;

/** The packages that have their own props. */
const OWN_PROPS: { [name: string]: string } = {
  torch: 'torch.version', torchvision: 'torch.torchvisionVersion', deepspeed: 'deepspeedVersion', mpi4py: 'mpi4pyVersion',
};

/**
 * CUDA minor versions DeepSpeed's op builder accepts against each other
 * (`cuda_minor_mismatch_ok` in `op_builder/builder.py`).
 */
const CUDA_MINOR_MISMATCH_OK: { [major: string]: string[] } = {
  11: ['11.0', '11.1', '11.2', '11.3', '11.4', '11.5', '11.6', '11.7', '11.8'],
  12: ['12.0', '12.1', '12.2', '12.3', '12.4', '12.5', '12.6', '12.8'],
};

function at(ctx: ImageContext, field: string, value: string): Pick<FindingText, 'path' | 'field' | 'value'> {
  return { path: ctx.path, field, value };
}

/** The tag of an image reference, `latest` when it has none, undefined when pinned by digest. */
export function imageTag(reference: string): string | undefined {
  if (reference.includes('@')) return undefined;
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon < 0 ? 'latest' : lastSegment.slice(colon + 1);
}

function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** The base image and the pushed reference must not float. */
const pinnedImages: ImageRule = (ctx: ImageContext): Finding[] => {
  const findings: Finding[] = [];
  const base = ctx.image.baseImage.reference;
  if (imageTag(base) === 'latest') {
    findings.push(error('image/base-pinned', {
      ...at(ctx, 'baseImage', show(base)),
      why: 'the `latest` tag moves, so two builds of the same recipe get different CUDA, torch and OS versions',
      fix: 'Pin a tag such as \'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel\' or a digest.',
    }));
  }
  if (/(^|\/)deepspeed\/deepspeed(:|@|$)/.test(base)) {
    findings.push(warning('image/base-pinned', {
      ...at(ctx, 'baseImage', show(base)),
      why: 'the Docker Hub deepspeed/deepspeed images are not built by DeepSpeed\'s CI and ship old torch and DeepSpeed versions',
      fix: 'Use BaseImage.pytorch() or BaseImage.nvidiaCuda() and set deepspeedVersion.',
    }));
  }
  if (!isImageReference(ctx.image.imageRef)) {
    findings.push(error('image/ref-pinned', {
      ...at(ctx, 'imageRef', show(ctx.image.imageRef)),
      why: 'docker build -t and the container runtime parse it as [registry/]repository[:tag][@digest] with a lowercase repository and no spaces, so the build cannot tag the image and the kubelet fails every pod with InvalidImageName',
      fix: 'Write the reference as the registry shows it, e.g. \'registry.example.com/team/train:v1\'.',
    }));
  } else if (imageTag(ctx.image.imageRef) === 'latest') {
    findings.push(error('image/ref-pinned', {
      ...at(ctx, 'imageRef', show(ctx.image.imageRef)),
      why: 'the kubelet pulls `latest` again whenever a pod starts, so the launcher and the workers of one job can run different builds',
      fix: 'Tag the image, e.g. \'registry.example.com/train:v1\' or the git commit of the code.',
    }));
  }
  return findings;
};

/** Every Python package has an exact version and a plain name. */
const pinnedPipPackages: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  const versions: Array<[string, string]> = [
    ['deepspeedVersion', image.deepspeedVersion ?? ''],
    ['mpi4pyVersion', image.mpi4pyVersion],
    ...(image.torch ? [['torch.version', image.torch.version] as [string, string]] : []),
    ...(image.torch?.torchvisionVersion !== undefined ? [['torch.torchvisionVersion', image.torch.torchvisionVersion] as [string, string]] : []),
    ...Object.entries(image.pipPackages).map(([name, version]) => [`pipPackages.${name}`, version] as [string, string]),
  ];
  const findings: Finding[] = [];
  for (const name of Object.keys(image.pipPackages)) {
    if (!PIP_NAME.test(name)) {
      findings.push(error('image/pip-packages', {
        ...at(ctx, 'pipPackages', show(name)),
        why: 'pip would not read it as a single project name',
        fix: 'Use the project name as on PyPI, e.g. \'pillow\', without extras or version specifiers.',
      }));
    } else if (OWN_PROPS[name.toLowerCase()]) {
      findings.push(error('image/pip-packages', {
        ...at(ctx, `pipPackages.${name}`, show(image.pipPackages[name])),
        why: `${name} is installed by the recipe itself, in the order torch, mpi4py, DeepSpeed`,
        fix: `Remove it from pipPackages and set ${OWN_PROPS[name.toLowerCase()]}.`,
      }));
    }
  }
  for (const [field, version] of versions) {
    if (!EXACT_VERSION.test(version)) {
      findings.push(error('image/pip-pinned', {
        ...at(ctx, field, show(version)),
        why: 'pip would install whatever matches when the image is built, so rebuilding the same recipe changes the image',
        fix: 'Set an exact version such as \'3.9.2\'.',
      }));
    }
  }
  return findings;
};

/** A base image without torch needs `torch`. */
const torchPresent: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  if (image.torch || image.baseImage.torch) return [];
  return [error('image/torch', {
    ...at(ctx, 'torch', show(undefined)),
    why: `DeepSpeed needs torch and the base image ${image.baseImage.reference} does not ship it`,
    fix: 'Set torch: { version: \'2.4.1\', cudaVersion: \'12.4\' }, or use BaseImage.pytorch().',
  })];
};

/** nvcc and torch must agree on CUDA, as DeepSpeed's op builder checks before compiling. */
const cudaMatchesTorch: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  const base = image.baseImage;
  const torch = image.torch ?? base.torch;
  if (!torch || base.flavor !== CudaImageFlavor.DEVEL) return [];
  const system = majorMinor(base.cudaVersion);
  const built = majorMinor(torch.cudaVersion);
  if (system === built) return [];
  const major = system.split('.')[0];
  const tolerated = major === built.split('.')[0] && (CUDA_MINOR_MISMATCH_OK[major] ?? []).includes(system)
    && (CUDA_MINOR_MISMATCH_OK[major] ?? []).includes(built);
  if (tolerated) return [];
  return [error('image/cuda-match', {
    ...at(ctx, image.torch ? 'torch.cudaVersion' : 'baseImage', `${show(torch.cudaVersion)} but the base image's CUDA toolkit is ${show(base.cudaVersion)}`),
    why: `DeepSpeed's op builder refuses to compile ops ("Installed CUDA version ${system} does not match the version torch was compiled with ${built}"), so FusedAdam and the other CUDA ops fail`,
    fix: `Use torch wheels built for CUDA ${system} (torch.cudaVersion: '${system}'), or a base image with CUDA ${built}.`,
  })];
};

/** CUDA ops need nvcc, which `-runtime` images lack. */
const opsNeedToolkit: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  if (image.baseImage.flavor === CudaImageFlavor.DEVEL) return [];
  const reference = show(image.baseImage.reference);
  if (image.prebuiltOps.length > 0) {
    return [error('image/ops-toolkit', {
      ...at(ctx, 'prebuiltOps', show(image.prebuiltOps)),
      why: `compiling DeepSpeed ops needs nvcc, which the runtime base image ${reference} lacks, so the image build fails`,
      fix: 'Use the -devel variant of the base image (flavor: CudaImageFlavor.DEVEL).',
    })];
  }
  return [warning('image/ops-toolkit', {
    ...at(ctx, 'baseImage', reference),
    why: 'DeepSpeed compiles CUDA ops such as FusedAdam (optimizer type Adam) with nvcc at first use, and a runtime image has no nvcc, so such jobs fail at start',
    fix: 'Use the -devel variant of the base image and optionally prebuiltOps, or only use optimizers that need no DeepSpeed op (e.g. params.torch_adam: true).',
  })];
};

/** The source code is pinned and carries no credentials. */
const pinnedSource: ImageRule = (ctx: ImageContext): Finding[] => {
  const source = ctx.image.source;
  if (!source?.gitRepository) return [];
  const findings: Finding[] = [];
  if (!COMMIT.test(source.commit ?? '')) {
    findings.push(error('image/source', {
      ...at(ctx, 'source.commit', show(source.commit)),
      why: 'branches and tags move, so rebuilding the same recipe would check out different code',
      fix: 'Pin a commit id, e.g. \'0e0e2ef307dd3d0298b96c4bffea37f6701aee3e\'.',
    }));
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(source.gitRepository)) {
    findings.push(error('image/source', {
      ...at(ctx, 'source.gitRepository', '<a URL with credentials>'),
      why: 'the URL would be stored in the image\'s build history, where everyone who can pull the image can read it',
      fix: 'Use a public URL, or build from a local checkout with SourceCode.fromBuildContext().',
    }));
  }
  return findings;
};

/** Paths in the image are absolute, or resolve against a working directory. */
const imagePaths: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  const findings: Finding[] = [];
  const absolute: Array<[string, string | undefined]> = [
    ['workingDirectory', image.workingDirectory],
    ['source.destination', image.source?.destination],
  ];
  for (const [field, value] of absolute) {
    if (value !== undefined && !value.startsWith('/')) {
      findings.push(error('image/paths', {
        ...at(ctx, field, show(value)),
        why: 'Docker resolves it against whatever directory the base image left as WORKDIR',
        fix: `Use an absolute path, e.g. '/${value.replace(/^\.?\/*/, '')}'.`,
      }));
    }
  }
  image.data.forEach((data, i) => {
    if (!data.destination.startsWith('/') && image.workingDirectory === undefined) {
      findings.push(error('image/paths', {
        ...at(ctx, `data[${i}].destination`, show(data.destination)),
        why: 'a relative destination resolves against the working directory, and the recipe has none',
        fix: 'Use an absolute destination, or set workingDirectory (or a source).',
      }));
    }
    if (data._kind === BakedDataKind.BUILD_CONTEXT && image.source?.buildContext === undefined) {
      findings.push(error('image/paths', {
        ...at(ctx, `data[${i}]`, `BakedData.fromBuildContext(${show(data.source)})`),
        why: 'the Dockerfile is built without a local build context, so COPY finds nothing',
        fix: 'Use SourceCode.fromBuildContext() as the source, or BakedData.fromUrl().',
      }));
    }
    if (data._kind === BakedDataKind.URL && !/^[0-9a-f]{64}$/i.test(data.sha256 ?? '')) {
      findings.push(error('image/data', {
        ...at(ctx, `data[${i}].sha256`, show(data.sha256)),
        why: 'without the file\'s checksum a changed download goes unnoticed and the image is not reproducible',
        fix: 'Set the 64-hex-digit SHA-256 of the file (sha256sum <file>).',
      }));
    }
    if (data._kind === BakedDataKind.TORCHVISION && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(data.source)) {
      findings.push(error('image/data', {
        ...at(ctx, `data[${i}]`, `BakedData.torchvisionDataset(${show(data.source)})`),
        why: 'it is not a class name in torchvision.datasets',
        fix: 'Use a class name such as \'CIFAR10\'.',
      }));
    }
  });
  return findings;
};

/** Names that end up in apt, the file system and Kubernetes object names. */
const names: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  const findings: Finding[] = [];
  image.systemPackages.forEach((name, i) => {
    if (!APT_PACKAGE.test(name)) {
      findings.push(error('image/names', {
        ...at(ctx, `systemPackages[${i}]`, show(name)),
        why: 'apt-get would not read it as one package name',
        fix: 'Use a Debian package name such as \'libgl1\', optionally \'name=version\'.',
      }));
    }
  });
  image.cudaArchitectures.forEach((arch, i) => {
    if (!CUDA_ARCH.test(arch)) {
      findings.push(error('image/names', {
        ...at(ctx, `cudaArchitectures[${i}]`, show(arch)),
        why: 'torch\'s extension builder only reads compute capabilities in TORCH_CUDA_ARCH_LIST',
        fix: 'Use compute capabilities such as \'8.0\', \'9.0\' or \'8.6+PTX\'.',
      }));
    }
  });
  for (const name of Object.keys(image.environment)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      findings.push(error('image/names', {
        ...at(ctx, 'environment', show(name)),
        why: 'mpirun cannot forward it to the ranks, which only accept shell variable names',
        fix: 'Use letters, digits and \'_\', not starting with a digit.',
      }));
    }
  }
  if (image.mpi.version !== undefined && !/^\d{4}\.\d+(\.\d+)?$/.test(image.mpi.version)) {
    findings.push(error('image/names', {
      ...at(ctx, 'mpi', `MpiInstallation.intel({ version: ${show(image.mpi.version)} })`),
      why: 'Intel\'s repository names its packages intel-oneapi-mpi-devel-<year>.<minor>, so apt-get finds no such package',
      fix: 'Use a version such as \'2021.14\'.',
    }));
  }
  const badId = (['uid', 'gid'] as const).find(key => !(Number.isInteger(image.user[key]) && image.user[key] >= 0 && image.user[key] <= 2147483647));
  if (!image.user.isRoot && badId !== undefined) {
    findings.push(error('image/names', {
      ...at(ctx, `user ${badId}`, show(image.user[badId])),
      why: `${badId === 'uid' ? 'useradd --uid' : 'groupadd --gid'} takes a whole id from 0 to 2147483647 and fails the build on ${show(image.user[badId])}, and the pods' ${badId === 'uid' ? 'runAsUser' : 'runAsGroup'} must be one too`,
      fix: 'Use an id such as 1000, the MPI Operator base image\'s.',
    }));
  } else if (!image.user.isRoot && (!/^[a-z_][a-z0-9_-]*$/.test(image.user.name) || !image.user.home.startsWith('/'))) {
    findings.push(error('image/names', {
      ...at(ctx, 'user', `ImageUser.nonRoot({ name: ${show(image.user.name)}, home: ${show(image.user.home)} })`),
      why: 'useradd only accepts lowercase login names and an absolute home directory',
      fix: 'Use a name such as \'mpiuser\' and a home such as \'/home/mpiuser\'.',
    }));
  }
  if (!DNS_LABEL.test(image.name) || image.name.length > 50) {
    findings.push(error('image/names', {
      ...at(ctx, 'name', show(image.name)),
      why: 'it names the build directory and, with a suffix, the in-cluster build Job, which Kubernetes requires to be a DNS label',
      fix: 'Use at most 50 lowercase letters, digits and \'-\', e.g. \'cifar10-image\'.',
    }));
  }
  const recipeClass = image.constructor as new (...args: any[]) => typeof image;
  const same = recipesOf(image.node.root)
    .filter(c => c !== image && c instanceof recipeClass && c.name === image.name);
  if (same.length > 0) {
    findings.push(error('image/names', {
      ...at(ctx, 'name', show(image.name)),
      why: `${same[0].node.path} writes its Dockerfile to the same directory, images/${image.name}/`,
      fix: 'Give one of the images another name.',
    }));
  }
  return findings;
};

/** Text that lands in the Dockerfile is a single line. */
const singleLines: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  const texts: Array<[string, string | undefined]> = [
    ['imageRef', image.imageRef],
    ['baseImage', image.baseImage.reference],
    ['workingDirectory', image.workingDirectory],
    ['source', image.source?.gitRepository ?? image.source?.buildContext],
    ['source.destination', image.source?.destination],
    ...Object.entries(image.environment).map(([name, value]) => [`environment.${name}`, value] as [string, string]),
    ...image.data.flatMap((d, i) => [[`data[${i}]`, d.source], [`data[${i}].destination`, d.destination]] as Array<[string, string]>),
  ];
  return texts.filter(([, text]) => text !== undefined && LINE_BREAK.test(text)).map(([field, text]) => error('image/text', {
    ...at(ctx, field, JSON.stringify(text)),
    why: 'a line break would end the Dockerfile instruction and turn the rest into another instruction',
    fix: 'Remove the line break.',
  }));
};

/** sshd must be able to bind its port as the image's user. */
const sshPort: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  const port = image.sshPort;
  if (Number.isInteger(port) && port >= 1 && port <= 65535 && (image.user.isRoot || port >= 1024)) return [];
  const valid = Number.isInteger(port) && port >= 1 && port <= 65535;
  return [error('image/ssh-port', {
    ...at(ctx, 'sshPort', show(port)),
    why: valid
      ? `sshd runs as ${image.user.name} (uid ${image.user.uid}) without capabilities and cannot bind a port below 1024`
      : 'it is not a TCP port',
    fix: 'Use a port from 1024 to 65535, such as the default 2222.',
  })];
};

/** Rules for image recipes (`DeepSpeedTrainingImage`). */
/**
 * DeepSpeed 0.16 compiles its CPU ops for the build host's CPU (`-march=native`, and AVX-512 or
 * AVX2 as that host has them), so a pre-built one crashes with SIGILL on an older CPU (DeepSpeed
 * issue #1886). Legal, and right only when the build host is the cluster's oldest CPU.
 */
const buildHostCpuOps: ImageRule = (ctx: ImageContext): Finding[] => {
  const image = ctx.image;
  const cpuOps = image.prebuiltOps.filter(op => CPU_OPS.includes(op));
  if (cpuOps.length > 0 && !image.allowBuildHostCpuOps) {
    return [warning('image/build-host-cpu-ops', {
      ...at(ctx, 'prebuiltOps', show(cpuOps)),
      why: 'DeepSpeed 0.16 compiles CPU ops with -march=native and the SIMD width (AVX-512, AVX2) of the machine that builds the image, so on a node with an older CPU they crash with SIGILL (illegal instruction, DeepSpeed issue #1886)',
      fix: 'Remove them from prebuiltOps (they then compile at first use on each node, for its CPU), or build the image on the oldest CPU generation of the training nodes (InClusterImageBuild nodeSelector) and set allowBuildHostCpuOps: true.',
    })];
  }
  if (cpuOps.length === 0 && image.allowBuildHostCpuOps) {
    return [warning('image/build-host-cpu-ops', {
      ...at(ctx, 'allowBuildHostCpuOps', 'true'),
      why: 'prebuiltOps lists no CPU op (CPU_ADAM, CPU_ADAGRAD, CPU_LION, AIO), so the setting does nothing',
      fix: 'Remove allowBuildHostCpuOps, or list the CPU ops to pre-build.',
    })];
  }
  return [];
};

export const IMAGE_RULES: ImageRule[] = [
  pinnedImages, pinnedPipPackages, torchPresent, cudaMatchesTorch, opsNeedToolkit, pinnedSource,
  imagePaths, names, singleLines, sshPort, buildHostCpuOps,
];
