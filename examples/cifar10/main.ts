// The CIFAR-10 DeepSpeed job of the well-known MPI Operator blog post, written so it runs:
// 2 workers x 1 GPU (request = limit), a CPU-only launcher, -np computed, sshd workers
// cleaned up when training ends, and the DeepSpeed config delivered as a mounted file.
//
// The image is built from a typed recipe: `cdk8s synth` writes its Dockerfile to
// dist/manifests/images/cifar10-image/Dockerfile, and the job takes its user, sshd port,
// Python path and working directory from it.
//
// Pinned combination: DeepSpeedExamples @ 0e0e2ef3 (training/cifar/cifar10_deepspeed.py reads
// --deepspeed_config) with DeepSpeed 0.16.3 and torch 2.4.1 built for CUDA 12.4; `--deepspeed_mpi`
// is gone (removed in 0.13.1, and MPI discovery is automatic anyway).
import { App, Chart, Size } from 'cdk8s';
import {
  BakedData, BaseImage, Cpu, DeepSpeedConfig, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedOp,
  DeepSpeedTrainingImage, DeepSpeedTrainingImageProps, EnvValue, IDeepSpeedTrainingImage, OptimizerType,
  SchedulerType, SourceCode, TaintEffect, Toleration, ZeroStage,
} from '../../src';

/** The CIFAR-10 image recipe: the script's repository at a pinned commit, its data baked in. */
export const CIFAR10_IMAGE: DeepSpeedTrainingImageProps = {
  imageRef: 'registry.example.com/cifards:v0.0.1',
  baseImage: BaseImage.pytorch({ torchVersion: '2.4.1', cudaVersion: '12.4', cudnnVersion: '9' }),
  deepspeedVersion: '0.16.3',
  // The example's requirements.txt pins torchvision 0.4.0 (torch 1.2); the base ships the matching one.
  pipPackages: { pillow: '10.4.0', matplotlib: '3.9.2' },
  source: SourceCode.fromGitRepository('https://github.com/deepspeedai/DeepSpeedExamples',
    '0e0e2ef307dd3d0298b96c4bffea37f6701aee3e'),
  // The script downloads to ./data; baked in, ranks on other pods do not race to download it.
  data: [BakedData.torchvisionDataset('CIFAR10', 'data')],
  // The config's Adam optimizer is FusedAdam: compile it once at build time, not in every pod.
  prebuiltOps: [DeepSpeedOp.FUSED_ADAM],
};

/** The training script, relative to the repository checkout (the image's working directory). */
export const CIFAR10_SCRIPT = 'training/cifar/cifar10_deepspeed.py';

/** Micro batch of the example's ds_config.json. */
const CIFAR10_MICRO_BATCH = 8;

/**
 * The example's ds_config.json, without the deprecated cpu_offload key, for a world size: one
 * micro batch of 8 per rank and no gradient accumulation.
 */
export function cifar10DeepSpeedConfig(worldSize: number): DeepSpeedConfig {
  return {
    trainBatchSize: CIFAR10_MICRO_BATCH * worldSize,
    trainMicroBatchSizePerGpu: CIFAR10_MICRO_BATCH,
    gradientAccumulationSteps: 1,
    stepsPerPrint: 2000,
    optimizer: { kind: OptimizerType.ADAM, lr: 0.001, betas: [0.8, 0.999], eps: 1e-8, weightDecay: 3e-7 },
    scheduler: { kind: SchedulerType.WARMUP_LR, warmupMinLr: 0, warmupMaxLr: 0.001, warmupNumSteps: 1000 },
    gradientClipping: 1.0,
    prescaleGradients: false,
    fp16: {
      enabled: true,
      fp16MasterWeightsAndGrads: false,
      lossScale: 0,
      lossScaleWindow: 500,
      hysteresis: 2,
      minLossScale: 1,
      initialScalePower: 15,
    },
    wallClockBreakdown: false,
    zeroOptimization: {
      stage: ZeroStage.STAGE_0,
      allgatherPartitions: true,
      reduceScatter: true,
      allgatherBucketSize: 50_000_000,
      reduceBucketSize: 50_000_000,
      overlapComm: true,
      contiguousGradients: true,
    },
  };
}

/** The CIFAR-10 job's props for an image: also the base of the sweep example. */
export function cifar10JobProps(image: IDeepSpeedTrainingImage): DeepSpeedMpiJobProps {
  return {
    image,
    workers: {
      replicas: 2,
      gpusPerWorker: 1,
      cpu: Cpu.units(8),
      memory: Size.gibibytes(32),
      tolerations: [
        Toleration.equal('nodepool', 'nodepool-256ram32cpu2gpu-0', { effect: TaintEffect.NO_SCHEDULE }),
        Toleration.equal('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE }),
      ],
    },
    script: CIFAR10_SCRIPT,
    args: ['--deepspeed'],
    env: { NCCL_DEBUG: EnvValue.fromValue('INFO') },
    mpirun: { mcaParameters: { pml: 'ob1', btl: '^openib' } },
    deepspeedConfig: cifar10DeepSpeedConfig(2),
  };
}

export function buildCifar10(app: App): Chart {
  const chart = new Chart(app, 'cifar10');
  const image = new DeepSpeedTrainingImage(chart, 'image', CIFAR10_IMAGE);
  new DeepSpeedMpiJob(chart, 'train', cifar10JobProps(image));
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildCifar10(app);
  app.synth();
}
