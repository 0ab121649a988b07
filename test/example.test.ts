import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { DeepSpeedMpiJob, Validation } from '../src';
import { aptProblems, lintAll, parseInstructions } from './support/dockerfile';
import { container, mpirunCommand } from './support/synth';

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
    const command = mpirunCommand(launcher);
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

  test('the ConfigMap holds the example\'s ds_config.json without the deprecated cpu_offload', () => {
    const configMap = manifests.find(m => m.kind === 'ConfigMap');
    expect(JSON.parse(configMap.data['ds_config.json'])).toEqual({
      train_batch_size: 16,
      train_micro_batch_size_per_gpu: 8,
      gradient_accumulation_steps: 1,
      steps_per_print: 2000,
      optimizer: { type: 'Adam', params: { lr: 0.001, betas: [0.8, 0.999], eps: 1e-8, weight_decay: 3e-7 } },
      scheduler: { type: 'WarmupLR', params: { warmup_min_lr: 0, warmup_max_lr: 0.001, warmup_num_steps: 1000 } },
      gradient_clipping: 1.0,
      prescale_gradients: false,
      fp16: {
        enabled: true, fp16_master_weights_and_grads: false, loss_scale: 0, loss_scale_window: 500,
        hysteresis: 2, min_loss_scale: 1, initial_scale_power: 15,
      },
      wall_clock_breakdown: false,
      zero_optimization: {
        stage: 0, allgather_partitions: true, reduce_scatter: true, allgather_bucket_size: 50000000,
        reduce_bucket_size: 50000000, overlap_comm: true, contiguous_gradients: true,
      },
    });
  });

  test('the workers tolerate the blog\'s node pool and GPU taints', () => {
    expect(worker.template.spec.tolerations).toEqual([
      { key: 'nodepool', operator: 'Equal', value: 'nodepool-256ram32cpu2gpu-0', effect: 'NoSchedule' },
      { key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' },
    ]);
  });

  test('passes validation without errors or warnings', () => {
    const app = Testing.app();
    const chart = buildCifar10(app);
    const job = chart.node.findAll().find((c): c is DeepSpeedMpiJob => c instanceof DeepSpeedMpiJob)!;
    expect(Validation.validateJob(job)).toEqual([]);
  });

  test('full YAML snapshot (alongside the assertions above)', () => {
    expect(manifests).toMatchSnapshot();
  });

  test('synth writes the recipe\'s Dockerfile next to the manifests; it lints clean and sets up the script\'s directory', () => {
    const app = Testing.app();
    buildCifar10(app);
    app.synth();
    expect(fs.existsSync(path.join(app.outdir, 'cifar10.k8s.yaml'))).toBe(true);
    const dockerfile = fs.readFileSync(path.join(app.outdir, 'images/cifar10-image/Dockerfile'), 'utf8');
    expect(lintAll(dockerfile)).toEqual([]);
    expect(aptProblems(dockerfile)).toEqual([]);
    const instructions = parseInstructions(dockerfile);
    expect(instructions[0].args).toBe('pytorch/pytorch:2.4.1-cuda12.4-cudnn9-devel');
    expect(instructions.find(i => i.keyword === 'WORKDIR')!.args).toBe(container(launcher).workingDir);
    expect(container(launcher).workingDir).toBe('/opt/DeepSpeedExamples');
    expect(dockerfile).toContain('checkout --detach 0e0e2ef307dd3d0298b96c4bffea37f6701aee3e');
    expect(dockerfile).toContain('DS_BUILD_FUSED_ADAM=1 /opt/conda/bin/python -m pip install --no-cache-dir --no-build-isolation deepspeed==0.16.3');
  });
});
