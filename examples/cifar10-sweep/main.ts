// A hyperparameter and scale sweep over the CIFAR-10 job: 10 learning rates x 4 ZeRO stages
// x 5 micro batch sizes x 5 worker counts = 1,000 jobs, or a seeded sample of them.
// The base drops train_batch_size so DeepSpeed derives it as micro batch x world size for
// every worker count; with it fixed, most points would break DeepSpeed's batch identity.
import { App, Chart } from 'cdk8s';
import { DeepSpeedSweep, SweepAxis, SweepSample, ZeroStage } from '../../src';
import { cifar10JobProps } from '../cifar10/main';

export function buildCifar10Sweep(app: App, sample?: SweepSample): Chart {
  const chart = new Chart(app, 'cifar10-sweep');
  const base = cifar10JobProps();
  new DeepSpeedSweep(chart, 'sweep', {
    name: 'cifar10-sweep',
    base: { ...base, deepspeedConfig: { ...base.deepspeedConfig, trainBatchSize: undefined } },
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
  buildCifar10Sweep(app, { count: 20, seed: 7 });
  app.synth();
}
