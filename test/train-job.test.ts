import { Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import {
  CleanPodPolicy, DeepSpeedMpiJob, DeepSpeedSweep, DeepSpeedTrainingImage, DeepSpeedTrainJob,
  DeepSpeedTrainJobProps, EnvValue, ImageUser, LauncherCreationPolicy, MpiImplementation, OptimizerType,
  Severity, SweepAxis, TrainerRuntime, TrainingStorage, Validation,
} from '../src';
import { trainerSchemaErrors } from './support/crd-schema';
import { JOB_VARIATIONS } from './support/job-variations';
import { expectValidManifests, manifestSchemaErrors } from './support/k8s-schema';
import { jobProps, renderUnvalidated } from './support/synth';
import { expectWarnings, takeWarnings } from './support/warnings';

function synthTrainJob(overrides: Partial<DeepSpeedTrainJobProps> = {}) {
  const chart = new Chart(Testing.app(), 'test');
  const job = new DeepSpeedTrainJob(chart, 'train', { ...jobProps(), ...overrides });
  const manifests = Testing.synth(chart);
  expectValidManifests(manifests);
  const runtime = manifests.find(m => m.kind === 'TrainingRuntime');
  const replicated = (name: string) => runtime?.spec.template.spec.replicatedJobs.find((j: any) => j.name === name);
  return {
    job, manifests, runtime,
    trainJob: manifests.find(m => m.kind === 'TrainJob'),
    node: replicated('node'),
    launcher: replicated('launcher'),
    nodePod: replicated('node')?.template.spec.template,
    launcherPod: replicated('launcher')?.template.spec.template,
  };
}

function buildTrainJob(overrides: Partial<DeepSpeedTrainJobProps> = {}, id = 'train') {
  return new DeepSpeedTrainJob(new Chart(Testing.app(), 'test'), id, { ...jobProps(), ...overrides });
}

function messages(job: DeepSpeedTrainJob, rule: string): string[] {
  return Validation.validateTrainJob(job).filter(f => f.rule === rule).map(f => `${f.severity}: ${f.message}`);
}

const DISTRIBUTED = TrainerRuntime.clusterRuntime('deepspeed-distributed');
/** An image with the facts of the Trainer's deepspeed-distributed runtime image. */
const RUNTIME_IMAGE = DeepSpeedTrainingImage.fromImage('ghcr.io/kubeflow/trainer/deepspeed-runtime:v2.3.0', { pythonPath: '/usr/bin/python3' });

describe('a generated TrainingRuntime (the default) follows the Trainer MPI plugin', () => {
  const out = synthTrainJob({ deepspeedConfig: { trainMicroBatchSizePerGpu: 1 } });

  test('the runtime comes before the TrainJob, which references it by kind and name', () => {
    expect(out.manifests.map(m => m.kind)).toEqual(['TrainingRuntime', 'TrainJob', 'ConfigMap', 'NetworkPolicy']);
    expect(out.runtime.metadata.name).toBe('test-train-runtime');
    expect(out.trainJob.spec.runtimeRef).toEqual({ apiGroup: 'trainer.kubeflow.org', kind: 'TrainingRuntime', name: 'test-train-runtime' });
    expect(out.trainJob.spec.trainer).toEqual({ numNodes: 2, numProcPerNode: 1 });
  });

  test('mlPolicy: one launcher, Open MPI, slots, the user\'s ssh directory', () => {
    expect(out.runtime.spec.mlPolicy).toEqual({
      numNodes: 1,
      mpi: { mpiImplementation: 'OpenMPI', numProcPerNode: 1, sshAuthMountPath: '/home/mpiuser/.ssh', runLauncherAsNode: false },
    });
  });

  test('JobSet: not-ready addresses published, success when the launcher succeeds, node first, launcher waits for ready nodes', () => {
    const spec = out.runtime.spec.template.spec;
    expect(spec.network).toEqual({ publishNotReadyAddresses: true });
    expect(spec.successPolicy).toEqual({ operator: 'All', targetReplicatedJobs: ['launcher'] });
    expect(spec.replicatedJobs.map((j: any) => j.name)).toEqual(['node', 'launcher']);
    expect(out.node.dependsOn).toBeUndefined();
    expect(out.launcher.dependsOn).toEqual([{ name: 'node', status: 'Ready' }]);
    expect(out.launcher.template.metadata.labels).toEqual({ 'trainer.kubeflow.org/trainjob-ancestor-step': 'trainer' });
    expect(out.node.template.metadata).toBeUndefined();
  });

  test('node pods: container node, sshd with the user config on the ssh port, readiness on that port, fsGroup', () => {
    const container = out.nodePod.spec.containers[0];
    expect(container.name).toBe('node');
    expect(container.image).toBe('registry.example.com/train:1');
    expect(container.command).toEqual(['/usr/sbin/sshd', '-De', '-p', '2222', '-f', '/home/mpiuser/.sshd_config']);
    expect(container.readinessProbe.tcpSocket).toEqual({ port: 2222 });
    expect(container.resources.limits).toEqual({ 'nvidia.com/gpu': 1 });
    expect(out.nodePod.spec.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true });
    expect(out.nodePod.spec.restartPolicy).toBe('Never');
  });

  test('launcher: container node running the same mpirun argv as the MPIJob launcher', () => {
    const chart = new Chart(Testing.app(), 'mpi');
    const mpiJob = new DeepSpeedMpiJob(chart, 'train', { ...jobProps(), deepspeedConfig: { trainMicroBatchSizePerGpu: 1 } });
    const container = out.launcherPod.spec.containers[0];
    expect(container.name).toBe('node');
    expect(container.command).toEqual(mpiJob.launcher.command);
    // The launcher waits for the nodes' sshd (the hostfile is at /etc/mpi/hostfile under the Trainer too), then execs mpirun.
    expect(container.command.slice(3, 10)).toEqual(['--hostfile', '/etc/mpi/hostfile', '--port', '2222', '--timeout', '900', '--']);
    expect(container.command.slice(10, 15)).toEqual(['mpirun', '-np', '2', '--hostfile', '/etc/mpi/hostfile']);
    expect(out.launcherPod.spec.restartPolicy).toBe('OnFailure');
    expect(out.launcherPod.spec.securityContext.fsGroup).toBe(1000);
  });

  test('the same DeepSpeed config ConfigMap as the MPIJob, mounted on both pods', () => {
    const chart = new Chart(Testing.app(), 'test');
    new DeepSpeedMpiJob(chart, 'train', { ...jobProps(), deepspeedConfig: { trainMicroBatchSizePerGpu: 1 } });
    const mpiConfigMap = Testing.synth(chart).find(m => m.kind === 'ConfigMap');
    expect(out.manifests.find(m => m.kind === 'ConfigMap')).toEqual(mpiConfigMap);
    for (const pod of [out.nodePod, out.launcherPod]) {
      expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: 'deepspeed-config', mountPath: '/etc/deepspeed', readOnly: true });
    }
  });

  test('nothing the Trainer\'s controller owns: no Service, Secret, hostfile, PodGroup, /etc/mpi mount, OMPI env', () => {
    expect(out.manifests.filter(m => ['Service', 'Secret', 'PodGroup', 'JobSet'].includes(m.kind))).toEqual([]);
    expect(out.manifests.filter(m => m.kind === 'ConfigMap').map(m => m.metadata.name)).toEqual(['test-train-deepspeed']);
    const text = JSON.stringify(out.manifests);
    expect(text).not.toContain('/etc/mpi"');
    expect(text).not.toContain('OMPI_MCA');
    expect(text).not.toContain('mpi-ssh-auth');
  });

  test('the NetworkPolicy selects the JobSet label the running pods carry', () => {
    const policy = out.manifests.find(m => m.kind === 'NetworkPolicy');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'jobset.sigs.k8s.io/jobset-name': 'test-train' } });
    expect(policy.spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: { 'jobset.sigs.k8s.io/jobset-name': 'test-train' } } }]);
  });

  test('a valid job has no findings', () => {
    expect(Validation.validateTrainJob(out.job)).toEqual([]);
  });
});

describe('the same props switch operator with one construct name', () => {
  test('every job variation renders a TrainJob and a TrainingRuntime valid against the v2.3.0 CRDs and Kubernetes', () => {
    for (const [name, props] of Object.entries(JOB_VARIATIONS)) {
      // The CRD takes OpenMPI only; trainer/openmpi-only stops other images at synth.
      if (props.image.mpiImplementation !== MpiImplementation.OPEN_MPI) continue;
      const chart = new Chart(Testing.app(), 'test');
      new DeepSpeedTrainJob(chart, 'train', props);
      const errors = manifestSchemaErrors(renderUnvalidated(chart));
      expect({ name, errors }).toEqual({ name, errors: [] });
    }
  });

  test('a variation valid as an MPIJob fails as a TrainJob only where the Trainer differs', () => {
    // Open MPI only; a launcher-only job gets a second host (so -np no longer matches); gang plus dependsOn deadlocks.
    const trainerDifferences = ['trainer/openmpi-only', 'trainer/launcher-only-node', 'launch/process-count', 'trainer/gang-depends-on'];
    const failing: Record<string, string[]> = {};
    for (const [name, props] of Object.entries(JOB_VARIATIONS)) {
      const errors = Validation.validateTrainJob(buildTrainJob(props)).filter(f => f.severity === Severity.ERROR).map(f => f.rule);
      expect({ name, unexpected: errors.filter(rule => !trainerDifferences.includes(rule)) }).toEqual({ name, unexpected: [] });
      if (errors.length > 0) failing[name] = errors;
    }
    expect(Object.values(failing).flat().sort()).toEqual(expect.arrayContaining(['trainer/openmpi-only']));
  });

  test('a referenced runtime\'s TrainJob is valid for every variation too (schema only: the rules report the runtime\'s gaps)', () => {
    for (const [name, props] of Object.entries(JOB_VARIATIONS)) {
      const chart = new Chart(Testing.app(), 'test');
      new DeepSpeedTrainJob(chart, 'train', { ...props, runtime: DISTRIBUTED });
      const errors = manifestSchemaErrors(renderUnvalidated(chart));
      expect({ name, errors }).toEqual({ name, errors: [] });
    }
  });

  test('the schema check catches what the API server would reject', () => {
    const out = synthTrainJob();
    const broken = JSON.parse(JSON.stringify(out.runtime));
    broken.spec.mlPolicy.mpi.mpiImplementation = 'Intel';
    broken.spec.template.spec.replicatedJobs[0].template.spec.template.spec.containers[0].imageTag = 'x';
    expect(trainerSchemaErrors(broken)).toEqual([
      expect.stringContaining('mpiImplementation'),
      expect.stringContaining('imageTag'),
    ]);
    expect(trainerSchemaErrors({ ...out.trainJob, spec: { ...out.trainJob.spec, managedBy: 'someone' } })).toEqual([
      expect.stringContaining('spec.managedBy'),
    ]);
    const referenced = synthTrainJob({ image: RUNTIME_IMAGE, runtime: DISTRIBUTED, runLauncherAsWorker: true }).trainJob;
    referenced.spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[1].template.spec.template.spec.containers[0].volumeMounts[0].mountPath = 5;
    expect(manifestSchemaErrors([referenced])).toEqual([
      'TrainJob test-train: spec.runtimePatches[0].trainingRuntimeSpec.template.spec.replicatedJobs[1].template.spec.template.spec.containers[0].volumeMounts[0].mountPath: must be string, got 5',
      'TrainJob test-train: node pod template patch: spec.containers[0].volumeMounts[0].mountPath: must be string, got 5',
    ]);
    expectWarnings('test/train: runtime \'deepspeed-distributed\' automountServiceAccountToken is not set');
  });
});

describe('a referenced runtime: the TrainJob sets only what a TrainJob may set', () => {
  const out = synthTrainJob({ image: RUNTIME_IMAGE, runtime: DISTRIBUTED, runLauncherAsWorker: true, env: { NCCL_DEBUG: EnvValue.fromValue('INFO') } });
  const synthWarnings = takeWarnings();

  test('synth warns that the referenced runtime mounts the ServiceAccount token', () => {
    const start = 'test/train: runtime \'deepspeed-distributed\' automountServiceAccountToken is not set';
    expect(synthWarnings.map(w => w.slice(0, start.length))).toEqual([start]);
  });

  test('no runtime is generated; the TrainJob references the ClusterTrainingRuntime', () => {
    expect(out.runtime).toBeUndefined();
    expect(out.trainJob.spec.runtimeRef).toEqual({ apiGroup: 'trainer.kubeflow.org', kind: 'ClusterTrainingRuntime', name: 'deepspeed-distributed' });
  });

  test('trainer: the launcher\'s image, argv and env, the hosts, the slots and the rank pods\' resources', () => {
    const spec = out.trainJob.spec.trainer;
    expect(spec.image).toBe('ghcr.io/kubeflow/trainer/deepspeed-runtime:v2.3.0');
    expect(spec.command).toEqual(out.job.launcher.command);
    expect(spec.command.slice(10, 13)).toEqual(['mpirun', '-np', '3']);
    expect(spec.env).toEqual([{ name: 'NCCL_DEBUG', value: 'INFO' }]);
    expect(spec.numNodes).toBe(3);
    expect(spec.numProcPerNode).toBe(1);
    expect(spec.resourcesPerNode).toEqual({ limits: { 'nvidia.com/gpu': 1 }, requests: { 'nvidia.com/gpu': 1 } });
  });

  test('a runtime patch carries volumes, mounts and security contexts, never env', () => {
    const [patch] = out.trainJob.spec.runtimePatches;
    expect(patch.manager).toBe('cdk8s-deepspeed/job');
    const jobs = patch.trainingRuntimeSpec.template.spec.replicatedJobs;
    expect(jobs.map((j: any) => j.name)).toEqual(['launcher', 'node']);
    for (const job of jobs) {
      const spec = job.template.spec.template.spec;
      expect(Object.keys(spec.containers[0]).sort()).toEqual(['name', 'securityContext', 'volumeMounts']);
      expect(spec.containers[0].name).toBe('node');
      expect(spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } });
    }
  });

  test('against deepspeed-distributed with its own image, only what the runtime lacks is reported', () => {
    expect(Validation.validateTrainJob(out.job).map(f => `${f.severity}: ${f.message}`)).toEqual([
      'warning: test/train: runtime \'deepspeed-distributed\' automountServiceAccountToken is not set (the token is mounted), not false: runtime patches cannot set it, so every rank can read the ServiceAccount token. Use TrainerRuntime.generated() to generate a runtime from the image\'s facts, or change the props to what the runtime provides.',
    ]);
  });

  test('another image against deepspeed-distributed fails: the nodes run the runtime\'s image', () => {
    const job = buildTrainJob({ runtime: DISTRIBUTED, runLauncherAsWorker: true });
    expect(messages(job, 'trainer/runtime-provides')[0]).toBe(
      'error: test/train: runtime \'deepspeed-distributed\' node image is \'ghcr.io/kubeflow/trainer/deepspeed-runtime:v2.3.0\', not \'registry.example.com/train:1\': trainer.image reaches only the launcher: the ranks mpirun starts on the nodes run the runtime\'s image. Use TrainerRuntime.generated() to generate a runtime from the image\'s facts, or change the props to what the runtime provides.');
  });

  test('an unknown runtime gets every requirement as a warning', () => {
    const job = buildTrainJob({ runtime: TrainerRuntime.clusterRuntime('team-mpi'), scheduling: { priorityClassName: 'high' } });
    const found = Validation.validateTrainJob(job).filter(f => f.rule === 'trainer/runtime-provides');
    expect(found.every(f => f.severity === Severity.WARNING)).toBe(true);
    expect(found.map(f => f.message.split(':')[1].trim())).toEqual([
      'runtime \'team-mpi\' node image is required to be \'registry.example.com/train',
      'runtime \'team-mpi\' node sshd is required to be sshd on port 2222 as uid 1000',
      'runtime \'team-mpi\' mlPolicy.mpi.sshAuthMountPath is required to be \'/home/mpiuser/.ssh\'',
      'runtime \'team-mpi\' mlPolicy.mpi.runLauncherAsNode is required to be false',
      'runtime \'team-mpi\' launcher dependsOn is required to be node Ready',
      'runtime \'team-mpi\' node resources is required to be nvidia.com/gpu',
      'runtime \'team-mpi\' pod priorityClassName is required to be \'high\'',
      'runtime \'team-mpi\' automountServiceAccountToken is required to be false',
    ]);
  });
});

describe('scheduling, storage and run settings with a Trainer equivalent', () => {
  test('Kueue: the queue label on the TrainJob, created suspended; MultiKueue sets managedBy', () => {
    const out = synthTrainJob({ scheduling: { kueue: { queueName: 'team-a', multiKueue: true } } });
    expect(out.trainJob.metadata.labels).toEqual({ 'kueue.x-k8s.io/queue-name': 'team-a' });
    expect(out.trainJob.spec.suspend).toBe(true);
    expect(out.trainJob.spec.managedBy).toBe('kueue.x-k8s.io/multikueue');
  });

  test('priority goes into the runtime\'s pod templates', () => {
    const out = synthTrainJob({ scheduling: { priorityClassName: 'training-high' } });
    expect(out.nodePod.spec.priorityClassName).toBe('training-high');
    expect(out.launcherPod.spec.priorityClassName).toBe('training-high');
  });

  test('gang scheduling: the runtime\'s coscheduling policy and scheduler; with the launcher waiting it is reported as a deadlock', () => {
    const waiting = buildTrainJob({ scheduling: { gangScheduling: { scheduleTimeout: Duration.seconds(120) } } });
    expect(messages(waiting, 'trainer/gang-depends-on')).toEqual([
      'error: test/train: scheduling.gangScheduling is set while the launcher waits for ready nodes (dependsOn): the Trainer\'s PodGroup minMember counts the launcher pod, which JobSet creates only after every node pod is Ready, and the nodes are held until minMember pods exist: the job deadlocks (the shape of mpi-operator#608). Set launcherCreationPolicy: LauncherCreationPolicy.AT_STARTUP so the launcher is created with the nodes (its wait step then holds mpirun until their sshd is up), or drop gangScheduling and queue through scheduling.kueue, which admits all pods at once.',
    ]);
    const out = synthTrainJob({ launcherCreationPolicy: LauncherCreationPolicy.AT_STARTUP, scheduling: { gangScheduling: { scheduleTimeout: Duration.seconds(120) } } });
    expect(out.runtime.spec.podGroupPolicy).toEqual({ coscheduling: { scheduleTimeoutSeconds: 120 } });
    expect(out.launcher.dependsOn).toBeUndefined();
    expect(out.nodePod.spec.schedulerName).toBe('scheduler-plugins-scheduler');
    expect(Validation.validateTrainJob(out.job)).toEqual([]);
  });

  test('Volcano: the queue as the JobSet annotation, the volcano scheduler', () => {
    const out = synthTrainJob({
      launcherCreationPolicy: LauncherCreationPolicy.AT_STARTUP,
      runtime: TrainerRuntime.generated({ name: 'my-runtime' }),
      scheduling: { gangScheduling: { volcanoQueue: 'research', minAvailable: 2 } },
    });
    expect(out.runtime.metadata.name).toBe('my-runtime');
    expect(out.runtime.spec.podGroupPolicy).toEqual({ volcano: {} });
    expect(out.runtime.spec.template.metadata).toEqual({ annotations: { 'scheduling.volcano.sh/queue-name': 'research' } });
    expect(out.launcherPod.spec.schedulerName).toBe('volcano');
    expect(messages(out.job, 'trainer/gang-options')).toEqual([
      'warning: test/train: scheduling.gangScheduling.minAvailable is 2: the Trainer ignores it: minMember is always every pod of the job (the launcher and the nodes). Remove minAvailable.',
    ]);
    expectWarnings('test/train: scheduling.gangScheduling.minAvailable is 2');
  });

  test('storage and checkpoints: claims, mounts on both pods, the checkpoint argument', () => {
    const out = synthTrainJob({
      storage: {
        volumes: [TrainingStorage.newClaim('checkpoints', { mountPath: '/checkpoints', size: Size.gibibytes(100) })],
        checkpoint: { directory: '/checkpoints/run-1' },
      },
    });
    expect(out.manifests.find(m => m.kind === 'PersistentVolumeClaim').metadata.name).toBe('test-train-checkpoints');
    for (const pod of [out.nodePod, out.launcherPod]) {
      expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: 'checkpoints', mountPath: '/checkpoints', readOnly: false });
    }
    expect(out.launcherPod.spec.containers[0].command.slice(-2)).toEqual(['--checkpoint_dir', '/checkpoints/run-1']);
  });

  test('deadline on the TrainJob, retries on the launcher Job, ttl on the JobSet', () => {
    const out = synthTrainJob({ activeDeadline: Duration.hours(2), backoffLimit: 2, ttlAfterFinished: Duration.hours(1) });
    expect(out.trainJob.spec.activeDeadlineSeconds).toBe(7200);
    expect(out.launcher.template.spec.backoffLimit).toBe(2);
    expect(out.runtime.spec.template.spec.ttlSecondsAfterFinished).toBe(3600);
  });

  test('spreading keeps rank pods apart by their JobSet labels', () => {
    const out = synthTrainJob({ scheduling: { spreadWorkers: true } });
    expect(out.nodePod.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector).toEqual({
      matchLabels: { 'jobset.sigs.k8s.io/jobset-name': 'test-train' },
      matchExpressions: [{ key: 'jobset.sigs.k8s.io/replicatedjob-name', operator: 'In', values: ['node'] }],
    });
  });
});

describe('Trainer rules', () => {
  test('the 44-character effective name limit from JobSet', () => {
    const job = buildTrainJob({ metadata: { name: 'a'.repeat(45) } });
    expect(messages(job, 'trainer/job-name')).toEqual([
      `error: test/train: metadata.name is '${'a'.repeat(45)}' (45 characters): JobSet rejects the JobSet the Trainer builds, because the launcher pod name '${'a'.repeat(45)}-launcher-0-0-abcde' would exceed 63 characters; the TrainJob is admitted and only a TrainJobResourcesCreationFailed event tells. Shorten metadata.name to at most 44 characters.`,
    ]);
    expect(messages(buildTrainJob({ metadata: { name: 'a'.repeat(44) } }), 'trainer/job-name')).toEqual([]);
  });

  test('Open MPI only', () => {
    const job = buildTrainJob({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/impi:1', { mpiImplementation: MpiImplementation.INTEL }) });
    expect(messages(job, 'trainer/openmpi-only')).toEqual([
      'error: test/train: image.mpiImplementation is \'Intel\': the Trainer v2.3 MPI plugin supports Open MPI only: its CRD rejects any other mlPolicy.mpi.mpiImplementation. Use an Open MPI image, or run the job as a DeepSpeedMpiJob (the MPI Operator supports Intel MPI and MPICH).',
    ]);
  });

  test('reserved env', () => {
    const job = buildTrainJob({ runtime: DISTRIBUTED, env: { OMPI_MCA_plm_rsh_args: EnvValue.fromValue('-p 22') } });
    expect(messages(job, 'trainer/reserved-env')).toEqual([
      'error: test/train: env is setting \'OMPI_MCA_plm_rsh_args\': the Trainer\'s webhook rejects a TrainJob whose trainer.env sets a variable its MPI plugin reserves. Remove them; pass Open MPI settings as mpirun.mcaParameters, which the launcher command carries.',
    ]);
  });

  test('a launcher-only job gets a second host (kubeflow/trainer#3954)', () => {
    const job = buildTrainJob({ workers: { replicas: 0, gpusPerWorker: 1 }, runLauncherAsWorker: true });
    expect(messages(job, 'trainer/launcher-only-node')).toHaveLength(1);
  });

  test('a runtime name no runtime can have', () => {
    const job = buildTrainJob({ image: RUNTIME_IMAGE, runtime: TrainerRuntime.clusterRuntime('DeepSpeed-Distributed'), runLauncherAsWorker: true });
    expect(messages(job, 'trainer/runtime-names')).toEqual([
      'error: test/train: runtime is TrainerRuntime.clusterRuntime(\'DeepSpeed-Distributed\'): runtime names are DNS subdomains (lowercase letters, digits, \'-\' and \'.\'), so no runtime can have it, and the Trainer\'s webhook rejects the TrainJob ("specified trainingRuntime must be created before the TrainJob is created"). Use the runtime\'s name as kubectl get clustertrainingruntimes (or trainingruntimes) shows it.',
    ]);
  });

  test('a generated runtime name the API server rejects, and a gang scheduler name', () => {
    const job = buildTrainJob({ runtime: TrainerRuntime.generated({ name: 'My-Runtime', gangSchedulerName: 'Volcano Scheduler' }), scheduling: { gangScheduling: { volcanoQueue: 'research' } } });
    expect(messages(job, 'trainer/runtime-names')).toEqual([
      'error: test/train: runtime name is \'My-Runtime\': it names the TrainingRuntime the job generates, and the API server rejects an object whose name is not a DNS subdomain (at most 253 lowercase letters, digits, \'-\' and \'.\'). Use lowercase letters, digits and \'-\', e.g. \'cifar10-runtime\', or remove it for <job name>-runtime.',
      'error: test/train: runtime gangSchedulerName is \'Volcano Scheduler\': it becomes the pods\' schedulerName, and the API server rejects pods whose schedulerName is not a DNS subdomain, so the runtime\'s Jobs never get pods. Use the name the gang scheduler runs under, e.g. \'volcano\' or \'scheduler-plugins-scheduler\'.',
    ]);
  });

  test('no workers without the launcher as a node: no host at all', () => {
    const job = buildTrainJob({ workers: { replicas: 0, gpusPerWorker: 1 } });
    expect(Validation.validateTrainJob(job).map(f => `${f.severity}: ${f.message}`)).toEqual([
      'error: test/train: workers.replicas is 0: the TrainJob gets trainer.numNodes 0, so the Trainer creates no node pod and writes a hostfile without hosts, and mpirun has nowhere to start a rank. Set workers.replicas to 1 or more.',
    ]);
  });

  test('slots of 0 are one message, under the prop', () => {
    const job = buildTrainJob({ workers: { replicas: 2, gpusPerWorker: 1, slotsPerWorker: 0 } });
    expect(Validation.validateTrainJob(job).filter(f => f.severity === Severity.ERROR).map(f => f.message)).toEqual([
      'test/train: workers.slotsPerWorker is 0: the Trainer writes every host into the hostfile with 0 slots, so mpirun has nowhere to start a rank. Set workers.slotsPerWorker to 1 or more, or remove it to use the GPU count.',
    ]);
  });

  test('numProcPerNode 1 with several GPUs becomes the GPU count', () => {
    const job = buildTrainJob({ workers: { replicas: 2, gpusPerWorker: 4, slotsPerWorker: 1 } });
    expect(messages(job, 'trainer/slots-from-gpus')).toEqual([
      'error: test/train: workers.slotsPerWorker is 1 with 4 GPUs per worker: the Trainer replaces numProcPerNode 1 by the node\'s GPU count, so its hostfile lists 4 slots per host while mpirun -np counts 1: --map-by slot packs the ranks onto the first hosts. Remove slotsPerWorker (it defaults to the GPU count, 4), or request one GPU per worker.',
    ]);
  });

  test('MPI Operator settings without an equivalent are reported, not dropped', () => {
    const job = buildTrainJob({ cleanPodPolicy: CleanPodPolicy.NONE });
    expect(messages(job, 'trainer/no-equivalent')).toEqual([
      'warning: test/train: cleanPodPolicy is \'None\': the Trainer has no cleanPodPolicy: once the launcher finishes, JobSet deletes the Jobs still running (the node pods) and keeps finished ones, as CleanPodPolicy.RUNNING does. Remove it; to keep the node pods for debugging, run the job as a DeepSpeedMpiJob.',
    ]);
  });

  test('AT_STARTUP without the wait step lets mpirun run before the nodes\' sshd is up', () => {
    expect(messages(buildTrainJob({ launcherCreationPolicy: LauncherCreationPolicy.AT_STARTUP }), 'trainer/launcher-starts-early')).toEqual([]);
    expect(messages(buildTrainJob({ launcherCreationPolicy: LauncherCreationPolicy.AT_STARTUP, waitForWorkers: false }), 'trainer/launcher-starts-early')).toEqual([
      'warning: test/train: launcherCreationPolicy is \'AtStartup\' with waitForWorkers false: the launcher Job then starts with the nodes and runs mpirun at once, which fails once ssh gives up (10 connection attempts) on nodes still pulling their image. Remove waitForWorkers: false, so the launcher waits for every node\'s sshd before mpirun, or remove launcherCreationPolicy (a TrainJob\'s runtime then makes the launcher Job wait for Ready nodes).',
    ]);
  });

  test('an escape hatch that breaks the runtime\'s shape is caught', () => {
    const job = buildTrainJob();
    job.trainingRuntime!.addJsonPatch(JsonPatch.replace('/spec/template/spec/replicatedJobs/1/template/spec/template/spec/containers/0/name', 'launcher'));
    expect(messages(job, 'trainer/runtime-shape')).toEqual([
      'error: test/train: TrainingRuntime replicatedJobs \'launcher\' containers is \'launcher\': the Trainer mounts the SSH keys (and the hostfile) only into containers named node, and its webhook requires one in the launcher. Keep the container name node.',
    ]);
  });

  test('shared rules run on the TrainJob with the Trainer named', () => {
    const job = buildTrainJob({ launcher: { gpus: 1 } });
    expect(Validation.validateTrainJob(job).find(f => f.rule === 'launch/launcher-gpus')?.message).toBe(
      'test/train: launcher.gpus is 1: the Trainer lists a launcher that does not run as a node in no hostfile line, so mpirun starts no rank there and they would sit idle. Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.');
  });

  test('a root image runs as root without fsGroup', () => {
    const out = synthTrainJob({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/root:1', { user: ImageUser.root() }) });
    expect(out.runtime.spec.mlPolicy.mpi.sshAuthMountPath).toBe('/root/.ssh');
    expect(out.nodePod.spec.securityContext.fsGroup).toBeUndefined();
    expectWarnings('test/train: image.user is ImageUser.root()');
  });
});

describe('sweeps target either operator with one prop', () => {
  test('trainerRuntime makes every point a TrainJob with its runtime, names within 44 characters, one shared NetworkPolicy', () => {
    const chart = new Chart(Testing.app(), 'test');
    const sweep = new DeepSpeedSweep(chart, 'sweep', {
      name: 'a-sweep-name-long-enough-to-need-shortening',
      baseJob: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 1, optimizer: { kind: OptimizerType.ADAMW, lr: 1e-4 } } }),
      axes: [SweepAxis.learningRate([1e-4, 3e-4])],
      trainerRuntime: TrainerRuntime.generated(),
    });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    expect(sweep.jobs.every(job => job instanceof DeepSpeedTrainJob)).toBe(true);
    const trainJobs = manifests.filter(m => m.kind === 'TrainJob');
    expect(trainJobs).toHaveLength(2);
    expect(manifests.filter(m => m.kind === 'TrainingRuntime').map(m => m.metadata.name)).toEqual(trainJobs.map(j => `${j.metadata.name}-runtime`));
    for (const job of trainJobs) expect(job.metadata.name).toMatch(/^a-sweep-name-long-enough-to-need-[0-9a-f]{10}$/);
    const policies = manifests.filter(m => m.kind === 'NetworkPolicy');
    expect(policies.map(p => p.spec.podSelector)).toEqual([{ matchLabels: { 'deepspeed-sweep/sweep': 'a-sweep-name-long-enough-to-need-shortening' } }]);
    const runtime = manifests.find(m => m.kind === 'TrainingRuntime');
    expect(runtime.spec.template.spec.replicatedJobs[0].template.spec.template.metadata.labels).toEqual({ 'deepspeed-sweep/sweep': 'a-sweep-name-long-enough-to-need-shortening' });
  });
});
