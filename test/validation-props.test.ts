// Every prop checked (issue 12): one table per family of mistakes, each case with its exact messages.
import { Chart, Duration, JsonPatch, Size, Testing } from 'cdk8s';
import {
  Cpu, DeepSpeedConfig, EgressDestination, Interconnect, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedSweep, DeepSpeedSweepProps, SweepAxis, DeepSpeedTrainingImage, EnvValue, ImageUser,
  MpiImplementation, NcclDebugSubsystem, OffloadDevice, OptimizerType, PersistentVolumeAccessMode, SchedulerType, Severity,
  TaintEffect, Toleration, TrainingStorage, Validation, ZeroStage,
} from '../src';
import { buildJob, findingMessages, jobProps, patch, synthError, synthToTempDir } from './support/synth';

/** One mistake and every error (and warning) it must produce, in report order. */
interface Case {
  readonly title: string;
  readonly props: DeepSpeedMpiJobProps;
  readonly mutate?: (job: DeepSpeedMpiJob) => void;
  readonly errors: string[];
  readonly warnings?: string[];
}

const P = 'test/train';
const INTEL = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { mpiImplementation: MpiImplementation.INTEL });
const MPICH = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { mpiImplementation: MpiImplementation.MPICH });
const GPU_WORKERS = { replicas: 2, gpusPerWorker: 4 };

function withConfig(config: DeepSpeedConfig, overrides: Partial<DeepSpeedMpiJobProps> = {}): DeepSpeedMpiJobProps {
  return jobProps({ workers: GPU_WORKERS, ...overrides, deepspeedConfig: { trainMicroBatchSizePerGpu: 4, ...config } });
}

const WHOLE_DEVICES = 'the Kubernetes API server accepts only whole numbers of an extended resource such as a GPU, 0 or more';
const SUBDOMAIN = 'is a DNS subdomain name (at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit), so no such object can exist and the API server rejects the reference';
const LABEL_KEY = 'a node label key is a qualified name (an optional DNS subdomain prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit), and the API server rejects the pod';
const LABEL_VALUE = 'a node label value is at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit, and the API server rejects the pod';
const LABEL_VALUE_FIX = 'Use the label value as kubectl get nodes --show-labels shows it, e.g. \'NVIDIA-A100-SXM4-80GB\'.';
const BAD_REFERENCE = 'the container runtime parses it as [registry/]repository[:tag][@digest] with a lowercase repository and no spaces, and the kubelet fails every pod with InvalidImageName. Write the reference as the registry shows it, e.g. \'registry.example.com/team/train:v1\'.';
const NO_GPUS = 'no pod that hosts ranks requests a GPU (workers.gpusPerWorker is 0), so DeepSpeed finds no CUDA device and falls back to its CPU accelerator ("Setting accelerator to CPU")';

const numbers: Case[] = [
  {
    title: 'negative worker count',
    props: jobProps({ workers: { replicas: -2, gpusPerWorker: 1 } }),
    errors: [`${P}: workers.replicas is -2: the MPI Operator creates whole worker pods and requires a whole number of them (0 only with runLauncherAsWorker). Set workers.replicas to a whole number of 1 or more.`],
  },
  {
    title: 'fractional worker count',
    props: jobProps({ workers: { replicas: 2.5, gpusPerWorker: 1 } }),
    errors: [`${P}: workers.replicas is 2.5: the MPI Operator creates whole worker pods and requires a whole number of them (0 only with runLauncherAsWorker). Set workers.replicas to a whole number of 1 or more.`],
  },
  {
    title: 'fractional GPU count',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 0.5 } }),
    errors: [`${P}: workers.gpusPerWorker is 0.5: ${WHOLE_DEVICES}. Set workers.gpusPerWorker to the whole number of GPUs each worker pod gets, or 0 for CPU workers.`],
  },
  {
    title: 'negative GPU count',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: -1 } }),
    errors: [`${P}: workers.gpusPerWorker is -1: ${WHOLE_DEVICES}. Set workers.gpusPerWorker to the whole number of GPUs each worker pod gets, or 0 for CPU workers.`],
  },
  {
    title: 'a GPU count that is not a number',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: NaN } }),
    errors: [`${P}: workers.gpusPerWorker is NaN: ${WHOLE_DEVICES}. Set workers.gpusPerWorker to the whole number of GPUs each worker pod gets, or 0 for CPU workers.`],
  },
  {
    title: 'fractional launcher GPUs on a launcher that hosts ranks',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 2 }, launcher: { gpus: 1.5 } }),
    errors: [`${P}: launcher.gpus is 1.5: ${WHOLE_DEVICES}. Set launcher.gpus to a whole number of GPUs, or remove it.`],
  },
  {
    title: 'fractional slots',
    props: jobProps({ workers: { replicas: 2, slotsPerWorker: 1.5 } }),
    errors: [`${P}: workers.slotsPerWorker is 1.5: the MPI Operator writes it into the hostfile as a whole number of ranks per pod and rejects other values. Set workers.slotsPerWorker to a whole number of 1 or more, or remove it to use the GPU count.`],
  },
  {
    title: 'fractional backoff limit',
    props: jobProps({ backoffLimit: 2.5 }),
    errors: [`${P}: backoffLimit is 2.5: the MPI Operator copies it to the launcher Job, whose API server validation requires a whole number of retries, 0 or more. Set backoffLimit to a whole number of 0 or more, or remove it for the Kubernetes default of 6.`],
  },
  {
    title: 'a GPU count far beyond any node (80 for 8)',
    props: jobProps({ workers: { replicas: 4, gpusPerWorker: 80 } }),
    errors: [`${P}: workers.gpusPerWorker is 80: a pod's GPUs come from one node and no node has more than 16 nvidia.com/gpu (most have 8), so the scheduler never places the pod and the job never starts. Set workers.gpusPerWorker to the GPUs of one node (e.g. 8) and add workers for more GPUs.`],
  },
  {
    title: 'launcher GPUs beyond any node',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 8 }, launcher: { gpus: 32 } }),
    errors: [`${P}: launcher.gpus is 32: a pod's GPUs come from one node and no node has more than 16 nvidia.com/gpu (most have 8), so the scheduler never places the pod and the job never starts. Set launcher.gpus to the GPUs of one node (e.g. 8) and add workers for more GPUs.`],
    warnings: [`${P}: launcher.gpus is 32 but slotsPerWorker is 8: the launcher hosts slotsPerWorker ranks, so 24 GPUs on it would sit idle. Set launcher.gpus to 8 or remove it (it defaults to workers.gpusPerWorker).`],
  },
  {
    title: 'a zero-sized claim',
    props: jobProps({ storage: { volumes: [TrainingStorage.newClaim('data', { mountPath: '/data', size: Size.gibibytes(0) })] } }),
    errors: [`${P}: storage.volumes 'data' size is '0': the API server rejects a PersistentVolumeClaim whose storage request is not greater than zero. Set storage.volumes 'data' size above zero, e.g. Size.gibibytes(16).`],
  },
  {
    title: 'an empty /dev/shm',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, sharedMemorySize: Size.mebibytes(0) } }),
    errors: [`${P}: workers.sharedMemorySize is '0': NCCL and the PyTorch data loader fail to allocate shared memory in an empty /dev/shm. Set workers.sharedMemorySize above zero, e.g. Size.gibibytes(16).`],
  },
  {
    title: 'a fractional deadline names the prop instead of failing while rendering',
    props: jobProps({ activeDeadline: Duration.millis(1500) }),
    errors: [`${P}: activeDeadline is 1.5 s: the MPI Operator writes it as the launcher Job's activeDeadlineSeconds, a whole number of seconds, and the API server rejects 1.5 (the schema's type is integer). Give activeDeadline in whole seconds, e.g. Duration.seconds(2).`],
  },
  {
    title: 'a deadline of 0 seconds',
    props: jobProps({ activeDeadline: Duration.seconds(0) }),
    errors: [`${P}: activeDeadline is 0 s: the MPI Operator copies it to the launcher Job, whose deadline of 0 seconds has passed the moment it starts, so Kubernetes fails the Job at once (DeadlineExceeded) before any rank runs. Set activeDeadline to the longest the training may run, e.g. Duration.hours(24), or remove it for no deadline.`],
  },
  {
    title: 'a fractional TTL',
    props: jobProps({ ttlAfterFinished: Duration.millis(500) }),
    errors: [`${P}: ttlAfterFinished is 0.5 s: it becomes ttlSecondsAfterFinished, a whole number of seconds, and the API server rejects 0.5 (the schema's type is integer). Give ttlAfterFinished in whole seconds, e.g. Duration.seconds(1).`],
  },
  {
    title: 'a fractional toleration timeout',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, tolerations: [Toleration.exists('spot', { effect: TaintEffect.NO_EXECUTE, evictAfter: Duration.millis(2500) })] } }),
    errors: [`${P}: workers.tolerations[0] evictAfter is 2.5 s: it becomes tolerationSeconds, a whole number of seconds, and the API server rejects 2.5 (the schema's type is integer). Give workers.tolerations[0] evictAfter in whole seconds, e.g. Duration.seconds(3).`],
  },
  {
    title: 'a memory of 0 (request and limit) does nothing',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, memory: Size.gibibytes(0) } }),
    errors: [`${P}: workers.memory is '0': the kubelet treats a memory limit of 0 as no limit, and the scheduler reserves no memory for a request of 0, so the pods run unbounded as if it were not set. Set workers.memory to the memory each pod may use, e.g. Size.gibibytes(64), or remove it.`],
  },
  {
    title: 'a memory size that is not whole KiB renders in bytes instead of throwing',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, memory: Size.mebibytes(1.5), sharedMemorySize: Size.mebibytes(1) } }),
    errors: [],
  },
  {
    title: 'a negative user id (the gid defaults to it: one message)',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.nonRoot({ uid: -1 }) }) }),
    errors: [`${P}: image.user uid is -1: it becomes the pods' runAsUser, and the API server requires a whole number from 0 to 2147483647. Set it to the user id of the image's user 'mpiuser' (\`id mpiuser\` in the image shows it), e.g. 1000.`],
  },
  {
    title: 'an sshd port out of range names image.sshPort',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { sshPort: 0 }) }),
    errors: [`${P}: image.sshPort is 0: it becomes the containerPort of every pod and the port mpirun's ssh dials, and the API server requires a port number from 1 to 65535. Set image.sshPort to the port the image's sshd listens on (the MPI Operator base image uses 2222), or remove it for the default.`],
  },
  {
    title: 'a /dev/shm size of NaN: one message, under the prop',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, sharedMemorySize: Size.gibibytes(NaN) } }),
    errors: [`${P}: workers.sharedMemorySize is 'NaN': it is no number of bytes, and the API server cannot parse it as a quantity. Set workers.sharedMemorySize to a finite size, e.g. Size.gibibytes(16).`],
  },
  {
    title: 'an infinite claim size',
    props: jobProps({ storage: { volumes: [TrainingStorage.newClaim('data', { mountPath: '/data', size: Size.tebibytes(Infinity) })] } }),
    errors: [`${P}: storage.volumes 'data' size is 'Infinity': it is no number of bytes, and the API server cannot parse it as a quantity. Set storage.volumes 'data' size to a finite size, e.g. Size.gibibytes(16).`],
  },
  {
    title: 'NaN launcher GPUs on a launcher that hosts ranks: one message',
    props: jobProps({ runLauncherAsWorker: true, launcher: { gpus: NaN } }),
    errors: [`${P}: launcher.gpus is NaN: ${WHOLE_DEVICES}. Set launcher.gpus to a whole number of GPUs, or remove it.`],
  },
  {
    title: 'a NaN gang minimum: one message, under the prop',
    props: jobProps({ scheduling: { gangScheduling: { minAvailable: NaN } } }),
    errors: [`${P}: scheduling.gangScheduling.minAvailable is NaN: the PodGroup needs a whole number of at least one pod; the MPI Operator passes the value through unchecked. Remove minAvailable (it defaults to all 3 pods) or set it between 1 and 3.`],
  },
  {
    title: 'NaN RDMA devices: one message, under the interconnect',
    props: jobProps({ network: { interconnect: Interconnect.infiniband({ rdmaDevicesPerPod: NaN }) } }),
    errors: [`${P}: network.interconnect devices 'rdma/hca_shared_devices_a' is NaN: a device plugin resource is counted in whole devices and the interconnect needs at least one per pod that hosts ranks; the API server rejects other quantities or the fabric goes unused. Request a whole number of devices, at least 1 (the RDMA devices the device plugin offers per node, often 1 for a shared HCA).`],
  },
  {
    title: 'a NaN micro batch: one message, under the prop',
    props: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: NaN } }),
    errors: [`${P}: deepspeedConfig.trainMicroBatchSizePerGpu is NaN: JSON has no NaN or Infinity, so ds_config.json would hold null in its place and the setting would be lost (or DeepSpeed would fail on the null). Set it to a finite number, or remove it.`],
  },
  {
    title: 'a deadline of NaN seconds: no NaN in the fix',
    props: jobProps({ activeDeadline: Duration.seconds(NaN) }),
    errors: [`${P}: activeDeadline is NaN s: the MPI Operator writes it as the launcher Job's activeDeadlineSeconds, a whole number of seconds, and the API server rejects NaN (the schema's type is integer). Give activeDeadline as a finite duration in whole seconds, e.g. Duration.hours(24), or remove it.`],
  },
  {
    title: 'a negative CPU request names the prop',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, cpu: Cpu.units(-2) } }),
    errors: [
      `${P}: workers.cpu is '-2': the Kubernetes API server rejects negative quantities. Use 0 or more.`,
    ],
  },
];

const names: Case[] = [
  {
    title: 'an existing claim with an uppercase name',
    props: jobProps({ storage: { volumes: [TrainingStorage.existingClaim('data', { claimName: 'Team-Data', mountPath: '/data' })] } }),
    errors: [`${P}: storage.volumes 'data' claimName is 'Team-Data': a PersistentVolumeClaim name ${SUBDOMAIN}. Use the name of the existing claim as kubectl get pvc shows it.`],
  },
  {
    title: 'a storage class with an underscore',
    props: jobProps({ storage: { volumes: [TrainingStorage.newClaim('data', { mountPath: '/data', size: Size.gibibytes(10), storageClassName: 'fast_nfs' })] } }),
    errors: [`${P}: storage.volumes 'data' storageClassName is 'fast_nfs': a StorageClass name ${SUBDOMAIN}. Use a StorageClass of the cluster (kubectl get storageclass), or leave it out for the default class.`],
  },
  {
    title: 'a Kueue queue name with uppercase letters (a valid label value no LocalQueue can have)',
    props: jobProps({ scheduling: { kueue: { queueName: 'Team-A' } } }),
    errors: [`${P}: scheduling.kueue.queueName is 'Team-A': a LocalQueue name is a DNS subdomain (lowercase letters, digits, '-' and '.'), so no LocalQueue can match it: Kueue creates the Workload, marks it inadmissible because the LocalQueue does not exist, and the job stays suspended forever. Use the name of the LocalQueue as it exists in the cluster (kubectl get localqueues -n <namespace>).`],
  },
  {
    title: 'a toleration key with a space',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, tolerations: [Toleration.exists('nvidia gpu', { effect: TaintEffect.NO_SCHEDULE })] } }),
    errors: [`${P}: workers.tolerations[0] key is 'nvidia gpu': a taint key is a qualified name (an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), and the API server rejects the pod. Use the taint key as kubectl describe node shows it, e.g. 'nvidia.com/gpu'.`],
  },
  {
    title: 'a toleration value with a slash',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, tolerations: [Toleration.equal('dedicated', 'ml/gpu')] } }),
    errors: [`${P}: workers.tolerations[0] value is 'ml/gpu': a taint value is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, and the API server rejects the pod. Use the taint value as kubectl describe node shows it, e.g. 'present'.`],
  },
  {
    title: 'evictAfter on a NoSchedule toleration names the job and the prop (it used to throw without either)',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, tolerations: [Toleration.exists('spot', { effect: TaintEffect.NO_SCHEDULE, evictAfter: Duration.minutes(1) })] } }),
    errors: [`${P}: workers.tolerations[0] evictAfter is 60 s with effect 'NoSchedule': tolerationSeconds only limits how long a pod stays on a node after a NoExecute taint appears, and the API server rejects it with any other effect ("effect must be 'NoExecute' when \`tolerationSeconds\` is set"). Set effect: TaintEffect.NO_EXECUTE, or remove evictAfter.`],
  },
  {
    title: 'an Equal toleration without a key',
    props: jobProps({ launcher: { tolerations: [Toleration.equal('', 'ml')] } }),
    errors: [`${P}: launcher.tolerations[0] key is '': an Equal toleration matches a taint by key and value, and the API server rejects one without a key ("operator must be Exists when \`key\` is empty"). Give the taint key, e.g. Toleration.equal('dedicated', 'ml'), or use Toleration.all() to tolerate every taint.`],
  },
  {
    title: 'a Kueue queue name with a space: one message, not a second one for the label it becomes',
    props: jobProps({ scheduling: { kueue: { queueName: 'team a' } } }),
    errors: [`${P}: scheduling.kueue.queueName is 'team a': it becomes the kueue.x-k8s.io/queue-name label, and the API server rejects label values longer than 63 characters or not letters, digits, '-', '_' and '.' between alphanumerics. Use the name of the LocalQueue as it exists in the cluster (kubectl get localqueues -n <namespace>).`],
  },
  {
    title: 'an empty Kueue queue name (a legal label that matches no queue)',
    props: jobProps({ scheduling: { kueue: { queueName: '' } } }),
    errors: [`${P}: scheduling.kueue.queueName is '': it becomes the kueue.x-k8s.io/queue-name label, which the API server accepts empty, but an empty name matches no LocalQueue, so Kueue cannot queue the job in one. Use the name of the LocalQueue as it exists in the cluster (kubectl get localqueues -n <namespace>), or remove it.`],
  },
  {
    title: 'a pod label key with a space names workers.podLabels',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, podLabels: { 'team name': 'ml' } } }),
    errors: [`${P}: workers.podLabels key is 'team name': the Kubernetes API server requires a qualified name: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit. Rename the key, e.g. 'example.com/team'.`],
  },
  {
    title: 'a node-selector key with two slashes, inherited by a launcher that hosts ranks: one message',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 1, nodeSelector: { 'a/b/c': 'x' } } }),
    errors: [`${P}: workers.nodeSelector key is 'a/b/c': ${LABEL_KEY}. Use the label key as kubectl get nodes --show-labels shows it, e.g. 'nvidia.com/gpu.product'.`],
  },
  {
    title: 'a GPU product with a space',
    props: jobProps({ scheduling: { gpuProduct: 'NVIDIA A100' } }),
    errors: [`${P}: scheduling.gpuProduct is 'NVIDIA A100': ${LABEL_VALUE}. ${LABEL_VALUE_FIX}`],
  },
  {
    title: 'an image reference with an uppercase repository',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/Team/Train:v1') }),
    errors: [`${P}: image.imageRef is 'registry.example.com/Team/Train:v1': ${BAD_REFERENCE}`],
  },
  {
    title: 'an image reference with a space',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train :v1') }),
    errors: [`${P}: image.imageRef is 'registry.example.com/train :v1': ${BAD_REFERENCE}`],
  },
  {
    title: 'a relative user home',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.nonRoot({ home: 'home/mpiuser' }) }) }),
    errors: [`${P}: image.user home is 'home/mpiuser': the MPI Operator mounts the SSH keys at the home's .ssh ('home/mpiuser/.ssh'), and the API server rejects relative mount paths, so no pod is ever created. Give image.user home as an absolute path, e.g. '/home/mpiuser'.`],
  },
  {
    title: 'a relative working directory',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { workingDirectory: 'workspace' }) }),
    errors: [`${P}: image.workingDirectory is 'workspace': the container runtime refuses to start a container whose working directory is relative, and mpirun's --wdir would resolve it differently on each pod. Give image.workingDirectory as an absolute path, e.g. '/workspace'.`],
  },
  {
    title: 'an environment variable name starting with a digit names env',
    props: jobProps({ env: { '1ST_RUN': EnvValue.fromValue('1') } }),
    errors: [`${P}: env key is '1ST_RUN': the Kubernetes API server requires letters, digits, '_', '-' or '.', not starting with a digit. Rename the variable, e.g. 'NCCL_DEBUG'.`],
  },
  {
    title: 'a forwarded image variable with a space',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { forwardedImageEnv: ['HF HOME'] }) }),
    errors: [`${P}: image.forwardedImageEnv[0] is 'HF HOME': no environment variable of the image can have that name, so mpirun's -x forwards nothing for it to the ranks. List the names of variables the image defines (ENV lines of its Dockerfile), e.g. 'LD_LIBRARY_PATH'.`],
  },
  {
    title: 'a GPU resource name without a domain names workers.gpuResourceName',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, gpuResourceName: 'gpu' } }),
    errors: [`${P}: workers.gpuResourceName is 'gpu': the Kubernetes API server accepts only cpu, memory, ephemeral-storage, hugepages-<size> or a domain-prefixed name such as 'nvidia.com/gpu'. Use the resource name the GPU device plugin registers, e.g. 'nvidia.com/gpu' or 'amd.com/gpu' (kubectl describe node lists it under Allocatable).`],
  },
  {
    title: 'an RDMA resource without a domain names the interconnect option',
    props: jobProps({ network: { interconnect: Interconnect.infiniband({ rdmaResource: 'hca_shared_devices_a' }) } }),
    errors: [`${P}: network.interconnect rdmaResource is 'hca_shared_devices_a': the Kubernetes API server accepts only cpu, memory, ephemeral-storage, hugepages-<size> or a domain-prefixed name such as 'nvidia.com/gpu'. Use the resource name the RDMA device plugin registers, e.g. 'rdma/hca_shared_devices_a' (kubectl describe node lists it under Allocatable).`],
  },
  {
    title: 'an uppercase ServiceAccount name',
    props: jobProps({ security: { serviceAccountName: 'Trainer' } }),
    errors: [`${P}: security.serviceAccountName is 'Trainer': it becomes the pods' serviceAccountName, and the API server rejects pods whose serviceAccountName is not a DNS subdomain name (lowercase letters, digits, '-' and '.'), the form ServiceAccount names take. Use the name of a ServiceAccount in the job's namespace (kubectl get serviceaccounts), or set createServiceAccount: true for one of the job's own.`],
  },
  {
    title: 'a Volcano queue no Queue can be named',
    props: jobProps({ scheduling: { gangScheduling: { volcanoQueue: 'Research' } } }),
    errors: [`${P}: scheduling.gangScheduling.volcanoQueue is 'Research': a Volcano Queue name is a DNS subdomain (at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit), so no Queue can match it and Volcano never schedules the job's PodGroup (its admission webhook refuses a PodGroup whose queue does not exist). Use the name of a Volcano Queue as it exists in the cluster (kubectl get queues.scheduling.volcano.sh), or remove it for the 'default' queue.`],
  },
  {
    title: 'an egress namespace no namespace can be named',
    props: jobProps({ security: { egress: { destinations: [EgressDestination.pods({ namespaceName: 'Data', podLabels: { app: 'minio' } })] } } }),
    errors: [`${P}: security.egress.destinations[0] namespaceName is 'Data': a namespace name is a DNS label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit), so the rule's kubernetes.io/metadata.name selector matches no namespace, and the NetworkPolicy lets the pods reach none of the destination's pods. Use the namespace's name as kubectl get namespaces shows it.`],
  },
  {
    title: 'an egress exception outside its CIDR',
    props: jobProps({ security: { egress: { destinations: [EgressDestination.cidr('10.0.0.0/8', { exceptCidrs: ['192.168.0.0/16'] })] } } }),
    errors: [`${P}: security.egress.destinations[0] exceptCidrs is '192.168.0.0/16': the API server rejects an ipBlock whose except entry is not a strict subset of its cidr '10.0.0.0/8'. List in exceptCidrs only blocks inside 10.0.0.0/8, or widen the destination's CIDR.`],
  },
  {
    title: 'a DNS namespace no namespace can be named',
    props: jobProps({ security: { egress: { dnsNamespace: 'Kube-System' } } }),
    errors: [`${P}: security.egress.dnsNamespace is 'Kube-System': a namespace name is a DNS label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit), so the rule's kubernetes.io/metadata.name selector matches no namespace, the NetworkPolicy lets the pods reach no DNS server, and every name lookup fails, the workers' hostnames that mpirun dials included. Use the namespace of the cluster DNS pods (kubectl get pods -A -l k8s-app=kube-dns), or remove it for 'kube-system'.`],
  },
  {
    title: 'a socket interface with a blank',
    props: jobProps({ network: { interconnect: Interconnect.tcp({ socketInterface: 'eth 0' }) } }),
    errors: [`${P}: network.interconnect socketInterface is 'eth 0': NCCL reads it as NCCL_SOCKET_IFNAME, a comma-separated list of network interface names, and 'eth 0' can be no network interface's name (names have no blanks or '/'), so NCCL finds no interface to bootstrap on and every rank fails at init with "no socket interface found". Give the interface as ip link shows it on the pods, e.g. 'eth0' (or a prefix such as 'ib').`],
  },
  {
    title: 'a fractional GID index (NCCL would ignore it)',
    props: jobProps({ network: { interconnect: Interconnect.infiniband({ gidIndex: 1.5 }) } }),
    errors: [`${P}: network.interconnect gidIndex is 1.5: NCCL reads NCCL_IB_GID_INDEX as an integer and ignores any other value for its default, so the setting would be silently lost. Set gidIndex to the whole GID index of the RoCE v2 address (show_gids lists them), e.g. 3.`],
  },
  {
    title: 'an absolute subPath',
    props: jobProps({ storage: { volumes: [TrainingStorage.existingClaim('data', { claimName: 'data', mountPath: '/data', subPath: '/team-a' })] } }),
    errors: [`${P}: storage.volumes 'data' subPath is '/team-a': it names a directory inside the volume, and the API server rejects a subPath that is absolute or contains '..' ("must be a relative path" / "must not contain '..'"). Give the directory relative to the volume's root, e.g. 'team-a'.`],
  },
  {
    title: 'a checkpoint flag with its value in one word',
    props: jobProps({ storage: { volumes: [TrainingStorage.existingClaim('ckpt', { claimName: 'ckpt', mountPath: '/ckpt' })], checkpoint: { directory: '/ckpt/run-1', argument: '--save_dir ' } } }),
    errors: [`${P}: storage.checkpoint.argument is '--save_dir ': the job passes it to the script as one word before the directory, and no shell splits it, so the script's argparse never sees the flag it declares and exits with "unrecognized arguments". Give the flag alone, e.g. '--save_dir', or remove it for --checkpoint_dir.`],
  },
  {
    title: 'a relative checkpoint directory without a declared working directory',
    props: jobProps({ storage: { volumes: [TrainingStorage.existingClaim('ckpt', { claimName: 'ckpt', mountPath: '/ckpt' })], checkpoint: { directory: 'ckpt/run-1' } } }),
    errors: [`${P}: storage.checkpoint.directory is 'ckpt/run-1': a relative path resolves against the ranks' working directory, the image's WORKDIR, which the job does not know (image.workingDirectory is not set), so nothing shows the checkpoints land on a volume every pod shares rather than in each pod's own container filesystem. Use an absolute path under a TrainingStorage mountPath, e.g. /checkpoints/run-1, or declare image.workingDirectory.`],
  },
  {
    title: 'a relative checkpoint directory under a working directory on a shared volume works',
    props: jobProps({
      image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { workingDirectory: '/workspace' }),
      storage: { volumes: [TrainingStorage.existingClaim('work', { claimName: 'work', mountPath: '/workspace' })], checkpoint: { directory: 'ckpt/run-1' } },
    }),
    errors: [],
  },
  {
    title: 'a volume mounted at /',
    props: jobProps({ storage: { volumes: [TrainingStorage.existingClaim('data', { claimName: 'data', mountPath: '/' })] } }),
    errors: [`${P}: storage.volumes 'data' mountPath is '/': a volume mounted at / hides the image's whole filesystem (the Python interpreter, MPI and sshd), so the container cannot start. Mount the volume at a directory of its own, e.g. /data or /checkpoints.`],
  },
  {
    title: 'interpreter flags written into pythonPath',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { pythonPath: '/usr/bin/python3 -u' }) }),
    errors: [`${P}: image.pythonPath is '/usr/bin/python3 -u': no shell splits the launcher's command, so mpirun looks for an executable of that whole name on every rank's pod, finds none and starts no rank. Set image.pythonPath to the interpreter alone ('/usr/bin/python3'), and set PYTHONUNBUFFERED=1 in env instead of -u.`],
  },
  {
    title: 'a relative mount path',
    props: jobProps({ storage: { volumes: [TrainingStorage.existingClaim('data', { claimName: 'data', mountPath: 'data' })] } }),
    errors: [`${P}: storage.volumes 'data' mountPath is 'data': the API server rejects relative mount paths. Mount the volume at a directory of its own, e.g. /data or /checkpoints.`],
  },
];

const launchArgs: Case[] = [
  {
    title: '-np in extraArgs (Open MPI takes the last one silently)',
    props: jobProps({ mpirun: { extraArgs: ['-np', '4'] } }),
    errors: [`${P}: mpirun.extraArgs[0] is '-np': it sets the process count, which the job computes from the hostfile (workers × slotsPerWorker), and mpirun silently takes the last one, so the world size no longer matches the hostfile. Remove it from extraArgs: change workers.replicas or workers.slotsPerWorker instead.`],
  },
  {
    title: 'a second hostfile in extraArgs',
    props: jobProps({ mpirun: { extraArgs: ['--hostfile', '/tmp/hosts'] } }),
    errors: [`${P}: mpirun.extraArgs[0] is '--hostfile': it sets the hosts, which the job takes from the MPI Operator's hostfile, and mpirun refuses a second host source ("Only one hostfile can be specified") or places ranks where the operator started no worker. Remove it from extraArgs: the MPI Operator writes the hostfile from the workers.`],
  },
  {
    title: '-x in extraArgs',
    props: jobProps({ mpirun: { extraArgs: ['-x', 'NCCL_DEBUG=INFO'] } }),
    errors: [`${P}: mpirun.extraArgs[0] is '-x': it sets the forwarded variables, which the job computes from env and image.forwardedImageEnv, and the variable bypasses env, where the job and its checks see what every rank gets. Remove it from extraArgs and set the variable in env: the job sets it on the launcher and forwards it to every rank.`],
  },
  {
    title: '--bind-to in extraArgs',
    props: jobProps({ mpirun: { extraArgs: ['--bind-to', 'core'] } }),
    errors: [`${P}: mpirun.extraArgs[0] is '--bind-to': it sets the binding, which mpirun.bindTo sets, and mpirun stops with "Conflicting directives for binding policy". Remove it from extraArgs and set mpirun.bindTo instead.`],
  },
  {
    title: '-ppn in extraArgs under Intel MPI',
    props: jobProps({ image: INTEL, mpirun: { extraArgs: ['-ppn', '2'] } }),
    errors: [`${P}: mpirun.extraArgs[0] is '-ppn': it sets the ranks per host, which the job sets to slotsPerWorker, and Hydra takes the last one, so the ranks no longer fill the hostfile's slots. Remove it from extraArgs: change workers.slotsPerWorker instead.`],
  },
  {
    title: 'ranks per node in extraArgs',
    props: jobProps({ mpirun: { extraArgs: ['-N', '2'] } }),
    errors: [`${P}: mpirun.extraArgs[0] is '-N': it sets the ranks per host, which the job sets through the hostfile's slots (workers.slotsPerWorker), and mpirun then places that many ranks on each host whatever its slots, so the ranks no longer match the GPUs of each pod or mpirun refuses the mapping. Remove it from extraArgs: change workers.slotsPerWorker instead.`],
  },
  {
    title: 'the program in extraArgs',
    props: jobProps({ mpirun: { extraArgs: ['python', 'train.py'] } }),
    errors: [`${P}: mpirun.extraArgs[0] is 'python': the job passes extraArgs after its own options and before the Python program, and mpirun takes the first word that is not an option as the program to run, so every rank would run 'python' with the interpreter and script as its arguments. Keep only options (and their values) in extraArgs; the program is script and args.`],
  },
  {
    title: 'an option and its value in one extraArgs word',
    props: jobProps({ mpirun: { extraArgs: ['--report-bindings', '--display-map --tag-output'] } }),
    errors: [`${P}: mpirun.extraArgs[1] is '--display-map --tag-output': no shell splits the launcher's command, so mpirun receives it as one argument, an option it does not know, and stops before starting any rank. Give each word as its own entry: '--display-map', '--tag-output'.`],
  },
  {
    title: 'an MCA parameter name with dashes',
    props: jobProps({ mpirun: { mcaParameters: { '--btl_tcp_if_include': 'eth0' } } }),
    errors: [`${P}: mpirun.mcaParameters key is '--btl_tcp_if_include': Open MPI names its parameters with letters, digits and '_' (framework_component_name, e.g. 'btl_tcp_if_include') and skips a --mca name it does not know without a word, so the setting would be lost. Give the parameter's name alone, e.g. 'btl_tcp_if_include', and its value as the entry's value.`],
  },
  {
    title: 'plm_rsh_args without the sshd port',
    props: jobProps({ mpirun: { mcaParameters: { plm_rsh_args: '-o StrictHostKeyChecking=no' } } }),
    errors: [`${P}: mpirun.mcaParameters.plm_rsh_args is '-o StrictHostKeyChecking=no': it replaces the ssh options the job passes ('-p 2222 -o ConnectionAttempts=10'), so mpirun's ssh dials port 22, where the workers' sshd (image.sshPort 2222) does not listen, and every connection is refused. Add -p 2222 to it, or remove plm_rsh_args to keep the job's.`],
  },
  {
    title: 'plm_rsh_args with the sshd port is fine',
    props: jobProps({ mpirun: { mcaParameters: { plm_rsh_args: '-p 2222 -o ConnectionAttempts=30' } } }),
    errors: [],
  },
  {
    title: 'the deepspeed runner as mpirun.executable',
    props: jobProps({ mpirun: { executable: 'deepspeed' } }),
    errors: [`${P}: mpirun.executable is 'deepspeed': the job passes it mpirun's options (-np, --hostfile, --bind-to, ...) before the program, which deepspeed does not take: it exits with a usage error ("unrecognized arguments") before any rank starts. Remove mpirun.executable: the job starts the ranks with mpirun, and DeepSpeed finds them through MPI by itself.`],
  },
  {
    title: 'script arguments written into script',
    props: jobProps({ script: '/workspace/train.py --epochs 3' }),
    errors: [`${P}: script is '/workspace/train.py --epochs 3': no shell splits the launcher's command, so every rank's interpreter gets it as one file name, finds no file of that name and exits ("can't open file"). Set script to the file alone and pass the rest in args: script '/workspace/train.py', args ['--epochs', '3'].`],
  },
  {
    title: 'the interpreter written into script',
    props: jobProps({ script: 'python3 train.py' }),
    errors: [`${P}: script is 'python3 train.py': no shell splits the launcher's command, so every rank's interpreter gets it as one file name, finds no file of that name and exits ("can't open file"). Set script to the file alone and pass the rest in args (the job runs image.pythonPath on the script itself): script 'train.py'.`],
  },
  {
    title: 'a script with a trailing newline',
    props: jobProps({ script: 'train.py\n' }),
    errors: [`${P}: script is "train.py\\n": every rank's interpreter gets it as one file name, blanks included, finds no file of that name and exits ("can't open file"). Remove the blanks: 'train.py'.`],
  },
  {
    title: 'a ppr mapping with fewer ranks per node than slots',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 4 }, mpirun: { mapBy: 'ppr:2:node' } }),
    errors: [`${P}: mpirun.mapBy is 'ppr:2:node': it places 2 ranks on each of the 2 hosts, fewer than the 8 ranks the job starts (2 workers × 4 slots), and mpirun stops because the ppr cannot hold them. Remove mpirun.mapBy (the hostfile already gives each host 4 slots), or change workers.slotsPerWorker instead.`],
  },
  {
    title: 'a ppr mapping with more ranks per node than GPUs',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 2 }, mpirun: { mapBy: 'ppr:4:node' } }),
    errors: [`${P}: mpirun.mapBy is 'ppr:4:node': it places 4 ranks on a host that has 2 GPUs (slotsPerWorker 2), and DeepSpeed calls set_device(local_rank), so the ranks beyond them fail with "invalid device ordinal". Remove mpirun.mapBy (the hostfile already gives each host 2 slots), or change workers.slotsPerWorker instead.`],
  },
  {
    title: 'a ppr mapping equal to the slots is fine',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 4 }, mpirun: { mapBy: 'ppr:4:node:PE=8' } }),
    errors: [],
  },
  {
    title: 'a binding policy Open MPI does not know',
    props: jobProps({ mpirun: { bindTo: 'cores' } }),
    errors: [`${P}: mpirun.bindTo is 'cores': Open MPI's mpirun knows no --bind-to policy 'cores' and stops before starting any rank. Use one of 'none', 'hwthread', 'core', 'l1cache', 'l2cache', 'l3cache', 'socket', 'package', 'numa', 'board', 'cpu-list' (with ':' modifiers if needed), or remove mpirun.bindTo for the default.`],
  },
  {
    title: 'a mapping policy Open MPI does not know',
    props: jobProps({ mpirun: { mapBy: 'gpu' } }),
    errors: [`${P}: mpirun.mapBy is 'gpu': Open MPI's mpirun knows no --map-by policy 'gpu' and stops before starting any rank. Use one of 'slot', 'hwthread', 'core', 'l1cache', 'l2cache', 'l3cache', 'socket', 'package', 'numa', 'board', 'node', 'seq', 'dist', 'ppr', 'pe-list', 'rankfile' (with ':' modifiers if needed), or remove mpirun.mapBy for the default.`],
  },
];

const noEffect: Case[] = [
  {
    title: 'MCA parameters under MPICH',
    props: jobProps({ image: MPICH, mpirun: { mcaParameters: { btl: '^openib' } } }),
    errors: [`${P}: mpirun.mcaParameters is {"btl":"^openib"}: the image's MPI is MPICH, whose mpiexec (Hydra) the job starts without it: MCA parameters are Open MPI's; Hydra has none, so the setting would be silently dropped. Remove mpirun.mcaParameters, or pass Hydra's own flags in mpirun.extraArgs (environment variables such as I_MPI_PIN_DOMAIN go in env).`],
  },
  {
    title: 'a binding option under Intel MPI',
    props: jobProps({ image: INTEL, mpirun: { bindTo: 'core' } }),
    errors: [`${P}: mpirun.bindTo is 'core': the image's MPI is Intel MPI, whose mpiexec (Hydra) the job starts without it: the job passes --bind-to to Open MPI only; Hydra binds with -bind-to or I_MPI_PIN, so the setting would be silently dropped. Remove mpirun.bindTo, or pass Hydra's own flags in mpirun.extraArgs (environment variables such as I_MPI_PIN_DOMAIN go in env).`],
  },
  {
    title: 'a torch optimizer next to a DeepSpeed optimizer type',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW, torchOptimizer: 'SGD' } }),
    errors: [`${P}: deepspeedConfig.optimizer.torchOptimizer is 'SGD': deepspeedConfig.optimizer.kind is 'AdamW' too, and ds_config.json has one optimizer type, so 'SGD' would be silently dropped. Set one of deepspeedConfig.optimizer.kind and deepspeedConfig.optimizer.torchOptimizer.`],
  },
  {
    title: 'a torch scheduler next to a DeepSpeed scheduler type',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW }, scheduler: { kind: SchedulerType.WARMUP_LR, torchScheduler: 'StepLR' } }),
    errors: [`${P}: deepspeedConfig.scheduler.torchScheduler is 'StepLR': deepspeedConfig.scheduler.kind is 'WarmupLR' too, and ds_config.json has one scheduler type, so 'StepLR' would be silently dropped. Set one of deepspeedConfig.scheduler.kind and deepspeedConfig.scheduler.torchScheduler.`],
  },
  {
    title: 'torchAdam with Lamb',
    props: withConfig({ optimizer: { kind: OptimizerType.LAMB, torchAdam: true } }),
    errors: [`${P}: deepspeedConfig.optimizer.torchAdam is true: DeepSpeed removes torch_adam from the params of Adam and AdamW only and passes it to Lamb's constructor, which fails with "TypeError: __init__() got an unexpected keyword argument 'torch_adam'". Remove torchAdam: it applies to Adam and AdamW only.`],
  },
  {
    title: 'warmup_max_lr for WarmupCosineLR',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW }, scheduler: { kind: SchedulerType.WARMUP_COSINE_LR, totalNumSteps: 5000, warmupMaxLr: 0.001 } }),
    errors: [`${P}: deepspeedConfig.scheduler.warmupMaxLr is 0.001: DeepSpeed passes every scheduler param to WarmupCosineLR's constructor, which does not take warmup_max_lr (only WarmupLR, WarmupDecayLR do), and fails with "TypeError: __init__() got an unexpected keyword argument 'warmup_max_lr'". Remove it; WarmupCosineLR takes totalNumSteps, warmupMinRatio, warmupNumSteps, cosMinRatio, warmupType.`],
  },
  {
    title: 'a raw cycle param for WarmupLR',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW }, scheduler: { kind: SchedulerType.WARMUP_LR, extraParams: { cycle_min_lr: 0.0001 } } }),
    errors: [`${P}: ds_config.scheduler.params.cycle_min_lr is 0.0001: DeepSpeed passes every scheduler param to WarmupLR's constructor, which does not take cycle_min_lr (only OneCycle do), and fails with "TypeError: __init__() got an unexpected keyword argument 'cycle_min_lr'". Remove it; WarmupLR takes warmupMinLr, warmupMaxLr, warmupNumSteps, warmupType.`],
  },
];

const IGNORED = 'deepspeedConfig';
noEffect.push(
  {
    title: 'a typed param a torch scheduler does not take',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW }, scheduler: { torchScheduler: 'StepLR', warmupNumSteps: 100, extraParams: { step_size: 1000 } } }),
    errors: [`${P}: ${IGNORED}.scheduler.warmupNumSteps is 100: DeepSpeed passes every scheduler param to torch.optim.lr_scheduler.StepLR, which takes none of DeepSpeed's scheduler params, and fails with "TypeError: __init__() got an unexpected keyword argument 'warmup_num_steps'". Give StepLR's own arguments in extraParams (e.g. { step_size: 1000 } for StepLR), or use a DeepSpeed scheduler kind.`],
  },
  {
    title: 'scheduler params without a scheduler type',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW }, scheduler: { warmupMaxLr: 0.001 } }),
    errors: [`${P}: ${IGNORED}.scheduler is {"warmupMaxLr":0.001}: without kind or torchScheduler ds_config.json has a scheduler section with no type, and DeepSpeed builds no scheduler from it, so its params would be silently dropped. Set deepspeedConfig.scheduler.kind (e.g. SchedulerType.WARMUP_LR) or torchScheduler, or remove the section.`],
  },
  {
    title: 'betas for Adagrad',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAGRAD, betas: [0.9, 0.999] } }),
    errors: [`${P}: ${IGNORED}.optimizer.betas is [0.9,0.999]: DeepSpeed passes every optimizer param to Adagrad's constructor, which does not take betas, and fails with "TypeError: __init__() got an unexpected keyword argument 'betas'". Remove betas: Adagrad has no betas.`],
  },
  {
    title: 'three betas',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW, betas: [0.9, 0.99, 0.999] } }),
    errors: [`${P}: ds_config.optimizer.params.betas is [0.9,0.99,0.999]: AdamW unpacks betas into (beta1, beta2) at its first step and fails with a ValueError on anything but two numbers. Give two coefficients, e.g. [0.9, 0.999].`],
  },
  {
    title: 'adamWMode false with AdamW',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW, adamWMode: false } }),
    errors: [`${P}: ${IGNORED}.optimizer.adamWMode is false: DeepSpeed always uses decoupled weight decay for AdamW (adam_w_mode only switches Adam), so false would be silently ignored. Use kind OptimizerType.ADAM with adamWMode: false for Adam with L2 weight decay, or remove adamWMode.`],
  },
  {
    title: 'a learning rate of NaN (JSON writes null)',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW, lr: NaN } }),
    errors: [`${P}: ${IGNORED}.optimizer.lr is NaN: JSON has no NaN or Infinity, so ds_config.json would hold null in its place and the setting would be lost (or DeepSpeed would fail on the null). Set it to a finite number, or remove it.`],
  },
  {
    title: 'extraParams overwriting a typed param',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW, lr: 1e-4, extraParams: { lr: 3e-4 } } }),
    errors: [`${P}: ${IGNORED}.optimizer.extraParams.lr is 0.0003: a typed setting writes ds_config.optimizer.params.lr as 0.0001 too, and optimizer.extraParams is merged over it, so 0.0001 would be silently dropped. Set the value in one place: the typed prop, or the escape hatch alone.`],
  },
  {
    title: 'raw overwriting a typed setting',
    props: withConfig({ raw: { train_micro_batch_size_per_gpu: 8 } }),
    errors: [`${P}: ${IGNORED}.raw.train_micro_batch_size_per_gpu is 8: a typed setting writes ds_config.train_micro_batch_size_per_gpu as 4 too, and raw is merged over it, so 4 would be silently dropped. Set the value in one place: the typed prop, or the escape hatch alone.`],
  },
  {
    title: 'an NVMe path with CPU offload',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW }, zeroOptimization: { stage: ZeroStage.STAGE_3, offloadParam: { device: OffloadDevice.CPU, nvmePath: '/local_nvme' } } }),
    errors: [`${P}: ${IGNORED}.zeroOptimization.offloadParam.nvmePath is '/local_nvme': DeepSpeed reads nvme_path only with device 'nvme', and the device is 'cpu', so it would be silently ignored. Set device: OffloadDevice.NVME to offload to that path, or remove nvmePath.`],
  },
  {
    title: 'a stage-3 setting at stage 2',
    props: withConfig({ optimizer: { kind: OptimizerType.ADAMW }, zeroOptimization: { stage: ZeroStage.STAGE_2, stage3MaxLiveParameters: 1e9 } }),
    errors: [`${P}: ${IGNORED}.zeroOptimization.stage3MaxLiveParameters is 1000000000: DeepSpeed reads stage3_max_live_parameters only with ZeRO stage 3, and the stage is 2, so it would be silently ignored. Set zeroOptimization.stage to ZeroStage.STAGE_3, or remove stage3MaxLiveParameters.`],
  },
  {
    title: 'NCCL debug subsystems without a debug level',
    props: jobProps({ network: { ncclDebugSubsystems: [NcclDebugSubsystem.INIT] } }),
    errors: [`${P}: network.ncclDebugSubsystems is ["INIT"]: NCCL_DEBUG_SUBSYS only selects which subsystems NCCL_DEBUG logs, and no rank gets NCCL_DEBUG (network.ncclDebug is not set), so NCCL logs nothing and the setting has no effect. Set network.ncclDebug too (e.g. NcclDebugLevel.INFO), or remove ncclDebugSubsystems.`],
  },
  {
    title: 'a wait deadline with the wait turned off',
    props: jobProps({ waitForWorkers: false, workerWaitTimeout: Duration.minutes(5) }),
    errors: [`${P}: workerWaitTimeout is 300 s with waitForWorkers: false: it is the deadline of the launcher's wait for its workers, which waitForWorkers: false turns off, so it would be silently ignored. Remove workerWaitTimeout, or remove waitForWorkers: false.`],
  },
  {
    title: 'a GPU product label without a GPU product',
    props: jobProps({ scheduling: { gpuProductLabel: 'cloud.google.com/gke-accelerator' } }),
    errors: [`${P}: scheduling.gpuProductLabel is 'cloud.google.com/gke-accelerator': it is the node label scheduling.gpuProduct is matched against, and gpuProduct is not set, so no nodeSelector is written and the setting would be silently ignored. Set scheduling.gpuProduct to the GPU model (e.g. 'NVIDIA-A100-SXM4-80GB'), or remove gpuProductLabel.`],
  },
);

const runtime: Case[] = [
  {
    title: 'fp16 on workers without GPUs',
    props: jobProps({ workers: { replicas: 2 }, deepspeedConfig: { trainMicroBatchSizePerGpu: 4, fp16: { enabled: true } } }),
    errors: [`${P}: deepspeedConfig.fp16.enabled is true: ${NO_GPUS}, which accepts fp16 only on CPUs with native fp16 arithmetic (oneDNN fp16, rare on GPU nodes) and otherwise stops deepspeed.initialize. Set workers.gpusPerWorker to the GPUs of each worker, or disable fp16 for a CPU-only run.`],
  },
  {
    title: 'CUDA_VISIBLE_DEVICES forwarded to every rank',
    props: jobProps({ workers: GPU_WORKERS, env: { CUDA_VISIBLE_DEVICES: EnvValue.fromValue('0') } }),
    errors: [`${P}: env.CUDA_VISIBLE_DEVICES is '0': it is forwarded to every rank, and DeepSpeed calls set_device(local_rank) for local ranks 0 to 3 (4 slots per pod), so ranks whose local rank is not among the 1 listed device fail with "invalid device ordinal". Remove CUDA_VISIBLE_DEVICES: the device plugin already gives each pod exactly its GPUs, numbered from 0, and each rank selects GPU local_rank among them.`],
  },
  {
    title: 'bf16 on workers without GPUs runs, slowly: a warning',
    props: jobProps({ workers: { replicas: 2 }, deepspeedConfig: { trainMicroBatchSizePerGpu: 4, bf16: { enabled: true } } }),
    errors: [],
    warnings: [`${P}: deepspeedConfig.bf16.enabled is true: ${NO_GPUS}, where bf16 runs on the CPU cores, orders of magnitude slower than on GPUs. Set workers.gpusPerWorker to the GPUs of each worker, or disable bf16 for a CPU-only test run.`],
  },
  {
    title: 'CUDA_VISIBLE_DEVICES listing every GPU of a pod changes nothing: a warning',
    props: jobProps({ workers: GPU_WORKERS, env: { CUDA_VISIBLE_DEVICES: EnvValue.fromValue('0,1,2,3') } }),
    errors: [],
    warnings: [`${P}: env.CUDA_VISIBLE_DEVICES is '0,1,2,3': it is forwarded to every rank on every pod, where the device plugin has already narrowed the GPUs to the pod's own, so at best it changes nothing. Remove CUDA_VISIBLE_DEVICES: the device plugin already gives each pod exactly its GPUs, numbered from 0, and each rank selects GPU local_rank among them.`],
  },
  {
    title: '/dev/shm larger than the memory limit it counts against',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, memory: Size.gibibytes(8), sharedMemorySize: Size.gibibytes(16) } }),
    errors: [`${P}: workers.sharedMemorySize is '16Gi': the memory-backed /dev/shm counts against the memory limit of its pod (the workers '8Gi'), so the ranks are OOM-killed before /dev/shm is full, with no memory left for the processes themselves. Lower workers.sharedMemorySize well below the memory limit, or raise workers.memory.`],
  },
  {
    title: 'the default /dev/shm (1Gi per slot) over a small memory limit',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 8, memory: Size.gibibytes(4) } }),
    errors: [`${P}: workers.sharedMemorySize is not set, so 1Gi per slot: '8Gi': the memory-backed /dev/shm counts against the memory limit of its pod (the workers '4Gi'), so the ranks are OOM-killed before /dev/shm is full, with no memory left for the processes themselves. Set workers.sharedMemorySize well below the memory limit, or raise workers.memory.`],
  },
  {
    title: '/dev/shm as large as the memory limit',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, memory: Size.gibibytes(8), sharedMemorySize: Size.gibibytes(8) } }),
    errors: [`${P}: workers.sharedMemorySize is '8Gi': the memory-backed /dev/shm counts against the memory limit of its pod (the workers '8Gi'), so the ranks are OOM-killed before /dev/shm is full, with no memory left for the processes themselves. Lower workers.sharedMemorySize well below the memory limit, or raise workers.memory.`],
  },
  {
    title: 'MASTER_PORT in env (the MPI discovery of DeepSpeed overwrites it)',
    props: jobProps({ env: { MASTER_PORT: EnvValue.fromValue('23456') } }),
    errors: [`${P}: env.MASTER_PORT is '23456': not all of RANK, LOCAL_RANK, WORLD_SIZE and MASTER_ADDR are in env as well, so deepspeed.init_distributed runs its MPI discovery and overwrites MASTER_PORT on every rank with the value from MPI: the setting would be silently lost. Remove MASTER_PORT from env, and pass distributed_port to deepspeed.init_distributed in the script to choose the port.`],
  },
  {
    title: 'all five torch.distributed variables in env (every rank the same rank)',
    props: jobProps({ env: Object.fromEntries(['RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'].map(n => [n, EnvValue.fromValue(n === 'MASTER_ADDR' ? 'localhost' : '0')])) }),
    errors: [`${P}: env.RANK is '0': with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT all in env, every rank gets the same five values and deepspeed.init_distributed skips its MPI discovery, so all ranks claim the same rank and torch.distributed's rendezvous fails or hangs. Remove RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT from env: DeepSpeed derives each rank's own from MPI.`],
  },
  {
    title: 'NVMe offload to a read-only volume',
    props: withConfig({
      optimizer: { kind: OptimizerType.ADAMW },
      zeroOptimization: { stage: ZeroStage.STAGE_3, offloadParam: { device: OffloadDevice.NVME, nvmePath: '/nvme/swap' } },
    }, { storage: { volumes: [TrainingStorage.existingClaim('nvme', { claimName: 'local-nvme', mountPath: '/nvme', readOnly: true })] } }),
    errors: [`${P}: deepspeedConfig.zeroOptimization.offloadParam.nvmePath is '/nvme/swap': volume 'nvme' is mounted read-only at /nvme, and DeepSpeed writes its swap files there, so the first swap fails with "Read-only file system". Mount 'nvme' read-write, or offload to a writable local NVMe volume.`],
  },
  {
    title: 'NVMe offload to a path with nothing mounted',
    props: withConfig({
      optimizer: { kind: OptimizerType.ADAMW },
      zeroOptimization: { stage: ZeroStage.STAGE_3, offloadParam: { device: OffloadDevice.NVME, nvmePath: '/local_nvme' } },
    }),
    errors: [`${P}: deepspeedConfig.zeroOptimization.offloadParam.nvmePath is '/local_nvme': nothing is mounted there on the worker pods, so DeepSpeed swaps the offloaded tensors into the container's writable layer on the node's root disk, not an NVMe drive, and the kubelet evicts the pod once that disk runs short. Mount a local NVMe volume at that path on every pod that hosts ranks (storage.volumes or job.addVolume).`],
  },
  {
    title: 'a job image on :latest',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:latest') }),
    errors: [`${P}: image.imageRef is 'registry.example.com/train:latest': the 'latest' tag moves: the kubelet pulls it again for every pod it starts (imagePullPolicy defaults to Always for it), so the launcher and the workers of one job can run different builds of MPI, torch and DeepSpeed. Pin a tag of the build, e.g. 'registry.example.com/train:v1', or a digest (@sha256:...).`],
  },
  {
    title: 'a job image without a tag',
    props: jobProps({ image: DeepSpeedTrainingImage.fromImage('registry.example.com:5000/train') }),
    errors: [`${P}: image.imageRef is 'registry.example.com:5000/train': without a tag the runtime pulls 'latest', which moves: the kubelet pulls it again for every pod it starts (imagePullPolicy defaults to Always for it), so the launcher and the workers of one job can run different builds of MPI, torch and DeepSpeed. Pin a tag of the build, e.g. 'registry.example.com/train:v1', or a digest (@sha256:...).`],
  },
  {
    title: 'a shell script as script',
    props: jobProps({ script: '/workspace/run.sh' }),
    errors: [`${P}: script is '/workspace/run.sh': every rank runs it with the Python interpreter (/opt/conda/bin/python /workspace/run.sh), which stops at the first shell line with a SyntaxError or NameError. Set script to the Python training script, and put setup the shell script did in the image or in env.`],
  },
  {
    title: 'an empty script',
    props: jobProps({ script: '' }),
    errors: [`${P}: script is '': every rank runs the Python interpreter without a script file, and Python exits at once (an empty name is the working directory: "can't find '__main__' module"; blanks: "can't open file"). Set script to the training script, absolute or relative to the image's working directory, e.g. '/workspace/train.py'.`],
  },
];

const nowErrors: Case[] = [
  {
    title: 'more ranks per pod than GPUs',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 2, slotsPerWorker: 4 } }),
    errors: [`${P}: workers.gpusPerWorker is 2 but slotsPerWorker is 4: DeepSpeed calls set_device(local_rank) on every rank, so 2 ranks per worker ask for a GPU beyond the 2 GPUs there and fail with "invalid device ordinal". Remove workers.slotsPerWorker (it defaults to the GPU count) or set it to 2.`],
  },
  {
    title: 'more slots than GPUs on workers and on a launcher that takes their GPU count: one message',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 2, slotsPerWorker: 3 } }),
    errors: [`${P}: workers.gpusPerWorker is 2 but slotsPerWorker is 3: DeepSpeed calls set_device(local_rank) on every rank, so 1 rank per worker asks for a GPU beyond the 2 GPUs there and fails with "invalid device ordinal". Remove workers.slotsPerWorker (it defaults to the GPU count) or set it to 2.`],
  },
  {
    title: 'negative slots: one message, no idle-GPU warning',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 1, slotsPerWorker: -1 } }),
    errors: [`${P}: workers.slotsPerWorker is -1: the MPI Operator writes it into the hostfile as a whole number of ranks per pod and rejects other values. Set workers.slotsPerWorker to a whole number of 1 or more, or remove it to use the GPU count.`],
  },
  {
    title: 'a launcher that hosts ranks with fewer GPUs than slots',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 2 }, launcher: { gpus: 1 } }),
    errors: [`${P}: launcher.gpus is 1 but slotsPerWorker is 2: the launcher hosts slotsPerWorker ranks, and DeepSpeed calls set_device(local_rank) on every rank, so 1 rank on it asks for a GPU beyond the 1 GPU there and fails with "invalid device ordinal". Set launcher.gpus to 2 or remove it (it defaults to workers.gpusPerWorker).`],
  },
  {
    title: 'a launcher that hosts ranks without GPUs next to GPU workers',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 2 }, launcher: { gpus: 0 } }),
    errors: [`${P}: launcher.gpus is 0 but slotsPerWorker is 2: the launcher hosts slotsPerWorker ranks, and DeepSpeed calls set_device(local_rank) on each, so the 2 ranks on it find no GPU and fail. Set launcher.gpus to 2 or remove it (it defaults to workers.gpusPerWorker).`],
  },
  {
    title: 'a checkpoint directory on no volume',
    props: jobProps({ storage: { checkpoint: { directory: '/checkpoints/run-1' } } }),
    errors: [`${P}: storage.checkpoint.directory is '/checkpoints/run-1': it is on no storage volume, so every pod writes its shards to its own container filesystem, they are lost with the pods, and no pod can resume from all of them. Mount a shared TrainingStorage (ReadWriteMany) and put the directory under its mountPath.`],
  },
  {
    title: 'a ReadWriteOnce claim on workers that need more GPUs than any node has',
    props: jobProps({
      workers: { replicas: 3, gpusPerWorker: 8 },
      storage: { volumes: [TrainingStorage.newClaim('ckpt', { mountPath: '/ckpt', size: Size.gibibytes(100), accessMode: PersistentVolumeAccessMode.READ_WRITE_ONCE })] },
    }),
    errors: [`${P}: storage.volumes 'ckpt' accessMode is 'ReadWriteOnce': a ReadWriteOnce volume attaches to one node, and the job's 3 pods that host ranks need 24 GPUs together, more than any node has (16), so they run on several nodes: the pods on the other nodes wait in ContainerCreating with a Multi-Attach error. Use ReadWriteMany (the default) with a StorageClass that supports it (NFS, CephFS, Lustre, EFS, Filestore).`],
  },
  {
    title: 'a ReadWriteOnce claim on two workers that may share a node stays a warning',
    props: jobProps({
      storage: { volumes: [TrainingStorage.newClaim('ckpt', { mountPath: '/ckpt', size: Size.gibibytes(100), accessMode: PersistentVolumeAccessMode.READ_WRITE_ONCE })] },
    }),
    errors: [],
    warnings: [`${P}: storage.volumes 'ckpt' accessMode is 'ReadWriteOnce': a ReadWriteOnce volume attaches to one node, and the job's 3 pods mount it, so pods on other nodes wait in ContainerCreating with a Multi-Attach error. Use ReadWriteMany (the default) with a StorageClass that supports it, or keep the job on one node.`],
  },
  {
    title: 'a ReadWriteOnce claim on pods spread across nodes',
    props: jobProps({
      scheduling: { spreadWorkers: true },
      storage: { volumes: [TrainingStorage.newClaim('ckpt', { mountPath: '/ckpt', size: Size.gibibytes(100), accessMode: PersistentVolumeAccessMode.READ_WRITE_ONCE })] },
    }),
    errors: [`${P}: storage.volumes 'ckpt' accessMode is 'ReadWriteOnce': a ReadWriteOnce volume attaches to one node, and scheduling.spreadWorkers places the job's pods that host ranks on different nodes, so all but one wait in ContainerCreating with a Multi-Attach error. Use ReadWriteMany (the default) with a StorageClass that supports it (NFS, CephFS, Lustre, EFS, Filestore), or remove spreadWorkers.`],
  },
];

const escapeHatches: Case[] = [
  {
    title: 'hostIPC added by a patch',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/hostIPC', true)),
    errors: [],
    warnings: [`${P}: spec.mpiReplicaSpecs.Worker.template.spec.hostIPC is true: the pods share the node's IPC namespace (and its /dev/shm with every other pod on the node), which is outside the baseline and restricted Pod Security Standards, so PodSecurity admission rejects the pods in namespaces that enforce either. Remove the JSON patch: the job mounts a memory-backed /dev/shm sized by workers.sharedMemorySize, which is what NCCL needs.`],
  },
  {
    title: 'an unknown runPolicy field added by a patch',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/runPolicy/retryPolicy', 'Always')),
    errors: [`${P}: spec.runPolicy.retryPolicy is 'Always': the MPIJob CRD does not declare this field, and the API server prunes undeclared fields of a structural schema without a word, so the setting would be silently lost. Check the field's name and level against the MPIJob CRD (kubectl explain mpijob.spec), or remove the JSON patch.`],
  },
  {
    title: 'a pod spec field misspelled in a patch',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/nodeSelectors', { a: 'b' })),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker.template.spec.nodeSelectors is {"a":"b"}: the MPIJob CRD does not declare this field, and the API server prunes undeclared fields of a structural schema without a word, so the setting would be silently lost. Check the field's name and level against the MPIJob CRD (kubectl explain mpijob.spec), or remove the JSON patch.`],
  },
  {
    title: 'a worker image patched to an uppercase repository',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/image', 'registry.example.com/Team/train:1')),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker.template.spec.containers[0].image is 'registry.example.com/Team/train:1': ${BAD_REFERENCE}`],
  },
  {
    title: 'a launcher image patched to :latest',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/mpiReplicaSpecs/Launcher/template/spec/containers/0/image', 'registry.example.com/train:latest')),
    errors: [`${P}: spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].image is 'registry.example.com/train:latest': the 'latest' tag moves: the kubelet pulls it again for every pod it starts (imagePullPolicy defaults to Always for it), so the launcher and the workers of one job can run different builds of MPI, torch and DeepSpeed. Pin a tag of the build, e.g. 'registry.example.com/train:v1', or a digest (@sha256:...).`],
  },
  {
    title: 'a toleration added by a patch with a key the API server rejects',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/tolerations', [{ key: 'nvidia gpu', operator: 'Exists' }])),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker.template.spec.tolerations[0].key is 'nvidia gpu': the Kubernetes API server rejects the pod: a taint key is a qualified name: an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit. Use the taint key as kubectl describe node shows it, e.g. 'nvidia.com/gpu'.`],
  },
  {
    title: 'a privileged container added by a patch',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/securityContext/privileged', true)),
    errors: [],
    warnings: [`${P}: spec.mpiReplicaSpecs.Worker.template.spec.containers[0].securityContext.privileged is true: a privileged container has every capability and the node's devices, which is outside the baseline and restricted Pod Security Standards, so PodSecurity admission rejects the pods in namespaces that enforce either. Remove the JSON patch: the interconnect presets add the devices (device plugin resources) and the one capability (IPC_LOCK) the fabrics need.`],
  },
  {
    title: 'fractional worker replicas from a patch: one message, no process-count advice',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/mpiReplicaSpecs/Worker/replicas', 2.5)),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker.replicas is 2.5: the MPI Operator creates whole worker pods and requires a whole number of at least 1 in a Worker spec (the CRD declares an integer). Remove the JSON patch; the job sets the Worker replicas from workers.replicas.`],
  },
  {
    title: 'suspend patched to a string',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/runPolicy/suspend', 'true')),
    errors: [`${P}: spec.runPolicy.suspend is 'true': the MPIJob CRD declares it a boolean, and the API server rejects the MPIJob. Set suspend: true or false on the job (the prop), and remove the JSON patch.`],
  },
  {
    title: 'slots patched to a string: one message, no process-count advice',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/slotsPerWorker', '4')),
    errors: [`${P}: spec.slotsPerWorker is '4': the MPI Operator requires a whole number of 0 or more. Remove the JSON patch; the job sets slotsPerWorker from workers.slotsPerWorker or the GPU count.`],
  },
  {
    title: 'a ServiceAccount name patched into a pod',
    props: jobProps(),
    mutate: patch(JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/serviceAccountName', 'Trainer')),
    errors: [`${P}: spec.mpiReplicaSpecs.Worker.template.spec.serviceAccountName is 'Trainer': the API server rejects pods whose serviceAccountName is not a DNS subdomain name (lowercase letters, digits, '-' and '.'), the form ServiceAccount names take. Remove the JSON patch, or give the name of a ServiceAccount as kubectl get serviceaccounts shows it.`],
  },
  {
    title: 'a patched GPU count names the manifest path',
    props: jobProps(),
    mutate: patch(JsonPatch.replace('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/resources/limits/nvidia.com~1gpu', 1.5)),
    errors: [
      `${P}: spec.mpiReplicaSpecs.Worker.template.spec.containers[0].resources.limits['nvidia.com/gpu'] is 1.5: the Kubernetes API server accepts only whole numbers of an extended resource such as a GPU. Use a whole number.`,
    ],
  },
];

const families: Array<[string, Case[]]> = [
  ['whole and positive numbers', numbers],
  ['names and references', names],
  ['arguments that fight the computed launch', launchArgs],
  ['options with no effect', noEffect],
  ['settings that break ranks at run time', runtime],
  ['certain failures are errors', nowErrors],
  ['escape hatches', escapeHatches],
];

describe.each(families)('%s', (_family, cases) => {
  let stderr: jest.SpyInstance;
  beforeEach(() => { stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true); });
  afterEach(() => stderr.mockRestore());

  test.each(cases.map(c => [c.title, c] as const))('%s', (_title, c) => {
    const outcome = synthToTempDir(c.props, { mutate: c.mutate });
    expect(outcome.errors).toEqual(c.errors);
    expect(findingMessages(outcome.job, Severity.WARNING)).toEqual(c.warnings ?? []);
    expect(outcome.written).toEqual(c.errors.length > 0 ? [] : ['test.k8s.yaml']);
  });
});

describe('messages', () => {
  test('cdk8s prints the construct path once', () => {
    const { app } = buildJob(jobProps({ workers: { replicas: 2, gpusPerWorker: 0.5 } }));
    expect(synthError(app)).toBe('Validation failed with the following errors:\n'
      + `  [${P}] workers.gpusPerWorker is 0.5: ${WHOLE_DEVICES}. Set workers.gpusPerWorker to the whole number of GPUs each worker pod gets, or 0 for CPU workers.`);
  });

  test('validateJob keeps the path in each message, for tools that read findings', () => {
    const { job } = buildJob(jobProps({ backoffLimit: -1 }));
    expect(Validation.validateJob(job).map(f => f.message)).toEqual([
      `${P}: backoffLimit is -1: the MPI Operator copies it to the launcher Job, whose API server validation requires a whole number of retries, 0 or more. Set backoffLimit to a whole number of 0 or more, or remove it for the Kubernetes default of 6.`,
    ]);
  });

  test('a derived name that is too long says which construct ids to shorten', () => {
    const { job } = buildJob(jobProps(), 'a-very-long-training-job-id-for-the-cifar10-model', 'chart-with-a-long-id');
    expect(Validation.validateJob(job).map(f => f.message)).toEqual([
      'chart-with-a-long-id/a-very-long-training-job-id-for-the-cifar10-model: metadata.name is not set, so derived from the construct path: '
      + '\'chart-with-a-a-very-long-training-job-id-for-the-cifar10-model\' (62 characters): the MPI Operator rejects the job because the last worker\'s hostname '
      + '\'chart-with-a-a-very-long-training-job-id-for-the-cifar10-model-worker-1\' is 71 characters, over the DNS limit of 63. '
      + 'Shorten the construct ids the name is made of (\'chart-with-a-long-id\', \'a-very-long-training-job-id-for-the-cifar10-model\'), or set metadata.name to at most 54 characters.',
    ]);
  });
});

/** A sweep prop that is wrong whatever the points: the constructor throws one message naming the sweep and the prop. */
const SWEEP_BASE: DeepSpeedMpiJobProps = jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.ADAMW } } });
const LR = () => SweepAxis.learningRate([1e-4, 3e-4]);
const sweepCases: Array<[string, () => Partial<DeepSpeedSweepProps>, string]> = [
  ['an axis without values', () => ({ axes: [LR(), SweepAxis.workers([])] }),
    'test/sweep: axes[1] \'workers\' values is []: an axis without values makes a grid of no points, so the sweep would create no job. Give the axis at least one value.'],
  ['an axis listing a value twice', () => ({ axes: [SweepAxis.zeroStage([ZeroStage.STAGE_2, ZeroStage.STAGE_2])] }),
    'test/sweep: axes[0] \'zero-stage\' values is ["2","2"]: \'2\' is listed twice, and both points would be the same job under the same name. List \'2\' once.'],
  ['a custom axis with an uppercase name', () => ({ axes: [SweepAxis.custom('Seed', ['1', '2'], { apply: props => props })] }),
    'test/sweep: axes[0] name is \'Seed\': it becomes the name part of a label key (\'<labelPrefix>/<axis name>\') on every job and pod, and the API server rejects names that are not at most 63 lowercase letters, digits and \'-\', starting and ending with a letter or digit. Name the axis with lowercase letters, digits and \'-\', other than \'sweep\' and \'point\', e.g. \'seed\'.'],
  ['a learning-rate axis on a base without a DeepSpeed config', () => ({ baseJob: jobProps(), axes: [LR()] }),
    'test/sweep: baseJob.deepspeedConfig is not set: axes[0] \'learning-rate\' changes the DeepSpeed config of every job, and the base has none to change. Set baseJob.deepspeedConfig, e.g. { trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.ADAMW } }.'],
  ['an uppercase sweep name (one message, not one per job)', () => ({ name: 'LR-Scan', axes: [LR()] }),
    'test/sweep: name is \'LR-Scan\': it starts every job name, which the MPI Operator requires to be a DNS-1035 label, and is the value of the \'<labelPrefix>/sweep\' label on every job and pod, at most 63 characters. Set name to lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit, e.g. \'lr-scan\', or remove it to derive it from the construct path.'],
  ['a sweep name longer than a label value', () => ({ name: `lr-${'a'.repeat(61)}` }),
    `test/sweep: name is 'lr-${'a'.repeat(61)}': it starts every job name, which the MPI Operator requires to be a DNS-1035 label, and is the value of the '<labelPrefix>/sweep' label on every job and pod, at most 63 characters. Set name to lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, e.g. 'lr-scan', or remove it to derive it from the construct path.`],
  ['a label prefix with a slash', () => ({ labelPrefix: 'example.com/sweep' }),
    'test/sweep: labelPrefix is \'example.com/sweep\': it prefixes the sweep\'s label keys (\'example.com/sweep/sweep\', \'example.com/sweep/point\' and one per axis) on every job and pod, and the API server rejects label key prefixes that are not DNS subdomains (at most 253 lowercase letters, digits, \'-\' and \'.\'). Set labelPrefix to a domain of your own, e.g. \'ml.example.com\', or remove it.'],
  ['maxJobs 0', () => ({ parallelism: { maxJobs: 0 } }),
    'test/sweep: parallelism.maxJobs is 0: it is how many jobs may run at once: the sweep\'s ClusterQueue gets a quota of maxJobs times the largest job, so below 1 Kueue admits no job and a fraction admits only the whole jobs it covers. Set parallelism.maxJobs to a whole number of 1 or more.'],
  ['an uppercase ResourceFlavor', () => ({ parallelism: { maxJobs: 2, resourceFlavor: 'A100' } }),
    'test/sweep: parallelism.resourceFlavor is \'A100\': it is the name of a Kueue ResourceFlavor, which the ClusterQueue schema requires to be a DNS subdomain (at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit), so the API server rejects the sweep\'s ClusterQueue. Use the name as it exists in the cluster (kubectl get resourceflavors).'],
  ['a cohort with a space', () => ({ parallelism: { maxJobs: 2, cohort: 'team a' } }),
    'test/sweep: parallelism.cohort is \'team a\': it is a Kueue cohort name, which the ClusterQueue schema requires to be a DNS subdomain (at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit), so the API server rejects the sweep\'s ClusterQueue. Use the name as it exists in the cluster.'],
  ['a sample larger than the grid', () => ({ axes: [LR()], sample: { count: 3, seed: 1 } }),
    'test/sweep: sample.count is 3: a sample draws a whole number of distinct points from the grid of 2. Set sample.count to a whole number from 1 to 2.'],
];

describe('sweep props', () => {
  test.each(sweepCases)('%s', (_title, props, message) => {
    const chart = new Chart(Testing.app(), 'test');
    expect(() => new DeepSpeedSweep(chart, 'sweep', { baseJob: SWEEP_BASE, ...props() })).toThrow(new Error(message));
  });
});
