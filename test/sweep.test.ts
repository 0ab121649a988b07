import { Chart, Size, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import {
  Cpu, DeepSpeedDataType, DeepSpeedMpiJobProps, DeepSpeedSweep, DeepSpeedSweepProps, DeepSpeedTrainingImage,
  OptimizerType, SchedulerType, SweepAxis, Validation, ZeroStage,
} from '../src';
import { expectValidManifests } from './support/k8s-schema';
import { container, mpirunCommand, synthError, synthSweep, SynthesizedSweep } from './support/synth';

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const base: DeepSpeedMpiJobProps = {
  image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1'),
  workers: { replicas: 2, gpusPerWorker: 1 },
  script: 'train.py',
  deepspeedConfig: {
    trainMicroBatchSizePerGpu: 8,
    optimizer: { kind: OptimizerType.ADAM, lr: 0.001 },
    scheduler: { kind: SchedulerType.WARMUP_LR, warmupMaxLr: 0.001 },
    fp16: { enabled: true, lossScaleWindow: 500 },
    zeroOptimization: { stage: ZeroStage.STAGE_1, overlapComm: true },
  },
};

/** The DeepSpeed config file a synthesized MPIJob mounts, parsed. */
function mountedConfig(result: SynthesizedSweep, mpiJob: any): any {
  const volume = mpiJob.spec.mpiReplicaSpecs.Worker.template.spec.volumes.find((v: any) => v.name === 'deepspeed-config');
  const configMap = result.configMaps.find(c => c.metadata.name === volume.configMap.name);
  return JSON.parse(configMap.data['ds_config.json']);
}

/** Job name by point, e.g. `workers=2,zero-stage=1`, independent of axis order. */
function namesByPoint(sweep: DeepSpeedSweep): Map<string, string> {
  return new Map(sweep.points.map(p => [Object.entries(p.values).sort().join(','), p.job.name]));
}

function lastWorkerHostname(name: string, replicas: number): string {
  return `${name}-worker-${replicas - 1}`;
}

describe('grid', () => {
  test('one job per point of the cartesian product, in grid order, with the values applied', () => {
    const { mpiJobs, sweep } = synthSweep({
      baseJob: base,
      name: 'grid',
      axes: [SweepAxis.zeroStage([ZeroStage.STAGE_1, ZeroStage.STAGE_2]), SweepAxis.workers([1, 2, 4])],
    });
    expect(sweep.points.map(p => p.values)).toEqual([
      { 'zero-stage': '1', 'workers': '1' }, { 'zero-stage': '1', 'workers': '2' }, { 'zero-stage': '1', 'workers': '4' },
      { 'zero-stage': '2', 'workers': '1' }, { 'zero-stage': '2', 'workers': '2' }, { 'zero-stage': '2', 'workers': '4' },
    ]);
    expect(mpiJobs.map(j => j.spec.mpiReplicaSpecs.Worker.replicas)).toEqual([1, 2, 4, 1, 2, 4]);
    expect(mpiJobs.map(j => mpirunCommand(j.spec.mpiReplicaSpecs.Launcher).slice(1, 3))).toEqual([
      ['-np', '1'], ['-np', '2'], ['-np', '4'], ['-np', '1'], ['-np', '2'], ['-np', '4'],
    ]);
  });

  test('without axes the sweep is one job with the base props', () => {
    const { mpiJobs, sweep } = synthSweep({ baseJob: base, name: 'single' });
    expect(sweep.points).toHaveLength(1);
    expect(sweep.points[0].values).toEqual({});
    expect(sweep.jobs[0].node.path).toBe('test/sweep/base');
    expect(mpiJobs).toHaveLength(1);
  });

  test('every job runs the one image passed in', () => {
    const { mpiJobs, sweep } = synthSweep({ baseJob: base, name: 'image', axes: [SweepAxis.workers([1, 2, 3])] });
    expect(sweep.jobs.every(j => j.image === base.image)).toBe(true);
    expect(new Set(mpiJobs.flatMap(j => [j.spec.mpiReplicaSpecs.Launcher, j.spec.mpiReplicaSpecs.Worker].map(r => container(r).image))))
      .toEqual(new Set(['registry.example.com/train:1']));
  });
});

describe('axes', () => {
  test('learningRate sets the optimizer lr and the peak of a warm-up scheduler', () => {
    const result = synthSweep({ baseJob: base, name: 'lr', axes: [SweepAxis.learningRate([0.0003])] });
    const config = mountedConfig(result, result.mpiJobs[0]);
    expect(config.optimizer.params.lr).toBe(0.0003);
    expect(config.scheduler.params.warmup_max_lr).toBe(0.0003);
  });

  test('learningRate leaves a scheduler without warmup_max_lr alone', () => {
    const cosine = { ...base.deepspeedConfig, scheduler: { kind: SchedulerType.WARMUP_COSINE_LR, totalNumSteps: 1000 } };
    const result = synthSweep({ baseJob: { ...base, deepspeedConfig: cosine }, name: 'lr', axes: [SweepAxis.learningRate([0.0003])] });
    expect(mountedConfig(result, result.mpiJobs[0]).scheduler).toEqual({ type: 'WarmupCosineLR', params: { total_num_steps: 1000 } });
  });

  test('precision enables one of fp16 and bf16, keeping the base settings of the enabled one', () => {
    const result = synthSweep({
      baseJob: base,
      name: 'precision',
      axes: [SweepAxis.precision([DeepSpeedDataType.FP16, DeepSpeedDataType.BF16, DeepSpeedDataType.FP32])],
    });
    const [fp16, bf16, fp32] = result.mpiJobs.map(j => mountedConfig(result, j));
    expect([fp16.fp16, fp16.bf16]).toEqual([{ enabled: true, loss_scale_window: 500 }, undefined]);
    expect([bf16.fp16, bf16.bf16]).toEqual([undefined, { enabled: true }]);
    expect([fp32.fp16, fp32.bf16]).toEqual([undefined, undefined]);
  });

  test('zeroStage, microBatchSize and gradientAccumulationSteps set their keys and keep the rest', () => {
    const result = synthSweep({
      baseJob: base,
      name: 'batch',
      axes: [SweepAxis.zeroStage([ZeroStage.STAGE_3]), SweepAxis.microBatchSize([4]), SweepAxis.gradientAccumulationSteps([2])],
    });
    const config = mountedConfig(result, result.mpiJobs[0]);
    expect(config.zero_optimization).toEqual({ stage: 3, overlap_comm: true });
    expect(config.train_micro_batch_size_per_gpu).toBe(4);
    expect(config.gradient_accumulation_steps).toBe(2);
  });

  test('gpusPerWorker sets the GPU request and the slots that follow it', () => {
    const { mpiJobs } = synthSweep({ baseJob: base, name: 'gpus', axes: [SweepAxis.gpusPerWorker([4])] });
    expect(mpiJobs[0].spec.slotsPerWorker).toBe(4);
    expect(container(mpiJobs[0].spec.mpiReplicaSpecs.Worker).resources.limits['nvidia.com/gpu']).toBe(4);
  });

  test('a custom axis passes each value to its setter', () => {
    const { mpiJobs } = synthSweep({
      baseJob: base,
      name: 'custom',
      axes: [SweepAxis.custom('script', ['a.py', 'b.py'], { apply: (props, value) => ({ ...props, script: value }) })],
    });
    expect(mpiJobs.map(j => container(j.spec.mpiReplicaSpecs.Launcher).command.slice(-3, -2))).toEqual([['a.py'], ['b.py']]);
  });

  // An axis is checked by the sweep that uses it, so the message names the sweep and axes[i].
  const sweepWith = (axis: () => SweepAxis) => () => new DeepSpeedSweep(new Chart(Testing.app(), 'test'), 'sweep', { baseJob: base, axes: [SweepAxis.workers([1]), axis()] });
  test.each([
    ['Learning', 'test/sweep: axes[1] name is \'Learning\': it becomes the name part of a label key (\'<labelPrefix>/<axis name>\') on every job and pod, and the API server rejects names that are not at most 63 lowercase letters, digits and \'-\', starting and ending with a letter or digit. Name the axis with lowercase letters, digits and \'-\', other than \'sweep\' and \'point\', e.g. \'seed\'.'],
    ['point', 'test/sweep: axes[1] name is \'point\': the sweep itself sets the label keys \'<labelPrefix>/sweep\' and \'<labelPrefix>/point\', and the axis would overwrite one of them. Name the axis with lowercase letters, digits and \'-\', other than \'sweep\' and \'point\', e.g. \'seed\'.'],
  ])('axis name %s is refused by the sweep', (name, message) => {
    const axis = SweepAxis.custom(name, ['x'], { apply: props => props });
    expect(() => sweepWith(() => axis)()).toThrow(message);
  });

  test('an axis needs distinct values and at least one', () => {
    expect(sweepWith(() => SweepAxis.gpusPerWorker([2, 4, 2]))).toThrow('test/sweep: axes[1] \'gpus-per-worker\' values is ["2","4","2"]: \'2\' is listed twice, and both points would be the same job under the same name. List \'2\' once.');
    expect(sweepWith(() => SweepAxis.learningRate([]))).toThrow('test/sweep: axes[1] \'learning-rate\' values is []: an axis without values makes a grid of no points, so the sweep would create no job. Give the axis at least one value.');
  });

  test('the same axis twice is refused', () => {
    const app = Testing.app();
    expect(() => new DeepSpeedSweep(new Chart(app, 'test'), 'sweep', { baseJob: base, axes: [SweepAxis.workers([1]), SweepAxis.workers([2])] }))
      .toThrow('test/sweep: axes[1] name is \'workers\': axes[0] has the same name, and the points\' labels and job names could not tell the two apart. Merge their values into one axis.');
  });
});

describe('names', () => {
  const props: DeepSpeedSweepProps = {
    baseJob: base,
    name: 'lr-scan',
    axes: [SweepAxis.learningRate([1e-4, 1e-3]), SweepAxis.zeroStage([ZeroStage.STAGE_1, ZeroStage.STAGE_2]), SweepAxis.workers([1, 8])],
  };

  test('are DNS-1035 labels made of the sweep name, the point\'s values and a point hash, unique within the sweep', () => {
    const { sweep } = synthSweep(props);
    const names = sweep.jobs.map(j => j.name);
    expect(names.every(n => DNS_1035_LABEL.test(n) && /^lr-scan-[a-z0-9-]+-[0-9a-f]{10}$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(8);
    // Values in axis-name order (learning-rate, workers, zero-stage), '.' and other characters as '-'.
    const point = sweep.points.find(p => p.values['learning-rate'] === '0.001' && p.values.workers === '8' && p.values['zero-stage'] === '2')!;
    expect(point.job.name).toMatch(/^lr-scan-0-001-8-2-[0-9a-f]{10}$/);
  });

  test('keep the values that fit and the hash when values are long, and stay unique when values spell alike', () => {
    const custom = SweepAxis.custom('tag', ['a.b', 'a-b', 'x'.repeat(80)], { apply: p => p });
    const { sweep } = synthSweep({ baseJob: base, name: 'tags', axes: [custom] });
    const names = sweep.jobs.map(j => j.name);
    expect(names[0]).toMatch(/^tags-a-b-[0-9a-f]{10}$/);
    expect(names[1]).toMatch(/^tags-a-b-[0-9a-f]{10}$/);
    expect(names[0]).not.toBe(names[1]);
    // 63 - '-worker-' - 4 index digits leaves 51: 'tags-', 35 characters of the value, '-' and the hash.
    expect(names[2]).toMatch(new RegExp(`^tags-${'x'.repeat(35)}-[0-9a-f]{10}$`));
    expect(names[2]).toHaveLength(51);
  });

  test('are stable across runs, axis orders and added values', () => {
    const first = namesByPoint(synthSweep(props).sweep);
    expect(namesByPoint(synthSweep(props).sweep)).toEqual(first);
    const reordered = synthSweep({
      ...props,
      axes: [SweepAxis.workers([1, 8, 16]), SweepAxis.zeroStage([ZeroStage.STAGE_2, ZeroStage.STAGE_1]), SweepAxis.learningRate([1e-3, 1e-4])],
    }).sweep;
    const later = namesByPoint(reordered);
    expect(later.size).toBe(12);
    for (const [point, name] of first) expect(later.get(point)).toBe(name);
  });

  test('differ between sweeps with the same points', () => {
    const other = namesByPoint(synthSweep({ ...props, name: 'lr-scan-2' }).sweep);
    const names = [...namesByPoint(synthSweep(props).sweep).values()];
    expect(names.some(n => [...other.values()].includes(n))).toBe(false);
  });

  test('leave room for the last worker hostname at the largest worker count', () => {
    const long = 'a-sweep-name-long-enough-to-need-shortening-for-big-jobs-x';
    const { sweep } = synthSweep({ baseJob: base, name: long, axes: [SweepAxis.workers([1, 1000])] });
    // 63 - '-worker-' - 4 index digits leaves 51; 10 hash digits and '-' leave 40 for the sweep name, none for values.
    for (const job of sweep.jobs) expect(job.name).toMatch(/^a-sweep-name-long-enough-to-need-shorten-[0-9a-f]{10}$/);
    expect(lastWorkerHostname(sweep.jobs[1].name, 1000)).toHaveLength(62);
    const huge = synthSweep({ baseJob: base, name: long, axes: [SweepAxis.workers([1, 100_000])] }).sweep;
    // Index 99999 needs 5 digits: one character less for everything else.
    expect(lastWorkerHostname(huge.jobs[1].name, 100_000)).toHaveLength(63);
  });

  test('fit the operator rule for any sweep name and worker count (property)', () => {
    fc.assert(fc.property(
      fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/),
      fc.integer({ min: 2, max: 100_000 }),
      (name, maxWorkers) => {
        const sweep = new DeepSpeedSweep(new Chart(Testing.app(), 'test'), 'sweep', { baseJob: base, name, axes: [SweepAxis.workers([1, maxWorkers])] });
        return sweep.jobs.every(j => DNS_1035_LABEL.test(j.name) && lastWorkerHostname(j.name, maxWorkers).length <= 63);
      }), { numRuns: 100 });
  });

  test('baseJob.metadata.name is refused', () => {
    const app = Testing.app();
    expect(() => new DeepSpeedSweep(new Chart(app, 'test'), 'sweep', { baseJob: { ...base, metadata: { name: 'train' } } }))
      .toThrow('test/sweep: baseJob.metadata.name is \'train\': every job of a sweep is named <sweep name>-<point values>-<point hash>. Set the sweep\'s name instead.');
  });
});

describe('labels and annotations', () => {
  test('carry the sweep, the point hash and each value, next to the base labels', () => {
    const { mpiJobs, sweep } = synthSweep({
      baseJob: { ...base, metadata: { labels: { 'kueue.x-k8s.io/queue-name': 'team-a' }, annotations: { owner: 'ml' } } },
      name: 'lr-scan',
      axes: [SweepAxis.learningRate([1e-4]), SweepAxis.workers([8])],
    });
    const hash = sweep.jobs[0].name.slice(-10);
    expect(mpiJobs[0].metadata.labels).toEqual({
      'kueue.x-k8s.io/queue-name': 'team-a',
      'deepspeed-sweep/sweep': 'lr-scan',
      'deepspeed-sweep/point': hash,
      'deepspeed-sweep/learning-rate': '0.0001',
      'deepspeed-sweep/workers': '8',
    });
    expect(mpiJobs[0].metadata.annotations).toEqual({
      'owner': 'ml',
      'deepspeed-sweep/learning-rate': '0.0001',
      'deepspeed-sweep/workers': '8',
    });
    expect(sweep.selector).toBe('deepspeed-sweep/sweep=lr-scan');
  });

  test('label values are made label-safe; the annotation keeps the exact value', () => {
    const { mpiJobs, sweep } = synthSweep({
      baseJob: base,
      name: 'data',
      labelPrefix: 'sweeps.example.com',
      axes: [SweepAxis.custom('data', ['-/scratch/data v2-'], { apply: (props, value) => ({ ...props, args: ['--data', value] }) })],
    });
    expect(mpiJobs[0].metadata.labels['sweeps.example.com/data']).toBe('scratch_data_v2');
    expect(mpiJobs[0].metadata.annotations['sweeps.example.com/data']).toBe('-/scratch/data v2-');
    expect(sweep.selector).toBe('sweeps.example.com/sweep=data');
    expect(sweep.jobs[0].node.path).toBe('test/sweep/data=---scratch--data v2-');
  });
});

describe('sharing', () => {
  test('one ConfigMap per distinct DeepSpeed config, mounted by every job that renders it', () => {
    const result = synthSweep({
      baseJob: base,
      name: 'share',
      axes: [SweepAxis.learningRate([1e-4, 1e-3]), SweepAxis.workers([1, 2, 4])],
    });
    expect(result.mpiJobs).toHaveLength(6);
    expect(result.configMaps).toHaveLength(2);
    expect(new Set(result.configMaps.map(c => c.data['ds_config.json'])).size).toBe(2);
    for (const configMap of result.configMaps) expect(configMap.metadata.name).toMatch(/^share-ds-[0-9a-f]{10}$/);
    result.sweep.points.forEach((point, i) => {
      expect(mountedConfig(result, result.mpiJobs[i]).optimizer.params.lr).toBe(Number(point.values['learning-rate']));
    });
  });

  test('the ConfigMap count equals the number of distinct configs across config axes', () => {
    const result = synthSweep({
      baseJob: base,
      name: 'share',
      axes: [
        SweepAxis.precision([DeepSpeedDataType.FP16, DeepSpeedDataType.BF16]),
        SweepAxis.zeroStage([ZeroStage.STAGE_0, ZeroStage.STAGE_1, ZeroStage.STAGE_2]),
        SweepAxis.workers([1, 2]),
        SweepAxis.gpusPerWorker([1, 2]),
      ],
    });
    expect(result.mpiJobs).toHaveLength(24);
    expect(result.configMaps).toHaveLength(6);
    expect(result.sweep.configRegistry.configMaps).toHaveLength(6);
  });

  test('a base without a DeepSpeed config makes no ConfigMaps', () => {
    const { configMaps, mpiJobs } = synthSweep({ baseJob: { ...base, deepspeedConfig: undefined }, name: 'none', axes: [SweepAxis.workers([1, 2])] });
    expect([mpiJobs.length, configMaps.length]).toEqual([2, 0]);
  });
});

describe('validation of each point', () => {
  test('an invalid point fails synth with its axis values in the message', () => {
    const app = Testing.app();
    new DeepSpeedSweep(new Chart(app, 'test'), 'sweep', {
      baseJob: base,
      name: 'launcher',
      axes: [
        SweepAxis.workers([2]),
        SweepAxis.custom('launcher-gpus', ['0', '1'], { apply: (props, value) => ({ ...props, launcher: { gpus: Number(value) } }) }),
      ],
    });
    const path = 'test/sweep/workers=2,launcher-gpus=1';
    expect(synthError(app)).toBe('Validation failed with the following errors:\n'
      + `  [${path}] launcher.gpus is 1: the MPI Operator hides GPUs from a launcher that does not run as a worker, so they would sit idle. `
      + 'Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.');
  });

  test('warnings of a point name it too, and fail synth in strict mode', () => {
    const app = Testing.app();
    app.node.setContext(Validation.WARNINGS_AS_ERRORS_CONTEXT, true);
    new DeepSpeedSweep(new Chart(app, 'test'), 'sweep', {
      baseJob: { ...base, workers: { ...base.workers, slotsPerWorker: 1 } },
      name: 'slots',
      axes: [SweepAxis.gpusPerWorker([1, 2])],
    });
    const path = 'test/sweep/gpus-per-worker=2';
    expect(synthError(app)).toBe('Validation failed with the following errors:\n'
      + `  [${path}] workers.gpusPerWorker is 2 but slotsPerWorker is 1: 1 GPU per worker would sit idle. `
      + 'Remove workers.slotsPerWorker (it defaults to the GPU count) or set it to 2.');
  });

  test('a base that a config axis cannot change names the base prop and the axis', () => {
    const app = Testing.app();
    const noOptimizer = { ...base, deepspeedConfig: { trainBatchSize: 16 } };
    expect(() => new DeepSpeedSweep(new Chart(app, 'test'), 'sweep', { baseJob: noOptimizer, axes: [SweepAxis.learningRate([1e-4])] }))
      .toThrow('test/sweep: baseJob.deepspeedConfig.optimizer is not set: axes[0] \'learning-rate\' sets the optimizer\'s lr (and warmup_max_lr of a WarmupLR or WarmupDecayLR scheduler), and the base has neither an optimizer nor such a scheduler. Set baseJob.deepspeedConfig.optimizer, e.g. { kind: OptimizerType.ADAMW }.');
    expect(() => new DeepSpeedSweep(new Chart(app, 'test2'), 'sweep', {
      baseJob: { ...base, deepspeedConfig: undefined },
      axes: [SweepAxis.zeroStage([ZeroStage.STAGE_2])],
    })).toThrow('test2/sweep: baseJob.deepspeedConfig is not set: axes[0] \'zero-stage\' changes the DeepSpeed config of every job, and the base has none to change. Set baseJob.deepspeedConfig, e.g. { trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.ADAMW } }.');
  });
});

describe('seeded sampling', () => {
  const axes = [
    SweepAxis.learningRate([1e-5, 3e-5, 1e-4, 3e-4, 1e-3]),
    SweepAxis.zeroStage([ZeroStage.STAGE_0, ZeroStage.STAGE_1, ZeroStage.STAGE_2, ZeroStage.STAGE_3]),
    SweepAxis.workers([1, 2, 4, 8, 16]),
  ];
  const grid = synthSweep({ baseJob: base, name: 'sample', axes }).sweep.points.map(p => p.values);
  const sampled = (count: number, seed: number) => new DeepSpeedSweep(new Chart(Testing.app(), 'test'), 'sweep', {
    baseJob: base, name: 'sample', axes, sample: { count, seed },
  }).points.map(p => p.values);

  test('draws the same distinct points for the same seed, in grid order', () => {
    const points = sampled(7, 42);
    expect(sampled(7, 42)).toEqual(points);
    expect(new Set(points.map(p => JSON.stringify(p))).size).toBe(7);
    const positions = points.map(p => grid.findIndex(g => JSON.stringify(g) === JSON.stringify(p)));
    expect(positions.every(i => i >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test('draws other points for another seed', () => {
    expect(sampled(7, 43)).not.toEqual(sampled(7, 42));
  });

  test('a sampled point keeps the name it has in the full grid', () => {
    const full = namesByPoint(synthSweep({ baseJob: base, name: 'sample', axes }).sweep);
    const sample = namesByPoint(synthSweep({ baseJob: base, name: 'sample', axes, sample: { count: 7, seed: 42 } }).sweep);
    for (const [point, name] of sample) expect(full.get(point)).toBe(name);
  });

  test('a sample of the whole grid is the grid', () => {
    expect(sampled(100, 1)).toEqual(grid);
  });

  test('a sample larger than the grid, or a seed that is not an integer, is refused', () => {
    expect(() => sampled(101, 1)).toThrow('test/sweep: sample.count is 101: a sample draws a whole number of distinct points from the grid of 100. Set sample.count to a whole number from 1 to 100.');
    expect(() => sampled(5, 1.5)).toThrow('test/sweep: sample.seed is 1.5: the generator takes a whole-number seed. Set sample.seed to an integer.');
  });
});

describe('shared NetworkPolicy', () => {
  const axes = [SweepAxis.workers([1, 2, 4])];

  test('one policy for the sweep: its pods admit only each other, selected by the sweep label on both pod templates', () => {
    const result = synthSweep({ name: 'np', baseJob: { ...base, metadata: { namespace: 'ml' } }, axes });
    const policies = result.manifests.filter(m => m.kind === 'NetworkPolicy');
    expect(policies).toHaveLength(1);
    const selector = { 'training.kubeflow.org/operator-name': 'mpi-operator', 'deepspeed-sweep/sweep': 'np' };
    expect(policies[0]).toMatchObject({
      metadata: { name: 'np', namespace: 'ml' },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: 'TCP' }] }],
      },
    });
    for (const mpiJob of result.mpiJobs) {
      for (const replica of ['Launcher', 'Worker']) {
        expect(mpiJob.spec.mpiReplicaSpecs[replica].template.metadata.labels).toEqual({ 'deepspeed-sweep/sweep': 'np' });
      }
    }
    expectValidManifests(policies);
  });

  test('sharedNetworkPolicy: false keeps one policy per job, selected by job name', () => {
    const result = synthSweep({ name: 'np', baseJob: base, axes, sharedNetworkPolicy: false });
    const policies = result.manifests.filter(m => m.kind === 'NetworkPolicy');
    expect(policies.map(p => p.metadata.name).sort()).toEqual(result.mpiJobs.map(j => j.metadata.name).sort());
    expect(result.mpiJobs[0].spec.mpiReplicaSpecs.Worker.template.metadata).toBeUndefined();
  });

  test('a base without a NetworkPolicy gets none, shared or not', () => {
    const result = synthSweep({ name: 'np', baseJob: { ...base, security: { networkPolicy: false } }, axes });
    expect(result.manifests.filter(m => m.kind === 'NetworkPolicy')).toEqual([]);
  });
});

describe('parallelism through Kueue', () => {
  const sized = { ...base, workers: { ...base.workers, cpu: Cpu.units(8), memory: Size.gibibytes(32) }, metadata: { namespace: 'ml' } };

  test('a ClusterQueue holds maxJobs of the largest job, and every job waits in the sweep\'s LocalQueue', () => {
    const result = synthSweep({ name: 'lr', baseJob: sized, axes: [SweepAxis.workers([1, 4])], parallelism: { maxJobs: 2 } });
    const clusterQueue = result.manifests.find(m => m.kind === 'ClusterQueue');
    // Largest job: launcher (1 CPU, 2Gi) + 4 workers x (8 CPU, 32Gi, 1 GPU) = 33 CPU, 130Gi, 4 GPUs; times 2.
    expect(clusterQueue).toEqual({
      apiVersion: 'kueue.x-k8s.io/v1beta1',
      kind: 'ClusterQueue',
      metadata: { name: 'lr' },
      spec: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ml' } },
        resourceGroups: [{
          coveredResources: ['cpu', 'memory', 'nvidia.com/gpu'],
          flavors: [{
            name: 'default-flavor',
            resources: [
              { name: 'cpu', nominalQuota: '66' },
              { name: 'memory', nominalQuota: '260Gi' },
              { name: 'nvidia.com/gpu', nominalQuota: '8' },
            ],
          }],
        }],
      },
    });
    expect(result.manifests.find(m => m.kind === 'LocalQueue')).toEqual({
      apiVersion: 'kueue.x-k8s.io/v1beta1', kind: 'LocalQueue', metadata: { name: 'lr', namespace: 'ml' }, spec: { clusterQueue: 'lr' },
    });
    for (const mpiJob of result.mpiJobs) {
      expect(mpiJob.metadata.labels['kueue.x-k8s.io/queue-name']).toBe('lr');
      expect(mpiJob.spec.runPolicy.suspend).toBe(true);
    }
  });

  test('a flavor and a cohort of your own', () => {
    const result = synthSweep({ name: 'lr', baseJob: sized, parallelism: { maxJobs: 1, resourceFlavor: 'a100', cohort: 'research' } });
    const clusterQueue = result.manifests.find(m => m.kind === 'ClusterQueue');
    expect(clusterQueue.spec.cohort).toBe('research');
    expect(clusterQueue.spec.resourceGroups[0].flavors[0].name).toBe('a100');
  });

  test('refuses a queue of the base, and a maxJobs below 1', () => {
    const app = Testing.app();
    expect(() => new DeepSpeedSweep(new Chart(app, 'c'), 's', {
      baseJob: { ...base, scheduling: { kueue: { queueName: 'team-a' } } }, parallelism: { maxJobs: 2 },
    })).toThrow("c/s: parallelism is set and baseJob.scheduling.kueue names queue 'team-a': parallelism submits every job to a queue of its own. Remove one of them.");
    expect(() => new DeepSpeedSweep(new Chart(app, 'd'), 's', { baseJob: base, parallelism: { maxJobs: 0 } }))
      .toThrow('d/s: parallelism.maxJobs is 0: it is how many jobs may run at once: the sweep\'s ClusterQueue gets a quota of maxJobs times the largest job, so below 1 Kueue admits no job and a fraction admits only the whole jobs it covers. Set parallelism.maxJobs to a whole number of 1 or more.');
  });
});
