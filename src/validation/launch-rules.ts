import { JobRule } from './context';
import { JobFacts, mainContainerOf, podOf, podSpecPath, specOf } from './facts';
import { error, Finding, plural, show, warning } from './finding';
import { gpuCount, mountPaths, mpirunOptions, programArgv, usesDeepSpeedRunner, worldSizeTerms } from './manifest';

/** The manifest path of the launcher's command, for messages. */
function launcherCommandPath(ctx: JobFacts): string {
  const launcher = podOf(ctx, 'Launcher');
  return launcher ? `${podSpecPath(launcher)}.containers[0].command` : 'launcher command';
}

/** The MPI implementation the operator configures the launcher for (CRD default OpenMPI). */
function implementation(ctx: JobFacts): string {
  return ctx.launch.implementation;
}

/** The operator blanks NVIDIA_VISIBLE_DEVICES on a launcher that does not run as a worker. */
const launcherGpus: JobRule = (ctx: JobFacts): Finding[] => {
  const gpus = gpuCount(mainContainerOf(podOf(ctx, 'Launcher')), ctx.launch.gpuResourceName);
  if (ctx.launch.launcherHostsRanks || gpus === 0) return [];
  return [error('launch/launcher-gpus', {
    path: ctx.path,
    field: 'launcher.gpus',
    value: show(gpus),
    why: ctx.operator.kind === 'MPIJob'
      ? 'the MPI Operator hides GPUs from a launcher that does not run as a worker, so they would sit idle'
      : `${ctx.operator.name} lists a launcher that does not run as a node in no hostfile line, so mpirun starts no rank there and they would sit idle`,
    fix: 'Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.',
  })];
};

/** With 0 slots the operator's hostfile has no room for any rank (the operator itself accepts 0). */
const noSlots: JobRule = (ctx: JobFacts): Finding[] => {
  if (ctx.launch.slotsPerWorker !== 0 || ctx.launch.hosts === 0) return [];
  return [error('launch/no-slots', {
    path: ctx.path,
    field: 'spec.slotsPerWorker',
    value: '0',
    why: `${ctx.operator.name} writes every host into the hostfile with 0 slots, so mpirun has nowhere to start a rank`,
    fix: 'Set workers.slotsPerWorker to 1 or more, or remove it to use the GPU count.',
  })];
};

const PROCESS_COUNT_FLAGS = ['-np', '--np', '-n', '--n', '-c'];

/** `mpirun -np` must equal the slots of the hostfile the operator writes. */
const processCount: JobRule = (ctx: JobFacts): Finding[] => {
  const options = mpirunOptions(ctx.launch.argv);
  const index = options?.findIndex(word => PROCESS_COUNT_FLAGS.includes(word)) ?? -1;
  if (options === undefined || index < 0) return [];
  const flag = options[index];
  const given = options[index + 1];
  const expected = ctx.launch.worldSize;
  // Without workers or slots the operator and slot rules already explain the problem.
  if (expected <= 0 || given === String(expected)) return [];
  const count = Number(given);
  const why = !Number.isInteger(count) || count < 1
    ? 'mpirun needs a positive number of ranks'
    : count > expected
      ? `the hostfile ${ctx.operator.name} writes has ${plural(expected, 'slot')} (${worldSizeTerms(ctx)}), so mpirun stops with too few slots`
      : `the hostfile ${ctx.operator.name} writes has ${plural(expected, 'slot')} (${worldSizeTerms(ctx)}), so mpirun would leave ${plural(expected - count, 'slot')} and its GPUs idle`;
  return [error('launch/process-count', {
    path: ctx.path,
    field: `launcher mpirun ${flag}`,
    value: show(given),
    why,
    fix: `Set ${flag} to ${expected}, or leave the launcher command to the job, which computes it.`,
  })];
};

/** One rank drives one GPU: fewer slots leave GPUs idle, more oversubscribe them. */
const slotsMatchGpus: JobRule = (ctx: JobFacts): Finding[] => {
  const slots = ctx.launch.slotsPerWorker;
  const gpuName = ctx.launch.gpuResourceName;
  const workerGpus = gpuCount(mainContainerOf(podOf(ctx, 'Worker')), gpuName);
  const findings: Finding[] = [];
  if (podOf(ctx, 'Worker') && workerGpus > 0 && workerGpus !== slots) {
    const gap = Math.abs(workerGpus - slots);
    findings.push(warning('launch/slots-match-gpus', {
      path: ctx.path,
      field: 'workers.gpusPerWorker',
      value: `${workerGpus} but slotsPerWorker is ${slots}`,
      why: slots < workerGpus
        ? `${plural(gap, 'GPU')} per worker would sit idle`
        : `${plural(gap, 'rank')} per worker would share a GPU`,
      fix: `Remove slotsPerWorker (it defaults to the GPU count) or set it to ${workerGpus}.`,
    }));
  }
  const launcherGpuCount = gpuCount(mainContainerOf(podOf(ctx, 'Launcher')), gpuName);
  const launcherNeedsGpus = launcherGpuCount > 0 || workerGpus > 0;
  if (ctx.launch.launcherHostsRanks && launcherNeedsGpus && launcherGpuCount !== slots) {
    const gap = Math.abs(launcherGpuCount - slots);
    findings.push(warning('launch/slots-match-gpus', {
      path: ctx.path,
      field: 'launcher.gpus',
      value: `${launcherGpuCount} but slotsPerWorker is ${slots}`,
      why: slots < launcherGpuCount
        ? `the launcher hosts slotsPerWorker ranks, so ${plural(gap, 'GPU')} on it would sit idle`
        : launcherGpuCount === 0
          ? `the launcher hosts slotsPerWorker ranks, so ${plural(gap, 'rank')} on it would run without a GPU`
          : `the launcher hosts slotsPerWorker ranks, so ${plural(gap, 'rank')} on it would share a GPU`,
      fix: `Set launcher.gpus to ${slots} or remove it (it defaults to workers.gpusPerWorker).`,
    }));
  }
  return findings;
};

// Options one launcher family has and the other rejects as unknown, compared without leading dashes.
const OPEN_MPI_ONLY = ['x', 'mca', 'allow-run-as-root', 'oversubscribe', 'npernode'];
const HYDRA_ONLY = ['genv', 'genvlist', 'genvall', 'genvnone', 'f', 'envlist'];

/** Intel MPI and MPICH (Hydra) and Open MPI each reject the other's options. */
const mpirunSyntax: JobRule = (ctx: JobFacts): Finding[] => {
  const options = mpirunOptions(ctx.launch.argv);
  const hydra = ['Intel', 'MPICH'].includes(implementation(ctx));
  if (options === undefined || (!hydra && implementation(ctx) !== 'OpenMPI')) return [];
  const foreign = options.filter(word => word.startsWith('-') && (hydra ? OPEN_MPI_ONLY : HYDRA_ONLY).includes(word.replace(/^-+/, '')));
  if (foreign.length === 0) return [];
  const name = implementation(ctx) === 'Intel' ? 'Intel MPI' : implementation(ctx);
  return [error('launch/mpirun-syntax', {
    path: ctx.path,
    field: 'launcher mpirun',
    value: `given ${[...new Set(foreign)].map(show).join(', ')}`,
    why: hydra
      ? `${name}'s mpiexec (Hydra) rejects these Open MPI options`
      : 'Open MPI\'s mpirun rejects these Hydra (Intel MPI, MPICH) options',
    fix: hydra
      ? 'Use Hydra\'s equivalents (-genvlist NAME,... for -x NAME), or declare the image\'s mpiImplementation as MpiImplementation.OPEN_MPI.'
      : 'Use Open MPI\'s equivalents (-x NAME for -genvlist, --hostfile for -f), or declare the image\'s mpiImplementation as INTEL or MPICH.',
  })];
};

/** DeepSpeed's own runner parses only `host slots=N` lines and defaults to another hostfile. */
const deepspeedRunner: JobRule = (ctx: JobFacts): Finding[] => {
  const argv = ctx.launch.argv;
  if (!usesDeepSpeedRunner(argv)) return [];
  if (implementation(ctx) !== 'OpenMPI') {
    return [error('launch/deepspeed-runner', {
      path: ctx.path,
      field: launcherCommandPath(ctx),
      value: show(argv.join(' ')),
      why: `DeepSpeed's runner parses only Open MPI hostfile lines ('host slots=N'), but ${ctx.operator.name} writes 'host:N' lines for ${implementation(ctx)}`,
      fix: 'Start the ranks with mpirun (the job\'s default launcher command), or use an Open MPI image.',
    })];
  }
  if (argv.includes('--hostfile') || argv.includes('-H')) return [];
  return [warning('launch/deepspeed-runner', {
    path: ctx.path,
    field: launcherCommandPath(ctx),
    value: show(argv.join(' ')),
    why: `DeepSpeed's runner reads /job/hostfile unless told otherwise and, finding none, runs every rank on the launcher${ctx.operator.kind === 'MPIJob' ? ', whose GPUs the MPI Operator hides' : ''}`,
    fix: 'Pass --hostfile /etc/mpi/hostfile to deepspeed.',
  })];
};

/** The operator mounts the SSH keys at sshAuthMountPath; ssh and sshd look in the image user's ~/.ssh. */
const sshAuthMountPath: JobRule = (ctx: JobFacts): Finding[] => {
  const user = ctx.image.user;
  const mounted = ctx.launch.sshAuthMountPath;
  if (typeof mounted !== 'string' || mounted === '' || mounted.replace(/\/+$/, '') === user.sshDirectory) return [];
  return [error('launch/ssh-auth-mount-path', {
    path: ctx.path,
    field: ctx.launch.sshAuthMountPathField,
    value: show(mounted),
    why: `the image runs sshd and the ranks as ${user.name} (uid ${user.uid}), whose ssh reads keys from ${user.sshDirectory}, so the launcher cannot reach the workers`,
    fix: `Remove the JSON patch so the job sets ${show(user.sshDirectory)}, or declare the image user that owns ${show(mounted)}.`,
  })];
};

const ALLOW_RUN_AS_ROOT = ['--allow-run-as-root', '-allow-run-as-root'];

/** Whether the launcher sets the variable pair that lets Open MPI run as root without the flag. */
function allowsRootByEnv(ctx: JobFacts): boolean {
  const env: any[] = mainContainerOf(podOf(ctx, 'Launcher'))?.env ?? [];
  const value = (name: string) => env.find(v => v.name === name)?.value;
  return value('OMPI_ALLOW_RUN_AS_ROOT') === '1' && value('OMPI_ALLOW_RUN_AS_ROOT_CONFIRM') === '1';
}

/** Open MPI refuses to run as root without an explicit opt-in; a non-root user needs none. */
const allowRunAsRoot: JobRule = (ctx: JobFacts): Finding[] => {
  const options = mpirunOptions(ctx.launch.argv);
  if (options === undefined || implementation(ctx) !== 'OpenMPI') return [];
  const user = ctx.image.user;
  const flagged = options.some(word => ALLOW_RUN_AS_ROOT.includes(word));
  if (user.isRoot && !flagged && !allowsRootByEnv(ctx)) {
    return [error('launch/allow-run-as-root', {
      path: ctx.path,
      field: 'launcher mpirun',
      value: 'run without --allow-run-as-root',
      why: 'the image runs as root and Open MPI\'s mpirun refuses to start as root without it',
      fix: 'Add --allow-run-as-root (the job adds it for ImageUser.root()), or run the image as a non-root user.',
    })];
  }
  if (!user.isRoot && flagged) {
    return [warning('launch/allow-run-as-root', {
      path: ctx.path,
      field: 'launcher mpirun',
      value: 'given --allow-run-as-root',
      why: `the image runs as ${user.name} (uid ${user.uid}), so the flag does nothing and suggests the image user is declared wrongly`,
      fix: 'Remove --allow-run-as-root, or declare the image user as ImageUser.root().',
    })];
  }
  return [];
};

/** Pods must run as the image's user: its sshd config, home and keys belong to it. */
const runAsUser: JobRule = (ctx: JobFacts): Finding[] => {
  const user = ctx.image.user;
  return ctx.pods.flatMap(placed => {
    const pod = specOf(placed).securityContext ?? {};
    const container = mainContainerOf(placed)?.securityContext ?? {};
    const uid = container.runAsUser ?? pod.runAsUser;
    const nonRoot = container.runAsNonRoot ?? pod.runAsNonRoot;
    const level = container.runAsUser !== undefined ? 'containers[0].securityContext' : 'securityContext';
    const base = podSpecPath(placed);
    if (uid !== undefined && uid !== user.uid) {
      return [error('launch/run-as-user', {
        path: ctx.path,
        field: `${base}.${level}.runAsUser`,
        value: show(uid),
        why: `the image's sshd setup, home directory and SSH keys belong to ${user.name} (uid ${user.uid}), so ssh between the pods fails`,
        fix: `Remove the override, or declare the image user as ${uid === 0 ? 'ImageUser.root()' : `ImageUser.nonRoot({ uid: ${show(uid)} })`}.`,
      })];
    }
    if (nonRoot === true && user.isRoot) {
      const nonRootLevel = container.runAsNonRoot !== undefined ? 'containers[0].securityContext' : 'securityContext';
      return [error('launch/run-as-user', {
        path: ctx.path,
        field: `${base}.${nonRootLevel}.runAsNonRoot`,
        value: 'true',
        why: 'the image runs as root and the kubelet refuses to start a root container that must run as non-root',
        fix: 'Remove runAsNonRoot, or use an image with a non-root user (ImageUser.nonRoot()).',
      })];
    }
    return [];
  });
};

/** Whether DeepSpeed version `version` ('0.16.3', 'v0.13.1') is at least major.minor.patch. */
function versionAtLeast(version: string, wanted: number[]): boolean {
  const parts = version.replace(/^v/, '').split(/[.+-]/).slice(0, 3).map(p => parseInt(p, 10) || 0);
  for (let i = 0; i < wanted.length; i++) {
    if ((parts[i] ?? 0) !== wanted[i]) return (parts[i] ?? 0) > wanted[i];
  }
  return true;
}

/** `--deepspeed_mpi` never did anything, and DeepSpeed 0.13.1 removed it from its arguments. */
const deepspeedMpiFlag: JobRule = (ctx: JobFacts): Finding[] => {
  if (!programArgv(ctx.launch.argv).includes('--deepspeed_mpi')) return [];
  const version = ctx.image.deepspeedVersion;
  const text = {
    path: ctx.path,
    field: 'args',
    value: show('--deepspeed_mpi'),
    fix: 'Remove it: DeepSpeed finds the MPI ranks through mpi4py by itself.',
  };
  if (version !== undefined && versionAtLeast(version, [0, 13, 1])) {
    return [error('launch/deepspeed-mpi-flag', {
      ...text,
      why: `the image has DeepSpeed ${version}, which no longer knows the flag (removed in 0.13.1), so the script's argparse exits with "unrecognized arguments: --deepspeed_mpi" on every rank`,
    })];
  }
  return [warning('launch/deepspeed-mpi-flag', {
    ...text,
    why: version === undefined
      ? 'DeepSpeed 0.13.1 removed the flag, so with a newer DeepSpeed (the image does not declare its version) the script\'s argparse exits with "unrecognized arguments: --deepspeed_mpi"'
      : `the flag does nothing with DeepSpeed ${version} and breaks the script from DeepSpeed 0.13.1 on`,
  })];
};

/** The config file ranks read must be given once, by an absolute path that exists on every rank's pod. */
const deepspeedConfigPath: JobRule = (ctx: JobFacts): Finding[] => {
  const program = programArgv(ctx.launch.argv);
  const paths = program.flatMap((word, i) => word === '--deepspeed_config' ? [program[i + 1] ?? '']
    : word.startsWith('--deepspeed_config=') ? [word.slice('--deepspeed_config='.length)] : []);
  if (paths.length === 0) return [];
  if (paths.length > 1) {
    return [error('launch/deepspeed-config-path', {
      path: ctx.path,
      field: 'args',
      value: `'--deepspeed_config' given ${paths.length} times (${paths.map(p => show(p)).join(', ')})`,
      why: 'the script\'s argparse keeps only the last one, so the other config is silently ignored',
      fix: 'Pass the config once: remove --deepspeed_config from args (the job passes the mounted deepspeedConfig), or set passDeepSpeedConfigArgument: false.',
    })];
  }
  const file = paths[0];
  const missing = 'DeepSpeed fails with "Expected a string path to an existing deepspeed config"';
  if (!file.startsWith('/')) {
    return [error('launch/deepspeed-config-path', {
      path: ctx.path,
      field: 'args --deepspeed_config',
      value: show(file),
      why: `every rank resolves a relative path against its own working directory on its worker pod, where the file is not mounted, and ${missing}`,
      fix: 'Give the config as deepspeedConfig (mounted at /etc/deepspeed/ds_config.json), or use an absolute path on a volume mounted on every worker.',
    })];
  }
  const rankReplicas = ctx.launch.launcherHostsRanks ? ['Launcher', 'Worker'] : ['Worker'];
  const unmounted = rankReplicas.filter(type => podOf(ctx, type)
    && !mountPaths(podOf(ctx, type)).some(dir => file.startsWith(dir.endsWith('/') ? dir : `${dir}/`)));
  if (unmounted.length === 0) return [];
  return [warning('launch/deepspeed-config-path', {
    path: ctx.path,
    field: 'args --deepspeed_config',
    value: show(file),
    why: `no volume is mounted there on the ${unmounted.map(t => t.toLowerCase()).join(' and ')} pods, so unless the image contains the file ${missing}`,
    fix: 'Give the config as deepspeedConfig (mounted on every pod), or mount the file\'s volume with job.addVolume.',
  })];
};

/** Rules that keep the launch command, the hostfile, the GPUs and the image user consistent. */
export const LAUNCH_RULES: JobRule[] = [
  launcherGpus, noSlots, processCount, slotsMatchGpus, mpirunSyntax, deepspeedRunner,
  sshAuthMountPath, allowRunAsRoot, runAsUser, deepspeedMpiFlag, deepspeedConfigPath,
];
