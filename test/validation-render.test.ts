import { Chart, JsonPatch, Size, Testing } from 'cdk8s';
import { EnvValue, NodeTaintQuery, TaintEffect } from 'cdk8s-plus-27';
import { buildCifar10 } from '../examples/cifar10/main';
import { buildCifar10Sweep } from '../examples/cifar10-sweep/main';
import { DeepSpeedMpiJob, DeepSpeedTrainingImage, ImageUser } from '../src';

/** The same JSON with object keys sorted, so that key order does not count. */
function sortedKeys(value: any): any {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map(key => [key, sortedKeys(value[key])]));
}

function jobsOf(chart: Chart): DeepSpeedMpiJob[] {
  return chart.node.findAll().filter((c): c is DeepSpeedMpiJob => c instanceof DeepSpeedMpiJob);
}

/** A job using every kind of value the pod templates hold: quantities, tolerations, env, volumes, metadata, patches. */
function busyJob(): Chart {
  const chart = new Chart(Testing.app(), 'busy', { labels: { team: 'ml' }, namespace: 'training' });
  const job = new DeepSpeedMpiJob(chart, 'train', {
    image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.root(), workingDirectory: '/work' }),
    workers: {
      replicas: 3,
      gpusPerWorker: 2,
      memory: Size.gibibytes(64),
      sharedMemorySize: Size.mebibytes(1536),
      tolerations: [NodeTaintQuery.is('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })],
      nodeSelector: { 'nvidia.com/gpu.product': 'A100' },
      podLabels: { tier: 'gpu' },
    },
    launcher: { podAnnotations: { note: 'launcher' } },
    runLauncherAsWorker: true,
    script: 'train.py',
    args: ['--epochs', '3'],
    env: { NCCL_DEBUG: EnvValue.fromValue('INFO') },
    deepspeedConfig: { trainMicroBatchSizePerGpu: 4 },
  });
  job.apiObject.metadata.addLabel('added', 'later');
  job.apiObject.addJsonPatch(
    JsonPatch.replace('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/resources/limits/memory', '80Gi'),
    JsonPatch.add('/spec/futureField', 'kept'));
  return chart;
}

describe('validation sees the manifest that synthesis writes', () => {
  test.each([
    ['the CIFAR-10 example', () => buildCifar10(Testing.app())],
    ['a sample of the CIFAR-10 sweep', () => buildCifar10Sweep(Testing.app(), { count: 25, seed: 3 })],
    ['a job with quantities, tolerations, env, volumes, metadata and patches', busyJob],
  ])('%s', (_, build) => {
    const chart = build();
    const written = Testing.synth(chart).filter(m => m.kind === 'MPIJob');
    expect(jobsOf(chart).map(job => sortedKeys(job._renderForValidation()))).toEqual(written.map(sortedKeys));
  });

  test('a change after validation shows in the next validation and in the output', () => {
    const chart = busyJob();
    const [job] = jobsOf(chart);
    Testing.synth(chart);
    job.workers.addEnv('LATER', EnvValue.fromValue('1'));
    const env = (manifest: any) => manifest.spec.mpiReplicaSpecs.Worker.template.spec.containers[0].env.map((e: any) => e.name);
    expect(env(job._renderForValidation())).toEqual(['LATER']);
    expect(env(Testing.synth(chart).find(m => m.kind === 'MPIJob'))).toEqual(['LATER']);
  });
});
