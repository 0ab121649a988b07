import { Duration, Size } from 'cdk8s';
import {
  CleanPodPolicy, Cpu, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, EnvFieldPath, EnvValue, ImageUser,
  Interconnect, LauncherCreationPolicy, MpiImplementation, NcclDebugLevel, OptimizerType, ReplicaRestartPolicy,
  TaintEffect, Toleration, TrainingStorage, ZeroStage,
} from '../../src';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0', { workingDirectory: '/workspace' });

/**
 * A spread of valid jobs that exercise different parts of the output: GPU counts, slots,
 * launcher-as-worker, root images, env sources, scheduling, run policy and the other MPI
 * implementations. Schema and rehearsal tests run over all of them.
 */
export const JOB_VARIATIONS: Record<string, DeepSpeedMpiJobProps> = {
  'minimal CPU job': {
    image,
    workers: { replicas: 1 },
    script: 'train.py',
  },
  '4 workers x 2 GPUs with resources and a DeepSpeed config': {
    image,
    workers: {
      replicas: 4,
      gpusPerWorker: 2,
      cpu: Cpu.millis(7500),
      cpuLimit: Cpu.units(8),
      memory: Size.gibibytes(30),
      memoryLimit: Size.gibibytes(32),
      sharedMemorySize: Size.mebibytes(1536),
    },
    script: '/workspace/train.py',
    args: ['--epochs', '2', '--name=with spaces and "quotes"'],
    deepspeedConfig: {
      trainMicroBatchSizePerGpu: 4,
      gradientAccumulationSteps: 2,
      optimizer: { kind: OptimizerType.ADAMW, lr: 3e-4 },
      zeroOptimization: { stage: ZeroStage.STAGE_2 },
      bf16: { enabled: true },
    },
  },
  'launcher as the only worker': {
    image,
    workers: { replicas: 0, gpusPerWorker: 1 },
    runLauncherAsWorker: true,
    script: 'train.py',
  },
  'launcher as a worker next to 2 workers': {
    image,
    workers: { replicas: 2, gpusPerWorker: 2 },
    runLauncherAsWorker: true,
    script: 'train.py',
    deepspeedConfig: { trainBatchSize: 12 },
  },
  'root image with custom env from every source': {
    image: DeepSpeedTrainingImage.fromImage('registry.example.com/root-train:2', {
      user: ImageUser.root(),
      sshPort: 22,
      pythonPath: '/usr/bin/python3',
      forwardedImageEnv: ['PATH', 'LD_LIBRARY_PATH', 'CUDA_HOME'],
    }),
    workers: { replicas: 2 },
    script: 'train.py',
    env: {
      NCCL_DEBUG: EnvValue.fromValue('INFO'),
      NCCL_SOCKET_IFNAME: EnvValue.fromValue('eth0'),
      JOB_NAMESPACE: EnvValue.fromFieldPath(EnvFieldPath.POD_NAMESPACE),
      HF_TOKEN: EnvValue.fromSecretKey('hf-token', 'token'),
    },
  },
  'scheduling, labels and run policy': {
    image,
    workers: {
      replicas: 3,
      gpusPerWorker: 4,
      gpuResourceName: 'amd.com/gpu',
      tolerations: [Toleration.equal('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE }), Toleration.exists('spot')],
      nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
      podLabels: { team: 'research' },
      podAnnotations: { 'example.com/owner': 'ml' },
      restartPolicy: ReplicaRestartPolicy.ON_FAILURE,
    },
    launcher: { cpu: Cpu.millis(500), memory: Size.mebibytes(512), nodeSelector: { pool: 'cpu' } },
    script: 'train.py',
    launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
    cleanPodPolicy: CleanPodPolicy.ALL,
    ttlAfterFinished: Duration.hours(1),
    activeDeadline: Duration.days(2),
    backoffLimit: 0,
    suspend: true,
    metadata: { name: 'scheduled', namespace: 'ml', labels: { 'kueue.x-k8s.io/queue-name': 'gpu' } },
    mpirun: { mcaParameters: { btl_tcp_if_include: 'eth0' }, extraArgs: ['--report-bindings'], bindTo: 'none', mapBy: 'slot' },
  },
  'production: NetworkPolicy, ServiceAccount, claims, checkpoints, Kueue, gang scheduling, EFA': {
    image,
    workers: { replicas: 2, gpusPerWorker: 8, cpu: Cpu.units(90), memory: Size.gibibytes(1000) },
    script: '/workspace/train.py',
    deepspeedConfig: { trainMicroBatchSizePerGpu: 1 },
    metadata: { name: 'llm', namespace: 'ml' },
    security: { createServiceAccount: true },
    storage: {
      volumes: [
        TrainingStorage.newClaim('checkpoints', { mountPath: '/checkpoints', size: Size.gibibytes(500), storageClassName: 'efs' }),
        TrainingStorage.existingClaim('datasets', { claimName: 'imagenet', mountPath: '/data', readOnly: true }),
      ],
      checkpoint: { directory: '/checkpoints/llm' },
    },
    scheduling: {
      kueue: { queueName: 'gpu-queue' },
      gangScheduling: { minAvailable: 3 },
      spreadWorkers: true,
    },
    network: { interconnect: Interconnect.efa({ devicesPerPod: 4 }), ncclDebug: NcclDebugLevel.WARN },
  },
  'Intel MPI image': {
    image: DeepSpeedTrainingImage.fromImage('registry.example.com/intel:1', { mpiImplementation: MpiImplementation.INTEL }),
    workers: { replicas: 2, slotsPerWorker: 2 },
    script: 'train.py',
  },
  'MPICH image': {
    image: DeepSpeedTrainingImage.fromImage('registry.example.com/mpich:1', { mpiImplementation: MpiImplementation.MPICH }),
    workers: { replicas: 2 },
    script: 'train.py',
  },
};
