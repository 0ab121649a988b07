// A 9.7-billion-parameter BERT encoder pretrained with ZeRO-3 on 4 nodes x 8 GPUs (world size 32).
// Parameters and optimizer states live in host memory (offload_param and offload_optimizer to
// the CPU), the GPUs compute in bf16, and every rank writes its checkpoint shards to one
// ReadWriteMany claim, so a rerun resumes where the last one stopped.
//
// The training script is train_bert_mlm.py next to this file: it reads the DeepSpeed config
// from --deepspeed_config, takes --checkpoint_dir, and relies on DeepSpeed's MPI discovery, so
// it runs under mpirun without --local_rank. It is copied into the image from this directory
// (the build context), on top of pytorch/pytorch 2.4.1 (CUDA 12.4) with DeepSpeed 0.16.3 and
// transformers 4.46.3.
import { App, Chart, Size } from 'cdk8s';
import {
  BaseImage, Cpu, DeepSpeedMpiJob, DeepSpeedTrainingImage, ImageUser, OffloadDevice,
  OptimizerType, PersistentVolumeAccessMode, SchedulerType, SourceCode, TrainingStorage, WarmupType, ZeroStage,
} from '../../src';

/** Optimizer steps; the learning-rate schedule ends at the same step. */
const TRAINING_STEPS = 20_000;

export function buildBertZero3(app: App): Chart {
  const chart = new Chart(app, 'bert-zero3');
  const image = new DeepSpeedTrainingImage(chart, 'image', {
    imageRef: 'registry.example.com/bert-zero3:v1',
    baseImage: BaseImage.pytorch({ torchVersion: '2.4.1', cudaVersion: '12.4', cudnnVersion: '9' }),
    deepspeedVersion: '0.16.3',
    pipPackages: { transformers: '4.46.3' },
    // Built with `docker build -f <Dockerfile> examples/bert-zero3`; only the script goes in.
    source: SourceCode.fromBuildContext('examples/bert-zero3', { exclude: ['*.ts', '*.md'] }),
    // The optimizer offload steps with DeepSpeedCPUAdam, a CPU op. Not pre-built: DeepSpeed 0.16
    // compiles CPU ops for the build host's CPU (-march=native, DeepSpeed issue #1886), so it
    // compiles at first use on each node, for that node's CPU (about a minute, once per pod).
    // Not root: the pods meet the restricted Pod Security Standard.
    user: ImageUser.nonRoot({ name: 'trainer', uid: 1001 }),
  });
  new DeepSpeedMpiJob(chart, 'train', {
    image,
    metadata: { name: 'bert-zero3', namespace: 'ml' },
    workers: {
      replicas: 4,
      gpusPerWorker: 8,
      cpu: Cpu.units(64),
      // Offloaded parameters and optimizer states live here.
      memory: Size.gibibytes(768),
    },
    scheduling: {
      // bf16 needs Ampere or newer; one worker per node keeps each node's 8 GPUs together.
      gpuProduct: 'NVIDIA-A100-SXM4-80GB',
      spreadWorkers: true,
    },
    script: 'train_bert_mlm.py',
    args: [
      '--train_file', '/data/wikitext-103/train.txt',
      '--num_layers', '48', '--hidden_size', '4096', '--num_heads', '32', '--seq_length', '512',
      '--max_steps', String(TRAINING_STEPS), '--save_interval', '500',
    ],
    storage: {
      volumes: [
        TrainingStorage.existingClaim('corpus', { claimName: 'text-corpus', mountPath: '/data', readOnly: true }),
        TrainingStorage.newClaim('checkpoints', {
          size: Size.tebibytes(2),
          storageClassName: 'cephfs',
          accessMode: PersistentVolumeAccessMode.READ_WRITE_MANY,
          mountPath: '/checkpoints',
        }),
      ],
      // Appended to the script's arguments as --checkpoint_dir /checkpoints/bert-zero3.
      checkpoint: { directory: '/checkpoints/bert-zero3' },
    },
    deepspeedConfig: {
      // 4 samples per GPU x 4 accumulation steps x 32 GPUs.
      trainBatchSize: 512,
      trainMicroBatchSizePerGpu: 4,
      gradientAccumulationSteps: 4,
      stepsPerPrint: 100,
      gradientClipping: 1.0,
      bf16: { enabled: true },
      optimizer: { kind: OptimizerType.ADAMW, lr: 1e-4, betas: [0.9, 0.98], eps: 1e-6, weightDecay: 0.01 },
      scheduler: {
        kind: SchedulerType.WARMUP_DECAY_LR,
        warmupMinLr: 0,
        warmupMaxLr: 1e-4,
        warmupNumSteps: 1000,
        warmupType: WarmupType.LINEAR,
        totalNumSteps: TRAINING_STEPS,
      },
      zeroOptimization: {
        stage: ZeroStage.STAGE_3,
        offloadOptimizer: { device: OffloadDevice.CPU, pinMemory: true },
        offloadParam: { device: OffloadDevice.CPU, pinMemory: true },
        overlapComm: true,
        contiguousGradients: true,
        stage3PrefetchBucketSize: 50_000_000,
        stage3ParamPersistenceThreshold: 100_000,
      },
    },
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildBertZero3(app);
  app.synth();
}
