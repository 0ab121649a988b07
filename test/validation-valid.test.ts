import { JsonPatch, Size } from 'cdk8s';
import {
  Cpu, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, ImageUser, LauncherCreationPolicy,
  MpiImplementation, OffloadDevice, OptimizerType, SchedulerType, TaintEffect, Toleration, Validation, Volume,
  ZeroStage,
} from '../src';
import { container, jobProps, LAUNCHER_CONTAINER, patch, synthToTempDir, WORKER, WORKER_CONTAINER } from './support/synth';
import { expectWarnings } from './support/warnings';

/** A valid configuration and the rank count its launcher must start (undefined: no -np to check). */
interface GoodCase {
  readonly title: string;
  readonly props: DeepSpeedMpiJobProps;
  readonly mutate?: (job: DeepSpeedMpiJob) => void;
  readonly ranks: number | undefined;
}

/** The one finding a valid job may have: the security warning that a root image gets. */
function expectedWarnings(props: DeepSpeedMpiJobProps): string[] {
  return props.image.user.isRoot ? ['security/root-user'] : [];
}

const image = (options = {}) => DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', options);
const ROOT = image({ user: ImageUser.root() });
const ADAMW = { kind: OptimizerType.ADAMW, lr: 1e-4 };

const goodCases: GoodCase[] = [
  { title: '1 CPU-only worker, no DeepSpeed config', props: jobProps({ workers: { replicas: 1 } }), ranks: 1 },
  {
    title: '1 worker with 1 GPU and only a micro batch',
    props: jobProps({ workers: { replicas: 1, gpusPerWorker: 1 }, deepspeedConfig: { trainMicroBatchSizePerGpu: 4 } }),
    ranks: 1,
  },
  {
    title: 'the CIFAR-10 layout: 2 workers × 1 GPU, train_batch_size 16 with fp16',
    props: jobProps({
      deepspeedConfig: { trainBatchSize: 16, trainMicroBatchSizePerGpu: 8, gradientAccumulationSteps: 1, fp16: { enabled: true, lossScale: 0 } },
    }),
    ranks: 2,
  },
  {
    title: '4 workers × 8 GPUs with train_batch_size and micro batch',
    props: jobProps({ workers: { replicas: 4, gpusPerWorker: 8 }, deepspeedConfig: { trainBatchSize: 256, trainMicroBatchSizePerGpu: 8 } }),
    ranks: 32,
  },
  {
    title: '64 workers × 8 GPUs, ZeRO-3 with CPU offload and bf16',
    props: jobProps({
      workers: { replicas: 64, gpusPerWorker: 8, memory: Size.gibibytes(512) },
      deepspeedConfig: {
        trainMicroBatchSizePerGpu: 2,
        gradientAccumulationSteps: 4,
        bf16: { enabled: true },
        optimizer: ADAMW,
        zeroOptimization: {
          stage: ZeroStage.STAGE_3,
          offloadParam: { device: OffloadDevice.CPU, pinMemory: true },
          offloadOptimizer: { device: OffloadDevice.CPU, pinMemory: true },
        },
      },
    }),
    ranks: 512,
  },
  {
    title: '64 CPU-only workers with 2 slots each',
    props: jobProps({ workers: { replicas: 64, slotsPerWorker: 2 }, deepspeedConfig: { trainBatchSize: 128 } }),
    ranks: 128,
  },
  { title: 'root image, 2 workers × 2 GPUs', props: jobProps({ image: ROOT, workers: { replicas: 2, gpusPerWorker: 2 } }), ranks: 4 },
  {
    title: 'Intel MPI, 3 workers × 4 GPUs, non-root',
    props: jobProps({ image: image({ mpiImplementation: MpiImplementation.INTEL }), workers: { replicas: 3, gpusPerWorker: 4 }, deepspeedConfig: { trainBatchSize: 48 } }),
    ranks: 12,
  },
  {
    title: 'MPICH as root, 2 workers × 2 GPUs',
    props: jobProps({ image: image({ mpiImplementation: MpiImplementation.MPICH, user: ImageUser.root() }), workers: { replicas: 2, gpusPerWorker: 2 } }),
    ranks: 4,
  },
  {
    title: 'the launcher as the only worker, with 4 GPUs',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 0, gpusPerWorker: 4 }, deepspeedConfig: { trainMicroBatchSizePerGpu: 4 } }),
    ranks: 4,
  },
  {
    title: 'the launcher as a worker next to 3 workers × 2 GPUs',
    props: jobProps({ runLauncherAsWorker: true, workers: { replicas: 3, gpusPerWorker: 2 }, deepspeedConfig: { trainBatchSize: 32 } }),
    ranks: 8,
  },
  {
    title: 'ZeRO-2 with CPU offload and fp16 master weights',
    props: jobProps({
      deepspeedConfig: {
        trainMicroBatchSizePerGpu: 4,
        fp16: { enabled: true, fp16MasterWeightsAndGrads: true },
        optimizer: { kind: OptimizerType.ADAM },
        zeroOptimization: { stage: ZeroStage.STAGE_2, offloadOptimizer: { device: OffloadDevice.CPU } },
      },
    }),
    ranks: 2,
  },
  {
    title: 'ZeRO-3 with NVMe parameter offload and partial optimizer offload',
    props: jobProps({
      workers: { replicas: 2, gpusPerWorker: 4 },
      deepspeedConfig: {
        trainMicroBatchSizePerGpu: 1,
        optimizer: ADAMW,
        zeroOptimization: {
          stage: ZeroStage.STAGE_3,
          offloadParam: { device: OffloadDevice.NVME, nvmePath: '/local_nvme' },
          offloadOptimizer: { device: OffloadDevice.CPU, ratio: 0.5 },
        },
      },
    }),
    // A local NVMe drive mounted where DeepSpeed swaps (a hostPath in practice, an emptyDir here).
    mutate: job => job.addVolume('/local_nvme', Volume.fromEmptyDir('local-nvme')),
    ranks: 8,
  },
  {
    title: 'Lamb with dynamic fp16 loss scaling',
    props: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.LAMB }, fp16: { enabled: true } } }),
    ranks: 2,
  },
  {
    title: 'Lamb under ZeRO-1 with the untested-optimizer opt-in',
    props: jobProps({
      deepspeedConfig: {
        trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.LAMB }, zeroAllowUntestedOptimizer: true,
        zeroOptimization: { stage: ZeroStage.STAGE_1 },
      },
    }),
    ranks: 2,
  },
  {
    title: 'torch SGD with WarmupCosineLR',
    props: jobProps({
      deepspeedConfig: {
        trainMicroBatchSizePerGpu: 4,
        optimizer: { torchOptimizer: 'SGD', lr: 0.1, extraParams: { momentum: 0.9 } },
        scheduler: { kind: SchedulerType.WARMUP_COSINE_LR, totalNumSteps: 5000, warmupNumSteps: 100 },
      },
    }),
    ranks: 2,
  },
  {
    title: 'WaitForWorkersReady with a gang of exactly the workers',
    props: jobProps({ launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY }),
    mutate: patch(JsonPatch.add('/spec/runPolicy/schedulingPolicy', { minAvailable: 2, queue: 'training' })),
    ranks: 2,
  },
  {
    title: 'quantities equal in different units, and an RDMA device',
    props: jobProps({
      workers: { replicas: 2, gpusPerWorker: 1, cpu: Cpu.millis(1500), cpuLimit: Cpu.units(1.5), memory: Size.gibibytes(16) },
    }),
    mutate: job => {
      job.workers.addExtendedResource('rdma/hca_shared_devices_a', 1);
      job.apiObject.addJsonPatch(JsonPatch.replace(`${WORKER_CONTAINER}/resources/limits/memory`, '17179869184'));
    },
    ranks: 2,
  },
  {
    title: 'labels, annotations, node selection and a namespace',
    props: jobProps({
      metadata: { namespace: 'ml-team', labels: { 'kueue.x-k8s.io/queue-name': 'gpu-queue' }, annotations: { 'example.com/owner': 'Jane Doe <jane@example.com>' } },
      workers: {
        replicas: 2,
        gpusPerWorker: 1,
        podLabels: { 'app.kubernetes.io/part-of': 'cifar10' },
        nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
        tolerations: [Toleration.equal('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })],
      },
      launcher: { podAnnotations: { 'sidecar.istio.io/inject': 'false' } },
    }),
    ranks: 2,
  },
  {
    title: 'AMD GPUs, a working directory, and a script that reads the config itself',
    props: jobProps({
      image: image({ workingDirectory: '/workspace/DeepSpeedExamples' }),
      workers: { replicas: 2, gpusPerWorker: 2, gpuResourceName: 'amd.com/gpu' },
      deepspeedConfig: { trainMicroBatchSizePerGpu: 8 },
      passDeepSpeedConfigArgument: false,
    }),
    ranks: 4,
  },
  {
    title: 'a custom non-root user',
    props: jobProps({ image: image({ user: ImageUser.nonRoot({ name: 'trainer', uid: 1001, home: '/workspace' }) }) }),
    ranks: 2,
  },
  {
    title: '8 GPUs with slotsPerWorker stated explicitly',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 8, slotsPerWorker: 8 } }),
    ranks: 16,
  },
  {
    title: 'an extra data volume mounted on both replicas',
    props: jobProps(),
    mutate: job => job.addVolume('/data', Volume.fromEmptyDir('data')),
    ranks: 2,
  },
  {
    title: 'DeepSpeed\'s runner pointed at the operator\'s Open MPI hostfile',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command`, ['deepspeed', '--hostfile', '/etc/mpi/hostfile', '--launcher', 'openmpi', 'train.py'])),
    ranks: undefined,
  },
  {
    title: 'queued in Kueue: suspended and managed by MultiKueue',
    props: jobProps({ suspend: true }),
    mutate: patch(JsonPatch.add('/spec/runPolicy/managedBy', 'kueue.x-k8s.io/multikueue')),
    ranks: 2,
  },
  {
    title: 'workers restarting OnFailure, micro batch derived from train_batch_size and accumulation steps',
    props: jobProps({ workers: { replicas: 5, gpusPerWorker: 1 }, deepspeedConfig: { trainBatchSize: 40, gradientAccumulationSteps: 2 } }),
    mutate: patch(JsonPatch.replace(`${WORKER}/restartPolicy`, 'OnFailure')),
    ranks: 5,
  },
];

/** The rank count the launcher asks for: mpirun's -np (Open MPI) or -n (Hydra). */
function requestedRanks(job: DeepSpeedMpiJob): number {
  const command: string[] = container(job.apiObject.toJson().spec.mpiReplicaSpecs.Launcher).command;
  const flag = command.findIndex(word => word === '-np' || word === '-n');
  return Number(command[flag + 1]);
}

describe('valid jobs synthesize without findings (root images get the security warning)', () => {
  test.each(goodCases.map(c => [c.title, c] as const))('%s', (_title, goodCase) => {
    const outcome = synthToTempDir(goodCase.props, { mutate: goodCase.mutate });
    expect(outcome.errors).toEqual([]);
    expect(outcome.written).toEqual(['test.k8s.yaml']);
    expect(Validation.validateJob(outcome.job).map(f => f.rule)).toEqual(expectedWarnings(goodCase.props));
    expectWarnings(...goodCase.props.image.user.isRoot ? ['test/train: image.user is ImageUser.root()'] : []);
    if (goodCase.ranks !== undefined) {
      expect(requestedRanks(outcome.job)).toBe(goodCase.ranks);
    }
  });

  test('the suite spans 1 to 64 workers, 0 to 8 GPUs, both users, every MPI and the launcher as a worker', () => {
    expect(goodCases.length).toBeGreaterThanOrEqual(20);
    const workers = goodCases.map(c => c.props.workers.replicas);
    const gpus = goodCases.map(c => c.props.workers.gpusPerWorker ?? 0);
    expect(Math.min(...workers.filter(w => w > 0))).toBe(1);
    expect(Math.max(...workers)).toBe(64);
    expect(Math.min(...gpus)).toBe(0);
    expect(Math.max(...gpus)).toBe(8);
    expect(new Set(goodCases.map(c => c.props.image.user.isRoot))).toEqual(new Set([true, false]));
    expect(new Set(goodCases.map(c => c.props.image.mpiImplementation))).toEqual(new Set(Object.values(MpiImplementation)));
    expect(goodCases.some(c => c.props.runLauncherAsWorker)).toBe(true);
    expect(new Set(goodCases.map(c => c.props.deepspeedConfig !== undefined))).toEqual(new Set([true, false]));
  });
});
