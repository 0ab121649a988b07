import { Chart, Testing } from 'cdk8s';
import { DeepSpeedTrainJob, DeepSpeedTrainJobProps, TrainerRuntime } from '../src';
import { expectValidManifests } from './support/k8s-schema';
import { jobProps } from './support/synth';

function synthTrainJob(overrides: Partial<DeepSpeedTrainJobProps> = {}) {
  const chart = new Chart(Testing.app(), 'test');
  const job = new DeepSpeedTrainJob(chart, 'train', { ...jobProps(), ...overrides });
  const manifests = Testing.synth(chart);
  return { job, manifests, trainJob: manifests.find(m => m.kind === 'TrainJob'), runtime: manifests.find(m => m.kind === 'TrainingRuntime') };
}

test('dump', () => {
  const { manifests } = synthTrainJob({ deepspeedConfig: { trainMicroBatchSizePerGpu: 1 } as any });
  console.log(JSON.stringify(manifests, null, 1));
  expectValidManifests(manifests);
  const ref = synthTrainJob({ runtime: TrainerRuntime.clusterRuntime('deepspeed-distributed'), runLauncherAsWorker: true });
  console.log(JSON.stringify(ref.trainJob, null, 1));
  expectValidManifests(ref.manifests);
});
