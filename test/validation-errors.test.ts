import { Duration, JsonPatch, Size } from 'cdk8s';
import {
  Cpu, DeepSpeedConfig, DeepSpeedDataType, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage,
  EnvValue, ImageUser, Interconnect, LauncherCreationPolicy, MpiImplementation, OffloadDevice, OptimizerType,
  SchedulerType, Severity, TrainingStorage, Validation, Volume, ZeroStage,
} from '../src';
import {
  imageRecipe, jobProps, LAUNCHER, LAUNCHER_CONTAINER, patch, synthToTempDir, WORKER, WORKER_CONTAINER,
} from './support/synth';
import { expectWarnings } from './support/warnings';

/** One invalid configuration and every error message it must produce, in report order. */
interface BadCase {
  readonly title: string;
  readonly props: DeepSpeedMpiJobProps;
  readonly mutate?: (job: DeepSpeedMpiJob) => void;
  readonly errors: string[];
  /** The start of each warning synth prints (legal, probably wrong, and not this case's subject). */
  readonly warnings?: string[];
}

const P = 'test/train';
const ROOT = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.root() });
const INTEL = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { mpiImplementation: MpiImplementation.INTEL });
const MPICH = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { mpiImplementation: MpiImplementation.MPICH });
const DNS_LABEL = 'a DNS-1123 label (at most 63 lowercase letters, digits and \'-\', starting and ending with a letter or digit)';
const KEY_SYNTAX = 'a qualified name: an optional DNS subdomain prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit';
const VALUE_SYNTAX = 'at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit (or empty)';
const NAME_SYNTAX = `${P}: metadata.name is %s: the MPI Operator requires a DNS-1035 label (lowercase letters, digits and '-', starting with a letter and ending with a letter or digit). Set metadata.name to a name such as 'cifar10-train'.`;
const WORKER_SPEC = 'spec.mpiReplicaSpecs.Worker.template.spec';
const LAUNCHER_SPEC = 'spec.mpiReplicaSpecs.Launcher.template.spec';
const NOT_A_QUANTITY = 'the Kubernetes API server cannot parse it as a quantity. Write a quantity such as \'4\', \'500m\' or \'32Gi\'.';
const IDENTITY = 'Check batch related parameters. train_batch_size is not equal to micro_batch_per_gpu * gradient_acc_step * world_size';
const GANG_DEADLOCK = 'with launcherCreationPolicy WaitForWorkersReady the MPI Operator creates the launcher only once the 2 workers are ready, but the gang scheduler holds them until 3 pods can start together, so no pod ever starts (kubeflow/mpi-operator#608). Set minAvailable to 2 (the worker count), or use launcherCreationPolicy AtStartup.';

const BATCH_KEYS = ['train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps'];

/** A job with a DeepSpeed config; a micro batch of 4 is added unless the config sets a batch size. */
function withConfig(config: DeepSpeedConfig, overrides: Partial<DeepSpeedMpiJobProps> = {}): DeepSpeedMpiJobProps {
  const hasBatch = [config.trainBatchSize, config.trainMicroBatchSizePerGpu, config.gradientAccumulationSteps].some(v => v !== undefined)
    || BATCH_KEYS.some(key => config.raw?.[key] !== undefined);
  return jobProps({ ...overrides, deepspeedConfig: hasBatch ? config : { trainMicroBatchSizePerGpu: 4, ...config } });
}

const ADAM = { kind: OptimizerType.ADAM };

const operatorCases: BadCase[] = [
  { title: 'job name with an uppercase letter', props: jobProps({ metadata: { name: 'Train' } }), errors: [NAME_SYNTAX.replace('%s', '\'Train\'')] },
  { title: 'job name starting with a digit', props: jobProps({ metadata: { name: '1train' } }), errors: [NAME_SYNTAX.replace('%s', '\'1train\'')] },
  { title: 'job name ending with a dash', props: jobProps({ metadata: { name: 'train-' } }), errors: [NAME_SYNTAX.replace('%s', '\'train-\'')] },
  {
    title: 'job name too long for the hostname of worker 1',
    props: jobProps({ metadata: { name: 'a'.repeat(56) } }),
    errors: [`${P}: metadata.name is '${'a'.repeat(56)}' (56 characters): the MPI Operator rejects the job because the last worker's hostname '${'a'.repeat(56)}-worker-1' is 65 characters, over the DNS limit of 63. Shorten metadata.name to at most 54 characters.`],
  },
  {
    title: 'job name too long for the hostname of worker 63',
    props: jobProps({ metadata: { name: 'b'.repeat(54) }, workers: { replicas: 64, gpusPerWorker: 1 } }),
    errors: [`${P}: metadata.name is '${'b'.repeat(54)}' (54 characters): the MPI Operator rejects the job because the last worker's hostname '${'b'.repeat(54)}-worker-63' is 64 characters, over the DNS limit of 63. Shorten metadata.name to at most 53 characters.`],
  },
  {
    title: 'launcher removed by a patch',
    props: jobProps(),
    mutate: patch(JsonPatch.remove(LAUNCHER)),
    errors: [`${P}: spec.mpiReplicaSpecs.Launcher is not set: the MPI Operator requires a Launcher replica spec and never starts a job without one. Remove the JSON patch that deletes the Launcher.`],
  },
  {
    title: 'two launchers',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER}/replicas`, 2)),
    errors: [`${P}: spec.mpiReplicaSpecs.Launcher.replicas is 2: the MPI Operator requires exactly 1 launcher. Set it to 1.`],
  },
  {
    title: 'zero workers without the launcher as a worker',
    props: jobProps({ workers: { replicas: 0, gpusPerWorker: 1 } }),
    errors: [`${P}: workers.replicas is 0: the MPI Operator requires at least 1 worker in a Worker spec. Set workers.replicas to 1 or more, or set runLauncherAsWorker: true with workers.replicas 0 to run every rank on the launcher.`],
  },
  {
    title: 'negative worker replicas through a patch',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER}/replicas`, -1)),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker.replicas is -1: the MPI Operator requires at least 1 worker in a Worker spec. Remove the JSON patch; the job sets the Worker replicas from workers.replicas.`],
  },
  {
    title: 'Worker spec removed without the launcher as a worker',
    props: jobProps(),
    mutate: patch(JsonPatch.remove(WORKER)),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker is not set: the MPI Operator writes an empty hostfile without workers, so mpirun has nowhere to start ranks. Remove the JSON patch that deletes it: the job writes the Worker spec from workers.`],
  },
  {
    title: 'worker restartPolicy Always',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER}/restartPolicy`, 'Always')),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker.restartPolicy is 'Always': the MPI Operator supports only 'Never' and 'OnFailure'. Set workers.restartPolicy to ReplicaRestartPolicy.NEVER or ReplicaRestartPolicy.ON_FAILURE.`],
  },
  {
    title: 'launcher restartPolicy ExitCode',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER}/restartPolicy`, 'ExitCode')),
    errors: [`${P}: spec.mpiReplicaSpecs.Launcher.restartPolicy is 'ExitCode': the MPI Operator supports only 'Never' and 'OnFailure'. Set launcher.restartPolicy to ReplicaRestartPolicy.NEVER or ReplicaRestartPolicy.ON_FAILURE.`],
  },
  {
    title: 'worker template without containers',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER}/template/spec/containers`, [])),
    errors: [`${P}: ${WORKER_SPEC}.containers is []: the MPI Operator requires at least one container in every pod template. Remove the JSON patch that deletes the container.`],
  },
  {
    title: 'negative slotsPerWorker',
    props: jobProps({ workers: { replicas: 2, slotsPerWorker: -1 } }),
    errors: [`${P}: workers.slotsPerWorker is -1: the MPI Operator writes it into the hostfile as a whole number of ranks per pod and rejects other values. Set workers.slotsPerWorker to a whole number of 1 or more, or remove it to use the GPU count.`],
  },
  {
    title: 'fractional slotsPerWorker',
    props: jobProps({ workers: { replicas: 2, slotsPerWorker: 1.5 } }),
    errors: [`${P}: workers.slotsPerWorker is 1.5: the MPI Operator writes it into the hostfile as a whole number of ranks per pod and rejects other values. Set workers.slotsPerWorker to a whole number of 1 or more, or remove it to use the GPU count.`],
  },
  {
    title: 'unknown cleanPodPolicy',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/runPolicy/cleanPodPolicy', 'Sometimes')),
    errors: [`${P}: spec.runPolicy.cleanPodPolicy is 'Sometimes': the MPI Operator accepts only 'None', 'Running', 'All'. Set cleanPodPolicy to a CleanPodPolicy value.`],
  },
  {
    title: 'negative backoffLimit',
    props: jobProps({ backoffLimit: -1 }),
    errors: [`${P}: backoffLimit is -1: the MPI Operator copies it to the launcher Job, whose API server validation requires a whole number of retries, 0 or more. Set backoffLimit to a whole number of 0 or more, or remove it for the Kubernetes default of 6.`],
  },
  {
    title: 'negative ttlSecondsAfterFinished',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/runPolicy/ttlSecondsAfterFinished', -5)),
    errors: [`${P}: spec.runPolicy.ttlSecondsAfterFinished is -5: the MPI Operator requires a whole number of 0 or more. Set it to 0 or more, or leave it out.`],
  },
  {
    title: 'fractional activeDeadlineSeconds',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/runPolicy/activeDeadlineSeconds', 1.5)),
    errors: [`${P}: spec.runPolicy.activeDeadlineSeconds is 1.5: the MPI Operator requires a whole number of 0 or more. Set it to 0 or more, or leave it out.`],
  },
  {
    title: 'unknown managedBy',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/runPolicy/managedBy', 'argo')),
    errors: [`${P}: spec.runPolicy.managedBy is 'argo': the MPI Operator accepts only 'kubeflow.org/mpi-operator', 'kueue.x-k8s.io/multikueue'. Set it to one of these, or remove it.`],
  },
  {
    title: 'empty sshAuthMountPath',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/sshAuthMountPath', '')),
    errors: [`${P}: spec.sshAuthMountPath is '': the MPI Operator requires a directory to mount the SSH keys in. Remove the JSON patch; the job sets it to the image user's ~/.ssh.`],
  },
  {
    title: 'unknown mpiImplementation',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/mpiImplementation', 'MVAPICH')),
    errors: [`${P}: spec.mpiImplementation is 'MVAPICH': the MPI Operator accepts only 'OpenMPI', 'Intel', 'MPICH'. Declare the image's MPI with an MpiImplementation value.`],
  },
  {
    title: 'launcherCreationPolicy outside the enum the CRD lost',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/launcherCreationPolicy', 'WaitForWorkers')),
    errors: [`${P}: spec.launcherCreationPolicy is 'WaitForWorkers': the MPI Operator accepts only 'AtStartup', 'WaitForWorkersReady'. Set launcherCreationPolicy to a LauncherCreationPolicy value.`],
  },
];

const kubernetesCases: BadCase[] = [
  {
    title: 'container name with uppercase and underscore',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER_CONTAINER}/name`, 'Worker_1')),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].name is 'Worker_1': the Kubernetes API server requires ${DNS_LABEL}. Rename the container.`],
  },
  {
    title: 'two containers with the same name',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${WORKER}/template/spec/containers/-`, { name: 'worker', image: 'registry.example.com/sidecar:1' })),
    errors: [`${P}: ${WORKER_SPEC}.containers[].name is 'worker': the Kubernetes API server requires container names to be unique within a pod. Rename one of the containers.`],
  },
  {
    title: 'volume name with an underscore',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${WORKER}/template/spec/volumes/-`, { name: 'scratch_space', emptyDir: {} })),
    errors: [`${P}: ${WORKER_SPEC}.volumes[1].name is 'scratch_space': the Kubernetes API server requires ${DNS_LABEL}. Rename the volume.`],
  },
  {
    title: 'two volumes with the same name',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${WORKER}/template/spec/volumes/-`, { name: 'dshm', emptyDir: {} })),
    errors: [`${P}: ${WORKER_SPEC}.volumes[].name is 'dshm': the Kubernetes API server requires volume names to be unique within a pod. Rename one of the volumes.`],
  },
  {
    title: 'volume named like the operator\'s SSH volume',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${LAUNCHER}/template/spec/volumes`, [{ name: 'ssh-auth', emptyDir: {} }])),
    errors: [`${P}: ${LAUNCHER_SPEC}.volumes[].name is 'ssh-auth': the MPI Operator adds a volume of that name, so the Kubernetes API server would reject the pod for a duplicate volume name. Rename the volume.`],
  },
  {
    title: 'mount of an undeclared volume',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${WORKER_CONTAINER}/volumeMounts/-`, { name: 'data', mountPath: '/data' })),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].volumeMounts[1].name is 'data': the Kubernetes API server rejects a mount of a volume the pod does not declare. Add a volume named 'data' to the pod, or mount one of 'dshm'.`],
  },
  {
    title: 'two mounts at one path',
    props: jobProps(),
    mutate: patch(
      JsonPatch.add(`${WORKER}/template/spec/volumes/-`, { name: 'data', emptyDir: {} }),
      JsonPatch.add(`${WORKER_CONTAINER}/volumeMounts/-`, { name: 'data', mountPath: '/dev/shm' })),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].volumeMounts[].mountPath is '/dev/shm': the Kubernetes API server requires mount paths to be unique within a container. Mount the volumes at different paths.`],
  },
  {
    title: 'launcher mount over the operator\'s hostfile directory',
    props: jobProps(),
    mutate: job => job.launcher.mount('/etc/mpi', Volume.fromEmptyDir('my-hostfile')),
    errors: [`${P}: ${LAUNCHER_SPEC}.containers[0].volumeMounts[].mountPath is '/etc/mpi': the MPI Operator mounts its own volume there, so the Kubernetes API server would reject the pod for a duplicate mount path. Mount the volume at a different path.`],
  },
  {
    title: 'port name longer than 15 characters',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER_CONTAINER}/ports/0/name`, 'ssh-port-for-mpi')),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].ports[0].name is 'ssh-port-for-mpi': the Kubernetes API server requires an IANA service name (at most 15 lowercase letters, digits and single '-', with at least one letter). Rename the port, e.g. 'ssh'.`],
  },
  {
    title: 'sshd port out of range',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { sshPort: 70000 }) }),
    errors: [`${P}: image.sshPort is 70000: it becomes the containerPort of every pod and the port mpirun's ssh dials, and the API server requires a port number from 1 to 65535. Set image.sshPort to the port the image's sshd listens on (the MPI Operator base image uses 2222), or remove it for the default.`],
  },
  {
    title: 'two ports with the same name',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${WORKER_CONTAINER}/ports/-`, { name: 'ssh', containerPort: 2223 })),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].ports[].name is 'ssh': the Kubernetes API server requires port names to be unique within a container. Rename one of the ports.`],
  },
  {
    title: 'GPU request below its limit (the blog post\'s mistake)',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER_CONTAINER}/resources/limits/nvidia.com~1gpu`, 2)),
    warnings: [`${P}: workers.gpusPerWorker is 2 but slotsPerWorker is 1`],
    errors: [`${P}: ${WORKER_SPEC}.containers[0].resources.requests['nvidia.com/gpu'] is 1 but the limit is 2: the Kubernetes API server requires the request of an extended resource such as a GPU to equal its limit. Set request and limit to the same number (gpusPerWorker sets both).`],
  },
  {
    title: 'fractional GPU limit',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER_CONTAINER}/resources/limits/nvidia.com~1gpu`, '1.5')),
    // No slot advice for a GPU count that is itself the error.
    warnings: [],
    errors: [`${P}: ${WORKER_SPEC}.containers[0].resources.limits['nvidia.com/gpu'] is '1.5': the Kubernetes API server accepts only whole numbers of an extended resource such as a GPU. Use a whole number.`],
  },
  {
    title: 'GPU request without a limit',
    props: jobProps(),
    mutate: patch(JsonPatch.remove(`${WORKER_CONTAINER}/resources/limits/nvidia.com~1gpu`)),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].resources.limits['nvidia.com/gpu'] is not set but the request is 1: the Kubernetes API server requires a limit for an extended resource such as a GPU. Set the limit to 1 as well.`],
  },
  {
    title: 'RDMA request differing from its limit',
    props: jobProps(),
    mutate: patch(
      JsonPatch.add(`${WORKER_CONTAINER}/resources/requests/rdma~1hca_shared_devices_a`, 1),
      JsonPatch.add(`${WORKER_CONTAINER}/resources/limits/rdma~1hca_shared_devices_a`, '2')),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].resources.requests['rdma/hca_shared_devices_a'] is 1 but the limit is '2': the Kubernetes API server requires the request of an extended resource such as a GPU to equal its limit. Set request and limit to the same number (gpusPerWorker sets both).`],
  },
  {
    title: 'GPU resource name without a vendor domain',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, gpuResourceName: 'gpu' } }),
    errors: [`${P}: workers.gpuResourceName is 'gpu': the Kubernetes API server accepts only cpu, memory, ephemeral-storage, hugepages-<size> or a domain-prefixed name such as 'nvidia.com/gpu'. Use the resource name the GPU device plugin registers, e.g. 'nvidia.com/gpu' or 'amd.com/gpu' (kubectl describe node lists it under Allocatable).`],
  },
  {
    title: 'CPU request above its limit',
    props: jobProps({ workers: { replicas: 2, cpu: Cpu.units(8), cpuLimit: Cpu.units(4) } }),
    errors: [`${P}: workers.cpuLimit is '4' but workers.cpu is '8': the Kubernetes API server rejects a request above its limit. Raise workers.cpuLimit to at least '8' or lower workers.cpu.`],
  },
  {
    title: 'memory request above its limit',
    props: jobProps({ workers: { replicas: 2, memory: Size.gibibytes(64), memoryLimit: Size.gibibytes(32) } }),
    errors: [`${P}: workers.memoryLimit is '32Gi' but workers.memory is '64Gi': the Kubernetes API server rejects a request above its limit. Raise workers.memoryLimit to at least '64Gi' or lower workers.memory.`],
  },
  {
    title: 'launcher CPU request one millicore above its limit',
    props: jobProps({ launcher: { cpu: Cpu.millis(2001), cpuLimit: Cpu.units(2) } }),
    errors: [`${P}: launcher.cpuLimit is '2' but launcher.cpu is '2001m': the Kubernetes API server rejects a request above its limit. Raise launcher.cpuLimit to at least '2001m' or lower launcher.cpu.`],
  },
  {
    title: 'memory limit that is not a quantity',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${WORKER_CONTAINER}/resources/limits/memory`, '32 GiB')),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].resources.limits.memory is '32 GiB': ${NOT_A_QUANTITY}`],
  },
  {
    title: 'negative CPU request',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${WORKER_CONTAINER}/resources/requests/cpu`, '-1')),
    errors: [`${P}: ${WORKER_SPEC}.containers[0].resources.requests.cpu is '-1': the Kubernetes API server rejects negative quantities. Use 0 or more.`],
  },
  {
    title: 'shared-memory size that is not a quantity',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER}/template/spec/volumes/0/emptyDir/sizeLimit`, '1 Gi')),
    errors: [`${P}: ${WORKER_SPEC}.volumes[0].emptyDir.sizeLimit is '1 Gi': ${NOT_A_QUANTITY}`],
  },
  {
    title: 'gang minResources that is not a quantity',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/runPolicy/schedulingPolicy', { minResources: { cpu: 'lots' } })),
    errors: [`${P}: spec.runPolicy.schedulingPolicy.minResources.cpu is 'lots': ${NOT_A_QUANTITY}`],
  },
  {
    title: 'MPIJob label key with a space',
    props: jobProps({ metadata: { labels: { 'team name': 'ml' } } }),
    errors: [`${P}: metadata.labels key is 'team name': the Kubernetes API server requires ${KEY_SYNTAX}. Rename the key, e.g. 'example.com/team'.`],
  },
  {
    title: 'worker pod label value with a space',
    props: jobProps({ workers: { replicas: 2, podLabels: { team: 'ML team!' } } }),
    errors: [`${P}: workers.podLabels.team is 'ML team!': the Kubernetes API server requires ${VALUE_SYNTAX}. Shorten or rewrite the value.`],
  },
  {
    title: 'launcher annotation key with two slashes',
    props: jobProps({ launcher: { podAnnotations: { 'example.com/a/b': 'x' } } }),
    errors: [`${P}: launcher.podAnnotations key is 'example.com/a/b': the Kubernetes API server requires ${KEY_SYNTAX}. Rename the key, e.g. 'example.com/team'.`],
  },
  {
    title: 'annotations over 256 KiB',
    props: jobProps({ metadata: { annotations: { 'example.com/blob': 'x'.repeat(300_000) } } }),
    errors: [`${P}: metadata.annotations is 300016 bytes: the Kubernetes API server limits the annotations of an object to 262144 bytes in total. Move large values into a ConfigMap.`],
  },
  {
    title: 'nodeSelector value with a space',
    props: jobProps({ workers: { replicas: 2, nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d 24xlarge' } } }),
    errors: [`${P}: workers.nodeSelector['node.kubernetes.io/instance-type'] is 'p4d 24xlarge': a node label value is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, and the API server rejects the pod. Use the label value as kubectl get nodes --show-labels shows it, e.g. 'NVIDIA-A100-SXM4-80GB'.`],
  },
  {
    title: 'environment variable name starting with a digit',
    props: jobProps({ env: { '1BAD': EnvValue.fromValue('x') } }),
    errors: [`${P}: env key is '1BAD': the Kubernetes API server requires letters, digits, '_', '-' or '.', not starting with a digit. Rename the variable, e.g. 'NCCL_DEBUG'.`],
  },
  {
    title: 'namespace with uppercase letters',
    props: jobProps({ metadata: { namespace: 'ML_Team' } }),
    errors: [`${P}: metadata.namespace is 'ML_Team': the Kubernetes API server requires ${DNS_LABEL}. Use an existing namespace's name.`],
  },
];

const launchCases: BadCase[] = [
  {
    title: 'GPUs on a launcher that does not run as a worker',
    props: jobProps({ launcher: { gpus: 2 } }),
    errors: [`${P}: launcher.gpus is 2: the MPI Operator hides GPUs from a launcher that does not run as a worker, so they would sit idle. Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.`],
  },
  {
    title: 'zero slots per worker',
    props: jobProps({ workers: { replicas: 2, slotsPerWorker: 0 } }),
    errors: [`${P}: workers.slotsPerWorker is 0: the MPI Operator writes every host into the hostfile with 0 slots, so mpirun has nowhere to start a rank. Set workers.slotsPerWorker to 1 or more, or remove it to use the GPU count.`],
  },
  {
    title: '-np above the world size',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command/12`, '8')),
    errors: [`${P}: launcher mpirun -np is '8': the hostfile the MPI Operator writes has 2 slots (2 workers × 1 slot), so mpirun stops with too few slots. Set -np to 2, or leave the launcher command to the job, which computes it.`],
  },
  {
    title: '-np below the world size',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 4 } }),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command/12`, '2')),
    errors: [`${P}: launcher mpirun -np is '2': the hostfile the MPI Operator writes has 8 slots (2 workers × 4 slots), so mpirun would leave 6 slots and its GPUs idle. Set -np to 8, or leave the launcher command to the job, which computes it.`],
  },
  {
    title: '-np that is not a number',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command/12`, 'all')),
    errors: [`${P}: launcher mpirun -np is 'all': mpirun needs a positive number of ranks. Set -np to 2, or leave the launcher command to the job, which computes it.`],
  },
  {
    title: 'wrong -np inside a shell command',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command`, ['/bin/sh', '-c', 'mpirun -np 4 --hostfile /etc/mpi/hostfile python train.py'])),
    errors: [`${P}: launcher mpirun -np is '4': the hostfile the MPI Operator writes has 2 slots (2 workers × 1 slot), so mpirun stops with too few slots. Set -np to 2, or leave the launcher command to the job, which computes it.`],
  },
  {
    title: 'Open MPI -x with Intel MPI',
    props: jobProps({ image: INTEL, mpirun: { extraArgs: ['-x', 'NCCL_DEBUG'] } }),
    errors: [`${P}: launcher mpirun is given '-x': Intel MPI's mpiexec (Hydra) rejects these Open MPI options. Use Hydra's equivalents (-genvlist NAME,... for -x NAME), or declare the image's mpiImplementation as MpiImplementation.OPEN_MPI.`],
  },
  {
    title: 'Open MPI --mca with MPICH',
    props: jobProps({ image: MPICH, mpirun: { extraArgs: ['--mca', 'btl', 'tcp'] } }),
    errors: [`${P}: launcher mpirun is given '--mca': MPICH's mpiexec (Hydra) rejects these Open MPI options. Use Hydra's equivalents (-genvlist NAME,... for -x NAME), or declare the image's mpiImplementation as MpiImplementation.OPEN_MPI.`],
  },
  {
    title: 'Hydra -genvlist with Open MPI',
    props: jobProps({ mpirun: { extraArgs: ['-genvlist', 'NCCL_DEBUG'] } }),
    errors: [`${P}: launcher mpirun is given '-genvlist': Open MPI's mpirun rejects these Hydra (Intel MPI, MPICH) options. Use Open MPI's equivalents (-x NAME for -genvlist, --hostfile for -f), or declare the image's mpiImplementation as INTEL or MPICH.`],
  },
  {
    title: 'DeepSpeed\'s runner with Intel MPI\'s hostfile format',
    props: jobProps({ image: INTEL }),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command`, ['deepspeed', '--hostfile', '/etc/mpi/hostfile', 'train.py'])),
    errors: [`${P}: ${LAUNCHER_SPEC}.containers[0].command is 'deepspeed --hostfile /etc/mpi/hostfile train.py': DeepSpeed's runner parses only Open MPI hostfile lines ('host slots=N'), but the MPI Operator writes 'host:N' lines for Intel. Start the ranks with mpirun (the job's default launcher command), or use an Open MPI image.`],
  },
  {
    title: 'root SSH directory for a non-root image',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/sshAuthMountPath', '/root/.ssh')),
    errors: [`${P}: spec.sshAuthMountPath is '/root/.ssh': the image runs sshd and the ranks as mpiuser (uid 1000), whose ssh reads keys from /home/mpiuser/.ssh, so the launcher cannot reach the workers. Remove the JSON patch so the job sets '/home/mpiuser/.ssh', or declare the image user that owns '/root/.ssh'.`],
  },
  {
    title: 'root image without --allow-run-as-root',
    props: jobProps({ image: ROOT }),
    mutate: job => job.apiObject.addJsonPatch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command`,
      job.launcher.command.filter(word => word !== '--allow-run-as-root'))),
    warnings: [`${P}: image.user is ImageUser.root()`],
    errors: [`${P}: launcher mpirun is run without --allow-run-as-root: the image runs as root and Open MPI's mpirun refuses to start as root without it. Add --allow-run-as-root (the job adds it for ImageUser.root()), or run the image as a non-root user.`],
  },
  {
    title: 'a fractional worker wait timeout',
    props: jobProps({ workerWaitTimeout: Duration.millis(1500) }),
    errors: [`${P}: workerWaitTimeout is 1.5 s: the launcher's wait for its workers takes its deadline in whole seconds of 1 or more. Set workerWaitTimeout to whole seconds, e.g. Duration.seconds(2), or remove it for the default of 15 minutes.`],
  },
  {
    title: 'a zero worker wait timeout',
    props: jobProps({ workerWaitTimeout: Duration.seconds(0) }),
    errors: [`${P}: workerWaitTimeout is 0 s: the launcher's wait for its workers takes its deadline in whole seconds of 1 or more. Set workerWaitTimeout to whole seconds, e.g. Duration.seconds(1), or remove it for the default of 15 minutes.`],
  },
  {
    title: 'a wait step patched to another hostfile',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command/4`, '/etc/hostfile')),
    errors: [`${P}: ${LAUNCHER_SPEC}.containers[0].command wait step --hostfile is '/etc/hostfile': the MPI Operator mounts the hostfile at /etc/mpi/hostfile, so the launcher cannot read the hosts to wait for and fails before mpirun. Remove the JSON patch of the launcher command, or pass --hostfile /etc/mpi/hostfile.`],
  },
  {
    title: 'a wait step watching another port than the workers\' sshd',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER_CONTAINER}/command/3`, '2022')),
    errors: [`${P}: ${LAUNCHER_SPEC}.containers[0].command wait step --port is '2222': the workers' sshd listens on 2022, so the launcher waits for a port that never opens and fails at its deadline. Remove the JSON patch of the launcher command, or pass --port 2022.`],
  },
  {
    title: 'worker pods forced to root for a non-root image',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${WORKER}/template/spec/securityContext/runAsUser`, 0)),
    errors: [`${P}: ${WORKER_SPEC}.securityContext.runAsUser is 0: the image's sshd setup, home directory and SSH keys belong to mpiuser (uid 1000), so ssh between the pods fails. Remove the override, or declare the image user as ImageUser.root().`],
  },
  {
    title: 'launcher container with another uid',
    props: jobProps(),
    mutate: patch(JsonPatch.add(`${LAUNCHER_CONTAINER}/securityContext/runAsUser`, 2000)),
    errors: [`${P}: ${LAUNCHER_SPEC}.containers[0].securityContext.runAsUser is 2000: the image's sshd setup, home directory and SSH keys belong to mpiuser (uid 1000), so ssh between the pods fails. Remove the override, or declare the image user as ImageUser.nonRoot({ uid: 2000 }).`],
  },
  {
    title: 'runAsNonRoot on a root image',
    props: jobProps({ image: ROOT }),
    mutate: patch(JsonPatch.add(`${LAUNCHER_CONTAINER}/securityContext`, { runAsNonRoot: true })),
    warnings: [`${P}: image.user is ImageUser.root()`],
    errors: [`${P}: ${LAUNCHER_SPEC}.containers[0].securityContext.runAsNonRoot is true: the image runs as root and the kubelet refuses to start a root container that must run as non-root. Remove runAsNonRoot, or use an image with a non-root user (ImageUser.nonRoot()).`],
  },
];

const deepspeedCases: BadCase[] = [
  {
    title: 'train_batch_size alone, not divisible by 3 ranks (CIFAR on 3 workers)',
    props: withConfig({ trainBatchSize: 16 }, { workers: { replicas: 3, gpusPerWorker: 1 } }),
    errors: [`${P}: ds_config.train_batch_size is 16: DeepSpeed derives train_micro_batch_size_per_gpu = 16 // 3 = 5 for a world size of 3 (3 workers × 1 slot) and fails with "${IDENTITY} 16 != 5 * 1 * 3". Set train_batch_size to a multiple of 3 (the world size), e.g. 15.`],
  },
  {
    title: 'train_batch_size alone, smaller than 32 ranks',
    props: withConfig({ trainBatchSize: 16 }, { workers: { replicas: 32, gpusPerWorker: 1 } }),
    errors: [`${P}: ds_config.train_batch_size is 16: DeepSpeed derives train_micro_batch_size_per_gpu = 16 // 32 = 0 for a world size of 32 (32 workers × 1 slot) and fails with "Micro batch size per gpu: 0 has to be greater than 0". Set train_batch_size to a multiple of 32 (the world size), e.g. 32.`],
  },
  {
    title: 'train_batch_size and micro batch leaving a remainder',
    props: withConfig({ trainBatchSize: 32, trainMicroBatchSizePerGpu: 4 }, { workers: { replicas: 3, gpusPerWorker: 1 } }),
    errors: [`${P}: ds_config.train_batch_size is 32: DeepSpeed derives gradient_accumulation_steps = (32 // 4) // 3 = 2 for a world size of 3 (3 workers × 1 slot) and fails with "${IDENTITY} 32 != 4 * 2 * 3". Set train_batch_size to a multiple of 12 (train_micro_batch_size_per_gpu × world size), e.g. 36.`],
  },
  {
    title: 'train_batch_size and micro batch giving zero accumulation steps',
    props: withConfig({ trainBatchSize: 4, trainMicroBatchSizePerGpu: 4 }),
    errors: [`${P}: ds_config.train_batch_size is 4: DeepSpeed derives gradient_accumulation_steps = (4 // 4) // 2 = 0 for a world size of 2 (2 workers × 1 slot) and fails with "Gradient accumulation steps: 0 has to be greater than 0". Set train_batch_size to a multiple of 8 (train_micro_batch_size_per_gpu × world size), e.g. 8.`],
  },
  {
    title: 'train_batch_size and accumulation steps leaving a remainder',
    props: withConfig({ trainBatchSize: 10, gradientAccumulationSteps: 2 }),
    errors: [`${P}: ds_config.train_batch_size is 10: DeepSpeed derives train_micro_batch_size_per_gpu = (10 // 2) // 2 = 2 for a world size of 2 (2 workers × 1 slot) and fails with "${IDENTITY} 10 != 2 * 2 * 2". Set train_batch_size to a multiple of 4 (gradient_accumulation_steps × world size), e.g. 12.`],
  },
  {
    title: 'train_batch_size and accumulation steps giving a zero micro batch',
    props: withConfig({ trainBatchSize: 2, gradientAccumulationSteps: 4 }),
    errors: [`${P}: ds_config.train_batch_size is 2: DeepSpeed derives train_micro_batch_size_per_gpu = (2 // 2) // 4 = 0 for a world size of 2 (2 workers × 1 slot) and fails with "Micro batch size per gpu: 0 has to be greater than 0". Set train_batch_size to a multiple of 8 (gradient_accumulation_steps × world size), e.g. 8.`],
  },
  {
    title: 'all three batch sizes inconsistent',
    props: withConfig({ trainBatchSize: 64, trainMicroBatchSizePerGpu: 8, gradientAccumulationSteps: 2 }),
    errors: [`${P}: ds_config.train_batch_size is 64: DeepSpeed checks it against a world size of 2 (2 workers × 1 slot) and fails with "${IDENTITY} 64 != 8 * 2 * 2". Set train_batch_size to 32 (8 × 2 × 2), or leave it out and let DeepSpeed derive it.`],
  },
  {
    title: 'batch sizes that forget the launcher\'s ranks',
    props: withConfig({ trainBatchSize: 4, trainMicroBatchSizePerGpu: 2, gradientAccumulationSteps: 1 },
      { workers: { replicas: 1, gpusPerWorker: 2 }, runLauncherAsWorker: true }),
    errors: [`${P}: ds_config.train_batch_size is 4: DeepSpeed checks it against a world size of 4 (1 worker × 2 slots + 2 launcher slots) and fails with "${IDENTITY} 4 != 2 * 1 * 4". Set train_batch_size to 8 (2 × 1 × 4), or leave it out and let DeepSpeed derive it.`],
  },
  {
    title: 'only gradient accumulation steps',
    props: withConfig({ gradientAccumulationSteps: 2 }),
    errors: [`${P}: ds_config.train_batch_size is not set: DeepSpeed fails with "Either train_batch_size or train_micro_batch_size_per_gpu needs to be provided". Set trainMicroBatchSizePerGpu (and gradientAccumulationSteps), or trainBatchSize.`],
  },
  {
    title: 'zero micro batch',
    props: withConfig({ trainMicroBatchSizePerGpu: 0 }),
    errors: [`${P}: ds_config.train_micro_batch_size_per_gpu is 0: DeepSpeed needs a whole number greater than 0 (it floor-divides batch sizes and asserts they are positive). Set it to a positive whole number, or leave it out and let DeepSpeed derive it.`],
  },
  {
    title: 'fractional train_batch_size',
    props: withConfig({ trainBatchSize: 16.5 }),
    errors: [`${P}: ds_config.train_batch_size is 16.5: DeepSpeed needs a whole number greater than 0 (it floor-divides batch sizes and asserts they are positive). Set it to a positive whole number, or leave it out and let DeepSpeed derive it.`],
  },
  {
    title: '"auto" batch size outside the Hugging Face Trainer',
    props: withConfig({ raw: { train_batch_size: 'auto' } }),
    errors: [`${P}: ds_config.train_batch_size is 'auto': only the Hugging Face Trainer fills in 'auto'; DeepSpeed itself drops it inside sections and fails on it at the top level. Write the actual value.`],
  },
  {
    title: '"auto" learning rate',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAM, extraParams: { lr: 'auto' } } }),
    errors: [`${P}: ds_config.optimizer.params.lr is 'auto': only the Hugging Face Trainer fills in 'auto'; DeepSpeed itself drops it inside sections and fails on it at the top level. Write the actual value.`],
  },
  {
    title: 'batch sizes next to elastic training',
    props: withConfig({ trainMicroBatchSizePerGpu: 4, raw: { elasticity: { enabled: true, max_train_batch_size: 64, micro_batch_sizes: [2, 4] } } }),
    errors: [`${P}: ds_config.train_micro_batch_size_per_gpu is 4: elasticity is enabled and DeepSpeed fails with "ElasticityConfigError: One or more batch related parameters were found in your ds_config". Remove the batch sizes (elasticity sets them), or set elasticity.ignore_non_elastic_batch_info to true.`],
  },
  {
    title: 'fp16 and bf16 both enabled',
    props: withConfig({ fp16: { enabled: true }, bf16: { enabled: true } }),
    errors: [`${P}: ds_config.bf16.enabled is true: fp16 is enabled too and DeepSpeed fails with "bfloat16 and fp16 modes cannot be simultaneously enabled". Enable only one of fp16 and bf16 (bf16 needs Ampere or newer GPUs).`],
  },
  {
    title: 'amp with ZeRO',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_1 }, raw: { amp: { enabled: true } } }),
    errors: [`${P}: ds_config.amp.enabled is true: ZeRO stage 1 is enabled and DeepSpeed fails with "Amp and ZeRO are not currently compatible, please use (legacy) fp16 mode which performs similar to amp opt_mode=O2". Use fp16 instead of amp, or set zero_optimization.stage to 0.`],
  },
  {
    title: 'amp with fp16',
    props: withConfig({ fp16: { enabled: true }, raw: { amp: { enabled: true } } }),
    errors: [`${P}: ds_config.amp.enabled is true: fp16 is enabled too and DeepSpeed fails with "Cannot enable both amp with (legacy) fp16 or bfloat16 mode". Enable only one of amp and fp16.`],
  },
  {
    title: 'amp with bf16',
    props: withConfig({ bf16: { enabled: true }, raw: { amp: { enabled: true } } }),
    errors: [`${P}: ds_config.amp.enabled is true: bf16 is enabled too and DeepSpeed fails with "Model data type and gradient accumulation data type must be equal to use Amp". Enable only one of amp and bf16.`],
  },
  {
    title: 'fp16 master weights without ZeRO stage 2',
    props: withConfig({ optimizer: ADAM, fp16: { enabled: true, fp16MasterWeightsAndGrads: true }, zeroOptimization: { stage: ZeroStage.STAGE_1 } }),
    errors: [`${P}: ds_config.fp16.fp16_master_weights_and_grads is true: ZeRO stage is 1 and DeepSpeed fails with "Fp16_master_weights_and_grads is only supported with ZeRO Stage 2 for now.". Use ZeRO stage 2 with the optimizer offloaded to the CPU, or remove it.`],
  },
  {
    title: 'fp16 master weights at stage 2 without CPU offload',
    props: withConfig({ optimizer: ADAM, fp16: { enabled: true, fp16MasterWeightsAndGrads: true }, zeroOptimization: { stage: ZeroStage.STAGE_2 } }),
    errors: [`${P}: ds_config.fp16.fp16_master_weights_and_grads is true: DeepSpeed supports it only with ZeRO-Offload and DeepSpeedCPUAdam and otherwise fails with "fp16_master_and_gradients requires optimizer to support keeping fp16 master and gradients while keeping the optimizer states in fp32". Set zero_optimization.offload_optimizer.device to 'cpu' and use optimizer Adam or AdamW without torch_adam, or remove it.`],
  },
  {
    title: 'bf16 gradient accumulation without ZeRO',
    props: withConfig({ bf16: { enabled: true }, gradAccumDataType: DeepSpeedDataType.BF16 }),
    errors: [`${P}: ds_config.data_types.grad_accum_dtype is 'bf16': bf16 is enabled without ZeRO and DeepSpeed fails with "Bfloat16 wrapper must use a gradient accumulation type of fp32, enable ZeRO to use Bfloat16 gradient accumulation". Set it to 'fp32', or enable ZeRO (stage 1 or more).`],
  },
  {
    title: 'ZeRO stage 4',
    props: withConfig({ raw: { zero_optimization: { stage: 4 } } }),
    errors: [`${P}: ds_config.zero_optimization.stage is 4: DeepSpeed accepts only ZeRO stages 0 to 3. Use a ZeroStage value.`],
  },
  {
    title: 'parameter offload below stage 3',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_2, offloadParam: { device: OffloadDevice.CPU } } }),
    errors: [`${P}: ds_config.zero_optimization.offload_param.device is 'cpu': DeepSpeed offloads parameters only with ZeRO stage 3 and silently ignores it at stage 2. Set zero_optimization.stage to 3, or remove offload_param.`],
  },
  {
    title: 'optimizer offload with ZeRO disabled',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_0, offloadOptimizer: { device: OffloadDevice.CPU } } }),
    errors: [`${P}: ds_config.zero_optimization.offload_optimizer.device is 'cpu': DeepSpeed offloads the optimizer only with ZeRO stages 1 to 3; at stage 0 it still builds a CPU optimizer and the setup breaks. Set zero_optimization.stage to 1, 2 or 3, or remove offload_optimizer.`],
  },
  {
    title: 'NVMe offload without a path',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_3, offloadParam: { device: OffloadDevice.NVME } } }),
    errors: [`${P}: ds_config.zero_optimization.offload_param.nvme_path is not set: DeepSpeed fails with ""nvme_path" in DeepSpeed Config cannot be None if remote device is nvme". Set nvmePath to a directory on a fast local volume mounted on every worker.`],
  },
  {
    title: 'NVMe optimizer offload at stage 2',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_2, offloadOptimizer: { device: OffloadDevice.NVME, nvmePath: '/nvme' } } }),
    errors: [`${P}: ds_config.zero_optimization.offload_optimizer.device is 'nvme': DeepSpeed offloads to NVMe only with ZeRO stage 3; at stage 2 it silently offloads to CPU memory instead. Set zero_optimization.stage to 3, or use device 'cpu'.`],
  },
  {
    title: 'partial optimizer offload below stage 3',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_2, offloadOptimizer: { device: OffloadDevice.CPU, ratio: 0.5 } } }),
    errors: [`${P}: ds_config.zero_optimization.offload_optimizer.ratio is 0.5: ZeRO stage is 2 and DeepSpeed fails with "Partial offloading only supported for ZeRO Stage 3.". Set ratio to 1, or zero_optimization.stage to 3.`],
  },
  {
    title: 'offload to an unknown device',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_3 }, raw: { zero_optimization: { offload_param: { device: 'disk' } } } }),
    errors: [`${P}: ds_config.zero_optimization.offload_param.device is 'disk': DeepSpeed accepts only 'none', 'cpu' and 'nvme'. Use an OffloadDevice value.`],
  },
  {
    title: 'offload ratio above 1',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_3, offloadOptimizer: { device: OffloadDevice.CPU, ratio: 1.5 } } }),
    errors: [`${P}: ds_config.zero_optimization.offload_optimizer.ratio is 1.5: DeepSpeed accepts a ratio from 0 to 1. Set it between 0 and 1.`],
  },
  {
    title: 'CIFAR\'s cpu_offload: false next to offload_optimizer',
    props: withConfig({
      optimizer: ADAM,
      zeroOptimization: { stage: ZeroStage.STAGE_2, offloadOptimizer: { device: OffloadDevice.CPU } },
      raw: { zero_optimization: { cpu_offload: false } },
    }),
    errors: [`${P}: ds_config.zero_optimization.cpu_offload is false: DeepSpeed fails with "Cannot provide deprecated parameter 'cpu_offload' and replacing parameter 'offload_optimizer' together", whatever its value. Remove cpu_offload; offload_optimizer replaces it.`],
  },
  {
    title: 'legacy ZeRO stage 1',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_1 }, raw: { zero_optimization: { legacy_stage1: true } } }),
    errors: [`${P}: ds_config.zero_optimization.legacy_stage1 is true: DeepSpeed fails with "The deprecated version of ZeRO Stage 1 is not supported in deepspeed >= 0.5.9". Remove it; stage 1 is the current implementation.`],
  },
  {
    title: 'Lamb with bf16',
    props: withConfig({ optimizer: { kind: OptimizerType.LAMB }, bf16: { enabled: true } }),
    errors: [`${P}: ds_config.optimizer.type is 'Lamb': bf16 fixes the loss scale at 1 and DeepSpeed fails with "DeepSpeed lamb optimizer requires dynamic loss scaling". Use fp16 with loss_scale 0, or another optimizer such as AdamW.`],
  },
  {
    title: 'Lamb with a static fp16 loss scale',
    props: withConfig({ optimizer: { kind: OptimizerType.LAMB }, fp16: { enabled: true, lossScale: 128 } }),
    errors: [`${P}: ds_config.optimizer.type is 'Lamb': fp16.loss_scale is 128 (static) and DeepSpeed fails with "DeepSpeed lamb optimizer requires dynamic loss scaling". Set fp16.loss_scale to 0 (dynamic).`],
  },
  {
    title: 'Lamb with ZeRO and no untested-optimizer opt-in',
    props: withConfig({ optimizer: { kind: OptimizerType.LAMB }, zeroOptimization: { stage: ZeroStage.STAGE_1 } }),
    errors: [`${P}: ds_config.optimizer.type is 'Lamb': ZeRO stage 1 is enabled and DeepSpeed fails with "You are using an untested ZeRO Optimizer. Please add <"zero_allow_untested_optimizer": true> in the configuration file to use it.". Set zeroAllowUntestedOptimizer: true, or use Adam, AdamW, Adagrad or Lion.`],
  },
  {
    title: '1-bit Adam with ZeRO',
    props: withConfig({ optimizer: { kind: OptimizerType.ONE_BIT_ADAM }, fp16: { enabled: true }, zeroOptimization: { stage: ZeroStage.STAGE_2 } }),
    errors: [`${P}: ds_config.optimizer.type is 'OneBitAdam': ZeRO stage 2 is enabled and DeepSpeed fails with "1bit-Adam is not compatible with ZeRO". Set zero_optimization.stage to 0, or use Adam or AdamW.`],
  },
  {
    title: 'max_grad_norm as an optimizer parameter',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAM, extraParams: { max_grad_norm: 1.0 } } }),
    errors: [`${P}: ds_config.optimizer.params.max_grad_norm is 1: DeepSpeed fails with "'max_grad_norm' is not supported as an optimizer parameter, please switch to using the deepspeed parameter 'gradient_clipping'". Remove it and set gradientClipping: 1 instead.`],
  },
  {
    title: 'torch optimizer in the wrong case',
    props: withConfig({ optimizer: { torchOptimizer: 'sgd' } }),
    errors: [`${P}: ds_config.optimizer.type is 'sgd': DeepSpeed fails with "sgd is not a supported DeepSpeed Optimizer". Did you mean 'SGD'?`],
  },
  {
    title: 'scheduler name in the wrong case',
    props: withConfig({ scheduler: { torchScheduler: 'WarmupLr' } }),
    errors: [`${P}: ds_config.scheduler.type is 'WarmupLr': DeepSpeed fails with "DeepSpeed does not recognize LR scheduler WarmupLr". Did you mean 'WarmupLR'?`],
  },
  {
    title: 'WarmupDecayLR without total_num_steps',
    props: withConfig({ scheduler: { kind: SchedulerType.WARMUP_DECAY_LR } }),
    errors: [`${P}: ds_config.scheduler.params.total_num_steps is not set: DeepSpeed's WarmupDecayLR requires it and fails with a TypeError when it builds the scheduler. Set scheduler.totalNumSteps to the number of training steps.`],
  },
  {
    title: 'misspelled top-level key',
    props: withConfig({ raw: { gradient_acumulation_steps: 2 } }),
    errors: [`${P}: ds_config.gradient_acumulation_steps is 2: DeepSpeed ignores unknown top-level keys, so the setting would be silently lost. Did you mean 'gradient_accumulation_steps'?`],
  },
  {
    title: 'misspelled ZeRO key',
    props: withConfig({ optimizer: ADAM, zeroOptimization: { stage: ZeroStage.STAGE_2 }, raw: { zero_optimization: { overlap_com: true } } }),
    errors: [`${P}: ds_config.zero_optimization.overlap_com is true: DeepSpeed reads zero_optimization with a pydantic model that rejects unknown keys ("Extra inputs are not permitted"). Did you mean 'overlap_comm'?`],
  },
  {
    title: 'unknown TensorBoard key',
    props: withConfig({ tensorboard: { enabled: true }, raw: { tensorboard: { outdir: '/logs' } } }),
    errors: [`${P}: ds_config.tensorboard.outdir is '/logs': DeepSpeed reads tensorboard with a pydantic model that rejects unknown keys ("Extra inputs are not permitted"). Remove it, or check it against DeepSpeed's configuration reference.`],
  },
  {
    title: 'unknown communication data type',
    props: withConfig({ raw: { communication_data_type: 'FP8' } }),
    errors: [`${P}: ds_config.communication_data_type is 'FP8': DeepSpeed fails with "Invalid communication_data_type. Supported data types: ['fp16', 'bf16', 'fp32']. Got: fp8". Use a DeepSpeedDataType value.`],
  },
  {
    title: 'unknown checkpoint tag validation',
    props: withConfig({ raw: { checkpoint: { tag_validation: 'strict' } } }),
    errors: [`${P}: ds_config.checkpoint.tag_validation is 'strict': DeepSpeed fails with "Checkpoint config contains invalid tag_validation value of STRICT, expecting one of ['WARN', 'IGNORE', 'FAIL']". Use a CheckpointTagValidation value.`],
  },
  {
    title: 'gradient pre-scaling with ZeRO-2 reduce-scatter',
    props: withConfig({ optimizer: ADAM, prescaleGradients: true, zeroOptimization: { stage: ZeroStage.STAGE_2 } }),
    errors: [`${P}: ds_config.prescale_gradients is true: ZeRO stage 2 reduce-scatters gradients and DeepSpeed fails with "pre-scale gradients is not yet supported with ZeRO-2 with reduce scatter enabled". Remove prescaleGradients, or set zero_optimization.reduce_scatter to false.`],
  },
  {
    title: 'gradient pre-divide factor with ZeRO-2 reduce-scatter',
    props: withConfig({ optimizer: ADAM, gradientPredivideFactor: 2, zeroOptimization: { stage: ZeroStage.STAGE_2 } }),
    errors: [`${P}: ds_config.gradient_predivide_factor is 2: ZeRO stage 2 reduce-scatters gradients and DeepSpeed fails with "gradient_predivide_factor != 1.0 is not yet supported with ZeRO-2 with reduce scatter enabled". Remove gradientPredivideFactor, or set zero_optimization.reduce_scatter to false.`],
  },
  {
    title: 'parallel checkpoint writing switched on with a string',
    props: withConfig({ raw: { checkpoint: { parallel_write: { pipeline_stage: 'yes' } } } }),
    errors: [`${P}: ds_config.checkpoint.parallel_write.pipeline_stage is 'yes': DeepSpeed fails with "checkpoint::parallel_write::pipeline_stage value of 'yes' is invalid, expecting: true or false". Use true or false.`],
  },
];

const waitForWorkers = { launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY };
const schedulingPolicy = (policy: object) => patch(JsonPatch.add('/spec/runPolicy/schedulingPolicy', policy));

const schedulingCases: BadCase[] = [
  {
    title: 'gang scheduling and WaitForWorkersReady without minAvailable',
    props: jobProps(waitForWorkers),
    mutate: schedulingPolicy({ queue: 'default' }),
    errors: [`${P}: spec.runPolicy.schedulingPolicy.minAvailable is not set (the MPI Operator uses 3, the workers and the launcher): ${GANG_DEADLOCK}`],
  },
  {
    title: 'gang scheduling and WaitForWorkersReady counting the launcher',
    props: jobProps(waitForWorkers),
    mutate: schedulingPolicy({ minAvailable: 3 }),
    errors: [`${P}: spec.runPolicy.schedulingPolicy.minAvailable is 3: ${GANG_DEADLOCK}`],
  },
  {
    title: 'gang scheduling and WaitForWorkersReady with a partial gang',
    props: jobProps(waitForWorkers),
    mutate: schedulingPolicy({ minAvailable: 1 }),
    errors: [`${P}: spec.runPolicy.schedulingPolicy.minAvailable is 1: with launcherCreationPolicy WaitForWorkersReady the gang must be exactly the 2 workers, but the gang scheduler would start as few as 1, so the job is not gang-scheduled. Set minAvailable to 2 (the worker count), or use launcherCreationPolicy AtStartup.`],
  },
  {
    title: 'minAvailable larger than the job',
    props: jobProps(),
    mutate: schedulingPolicy({ minAvailable: 10 }),
    errors: [`${P}: spec.runPolicy.schedulingPolicy.minAvailable is 10: the gang scheduler waits until 10 pods can start together, but the job has only 3 (2 workers and the launcher), so no pod ever starts. Set it to a whole number from 1 to 3, or leave it out (the operator then uses 3).`],
  },
  {
    title: 'minAvailable of zero pods',
    props: jobProps(),
    mutate: schedulingPolicy({ minAvailable: 0 }),
    errors: [`${P}: spec.runPolicy.schedulingPolicy.minAvailable is 0: the MPI Operator copies it unchecked into the PodGroup's minMember, which needs a whole number of at least one pod. Set it to a whole number from 1 to 3, or leave it out (the operator then uses 3).`],
  },
];

const groups: Array<[string, BadCase[]]> = [
  ['operator', operatorCases],
  ['Kubernetes', kubernetesCases],
  ['launch consistency', launchCases],
  ['DeepSpeed config', deepspeedCases],
  ['scheduling', schedulingCases],
];

describe.each(groups)('%s rules reject invalid jobs at synth', (_group, cases) => {
  test.each(cases.map(c => [c.title, c] as const))('%s', (_title, badCase) => {
    const outcome = synthToTempDir(badCase.props, { mutate: badCase.mutate });
    expect(outcome.errors).toEqual(badCase.errors);
    expect(outcome.written).toEqual([]);
    expectWarnings(...badCase.warnings ?? []);
  });
});

test('the table covers at least 60 distinct invalid configurations', () => {
  const all = groups.flatMap(([, cases]) => cases);
  expect(all.length).toBeGreaterThanOrEqual(60);
  expect(new Set(all.map(c => c.title)).size).toBe(all.length);
  expect(new Set(all.map(c => c.errors.join('\n'))).size).toBe(all.length);
});

test('every error of a job is reported at once, in rule order', () => {
  const outcome = synthToTempDir(withConfig({ trainBatchSize: 16 }, {
    metadata: { name: 'Train' },
    workers: { replicas: 3, gpusPerWorker: 1 },
    launcher: { gpus: 1 },
  }));
  expect(outcome.errors).toEqual([
    NAME_SYNTAX.replace('%s', '\'Train\''),
    `${P}: launcher.gpus is 1: the MPI Operator hides GPUs from a launcher that does not run as a worker, so they would sit idle. Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.`,
    deepspeedCases[0].errors[0],
  ]);
  expect(outcome.written).toEqual([]);
});

describe('values rendered by typed feature props are reported once, by the feature\'s own rule', () => {
  const errorRules = (props: DeepSpeedMpiJobProps, mutate?: (job: DeepSpeedMpiJob) => void) => {
    const outcome = synthToTempDir(props, { mutate });
    expect(outcome.written).toEqual([]);
    return Validation.validateJob(outcome.job).filter(f => f.severity === Severity.ERROR).map(f => f.rule);
  };

  test('a storage volume name that is not a DNS label', () => {
    const volumes = [TrainingStorage.existingClaim('Data_Set', { claimName: 'imagenet', mountPath: '/data' })];
    expect(errorRules(jobProps({ storage: { volumes } }))).toEqual(['storage/volume-name']);
  });

  test('a storage volume mounted over the operator\'s hostfile', () => {
    const volumes = [TrainingStorage.existingClaim('data', { claimName: 'imagenet', mountPath: '/etc/mpi' })];
    expect(errorRules(jobProps({ storage: { volumes } }))).toEqual(['storage/mount-path']);
  });

  test('a fractional interconnect device count', () => {
    const props = jobProps({
      workers: { replicas: 2, gpusPerWorker: 1, memory: Size.gibibytes(64) },
      network: { interconnect: Interconnect.efa({ devicesPerPod: 1.5 }) },
    });
    expect(errorRules(props)).toEqual(['network/device-count']);
  });

  test('a gang larger than the job', () => {
    expect(errorRules(jobProps({ scheduling: { gangScheduling: { minAvailable: 4 } } }))).toEqual(['gang/min-available']);
  });

  test('a typed gang that deadlocks with WaitForWorkersReady names the prop', () => {
    const outcome = synthToTempDir(jobProps({
      launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
      scheduling: { gangScheduling: { minAvailable: 3 } },
    }));
    expect(outcome.errors).toEqual([`${P}: scheduling.gangScheduling.minAvailable is 3: ${GANG_DEADLOCK}`]);
  });

  test('the sshd port of an image recipe', () => {
    const { chart, image } = imageRecipe({ sshPort: 70000 });
    const job = new DeepSpeedMpiJob(chart, 'train', jobProps({ image }));
    expect(Validation.validateJob(job).map(f => f.rule)).toEqual([]);
    expect(Validation.validateImage(image).map(f => f.rule)).toEqual(['image/ssh-port']);
  });

  test('an escape hatch over a typed gang is still checked', () => {
    const rules = errorRules(jobProps({ scheduling: { gangScheduling: {} } }),
      patch(JsonPatch.replace('/spec/runPolicy/schedulingPolicy/minAvailable', 10)));
    expect(rules).toEqual(['scheduling/min-available']);
  });
});
