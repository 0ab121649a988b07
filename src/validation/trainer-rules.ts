import type { DeepSpeedTrainJob } from '../train-job';
import { TRAINJOB_ANCESTOR_LABEL } from '../trainer-labels';
import { DEEPSPEED_DISTRIBUTED_RUNTIME } from '../trainer-runtime';
import { CleanPodPolicy, LauncherCreationPolicy } from '../types';
import { JobFacts, mainContainerOf, podOf, specOf } from './facts';
import { error, Finding, plural, show, warning } from './finding';
import { isDns1035Label, isDns1123Subdomain } from './kubernetes-syntax';
import { gpuCount } from './manifest';
import { replicatedJob } from './trainjob-facts';

/** What a Trainer rule sees: the TrainJob construct, the TrainJob and the generated runtime as written. */
export interface TrainJobContext {
  /** Construct path of the job, the prefix of every message. */
  readonly path: string;
  /** The job construct. */
  readonly job: DeepSpeedTrainJob;
  /** The TrainJob as it will be written, escape hatches included. */
  readonly trainJob: any;
  /**
   * The generated TrainingRuntime as it will be written.
   * @default - the job references a runtime it does not generate
   */
  readonly runtime?: any;
  /** The job facts the shared rules read. */
  readonly facts: JobFacts;
}

/** A Trainer rule: returns one finding per problem. */
export type TrainJobRule = (ctx: TrainJobContext) => Finding[];

/** The 4 variables the Trainer's MPI plugin sets on the launcher; its webhook rejects them in `trainer.env` (#3491). */
export const MPI_RESERVED_ENV = [
  'OMPI_MCA_orte_default_hostfile', 'OMPI_MCA_orte_keep_fqdn_hostnames', 'OMPI_MCA_orte_set_default_slots', 'OMPI_MCA_plm_rsh_args',
];
/** JobSet's longest pod name is `<name>-launcher-0-0-<5 random chars>`, a DNS-1035 label of at most 63 characters. */
const LONGEST_POD_SUFFIX = '-launcher-0-0-abcde';
const NAME_LIMIT = 63 - LONGEST_POD_SUFFIX.length;

/** The TrainJob name is an RFC 1035 label (CEL), and JobSet's pod names leave 44 characters for it. */
const jobName: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const name: string = ctx.trainJob.metadata?.name ?? '';
  if (!isDns1035Label(name, 63)) {
    return [error('trainer/job-name', {
      path: ctx.path,
      field: 'metadata.name',
      value: show(name),
      why: 'the TrainJob CRD requires an RFC 1035 label of at most 63 characters (lowercase letters, digits and \'-\', starting with a letter)',
      fix: 'Set metadata.name to a name such as \'cifar10-train\'.',
    })];
  }
  if (name.length <= NAME_LIMIT) return [];
  return [error('trainer/job-name', {
    path: ctx.path,
    field: 'metadata.name',
    value: `${show(name)} (${name.length} characters)`,
    why: `JobSet rejects the JobSet the Trainer builds, because the launcher pod name '${name}${LONGEST_POD_SUFFIX}' would exceed 63 characters; the TrainJob is admitted and only a TrainJobResourcesCreationFailed event tells`,
    fix: `Shorten metadata.name to at most ${NAME_LIMIT} characters.`,
  })];
};

/** The Trainer's CRD accepts OpenMPI only. */
const openMpiOnly: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const implementation = ctx.facts.image.mpiImplementation;
  if (implementation === 'OpenMPI') return [];
  return [error('trainer/openmpi-only', {
    path: ctx.path,
    field: 'image.mpiImplementation',
    value: show(implementation),
    why: 'the Trainer v2.3 MPI plugin supports Open MPI only: its CRD rejects any other mlPolicy.mpi.mpiImplementation',
    fix: 'Use an Open MPI image, or run the job as a DeepSpeedMpiJob (the MPI Operator supports Intel MPI and MPICH).',
  })];
};

/** The plugin owns the OMPI_MCA_* hostfile variables: the webhook rejects them in trainer.env and the plugin overwrites them in a runtime. */
const reservedEnv: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const names = ctx.job.launcher.envNames.filter(name => MPI_RESERVED_ENV.includes(name));
  if (names.length === 0) return [];
  return [error('trainer/reserved-env', {
    path: ctx.path,
    field: 'env',
    value: `setting ${names.map(show).join(', ')}`,
    why: ctx.runtime
      ? 'the Trainer\'s MPI plugin sets these on the launcher itself and overwrites the runtime\'s values'
      : 'the Trainer\'s webhook rejects a TrainJob whose trainer.env sets a variable its MPI plugin reserves',
    fix: 'Remove them; pass Open MPI settings as mpirun.mcaParameters, which the launcher command carries.',
  })];
};

/** With the launcher as a node and no workers, the Trainer still creates one node pod (kubeflow/trainer#3954). */
const launcherOnlyNode: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  if (!ctx.job.runLauncherAsWorker && ctx.job.workers.replicas === 0) {
    return [error('trainer/launcher-only-node', {
      path: ctx.path,
      field: 'workers.replicas',
      value: '0',
      why: 'the TrainJob gets trainer.numNodes 0, so the Trainer creates no node pod and writes a hostfile without hosts, and mpirun has nowhere to start a rank',
      fix: 'Set workers.replicas to 1 or more.',
    })];
  }
  if (!ctx.job.runLauncherAsWorker || ctx.job.workers.replicas !== 0) return [];
  return [error('trainer/launcher-only-node', {
    path: ctx.path,
    field: 'workers.replicas',
    value: '0 with runLauncherAsWorker',
    why: 'the Trainer creates max(numNodes - 1, 1) node pods, so a launcher-only job gets a second host that mpirun -np 1 leaves idle (kubeflow/trainer#3954)',
    fix: 'Set workers.replicas to 1 or more, or run a single-pod job as a DeepSpeedMpiJob.',
  })];
};

/** numProcPerNode 1 is replaced by the GPU count when a node has more than one GPU. */
const slotsFromGpus: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const slots = ctx.facts.launch.slotsPerWorker;
  const gpus = gpuCount(mainContainerOf(podOf(ctx.facts, 'Worker')), ctx.facts.launch.gpuResourceName);
  if (slots !== 1 || gpus <= 1) return [];
  return [error('trainer/slots-from-gpus', {
    path: ctx.path,
    field: 'workers.slotsPerWorker',
    value: `1 with ${plural(gpus, 'GPU')} per worker`,
    why: `the Trainer replaces numProcPerNode 1 by the node's GPU count, so its hostfile lists ${plural(gpus, 'slot')} per host while mpirun -np counts 1: --map-by slot packs the ranks onto the first hosts`,
    fix: `Remove slotsPerWorker (it defaults to the GPU count, ${gpus}), or request one GPU per worker.`,
  })];
};

/** Gang scheduling counts the launcher, which JobSet creates only once the nodes are Ready. */
const gangDependsOn: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  if (!ctx.job.scheduling.gangScheduling || !ctx.job.launcherWaitsForReadyNodes) return [];
  return [error('trainer/gang-depends-on', {
    path: ctx.path,
    field: 'scheduling.gangScheduling',
    value: 'set while the launcher waits for ready nodes (dependsOn)',
    why: 'the Trainer\'s PodGroup minMember counts the launcher pod, which JobSet creates only after every node pod is Ready, and the nodes are held until minMember pods exist: the job deadlocks (the shape of mpi-operator#608)',
    fix: 'Set launcherCreationPolicy: LauncherCreationPolicy.AT_STARTUP so the launcher is created with the nodes (its wait step then holds mpirun until their sshd is up), or drop gangScheduling and queue through scheduling.kueue, which admits all pods at once.',
  })];
};

/** Options of gangScheduling that the Trainer's PodGroup plugins compute themselves. */
const gangOptions: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const gang = ctx.job.scheduling.gangScheduling;
  if (!gang) return [];
  const ignored: Array<[string, unknown, string]> = [];
  if (gang.minAvailable !== undefined) ignored.push(['minAvailable', gang.minAvailable, 'minMember is always every pod of the job (the launcher and the nodes)']);
  if (gang.computeMinResources === false) ignored.push(['computeMinResources', false, 'minResources is always the sum of the pods\' requests']);
  if (gang.priorityClass !== undefined && gang.priorityClass !== ctx.job.scheduling.priorityClassName) {
    ignored.push(['priorityClass', gang.priorityClass, 'the Volcano PodGroup takes its priority from the pods\' priorityClassName']);
  }
  if (gang.scheduleTimeout !== undefined && gang.volcanoQueue !== undefined) {
    ignored.push(['scheduleTimeout', gang.scheduleTimeout.toSeconds({ integral: false }), 'only the coscheduling policy has a timeout']);
  }
  return ignored.map(([option, value, why]) => warning('trainer/gang-options', {
    path: ctx.path,
    field: `scheduling.gangScheduling.${option}`,
    value: show(value),
    why: `the Trainer ignores it: ${why}`,
    fix: `Remove ${option}${option === 'priorityClass' ? ', and set scheduling.priorityClassName' : ''}.`,
  }));
};

/** MPI Operator settings the Trainer has no field for. */
const mpiOperatorOnly: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const props = ctx.job.jobProps;
  const findings: Finding[] = [];
  if (props.cleanPodPolicy !== undefined && props.cleanPodPolicy !== CleanPodPolicy.RUNNING) {
    findings.push(warning('trainer/no-equivalent', {
      path: ctx.path,
      field: 'cleanPodPolicy',
      value: show(props.cleanPodPolicy),
      why: 'the Trainer has no cleanPodPolicy: once the launcher finishes, JobSet deletes the Jobs still running (the node pods) and keeps finished ones, as CleanPodPolicy.RUNNING does',
      fix: props.cleanPodPolicy === CleanPodPolicy.ALL
        ? 'Remove it, and set ttlAfterFinished to delete the finished pods too.'
        : 'Remove it; to keep the node pods for debugging, run the job as a DeepSpeedMpiJob.',
    }));
  }
  if (props.operatorVersion !== undefined) {
    findings.push(warning('trainer/no-equivalent', {
      path: ctx.path,
      field: 'operatorVersion',
      value: show(props.operatorVersion),
      why: 'it names an MPI Operator release; a TrainJob targets Kubeflow Trainer v2.3 and its CRDs',
      fix: 'Remove operatorVersion.',
    }));
  }
  return findings;
};

/** What the Trainer's MPI plugin and webhooks need of a runtime (the generated one, as written). */
const runtimeShape: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const runtime = ctx.runtime;
  if (!runtime) return [];
  const problems: Array<[string, unknown, string, string]> = [];
  const spec = runtime.spec ?? {};
  const policies = ['torch', 'mpi', 'jax', 'xgboost', 'flux'].filter(p => spec.mlPolicy?.[p] !== undefined);
  if (policies.length !== 1 || policies[0] !== 'mpi') {
    problems.push(['spec.mlPolicy', policies.join(', ') || 'no ML policy', 'the Trainer runs mpirun jobs through exactly one policy, mpi', 'Keep only mlPolicy.mpi.']);
  }
  if ((spec.mlPolicy?.numNodes ?? 1) !== 1) {
    problems.push(['spec.mlPolicy.numNodes', spec.mlPolicy.numNodes, 'the Trainer sizes the launcher Job from it, so the launcher Job would run that many launchers and hostfile lines', 'Set it to 1; trainer.numNodes sets the nodes.']);
  }
  const numProcPerNode = spec.mlPolicy?.mpi?.numProcPerNode;
  // The slots the props give are reported under workers.slotsPerWorker (props/whole-numbers, launch/no-slots).
  if (numProcPerNode !== undefined && !(Number.isInteger(numProcPerNode) && numProcPerNode >= 1) && !Object.is(numProcPerNode, ctx.job.workers.slotsPerWorker)) {
    problems.push(['spec.mlPolicy.mpi.numProcPerNode', numProcPerNode, 'the Trainer writes it as every host\'s slots and checks it nowhere', 'Set workers.slotsPerWorker to 1 or more.']);
  }
  const jobs: any[] = spec.template?.spec?.replicatedJobs ?? [];
  for (const name of ['node', 'launcher']) {
    const job = replicatedJob(runtime, name);
    if (!job) {
      problems.push([`spec.template.spec.replicatedJobs '${name}'`, 'missing', 'the Trainer\'s webhook requires a launcher and a node job for more than one node', 'Remove the JSON patch that deletes it.']);
      continue;
    }
    const containers: any[] = job.template?.spec?.template?.spec?.containers ?? [];
    if (!containers.some(c => c?.name === 'node')) {
      problems.push([`replicatedJobs '${name}' containers`, containers.map(c => c?.name).join(', ') || 'none', 'the Trainer mounts the SSH keys (and the hostfile) only into containers named node, and its webhook requires one in the launcher', 'Keep the container name node.']);
    }
  }
  const launcher = replicatedJob(runtime, 'launcher');
  if (launcher && launcher.template?.metadata?.labels?.[TRAINJOB_ANCESTOR_LABEL] !== 'trainer') {
    problems.push([`replicatedJobs 'launcher' template.metadata.labels ${TRAINJOB_ANCESTOR_LABEL}`, launcher.template?.metadata?.labels?.[TRAINJOB_ANCESTOR_LABEL], 'the Trainer finds the launcher (the job its trainer fields and slots go to) by this label', 'Keep the label at \'trainer\'.']);
  }
  if (launcher && (launcher.replicas ?? 1) !== 1) {
    problems.push(['replicatedJobs \'launcher\' replicas', launcher.replicas, 'the Trainer\'s webhook requires 1 replica of the job carrying the trainer ancestor label', 'Set it to 1.']);
  }
  if (jobs[0]?.dependsOn !== undefined) {
    problems.push([`replicatedJobs '${jobs[0].name}' dependsOn`, jobs[0].dependsOn, 'JobSet rejects dependsOn on the first replicated job', 'Keep node first and launcher, which depends on it, second.']);
  }
  const targets: unknown = spec.template?.spec?.successPolicy?.targetReplicatedJobs;
  if (!Array.isArray(targets) || targets.length !== 1 || targets[0] !== 'launcher') {
    problems.push(['spec.template.spec.successPolicy.targetReplicatedJobs', targets, 'sshd on the node pods never exits, so a JobSet that waits for every job to succeed never completes', 'Target the launcher only.']);
  }
  return problems.map(([field, value, why, fix]) => error('trainer/runtime-shape', {
    path: ctx.path, field: `TrainingRuntime ${field}`, value: show(value), why, fix,
  }));
};

/** The TrainJob webhook's rules on runtime patches: a domain-prefixed manager, no env patch on `node` containers. */
const runtimePatches: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const patches: any[] = ctx.trainJob.spec?.runtimePatches ?? [];
  return patches.flatMap((patch, index) => {
    const findings: Finding[] = [];
    const manager: unknown = patch?.manager;
    const [host, rest] = typeof manager === 'string' ? [manager.slice(0, manager.indexOf('/')), manager.slice(manager.indexOf('/') + 1)] : ['', ''];
    if (typeof manager !== 'string' || !manager.includes('/') || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host) || rest === '') {
      findings.push(error('trainer/runtime-patches', {
        path: ctx.path,
        field: `spec.runtimePatches[${index}].manager`,
        value: show(manager),
        why: 'the Trainer\'s webhook requires a domain-prefixed path such as \'example.com/tool\'',
        fix: 'Remove the JSON patch that changed it.',
      }));
    }
    for (const job of patch?.trainingRuntimeSpec?.template?.spec?.replicatedJobs ?? []) {
      for (const container of job?.template?.spec?.template?.spec?.containers ?? []) {
        if (container?.name === 'node' && container.env !== undefined) {
          findings.push(error('trainer/runtime-patches', {
            path: ctx.path,
            field: `spec.runtimePatches[${index}] replicatedJobs '${job.name}' container node env`,
            value: show(container.env.map((e: any) => e?.name)),
            why: 'the Trainer\'s webhook rejects env patches on containers named node',
            fix: 'Set training variables with env (they go to trainer.env).',
          }));
        }
      }
    }
    return findings;
  });
};

/** A requirement on a runtime the job references: what the props ask for and only the runtime can provide. */
interface Requirement {
  readonly field: string;
  readonly needs: string;
  /** What `deepspeed-distributed` v2.3.0 provides, when the job references it; undefined when it matches. */
  readonly known?: string;
  /** Whether the job fails without it (an error against the known runtime). */
  readonly breaks: boolean;
  readonly why: string;
}

function requirements(ctx: TrainJobContext): Requirement[] {
  const job = ctx.job;
  const image = ctx.facts.image;
  const known = job.runtime.name === DEEPSPEED_DISTRIBUTED_RUNTIME.name && job.runtime.kind === 'ClusterTrainingRuntime';
  const ref = DEEPSPEED_DISTRIBUTED_RUNTIME;
  const unlessKnown = (matches: boolean, provided: string) => (known ? (matches ? undefined : provided) : '');
  const reqs: Array<Requirement | undefined> = [];
  const add = (field: string, needs: string, breaks: boolean, why: string, knownValue: string | undefined) => {
    // '' means unknown runtime (report as a requirement); undefined means the known runtime provides it.
    if (knownValue === undefined) return;
    reqs.push({ field, needs, breaks, why, known: knownValue === '' ? undefined : knownValue });
  };
  const imageName = image.imageRef.replace(/[:@].*$/, '');
  add('node image', show(image.imageRef), true,
    'trainer.image reaches only the launcher: the ranks mpirun starts on the nodes run the runtime\'s image', unlessKnown(imageName === ref.image, show(`${ref.image}:v2.3.0`)));
  add('node sshd', `sshd on port ${image.sshPort} as uid ${image.user.uid}`, true,
    'the launcher\'s mpirun connects with ssh -p to the image\'s port as the image\'s user', unlessKnown(image.sshPort === ref.sshPort && image.user.uid === ref.uid, `sshd on port ${ref.sshPort} as uid ${ref.uid}`));
  add('mlPolicy.mpi.sshAuthMountPath', show(image.user.sshDirectory), true,
    'ssh and sshd read the keys from the user\'s ~/.ssh', unlessKnown(image.user.sshDirectory === ref.sshAuthMountPath, show(ref.sshAuthMountPath)));
  add('mlPolicy.mpi.runLauncherAsNode', show(job.runLauncherAsWorker), true,
    'it decides the node count and whether the launcher is a hostfile host, which mpirun -np counts on', unlessKnown(job.runLauncherAsWorker === ref.runLauncherAsNode, show(ref.runLauncherAsNode)));
  add('launcher dependsOn', job.launcherWaitsForReadyNodes ? 'node Ready' : 'none', false,
    'launcherCreationPolicy asks for it', unlessKnown(job.launcherWaitsForReadyNodes === ref.launcherWaitsForReadyNodes, ref.launcherWaitsForReadyNodes ? 'node Ready' : 'none'));
  if (!job.runLauncherAsWorker) {
    const names = job.workers.resourceNames;
    if (names.length > 0) {
      add('node resources', names.map(n => `${n}: ${job.workers.resourceLimit(n) ?? job.workers.resourceRequest(n)}`).join(', '), false,
        'resourcesPerNode reaches the node pods only when the launcher runs as a node', known ? 'none' : '');
    }
  }
  const props = job.jobProps;
  const scheduling = job.scheduling;
  if (scheduling.priorityClassName) add('pod priorityClassName', show(scheduling.priorityClassName), false, 'a TrainJob has no priority field and runtime patches cannot set it', known ? 'none' : '');
  if (scheduling.gangScheduling) add('podGroupPolicy and schedulerName', 'gang scheduling', false, 'only the runtime enables the Trainer\'s PodGroup plugins', known ? 'none' : '');
  if (props.backoffLimit !== undefined) add('launcher backoffLimit', show(props.backoffLimit), false, 'a TrainJob cannot set the launcher Job\'s retries', known ? 'the Kubernetes default, 6' : '');
  if (props.ttlAfterFinished !== undefined) add('ttlSecondsAfterFinished', show(props.ttlAfterFinished.toSeconds({ integral: false })), false, 'a TrainJob cannot set the JobSet\'s', known ? 'none' : '');
  if (!(job.security.automountServiceAccountToken ?? false)) {
    add('automountServiceAccountToken', 'false', false, 'runtime patches cannot set it, so every rank can read the ServiceAccount token', known ? 'not set (the token is mounted)' : '');
  }
  if (job.rankReplicas.some(r => specOf({ template: job._podTemplate(r) } as any).hostNetwork === true)) {
    add('pod hostNetwork', 'true', true, 'network.interconnect asks for the node\'s network and runtime patches cannot set it', known ? 'not set' : '');
  }
  return reqs.filter((r): r is Requirement => r !== undefined);
}

/** Reports what a referenced runtime must provide for the props: errors where `deepspeed-distributed` contradicts them. */
const runtimeProvides: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  if (ctx.runtime || ctx.job.runtime.generatesRuntime) return [];
  const name = ctx.job.runtime.name;
  return requirements(ctx).map(req => {
    const text = {
      path: ctx.path,
      field: `runtime ${show(name)} ${req.field}`,
      value: req.known === undefined ? `required to be ${req.needs}` : `${req.known}, not ${req.needs}`,
      why: req.why,
      fix: req.known === undefined
        ? `Make sure the runtime provides it, or use TrainerRuntime.generated() to generate a runtime from the image's facts.`
        : 'Use TrainerRuntime.generated() to generate a runtime from the image\'s facts, or change the props to what the runtime provides.',
    };
    return req.known !== undefined && req.breaks ? error('trainer/runtime-provides', text) : warning('trainer/runtime-provides', text);
  });
};

/** With AT_STARTUP and no wait step, nothing holds mpirun back until the nodes' sshd is up. */
const launcherStartsEarly: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const props = ctx.job.jobProps;
  if (props.launcherCreationPolicy !== LauncherCreationPolicy.AT_STARTUP || props.waitForWorkers !== false) return [];
  return [warning('trainer/launcher-starts-early', {
    path: ctx.path,
    field: 'launcherCreationPolicy',
    value: `${show(LauncherCreationPolicy.AT_STARTUP)} with waitForWorkers false`,
    why: 'the launcher Job then starts with the nodes and runs mpirun at once, which fails once ssh gives up (10 connection attempts) on nodes still pulling their image',
    fix: 'Remove waitForWorkers: false, so the launcher waits for every node\'s sshd before mpirun, or remove launcherCreationPolicy (a TrainJob\'s runtime then makes the launcher Job wait for Ready nodes).',
  })];
};

/** The runtime's name and the gang scheduler's name are object names: DNS subdomains. */
const runtimeNames: TrainJobRule = (ctx: TrainJobContext): Finding[] => {
  const runtime = ctx.job.runtime;
  const findings: Finding[] = [];
  const name = runtime.generatesRuntime ? runtime.name : ctx.job.runtimeName;
  if (name !== undefined && !(isDns1123Subdomain(name) && name.length <= 253)) {
    findings.push(error('trainer/runtime-names', {
      path: ctx.path,
      field: runtime.generatesRuntime ? 'runtime name' : 'runtime',
      value: runtime.generatesRuntime ? show(name) : `TrainerRuntime.${runtime.kind === 'ClusterTrainingRuntime' ? 'clusterRuntime' : 'namespacedRuntime'}(${show(name)})`,
      why: runtime.generatesRuntime
        ? 'it names the TrainingRuntime the job generates, and the API server rejects an object whose name is not a DNS subdomain (at most 253 lowercase letters, digits, \'-\' and \'.\')'
        : 'runtime names are DNS subdomains (lowercase letters, digits, \'-\' and \'.\'), so no runtime can have it, and the Trainer\'s webhook rejects the TrainJob ("specified trainingRuntime must be created before the TrainJob is created")',
      fix: runtime.generatesRuntime ? 'Use lowercase letters, digits and \'-\', e.g. \'cifar10-runtime\', or remove it for <job name>-runtime.'
        : 'Use the runtime\'s name as kubectl get clustertrainingruntimes (or trainingruntimes) shows it.',
    }));
  }
  const scheduler = runtime.gangSchedulerName;
  // Used only with gang scheduling (the pods' schedulerName).
  if (scheduler !== undefined && ctx.facts.props.scheduling?.gangScheduling !== undefined && !isDns1123Subdomain(scheduler)) {
    findings.push(error('trainer/runtime-names', {
      path: ctx.path,
      field: 'runtime gangSchedulerName',
      value: show(scheduler),
      why: 'it becomes the pods\' schedulerName, and the API server rejects pods whose schedulerName is not a DNS subdomain, so the runtime\'s Jobs never get pods',
      fix: 'Use the name the gang scheduler runs under, e.g. \'volcano\' or \'scheduler-plugins-scheduler\'.',
    }));
  }
  return findings;
};

/** Every Trainer-specific rule, in report order. */
export const TRAINER_RULES: TrainJobRule[] = [
  jobName, runtimeNames, openMpiOnly, reservedEnv, launcherOnlyNode, slotsFromGpus, gangDependsOn, gangOptions, mpiOperatorOnly,
  runtimeShape, runtimePatches, runtimeProvides, launcherStartsEarly,
];
