import { Testing } from 'cdk8s';
import { buildCifar10Sweep } from '../examples/cifar10-sweep/main';

describe('CIFAR-10 sweep example', () => {
  test('the full grid is 1,000 valid jobs sharing 200 ConfigMaps (10 learning rates x 4 stages x 5 micro batches)', () => {
    const manifests = Testing.synth(buildCifar10Sweep(Testing.app()));
    const mpiJobs = manifests.filter(m => m.kind === 'MPIJob');
    expect(mpiJobs).toHaveLength(1000);
    expect(new Set(mpiJobs.map(j => j.metadata.name)).size).toBe(1000);
    expect(manifests.filter(m => m.kind === 'ConfigMap')).toHaveLength(200);
  });

  test('a seeded sample draws the requested number of jobs', () => {
    const manifests = Testing.synth(buildCifar10Sweep(Testing.app(), { count: 20, seed: 7 }));
    expect(manifests.filter(m => m.kind === 'MPIJob')).toHaveLength(20);
  });
});
