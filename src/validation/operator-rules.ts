import { JobRule } from './context';
import { JobFacts } from './facts';
import { error, Finding, show } from './finding';
import { readsWholeJob } from './shared-findings';
import { isDns1035Label } from './kubernetes-syntax';
import {
  CONTAINER_FIELDS, MPIJOB_FIELDS, POD_SPEC_FIELDS, REPLICA_FIELDS, RUN_POLICY_FIELDS, SCHEDULING_POLICY_FIELDS, SPEC_FIELDS, TEMPLATE_FIELDS,
} from './mpijob-fields';
import { MPI_REPLICA_TYPES as REPLICA_TYPES, mpiReplicaSpec as replicaSpec } from './mpijob-facts';

const HOSTNAME_SUFFIX = '-worker-';

/**
 * The operator checks that `<name>-worker-<N-1>` (the last worker's hostname) is a DNS-1035
 * label of at most 63 characters; the name also names the job's Service.
 */
const jobName: JobRule = (ctx: JobFacts): Finding[] => {
  const name: string = ctx.manifest.metadata?.name ?? '';
  const workers: unknown = replicaSpec(ctx.manifest, 'Worker')?.replicas;
  const last = typeof workers === 'number' && workers > 0 ? workers - 1 : 0;
  const hostname = `${name}${HOSTNAME_SUFFIX}${last}`;
  if (!isDns1035Label(name, Infinity)) {
    return [error('operator/job-name', {
      path: ctx.path,
      field: 'metadata.name',
      value: show(name),
      why: 'the MPI Operator requires a DNS-1035 label (lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit)',
      fix: 'Set metadata.name to a name such as \'cifar10-train\'.',
    })];
  }
  if (hostname.length > 63) {
    const room = 63 - HOSTNAME_SUFFIX.length - String(last).length;
    const derived = ctx.props.metadata?.name === undefined;
    return [error('operator/job-name', {
      path: ctx.path,
      field: 'metadata.name',
      value: derived ? `not set, so derived from the construct path: ${show(name)} (${name.length} characters)` : `${show(name)} (${name.length} characters)`,
      why: `the MPI Operator rejects the job because the last worker's hostname '${hostname}' is ${hostname.length} characters, over the DNS limit of 63`,
      fix: derived
        ? `Shorten the construct ids the name is made of (${ctx.path.split('/').map(id => show(id)).join(', ')}), or set metadata.name to at most ${room} characters.`
        : `Shorten metadata.name to at most ${room} characters.`,
    })];
  }
  return [];
};

/** The operator requires a Launcher replica spec with exactly one replica. */
const launcherReplicas: JobRule = (ctx: JobFacts): Finding[] => {
  const launcher = replicaSpec(ctx.manifest, 'Launcher');
  if (launcher === undefined) {
    return [error('operator/launcher-replicas', {
      path: ctx.path,
      field: 'spec.mpiReplicaSpecs.Launcher',
      value: 'not set',
      why: 'the MPI Operator requires a Launcher replica spec and never starts a job without one',
      fix: 'Remove the JSON patch that deletes the Launcher.',
    })];
  }
  if (launcher.replicas === 1) return [];
  return [error('operator/launcher-replicas', {
    path: ctx.path,
    field: 'spec.mpiReplicaSpecs.Launcher.replicas',
    value: show(launcher.replicas),
    why: 'the MPI Operator requires exactly 1 launcher',
    fix: 'Set it to 1.',
  })];
};

/**
 * A Worker spec needs at least one replica; without one the launcher must be the only worker
 * (the operator rejects `replicas: 0`, so that case omits the Worker spec entirely).
 */
const workerReplicas: JobRule = (ctx: JobFacts): Finding[] => {
  const worker = replicaSpec(ctx.manifest, 'Worker');
  if (worker === undefined) {
    if (ctx.launch.launcherHostsRanks) return [];
    return [error('operator/worker-replicas', {
      path: ctx.path,
      field: 'spec.mpiReplicaSpecs.Worker',
      value: 'not set',
      why: 'the MPI Operator writes an empty hostfile without workers, so mpirun has nowhere to start ranks',
      // The job always writes a Worker spec unless the launcher is the only worker: a patch removed it.
      fix: 'Remove the JSON patch that deletes it: the job writes the Worker spec from workers.',
    })];
  }
  const replicas = worker.replicas;
  if (Number.isInteger(replicas) && replicas >= 1) return [];
  const typed = Object.is(replicas, ctx.props.workers.replicas);
  // A count that is not whole is reported under the prop by props/whole-numbers.
  if (typed && !(Number.isInteger(replicas) && replicas >= 0)) return [];
  return [error('operator/worker-replicas', {
    path: ctx.path,
    field: typed ? 'workers.replicas' : 'spec.mpiReplicaSpecs.Worker.replicas',
    value: show(replicas),
    why: Number.isInteger(replicas) ? 'the MPI Operator requires at least 1 worker in a Worker spec' : 'the MPI Operator creates whole worker pods and requires a whole number of at least 1 in a Worker spec (the CRD declares an integer)',
    fix: !typed
      ? 'Remove the JSON patch; the job sets the Worker replicas from workers.replicas.'
      : ctx.launch.launcherHostsRanks
        ? 'Set workers.replicas to 1 or more, or to 0 to leave the launcher as the only worker.'
        : 'Set workers.replicas to 1 or more, or set runLauncherAsWorker: true with workers.replicas 0 to run every rank on the launcher.',
  })];
};

const RESTART_POLICIES = ['Never', 'OnFailure'];

/** The operator supports only Never and OnFailure (the type also declares Always and ExitCode). */
const restartPolicy: JobRule = (ctx: JobFacts): Finding[] =>
  REPLICA_TYPES.flatMap(type => {
    const policy = replicaSpec(ctx.manifest, type)?.restartPolicy;
    if (policy === undefined || RESTART_POLICIES.includes(policy)) return [];
    const prop = type === 'Launcher' ? 'launcher.restartPolicy' : 'workers.restartPolicy';
    return [error('operator/restart-policy', {
      path: ctx.path,
      field: `spec.mpiReplicaSpecs.${type}.restartPolicy`,
      value: show(policy),
      why: 'the MPI Operator supports only \'Never\' and \'OnFailure\'',
      fix: `Set ${prop} to ReplicaRestartPolicy.NEVER or ReplicaRestartPolicy.ON_FAILURE.`,
    })];
  });

/** Each replica's pod template needs a container (the operator sets up ssh in the first). */
const containers: JobRule = (ctx: JobFacts): Finding[] =>
  REPLICA_TYPES.flatMap(type => {
    const spec = replicaSpec(ctx.manifest, type);
    const list = spec?.template?.spec?.containers;
    if (spec === undefined || (Array.isArray(list) && list.length > 0)) return [];
    return [error('operator/containers', {
      path: ctx.path,
      field: `spec.mpiReplicaSpecs.${type}.template.spec.containers`,
      value: show(list ?? []),
      why: 'the MPI Operator requires at least one container in every pod template',
      fix: 'Remove the JSON patch that deletes the container.',
    })];
  });

/** The operator requires `slotsPerWorker >= 0`; the CRD types it as an integer. */
const slots: JobRule = (ctx: JobFacts): Finding[] => {
  const value = ctx.manifest.spec?.slotsPerWorker;
  if (value === undefined || (Number.isInteger(value) && value >= 0) || Object.is(value, ctx.props.workers.slotsPerWorker)) return [];
  return [error('operator/slots-per-worker', {
    path: ctx.path,
    field: 'spec.slotsPerWorker',
    value: show(value),
    why: 'the MPI Operator requires a whole number of 0 or more',
    fix: 'Remove the JSON patch; the job sets slotsPerWorker from workers.slotsPerWorker or the GPU count.',
  })];
};

/** Checks that an optional field of the manifest holds one of the values the operator knows. */
function oneOf(ctx: JobFacts, rule: string, field: string, value: unknown, allowed: string[], fix: string): Finding[] {
  if (value === undefined || (typeof value === 'string' && allowed.includes(value))) return [];
  return [error(rule, {
    path: ctx.path,
    field,
    value: show(value),
    why: `the MPI Operator accepts only ${allowed.map(v => `'${v}'`).join(', ')}`,
    fix,
  })];
}

const cleanPodPolicy: JobRule = (ctx: JobFacts): Finding[] =>
  oneOf(ctx, 'operator/clean-pod-policy', 'spec.runPolicy.cleanPodPolicy', ctx.manifest.spec?.runPolicy?.cleanPodPolicy,
    ['None', 'Running', 'All'], 'Set cleanPodPolicy to a CleanPodPolicy value.');

const managedBy: JobRule = (ctx: JobFacts): Finding[] =>
  oneOf(ctx, 'operator/managed-by', 'spec.runPolicy.managedBy', ctx.manifest.spec?.runPolicy?.managedBy,
    ['kubeflow.org/mpi-operator', 'kueue.x-k8s.io/multikueue'], 'Set it to one of these, or remove it.');

const mpiImplementation: JobRule = (ctx: JobFacts): Finding[] =>
  oneOf(ctx, 'operator/mpi-implementation', 'spec.mpiImplementation', ctx.manifest.spec?.mpiImplementation,
    ['OpenMPI', 'Intel', 'MPICH'], 'Declare the image\'s MPI with an MpiImplementation value.');

/** The CRD lost this enum (a malformed marker), and the operator treats any other value as WaitForWorkersReady. */
const launcherCreationPolicy: JobRule = (ctx: JobFacts): Finding[] =>
  oneOf(ctx, 'operator/launcher-creation-policy', 'spec.launcherCreationPolicy', ctx.manifest.spec?.launcherCreationPolicy,
    ['AtStartup', 'WaitForWorkersReady'], 'Set launcherCreationPolicy to a LauncherCreationPolicy value.');

/** ttlSecondsAfterFinished, activeDeadlineSeconds and backoffLimit must be whole numbers of 0 or more. */
const runPolicyNumbers: JobRule = (ctx: JobFacts): Finding[] => {
  const runPolicy = ctx.manifest.spec?.runPolicy ?? {};
  return ['ttlSecondsAfterFinished', 'activeDeadlineSeconds', 'backoffLimit'].flatMap(key => {
    const value = runPolicy[key];
    if (value === undefined || (Number.isInteger(value) && value >= 0)) return [];
    if (key === 'backoffLimit' && Object.is(value, ctx.props.backoffLimit)) return []; // reported by props/whole-numbers
    // Durations are reported by props/durations under their props.
    if (key === 'activeDeadlineSeconds' && Object.is(value, ctx.props.activeDeadline?.toSeconds({ integral: false }))) return [];
    if (key === 'ttlSecondsAfterFinished' && Object.is(value, ctx.props.ttlAfterFinished?.toSeconds({ integral: false }))) return [];
    return [error('operator/run-policy-numbers', {
      path: ctx.path,
      field: `spec.runPolicy.${key}`,
      value: show(value),
      why: 'the MPI Operator requires a whole number of 0 or more',
      fix: 'Set it to 0 or more, or leave it out.',
    })];
  });
};

/** runPolicy.suspend is a boolean in the CRD; another type from a patch is rejected by the API server. */
const runPolicySuspend: JobRule = (ctx: JobFacts): Finding[] => {
  const value = ctx.manifest.spec?.runPolicy?.suspend;
  if (value === undefined || typeof value === 'boolean') return [];
  return [error('operator/run-policy-numbers', {
    path: ctx.path,
    field: 'spec.runPolicy.suspend',
    value: show(value),
    why: 'the MPIJob CRD declares it a boolean, and the API server rejects the MPIJob',
    fix: 'Set suspend: true or false on the job (the prop), and remove the JSON patch.',
  })];
};

/** The operator needs somewhere to mount the SSH keys. */
const sshAuthMountPath: JobRule = (ctx: JobFacts): Finding[] => {
  const value = ctx.manifest.spec?.sshAuthMountPath;
  if (value === undefined || (typeof value === 'string' && value !== '')) return [];
  return [error('operator/ssh-auth-mount-path', {
    path: ctx.path,
    field: 'spec.sshAuthMountPath',
    value: show(value),
    why: 'the MPI Operator requires a directory to mount the SSH keys in',
    fix: 'Remove the JSON patch; the job sets it to the image user\'s ~/.ssh.',
  })];
};

/** Keys of `object` that `known` lacks, with their paths. */
function unknownKeys(object: unknown, path: string, known: string[]): Array<[string, unknown]> {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return [];
  return Object.entries(object).filter(([key]) => !known.includes(key)).map(([key, value]) => [path ? `${path}.${key}` : key, value]);
}

/** Fields the CRD does not declare are pruned by the API server without a word. */
const unknownFields: JobRule = (ctx: JobFacts): Finding[] => {
  const manifest = ctx.manifest;
  const spec = manifest.spec;
  const found: Array<[string, unknown]> = [
    ...unknownKeys(manifest, '', MPIJOB_FIELDS),
    ...unknownKeys(spec, 'spec', SPEC_FIELDS),
    ...unknownKeys(spec?.runPolicy, 'spec.runPolicy', RUN_POLICY_FIELDS),
    ...unknownKeys(spec?.runPolicy?.schedulingPolicy, 'spec.runPolicy.schedulingPolicy', SCHEDULING_POLICY_FIELDS),
  ];
  for (const [type, replica] of Object.entries(spec?.mpiReplicaSpecs ?? {}) as Array<[string, any]>) {
    const base = `spec.mpiReplicaSpecs.${type}`;
    found.push(
      ...unknownKeys(replica, base, REPLICA_FIELDS),
      ...unknownKeys(replica?.template, `${base}.template`, TEMPLATE_FIELDS),
      ...unknownKeys(replica?.template?.spec, `${base}.template.spec`, POD_SPEC_FIELDS));
    for (const list of ['initContainers', 'containers']) {
      ((replica?.template?.spec?.[list] ?? []) as unknown[]).forEach((container, index) =>
        found.push(...unknownKeys(container, `${base}.template.spec.${list}[${index}]`, CONTAINER_FIELDS)));
    }
  }
  return found.map(([field, value]) => error('operator/unknown-fields', {
    path: ctx.path,
    field,
    value: show(value),
    why: 'the MPIJob CRD does not declare this field, and the API server prunes undeclared fields of a structural schema without a word, so the setting would be silently lost',
    fix: 'Check the field\'s name and level against the MPIJob CRD (kubectl explain mpijob.spec), or remove the JSON patch.',
  }));
};

/** The MPI Operator's own validation rules (pkg/apis/kubeflow/validation), plus the enum the CRD lost. */
export const OPERATOR_RULES: JobRule[] = [
  readsWholeJob(jobName), launcherReplicas, workerReplicas, restartPolicy, containers, slots, cleanPodPolicy,
  runPolicyNumbers, runPolicySuspend, managedBy, sshAuthMountPath, mpiImplementation, launcherCreationPolicy, unknownFields,
];
