import { Testing } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { container } from './support/synth';

describe('CIFAR-10 example', () => {
  const manifests = Testing.synth(buildCifar10(Testing.app()));
  const mpiJob = manifests.find(m => m.kind === 'MPIJob');
  const launcher = mpiJob.spec.mpiReplicaSpecs.Launcher;
  const worker = mpiJob.spec.mpiReplicaSpecs.Worker;

  test('emits exactly an MPIJob, its DeepSpeed ConfigMap and its NetworkPolicy', () => {
    expect(manifests.map(m => `${m.apiVersion}/${m.kind}`)).toEqual([
      'kubeflow.org/v2beta1/MPIJob', 'v1/ConfigMap', 'networking.k8s.io/v1/NetworkPolicy',
    ]);
  });

  test('2 workers x 1 GPU: slots 1, -np 2, GPU request equals limit', () => {
    expect(mpiJob.spec.slotsPerWorker).toBe(1);
    expect(worker.replicas).toBe(2);
    const command: string[] = container(launcher).command;
    expect(command.slice(0, 3)).toEqual(['mpirun', '-np', '2']);
    expect(container(worker).resources).toEqual({
      requests: { 'cpu': '8', 'memory': '32Gi', 'nvidia.com/gpu': 1 },
      limits: { 'cpu': '8', 'memory': '32Gi', 'nvidia.com/gpu': 1 },
    });
  });

  test('uses the blog post flags, fixed', () => {
    const command: string[] = container(launcher).command;
    const flags = command.join(' ');
    expect(flags).toContain('--hostfile /etc/mpi/hostfile');
    expect(flags).toContain('--bind-to none --map-by slot');
    expect(flags).toContain('--mca pml ob1 --mca btl ^openib');
    expect(flags).toContain('-x PATH -x LD_LIBRARY_PATH -x NCCL_DEBUG');
    expect(flags).not.toContain('--allow-run-as-root');
    expect(flags).not.toContain('--deepspeed_mpi');
    expect(command.slice(-5)).toEqual([
      '/opt/conda/bin/python', 'training/cifar/cifar10_deepspeed.py', '--deepspeed',
      '--deepspeed_config', '/etc/deepspeed/ds_config.json',
    ]);
  });
});
