import { JobRule } from './context';
import { JobFacts, mainContainerOf, podOf, podSpecPath, specOf } from './facts';
import { error, Finding, plural, show, warning } from './finding';
import { gpuCount, mountPaths, workerSshPort, worldSizeTerms } from './manifest';
import { OPERATOR_HOSTFILE } from '../mpirun';

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
  const typed = ctx.props.workers.slotsPerWorker === 0;
  return [error('launch/no-slots', {
    path: ctx.path,
    field: typed ? 'workers.slotsPerWorker' : 'spec.slotsPerWorker',
    value: '0',
    why: `${ctx.operator.name} writes every host into the hostfile with 0 slots, so mpirun has nowhere to start a rank`,
    fix: typed ? 'Set workers.slotsPerWorker to 1 or more, or remove it to use the GPU count.' : 'Remove the JSON patch; the job sets slotsPerWorker from workers.slotsPerWorker or the GPU count.',
  })];
};

const PROCESS_COUNT_FLAGS = ['-np', '--np', '-n', '--n', '-c'];

/** `mpirun -np` must equal the slots of the hostfile the operator writes. */
const processCount: JobRule = (ctx: JobFacts): Finding[] => {
  const options = ctx.launch.mpirunOptions;
  const index = options?.findIndex(word => PROCESS_COUNT_FLAGS.includes(word)) ?? -1;
  if (options === undefined || index < 0) return [];
  const flag = options[index];
  const given = options[index + 1];
  const expected = ctx.launch.worldSize;
  // Without workers or slots, or with a count of them that is not whole, the operator and slot rules already explain the problem.
  if (typeof ctx.launch.slotsPerWorker !== 'number' || expected <= 0 || !Number.isInteger(expected) || given === String(expected)) return [];
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

/**
 * One rank drives one GPU: fewer slots leave GPUs idle (legal, a warning), and more fail, since
 * DeepSpeed calls set_device(local_rank) and local ranks beyond the pod's GPUs have no device.
 */
const slotsMatchGpus: JobRule = (ctx: JobFacts): Finding[] => {
  const slots = ctx.launch.slotsPerWorker;
  const gpuName = ctx.launch.gpuResourceName;
  const workerGpus = gpuCount(mainContainerOf(podOf(ctx, 'Worker')), gpuName);
  const slotsGiven = ctx.props.workers.slotsPerWorker !== undefined;
  const findings: Finding[] = [];
  const invalidOrdinal = (gap: number, gpus: number, where: string) =>
    `DeepSpeed calls set_device(local_rank) on every rank, so ${plural(gap, 'rank')} ${where} ${gap === 1 ? 'asks' : 'ask'} for a GPU beyond the ${plural(gpus, 'GPU')} there and ${gap === 1 ? 'fails' : 'fail'} with "invalid device ordinal"`;
  // Slots below 1 are reported by props/whole-numbers or launch/no-slots.
  if (!(Number.isInteger(slots) && slots >= 1)) return [];
  if (podOf(ctx, 'Worker') && Number.isInteger(workerGpus) && workerGpus > 0 && workerGpus !== slots) {
    const gap = Math.abs(workerGpus - slots);
    const text = {
      path: ctx.path,
      field: 'workers.gpusPerWorker',
      value: `${workerGpus} but slotsPerWorker is ${slots}`,
      why: slots < workerGpus ? `${plural(gap, 'GPU')} per worker would sit idle` : invalidOrdinal(gap, workerGpus, 'per worker'),
      fix: slotsGiven ? `Remove workers.slotsPerWorker (it defaults to the GPU count) or set it to ${workerGpus}.` : `Set workers.slotsPerWorker to ${workerGpus}.`,
    };
    findings.push(slots < workerGpus ? warning('launch/slots-match-gpus', text) : error('launch/slots-match-gpus', text));
  }
  const launcherGpuCount = gpuCount(mainContainerOf(podOf(ctx, 'Launcher')), gpuName);
  const launcherNeedsGpus = launcherGpuCount > 0 || workerGpus > 0;
  // A launcher that takes the workers' GPU count shares their mistake: one message, the workers'.
  const sameAsWorkers = findings.length > 0 && ctx.props.launcher?.gpus === undefined && launcherGpuCount === workerGpus;
  // A launcher.gpus that is not a whole number is reported by props/whole-numbers.
  const launcherGpusInvalid = ctx.props.launcher?.gpus !== undefined && !Number.isInteger(ctx.props.launcher.gpus);
  if (ctx.launch.launcherHostsRanks && launcherNeedsGpus && !sameAsWorkers && !launcherGpusInvalid && Number.isInteger(launcherGpuCount) && launcherGpuCount !== slots) {
    const gap = Math.abs(launcherGpuCount - slots);
    const text = {
      path: ctx.path,
      field: 'launcher.gpus',
      value: `${launcherGpuCount} but slotsPerWorker is ${slots}`,
      why: slots < launcherGpuCount
        ? `the launcher hosts slotsPerWorker ranks, so ${plural(gap, 'GPU')} on it would sit idle`
        : launcherGpuCount === 0
          ? `the launcher hosts slotsPerWorker ranks, and DeepSpeed calls set_device(local_rank) on each, so the ${plural(gap, 'rank')} on it find no GPU and fail`
          : `the launcher hosts slotsPerWorker ranks, and ${invalidOrdinal(gap, launcherGpuCount, 'on it')}`,
      fix: ctx.props.launcher?.gpus !== undefined ? `Set launcher.gpus to ${slots} or remove it (it defaults to workers.gpusPerWorker).` : `Set launcher.gpus to ${slots}.`,
    };
    findings.push(slots < launcherGpuCount ? warning('launch/slots-match-gpus', text) : error('launch/slots-match-gpus', text));
  }
  return findings;
};

// Options one launcher family has and the other rejects as unknown, compared without leading dashes.
const OPEN_MPI_ONLY = ['x', 'mca', 'allow-run-as-root', 'oversubscribe', 'npernode'];
const HYDRA_ONLY = ['genv', 'genvlist', 'genvall', 'genvnone', 'f', 'envlist'];

/** Intel MPI and MPICH (Hydra) and Open MPI each reject the other's options. */
const mpirunSyntax: JobRule = (ctx: JobFacts): Finding[] => {
  const options = ctx.launch.mpirunOptions;
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
  if (!ctx.launch.usesDeepSpeedRunner) return [];
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
  const options = ctx.launch.mpirunOptions;
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
  if (!ctx.launch.program.includes('--deepspeed_mpi')) return [];
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
  const program = ctx.launch.program;
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

/** A flag the job computes: the flags that set it, what it sets, what a second one does, and the fix. */
interface ComputedFlag {
  readonly flags: string[];
  readonly sets: string;
  readonly repeated: string;
  readonly fix: string;
}

const COMPUTED_COUNT = 'the process count, which the job computes from the hostfile (workers × slotsPerWorker)';
const COMPUTED_HOSTS = 'the hosts, which the job takes from the MPI Operator\'s hostfile';
const COMPUTED_ENV = 'the forwarded variables, which the job computes from env and image.forwardedImageEnv';
const COMPUTED_WDIR = 'the working directory, which image.workingDirectory sets';
const ENV_FIX = 'Remove it from extraArgs and set the variable in env: the job sets it on the launcher and forwards it to every rank.';

const OPEN_MPI_COMPUTED: ComputedFlag[] = [
  { flags: ['-np', '--np', '-n', '--n', '-c'], sets: COMPUTED_COUNT, repeated: 'mpirun silently takes the last one, so the world size no longer matches the hostfile', fix: 'Remove it from extraArgs: change workers.replicas or workers.slotsPerWorker instead.' },
  { flags: ['--hostfile', '-hostfile', '--machinefile', '-machinefile', '--default-hostfile', '-H', '--host', '-host'], sets: COMPUTED_HOSTS, repeated: 'mpirun refuses a second host source ("Only one hostfile can be specified") or places ranks where the operator started no worker', fix: 'Remove it from extraArgs: the MPI Operator writes the hostfile from the workers.' },
  { flags: ['-N', '--npernode', '-npernode', '--npersocket', '-npersocket'], sets: 'the ranks per host, which the job sets through the hostfile\'s slots (workers.slotsPerWorker)', repeated: 'mpirun then places that many ranks on each host whatever its slots, so the ranks no longer match the GPUs of each pod or mpirun refuses the mapping', fix: 'Remove it from extraArgs: change workers.slotsPerWorker instead.' },
  { flags: ['-x'], sets: COMPUTED_ENV, repeated: 'the variable bypasses env, where the job and its checks see what every rank gets', fix: ENV_FIX },
  { flags: ['--bind-to', '-bind-to'], sets: 'the binding, which mpirun.bindTo sets', repeated: 'mpirun stops with "Conflicting directives for binding policy"', fix: 'Remove it from extraArgs and set mpirun.bindTo instead.' },
  { flags: ['--map-by', '-map-by'], sets: 'the mapping, which mpirun.mapBy sets', repeated: 'mpirun stops with "Conflicting directives for mapping policy"', fix: 'Remove it from extraArgs and set mpirun.mapBy instead.' },
  { flags: ['--wdir', '-wdir', '--wd', '-wd'], sets: COMPUTED_WDIR, repeated: 'mpirun takes the last one, so ranks may start elsewhere than the containers\' working directory', fix: 'Remove it from extraArgs and declare image.workingDirectory instead.' },
  { flags: ['--mca', '-mca', '--gmca', '-gmca'], sets: 'an MCA parameter, which mpirun.mcaParameters sets', repeated: 'a parameter the job sets too (plm_rsh_args) is given twice and mpirun keeps one of them', fix: 'Remove it from extraArgs and put it in mpirun.mcaParameters instead.' },
];
const HYDRA_COMPUTED: ComputedFlag[] = [
  { flags: ['-n', '-np'], sets: COMPUTED_COUNT, repeated: 'Hydra takes the last one, so the world size no longer matches the hostfile', fix: 'Remove it from extraArgs: change workers.replicas or workers.slotsPerWorker instead.' },
  { flags: ['-ppn', '-perhost'], sets: 'the ranks per host, which the job sets to slotsPerWorker', repeated: 'Hydra takes the last one, so the ranks no longer fill the hostfile\'s slots', fix: 'Remove it from extraArgs: change workers.slotsPerWorker instead.' },
  { flags: ['-f', '-hostfile', '-machinefile', '-machine', '-hosts', '-host'], sets: COMPUTED_HOSTS, repeated: 'Hydra takes one host source, so ranks may go where the operator started no worker', fix: 'Remove it from extraArgs: the MPI Operator writes the hostfile from the workers.' },
  { flags: ['-genvlist', '-envlist', '-genv', '-env', '-genvall', '-genvnone'], sets: COMPUTED_ENV, repeated: 'the variables bypass env, where the job and its checks see what every rank gets', fix: ENV_FIX },
  { flags: ['-wdir', '-dir'], sets: COMPUTED_WDIR, repeated: 'Hydra takes the last one, so ranks may start elsewhere than the containers\' working directory', fix: 'Remove it from extraArgs and declare image.workingDirectory instead.' },
];

/** `mpirun.extraArgs` must not repeat the flags the job computes from the hostfile and the typed options. */
const extraArgs: JobRule = (ctx: JobFacts): Finding[] => {
  const given = ctx.props.mpirun?.extraArgs ?? [];
  const computed = ['Intel', 'MPICH'].includes(ctx.launch.implementation) ? HYDRA_COMPUTED : OPEN_MPI_COMPUTED;
  const launcher = ctx.launch.implementation === 'OpenMPI' ? 'mpirun' : 'Hydra\'s mpiexec';
  // extraArgs go right before the program: a first word that is no option would be taken as the program.
  if (given.length > 0 && !given[0].startsWith('-')) {
    return [error('launch/extra-args', {
      path: ctx.path,
      field: 'mpirun.extraArgs[0]',
      value: show(given[0]),
      why: `the job passes extraArgs after its own options and before the Python program, and ${launcher} takes the first word that is not an option as the program to run, so every rank would run ${show(given[0])} with the interpreter and script as its arguments`,
      fix: 'Keep only options (and their values) in extraArgs; the program is script and args.',
    })];
  }
  const blank = given.findIndex(word => word.startsWith('-') && /\s/.test(word.trim()));
  if (blank >= 0) {
    const words = given[blank].trim().split(/\s+/);
    return [error('launch/extra-args', {
      path: ctx.path,
      field: `mpirun.extraArgs[${blank}]`,
      value: show(given[blank]),
      why: `no shell splits the launcher's command, so ${launcher} receives it as one argument, an option it does not know, and stops before starting any rank`,
      fix: `Give each word as its own entry: ${words.map(w => `'${w}'`).join(', ')}.`,
    })];
  }
  return given.flatMap((word, index) => {
    const flag = word.includes('=') ? word.slice(0, word.indexOf('=')) : word;
    const family = computed.find(c => c.flags.includes(flag));
    if (!family) return [];
    return [error('launch/extra-args', {
      path: ctx.path,
      field: `mpirun.extraArgs[${index}]`,
      value: show(word),
      why: `it sets ${family.sets}, and ${family.repeated}`,
      fix: family.fix,
    })];
  });
};

/** MCA parameter names are letters, digits and '_'; plm_rsh_args replaces the job's ssh port. */
const mcaParameters: JobRule = (ctx: JobFacts): Finding[] => {
  if (ctx.launch.implementation !== 'OpenMPI') return [];
  const given = ctx.props.mpirun?.mcaParameters ?? {};
  const findings: Finding[] = Object.keys(given).filter(name => !/^[A-Za-z0-9_]+$/.test(name)).map(name => error('launch/mca-parameters', {
    path: ctx.path,
    field: `mpirun.mcaParameters key`,
    value: show(name),
    why: 'Open MPI names its parameters with letters, digits and \'_\' (framework_component_name, e.g. \'btl_tcp_if_include\') and skips a --mca name it does not know without a word, so the setting would be lost',
    fix: `Give the parameter's name alone, e.g. '${name.replace(/^-+/, '').split(/[\s=]/)[0] || 'btl'}', and its value as the entry's value.`,
  }));
  const rsh = given.plm_rsh_args;
  if (rsh !== undefined) {
    const words = rsh.trim().split(/\s+/);
    const portAt = words.lastIndexOf('-p');
    const port = portAt >= 0 ? words[portAt + 1] : (words.find(w => /^-p[0-9]+$/.test(w))?.slice(2) ?? '22');
    if (port !== String(ctx.image.sshPort)) {
      findings.push(error('launch/mca-parameters', {
        path: ctx.path,
        field: 'mpirun.mcaParameters.plm_rsh_args',
        value: show(rsh),
        why: `it replaces the ssh options the job passes ('-p ${ctx.image.sshPort} -o ConnectionAttempts=10'), so mpirun's ssh dials port ${port}, where the workers' sshd (image.sshPort ${ctx.image.sshPort}) does not listen, and every connection is refused`,
        fix: `Add -p ${ctx.image.sshPort} to it, or remove plm_rsh_args to keep the job's.`,
      }));
    }
  }
  return findings;
};

/** Launchers that are not MPI's: the job would hand them mpirun's options. */
const NOT_MPI_LAUNCHERS = ['deepspeed', 'torchrun', 'python', 'python3', 'accelerate'];

/** `mpirun.executable` receives mpirun's options: it must be an MPI launcher. */
const mpirunExecutable: JobRule = (ctx: JobFacts): Finding[] => {
  const executable = ctx.props.mpirun?.executable;
  if (executable === undefined) return [];
  const base = executable.slice(executable.lastIndexOf('/') + 1);
  if (!NOT_MPI_LAUNCHERS.includes(base)) return [];
  const flags = ctx.launch.implementation === 'OpenMPI' ? '-np, --hostfile, --bind-to' : '-n, -ppn, -f';
  return [error('launch/mpirun-executable', {
    path: ctx.path,
    field: 'mpirun.executable',
    value: show(executable),
    why: `the job passes it mpirun's options (${flags}, ...) before the program, which ${base} does not take: it exits with a usage error ("unrecognized arguments") before any rank starts`,
    fix: base === 'deepspeed'
      ? 'Remove mpirun.executable: the job starts the ranks with mpirun, and DeepSpeed finds them through MPI by itself.'
      : 'Set mpirun.executable to the MPI launcher of the image (e.g. /opt/openmpi/bin/mpirun), or remove it for mpirun on the PATH.',
  })];
};

/** Binding and mapping policies Open MPI 4 and 5 know (`--bind-to`, `--map-by`), before any ':' modifiers. */
const BIND_POLICIES = ['none', 'hwthread', 'core', 'l1cache', 'l2cache', 'l3cache', 'socket', 'package', 'numa', 'board', 'cpu-list'];
const MAP_POLICIES = ['slot', 'hwthread', 'core', 'l1cache', 'l2cache', 'l3cache', 'socket', 'package', 'numa', 'board', 'node', 'seq', 'dist', 'ppr', 'pe-list', 'rankfile'];

/** mpirun rejects a binding or mapping policy it does not know; Hydra ignores both options. */
const bindingPolicies: JobRule = (ctx: JobFacts): Finding[] => {
  const options = ctx.props.mpirun ?? {};
  const given: Array<[string, string | undefined, string[], string]> = [
    ['mpirun.bindTo', options.bindTo, BIND_POLICIES, '--bind-to'],
    ['mpirun.mapBy', options.mapBy, MAP_POLICIES, '--map-by'],
  ];
  return given.flatMap(([field, value, known, flag]) => {
    if (value === undefined || ctx.launch.implementation !== 'OpenMPI') return [];
    const policy = value.split(':')[0].toLowerCase();
    if (known.includes(policy)) return [];
    return [error('launch/binding-policy', {
      path: ctx.path,
      field,
      value: show(value),
      why: `Open MPI's mpirun knows no ${flag} policy ${show(value.split(':')[0])} and stops before starting any rank`,
      fix: `Use one of ${known.map(k => `'${k}'`).join(', ')} (with ':' modifiers if needed), or remove ${field} for the default.`,
    })];
  });
};

/** `ppr:N:node` fixes the ranks per host, which the hostfile's slots already fix. */
const pprPerNode: JobRule = (ctx: JobFacts): Finding[] => {
  const mapBy = ctx.props.mpirun?.mapBy;
  const match = mapBy === undefined || ctx.launch.implementation !== 'OpenMPI' ? null : /^ppr:([0-9]+):node(:|$)/i.exec(mapBy);
  const slots = ctx.launch.slotsPerWorker;
  if (!match || !Number.isInteger(slots) || slots < 1) return [];
  const perNode = Number(match[1]);
  const gpus = gpuCount(mainContainerOf(podOf(ctx, 'Worker')), ctx.launch.gpuResourceName);
  if (perNode === slots || (perNode > slots && !(gpus > 0))) return [];
  return [error('launch/binding-policy', {
    path: ctx.path,
    field: 'mpirun.mapBy',
    value: show(mapBy),
    why: perNode < slots
      ? `it places ${perNode} ranks on each of the ${plural(ctx.launch.hosts, 'host')}, fewer than the ${ctx.launch.worldSize} ranks the job starts (${worldSizeTerms(ctx)}), and mpirun stops because the ppr cannot hold them`
      : `it places ${perNode} ranks on a host that has ${plural(gpus, 'GPU')} (slotsPerWorker ${slots}), and DeepSpeed calls set_device(local_rank), so the ranks beyond them fail with "invalid device ordinal"`,
    fix: `Remove mpirun.mapBy (the hostfile already gives each host ${plural(slots, 'slot')}), or change workers.slotsPerWorker instead.`,
  })];
};

/** Hydra (Intel MPI, MPICH) has no MCA parameters and the job passes it no binding flags: these options would be dropped. */
const hydraIgnoredOptions: JobRule = (ctx: JobFacts): Finding[] => {
  if (!['Intel', 'MPICH'].includes(ctx.launch.implementation)) return [];
  const options = ctx.props.mpirun ?? {};
  const name = ctx.launch.implementation === 'Intel' ? 'Intel MPI' : 'MPICH';
  const ignored: Array<[string, unknown, string]> = [
    ['mpirun.mcaParameters', Object.keys(options.mcaParameters ?? {}).length > 0 ? options.mcaParameters : undefined,
      'MCA parameters are Open MPI\'s; Hydra has none'],
    ['mpirun.bindTo', options.bindTo, 'the job passes --bind-to to Open MPI only; Hydra binds with -bind-to or I_MPI_PIN'],
    ['mpirun.mapBy', options.mapBy, 'the job passes --map-by to Open MPI only; Hydra maps with -map-by or -ppn'],
  ];
  return ignored.filter(([, value]) => value !== undefined).map(([field, value, why]) => error('launch/hydra-ignored-options', {
    path: ctx.path,
    field,
    value: show(value),
    why: `the image's MPI is ${name}, whose mpiexec (Hydra) the job starts without it: ${why}, so the setting would be silently dropped`,
    fix: `Remove ${field}, or pass Hydra's own flags in mpirun.extraArgs (environment variables such as I_MPI_PIN_DOMAIN go in env).`,
  }));
};

/**
 * The wait step's deadline: whole seconds of 1 or more (it is a command-line number), and
 * shorter than the launcher Job's activeDeadlineSeconds, or the Job is killed first and the
 * failure never names the hosts that did not come up.
 */
const workerWaitTimeout: JobRule = (ctx: JobFacts): Finding[] => {
  const { enabled, timeoutSeconds: seconds } = ctx.launch.waitForWorkers;
  if (!enabled && ctx.props.workerWaitTimeout !== undefined && ctx.props.waitForWorkers === false) {
    return [error('launch/worker-wait-timeout', {
      path: ctx.path,
      field: 'workerWaitTimeout',
      value: `${ctx.props.workerWaitTimeout.toSeconds({ integral: false })} s with waitForWorkers: false`,
      why: 'it is the deadline of the launcher\'s wait for its workers, which waitForWorkers: false turns off, so it would be silently ignored',
      fix: 'Remove workerWaitTimeout, or remove waitForWorkers: false.',
    })];
  }
  if (!enabled) return [];
  if (!Number.isInteger(seconds) || seconds < 1) {
    return [error('launch/worker-wait-timeout', {
      path: ctx.path,
      field: 'workerWaitTimeout',
      value: `${seconds} s`,
      why: 'the launcher\'s wait for its workers takes its deadline in whole seconds of 1 or more',
      fix: `Set workerWaitTimeout to whole seconds, e.g. Duration.seconds(${Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : 900}), or remove it for the default of 15 minutes.`,
    })];
  }
  const deadline = ctx.props.activeDeadline?.toSeconds({ integral: false });
  // A malformed activeDeadline is operator/run-policy-numbers' to report.
  if (deadline === undefined || !Number.isInteger(deadline) || deadline < 1 || seconds < deadline) return [];
  return [warning('launch/worker-wait-timeout', {
    path: ctx.path,
    field: 'workerWaitTimeout',
    value: `${seconds} s but activeDeadline is ${deadline} s`,
    why: 'Kubernetes stops the launcher Job at its activeDeadlineSeconds before the wait gives up, so the job fails without naming the workers that never came up',
    fix: 'Set workerWaitTimeout well below activeDeadline.',
  })];
};

/** The wait step must read the operator's hostfile and the port the workers' sshd listens on, or it waits for nothing, or until its deadline. */
const workerWaitTarget: JobRule = (ctx: JobFacts): Finding[] => {
  const wait = ctx.launch.wait;
  if (!wait) return [];
  const field = `${launcherCommandPath(ctx)} wait step`;
  if (wait.hostfile !== OPERATOR_HOSTFILE) {
    return [error('launch/worker-wait', {
      path: ctx.path,
      field: `${field} --hostfile`,
      value: show(wait.hostfile),
      why: `${ctx.operator.name} mounts the hostfile at ${OPERATOR_HOSTFILE}, so the launcher cannot read the hosts to wait for and fails before mpirun`,
      fix: `Remove the JSON patch of the launcher command, or pass --hostfile ${OPERATOR_HOSTFILE}.`,
    })];
  }
  const port = workerSshPort(podOf(ctx, 'Worker'));
  if (port === undefined || String(port) === wait.port) return [];
  return [error('launch/worker-wait', {
    path: ctx.path,
    field: `${field} --port`,
    value: show(wait.port),
    why: `the workers' sshd listens on ${port}, so the launcher waits for a port that never opens and fails at its deadline`,
    fix: `Remove the JSON patch of the launcher command, or pass --port ${port}.`,
  })];
};

/** Rules that keep the launch command, the hostfile, the GPUs and the image user consistent. */
export const LAUNCH_RULES: JobRule[] = [
  launcherGpus, noSlots, processCount, slotsMatchGpus, mpirunSyntax, deepspeedRunner,
  sshAuthMountPath, allowRunAsRoot, runAsUser, deepspeedMpiFlag, deepspeedConfigPath, extraArgs, mcaParameters, mpirunExecutable, bindingPolicies, pprPerNode,
  hydraIgnoredOptions, workerWaitTimeout, workerWaitTarget,
];
