import { Chart, Testing } from 'cdk8s';
import { DeepSpeedConfigRegistry, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage } from '../src';

const props: DeepSpeedMpiJobProps = {
  image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1'),
  workers: { replicas: 2, gpusPerWorker: 1 },
  script: 'train.py',
  deepspeedConfig: { trainMicroBatchSizePerGpu: 8 },
};

/** Synthesizes jobs built by `build` and returns the ConfigMaps and the ConfigMap each MPIJob mounts. */
function synthJobs(build: (chart: Chart, registry: DeepSpeedConfigRegistry) => void) {
  const chart = new Chart(Testing.app(), 'test');
  build(chart, new DeepSpeedConfigRegistry(chart, 'configs'));
  const manifests = Testing.synth(chart);
  const mounted = manifests.filter(m => m.kind === 'MPIJob').map(j =>
    j.spec.mpiReplicaSpecs.Worker.template.spec.volumes.find((v: any) => v.name === 'deepspeed-config').configMap.name);
  return { configMaps: manifests.filter(m => m.kind === 'ConfigMap'), mounted };
}

describe('DeepSpeedConfigRegistry', () => {
  test('jobs with the same config and namespace share one ConfigMap named by its content', () => {
    const { configMaps, mounted } = synthJobs((chart, configRegistry) => {
      new DeepSpeedMpiJob(chart, 'a', { ...props, configRegistry });
      new DeepSpeedMpiJob(chart, 'b', { ...props, configRegistry, workers: { replicas: 4 } });
    });
    expect(configMaps.map(c => c.metadata.name)).toEqual([expect.stringMatching(/^test-configs-[0-9a-f]{10}$/)]);
    expect(mounted).toEqual([configMaps[0].metadata.name, configMaps[0].metadata.name]);
    expect(JSON.parse(configMaps[0].data['ds_config.json'])).toEqual({ train_micro_batch_size_per_gpu: 8 });
  });

  test('a different config or namespace gets its own ConfigMap', () => {
    const { configMaps, mounted } = synthJobs((chart, configRegistry) => {
      new DeepSpeedMpiJob(chart, 'a', { ...props, configRegistry });
      new DeepSpeedMpiJob(chart, 'b', { ...props, configRegistry, deepspeedConfig: { trainMicroBatchSizePerGpu: 4 } });
      new DeepSpeedMpiJob(chart, 'c', { ...props, configRegistry, metadata: { namespace: 'team-a' } });
    });
    expect(configMaps.map(c => [c.metadata.name, c.metadata.namespace])).toEqual([
      [mounted[0], undefined],
      [mounted[1], undefined],
      [mounted[0], 'team-a'],
    ]);
    expect(mounted[1]).not.toBe(mounted[0]);
  });

  test('without a registry each job keeps its own <name>-deepspeed ConfigMap', () => {
    const { configMaps, mounted } = synthJobs(chart => {
      new DeepSpeedMpiJob(chart, 'a', { ...props, metadata: { name: 'a' } });
      new DeepSpeedMpiJob(chart, 'b', { ...props, metadata: { name: 'b' } });
    });
    expect(configMaps.map(c => c.metadata.name)).toEqual(['a-deepspeed', 'b-deepspeed']);
    expect(mounted).toEqual(['a-deepspeed', 'b-deepspeed']);
  });
});
