import { Testing } from 'cdk8s';
import { buildSweep, cifar10ScaleSweep } from '../examples/sweep/main';

describe('sweep example', () => {
  const manifests = Testing.synth(buildSweep(Testing.app()));
  const mpiJobs = manifests.filter(m => m.kind === 'MPIJob');
  const configMaps = manifests.filter(m => m.kind === 'ConfigMap');

  test('3 learning rates x 2 ZeRO stages are six jobs, each with its own config', () => {
    expect(mpiJobs).toHaveLength(6);
    const points = mpiJobs.map(j => [j.metadata.annotations['deepspeed-sweep/learning-rate'], j.metadata.annotations['deepspeed-sweep/zero-stage']]);
    expect(points.map(p => p.join(' ')).sort()).toEqual(['0.0003 1', '0.0003 2', '0.001 1', '0.001 2', '0.003 1', '0.003 2']);
    for (const job of mpiJobs) {
      const [lr, stage] = [job.metadata.annotations['deepspeed-sweep/learning-rate'], job.metadata.annotations['deepspeed-sweep/zero-stage']];
      const volume = job.spec.mpiReplicaSpecs.Worker.template.spec.volumes.find((v: any) => v.name === 'deepspeed-config');
      const config = JSON.parse(configMaps.find(c => c.metadata.name === volume.configMap.name).data['ds_config.json']);
      expect(config.optimizer.params.lr).toBe(Number(lr));
      expect(config.zero_optimization.stage).toBe(Number(stage));
      expect(config.train_batch_size).toBeUndefined();
    }
    expect(configMaps).toHaveLength(6);
  });

  test('every job runs the one image recipe and is labelled with the sweep', () => {
    expect(new Set(mpiJobs.map(j => j.spec.mpiReplicaSpecs.Worker.template.spec.containers[0].image))).toEqual(new Set(['registry.example.com/cifards:v0.0.1']));
    expect(new Set(mpiJobs.map(j => j.metadata.labels['deepspeed-sweep/sweep']))).toEqual(new Set(['cifar10-lr-zero']));
  });
});

describe('the benchmark\'s CIFAR-10 scale sweep', () => {
  test('the full grid is 1,000 valid jobs sharing 200 ConfigMaps (10 learning rates x 4 stages x 5 micro batches)', () => {
    const manifests = Testing.synth(cifar10ScaleSweep(Testing.app()));
    const mpiJobs = manifests.filter(m => m.kind === 'MPIJob');
    expect(mpiJobs).toHaveLength(1000);
    expect(new Set(mpiJobs.map(j => j.metadata.name)).size).toBe(1000);
    expect(manifests.filter(m => m.kind === 'ConfigMap')).toHaveLength(200);
  });

  test('a seeded sample draws the requested number of jobs', () => {
    const manifests = Testing.synth(cifar10ScaleSweep(Testing.app(), { count: 20, seed: 7 }));
    expect(manifests.filter(m => m.kind === 'MPIJob')).toHaveLength(20);
  });
});
