// The CIFAR-10 DeepSpeed job of the well-known MPI Operator blog post, written so it runs:
// 2 workers x 1 GPU (request = limit), a CPU-only launcher, -np computed, sshd workers
// cleaned up when training ends, and the DeepSpeed config delivered as a mounted file.
//
// Pinned combination: DeepSpeedExamples @ 0e0e2ef3 (training/cifar/cifar10_deepspeed.py reads
// --deepspeed_config) with DeepSpeed 0.16.3; `--deepspeed_mpi` is gone (removed in 0.13.1, and
// MPI discovery is automatic anyway).
import { App, Chart, Size } from 'cdk8s';
import { Cpu, EnvValue, NodeTaintQuery, TaintEffect } from 'cdk8s-plus-27';
import { DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, OptimizerType, SchedulerType, ZeroStage } from '../../src';

export function buildCifar10(app: App): Chart {
  const chart = new Chart(app, 'cifar10');
  new DeepSpeedMpiJob(chart, 'train', cifar10JobProps());
  return chart;
}

/** The CIFAR-10 job's props, also the base of the sweep example. */
export function cifar10JobProps(): DeepSpeedMpiJobProps {
  const image = DeepSpeedTrainingImage.fromImage('registry.example.com/cifards:v0.0.1', {
    workingDirectory: '/opt/DeepSpeedExamples',
  });
  return {
    image,
    workers: {
      replicas: 2,
      gpusPerWorker: 1,
      cpu: Cpu.units(8),
      memory: Size.gibibytes(32),
      tolerations: [
        NodeTaintQuery.is('nodepool', 'nodepool-256ram32cpu2gpu-0', { effect: TaintEffect.NO_SCHEDULE }),
        NodeTaintQuery.is('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE }),
      ],
    },
    script: 'training/cifar/cifar10_deepspeed.py',
    args: ['--deepspeed'],
    env: { NCCL_DEBUG: EnvValue.fromValue('INFO') },
    mpirun: { mcaParameters: { pml: 'ob1', btl: '^openib' } },
    // The example's ds_config.json, without the deprecated cpu_offload key.
    deepspeedConfig: {
      trainBatchSize: 16,
      trainMicroBatchSizePerGpu: 8,
      gradientAccumulationSteps: 1,
      stepsPerPrint: 2000,
      optimizer: { type: OptimizerType.ADAM, lr: 0.001, betas: [0.8, 0.999], eps: 1e-8, weightDecay: 3e-7 },
      scheduler: { type: SchedulerType.WARMUP_LR, warmupMinLr: 0, warmupMaxLr: 0.001, warmupNumSteps: 1000 },
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
    },
  };
}

if (require.main === module) {
  const app = new App();
  buildCifar10(app);
  app.synth();
}
