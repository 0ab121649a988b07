// Sweeps of the CIFAR-10 job. buildSweep is the example: 3 learning rates x 2 ZeRO stages, six
// jobs sharing one image recipe and one ConfigMap per distinct DeepSpeed config. cifar10ScaleSweep is
// the benchmark's subject: 10 learning rates x 4 ZeRO stages x 5 micro batch sizes x 5 worker
// counts = 1,000 jobs, or a seeded sample of them.
import { App, Chart } from 'cdk8s';
import { DeepSpeedMpiJobProps, DeepSpeedSweep, DeepSpeedTrainingImage, SweepAxis, SweepSample, ZeroStage } from '../../src';
import { CIFAR10_IMAGE, cifar10JobProps } from '../cifar10/main';

/** The CIFAR-10 job without train_batch_size, so DeepSpeed derives it for every world size. */
function sweepBase(chart: Chart): DeepSpeedMpiJobProps {
  const base = cifar10JobProps(new DeepSpeedTrainingImage(chart, 'image', CIFAR10_IMAGE));
  return { ...base, deepspeedConfig: { ...base.deepspeedConfig, trainBatchSize: undefined } };
}

/** A learning-rate x ZeRO-stage sweep of the CIFAR-10 job: six MPIJobs. */
export function buildSweep(app: App): Chart {
  const chart = new Chart(app, 'lr-zero');
  new DeepSpeedSweep(chart, 'sweep', {
    name: 'cifar10-lr-zero',
    baseJob: sweepBase(chart),
    axes: [
      SweepAxis.learningRate([3e-4, 1e-3, 3e-3]),
      SweepAxis.zeroStage([ZeroStage.STAGE_1, ZeroStage.STAGE_2]),
    ],
  });
  return chart;
}

/** The benchmark's sweep: up to 1,000 CIFAR-10 jobs, or `sample.count` of them. */
export function cifar10ScaleSweep(app: App, sample?: SweepSample): Chart {
  const chart = new Chart(app, 'cifar10-sweep');
  new DeepSpeedSweep(chart, 'sweep', {
    name: 'cifar10-sweep',
    baseJob: sweepBase(chart),
    axes: [
      SweepAxis.learningRate([1e-4, 2e-4, 3e-4, 5e-4, 7e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2]),
      SweepAxis.zeroStage([ZeroStage.STAGE_0, ZeroStage.STAGE_1, ZeroStage.STAGE_2, ZeroStage.STAGE_3]),
      SweepAxis.microBatchSize([4, 8, 16, 32, 64]),
      SweepAxis.workers([1, 2, 4, 8, 16]),
    ],
    sample,
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildSweep(app);
  app.synth();
}
