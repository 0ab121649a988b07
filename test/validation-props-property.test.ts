// Random combinations of the public props (issue 12): either synth fails and every message names
// the prop the user wrote, or the output passes the strict MPIJob CRD schema, the Kubernetes
// schemas and, for a sample, the real mpirun rehearsal.
import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import {
  Cpu, DeepSpeedConfig, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, EnvValue, ImageUser, MpiImplementation,
  OffloadDevice, OptimizerType, PersistentVolumeAccessMode, SchedulerType, Toleration, TrainingStorage, ZeroStage,
} from '../src';
import { manifestSchemaErrors } from './support/k8s-schema';
import { _sharedFindingsCount } from '../src/validation/shared-findings';
import { rehearse } from './support/rehearsal';

/** How many random prop combinations are synthesized. */
const RUNS = Number(process.env.PROPS_PROPERTY_RUNS ?? 400);
/** How many of the combinations that synthesize are rehearsed with the real mpirun. */
const REHEARSALS = 6;
/** Fixed so CI is repeatable; set PROPS_PROPERTY_SEED to explore other draws. */
const SEED = Number(process.env.PROPS_PROPERTY_SEED ?? 1212);

/** Mostly the valid value, sometimes a mistake: the space a new user really explores. */
function mostly<T>(valid: fc.Arbitrary<T>, ...mistakes: Array<fc.Arbitrary<T>>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: valid, weight: 24 }, ...mistakes.map(arbitrary => ({ arbitrary, weight: 1 })));
}

/** Usually left out, as most users leave most props. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: arb, weight: 1 });
}

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 2 });
}

const imageArb = fc.record({
  ref: mostly(fc.constantFrom('registry.example.com/train:v1', 'ghcr.io/team/ds-train@sha256:' + 'a'.repeat(64)),
    fc.constantFrom('registry.example.com/Train:v1', 'registry.example.com/train :v1', 'registry.example.com/train', 'train:latest')),
  root: fc.boolean(),
  home: mostly(fc.constant<string | undefined>(undefined), fc.constant('home/mpiuser')),
  mpi: mostly(fc.constant(MpiImplementation.OPEN_MPI), fc.constantFrom(MpiImplementation.INTEL, MpiImplementation.MPICH)),
  workingDirectory: mostly(fc.constantFrom<string | undefined>(undefined, '/workspace'), fc.constant('workspace')),
  deepspeedVersion: optional(fc.constantFrom('0.16.3', '0.12.6')),
});

const countArb = (valid: fc.Arbitrary<number>) => mostly(valid, fc.constantFrom(-1, 1.5, NaN));

const workersArb = fc.record({
  replicas: countArb(fc.integer({ min: 0, max: 4 })),
  gpusPerWorker: optional(mostly(fc.integer({ min: 0, max: 8 }), fc.constantFrom(80, 0.5, -2))),
  slotsPerWorker: rarely(countArb(fc.integer({ min: 0, max: 8 }))),
  cpuMillis: optional(fc.integer({ min: 250, max: 16000 })),
  cpuLimitMillis: rarely(fc.integer({ min: 250, max: 16000 })),
  memoryGi: optional(fc.integer({ min: 1, max: 64 })),
  sharedMemoryGi: rarely(mostly(fc.integer({ min: 1, max: 8 }), fc.constantFrom(0, 128))),
  nodeSelector: rarely(mostly<{ [key: string]: string }>(fc.constant({ 'node.kubernetes.io/instance-type': 'p4d.24xlarge' }),
    fc.constant({ 'a/b/c': 'x' }), fc.constant({ pool: 'gpu pool' }))),
  toleration: rarely(mostly(fc.constant(Toleration.nvidiaGpu()), fc.constant(Toleration.exists('nvidia gpu')))),
});

const mpirunArb = rarely(fc.record({
  extraArgs: optional(mostly<string[]>(fc.constant(['--report-bindings']), fc.constant(['-np', '4']), fc.constant(['--hostfile', '/tmp/h']),
    fc.constant(['-x', 'A=1']), fc.constant(['--bind-to core']), fc.constant(['-N', '2']), fc.constant(['python', 'train.py']))),
  bindTo: optional(mostly<string>(fc.constantFrom('none', 'core', 'socket:overload-allowed'), fc.constant('cores'))),
  mapBy: optional(mostly<string>(fc.constantFrom('slot', 'node', 'slot:PE=1'), fc.constantFrom('gpu', 'ppr:2:node'))),
  mcaParameters: optional(mostly(fc.constant<{ [name: string]: string }>({ btl: '^openib' }),
    fc.constant<{ [name: string]: string }>({ plm_rsh_args: '-p 22' }), fc.constant<{ [name: string]: string }>({ '--btl': 'tcp' }))),
}));

const configArb = optional(fc.record({
  micro: mostly(fc.integer({ min: 1, max: 8 }), fc.constant(0)),
  precision: fc.constantFrom<'fp16' | 'bf16' | undefined>(undefined, 'fp16', 'bf16'),
  stage: fc.constantFrom(ZeroStage.STAGE_0, ZeroStage.STAGE_1, ZeroStage.STAGE_2, ZeroStage.STAGE_3),
  optimizer: mostly(fc.constantFrom<string | undefined>('AdamW', 'Adam'), fc.constantFrom('SGD', 'AdamW+SGD', 'Lamb+torchAdam')),
  scheduler: rarely(mostly(fc.constantFrom('WarmupLR', 'WarmupCosineLR'), fc.constantFrom('WarmupCosineLR+warmupMaxLr', 'OneCycle'))),
  nvme: fc.constantFrom<'none' | 'mounted' | 'unmounted'>('none', 'none', 'mounted', 'unmounted'),
}));

const storageArb = rarely(fc.record({
  claim: mostly(fc.constantFrom('new', 'existing'), fc.constantFrom('zero', 'bad-claim-name', 'bad-class', 'rwo')),
  checkpoint: fc.constantFrom<'none' | 'on-volume' | 'off-volume'>('none', 'on-volume', 'off-volume'),
}));

const schedulingArb = rarely(fc.record({
  queueName: rarely(mostly(fc.constant('team-a'), fc.constant('Team-A'))),
  gpuProduct: rarely(mostly(fc.constant('NVIDIA-A100-SXM4-80GB'), fc.constant('NVIDIA A100'))),
  spreadWorkers: fc.boolean(),
}));

const drawArb = fc.record({
  image: imageArb,
  workers: workersArb,
  launcherAsWorker: fc.boolean(),
  launcherGpus: rarely(countArb(fc.integer({ min: 0, max: 4 }))),
  script: mostly(fc.constantFrom('train.py', '/workspace/train.py'), fc.constantFrom('', 'train.py --epochs 3')),
  env: rarely(mostly(fc.constant('NCCL_DEBUG'), fc.constantFrom('CUDA_VISIBLE_DEVICES', 'MASTER_PORT'))),
  activeDeadlineMillis: rarely(mostly(fc.constant(86_400_000), fc.constantFrom(0, 1500))),
  mpirun: mpirunArb,
  backoffLimit: rarely(countArb(fc.integer({ min: 0, max: 6 }))),
  config: configArb,
  storage: storageArb,
  scheduling: schedulingArb,
});

type Draw = typeof drawArb extends fc.Arbitrary<infer T> ? T : never;

function deepspeedConfig(c: NonNullable<Draw['config']>, nvmeMount: string): DeepSpeedConfig {
  const [optimizerType, extra] = (c.optimizer ?? 'AdamW').split('+');
  const optimizer = optimizerType === 'SGD' ? { torchOptimizer: 'SGD' } : {
    type: optimizerType as OptimizerType,
    torchOptimizer: extra === 'SGD' ? 'SGD' : undefined,
    torchAdam: extra === 'torchAdam' ? true : undefined,
  };
  const [schedulerType, param] = (c.scheduler ?? '').split('+');
  const scheduler = c.scheduler === undefined ? undefined : {
    type: schedulerType as SchedulerType,
    totalNumSteps: schedulerType === 'WarmupCosineLR' ? 10000 : undefined,
    warmupMaxLr: param === 'warmupMaxLr' ? 0.001 : undefined,
    cycleMinLr: schedulerType === 'OneCycle' ? 0.0001 : undefined,
    cycleMaxLr: schedulerType === 'OneCycle' ? 0.001 : undefined,
  };
  return {
    trainMicroBatchSizePerGpu: c.micro,
    fp16: c.precision === 'fp16' ? { enabled: true } : undefined,
    bf16: c.precision === 'bf16' ? { enabled: true } : undefined,
    optimizer,
    scheduler,
    zeroOptimization: {
      stage: c.stage,
      offloadParam: c.nvme !== 'none' && c.stage === ZeroStage.STAGE_3 ? { device: OffloadDevice.NVME, nvmePath: nvmeMount } : undefined,
    },
  };
}

function propsFrom(d: Draw): DeepSpeedMpiJobProps {
  const w = d.workers;
  const storage: TrainingStorage[] = [];
  const s = d.storage;
  if (s) {
    if (s.claim === 'existing' || s.claim === 'bad-claim-name') {
      storage.push(TrainingStorage.existingClaim('data', { claimName: s.claim === 'existing' ? 'team-data' : 'Team_Data', mountPath: '/data' }));
    } else {
      storage.push(TrainingStorage.newClaim('data', {
        mountPath: '/data',
        size: Size.gibibytes(s.claim === 'zero' ? 0 : 100),
        storageClassName: s.claim === 'bad-class' ? 'fast_nfs' : undefined,
        accessMode: s.claim === 'rwo' ? PersistentVolumeAccessMode.READ_WRITE_ONCE : undefined,
      }));
    }
  }
  const nvmeMount = d.config?.nvme === 'mounted' && storage.length > 0 ? '/data/nvme' : '/local_nvme';
  return {
    image: DeepSpeedTrainingImage.fromImage(d.image.ref, {
      user: d.image.root ? ImageUser.root() : ImageUser.nonRoot({ home: d.image.home }),
      mpiImplementation: d.image.mpi,
      workingDirectory: d.image.workingDirectory,
      deepspeedVersion: d.image.deepspeedVersion,
    }),
    workers: {
      replicas: w.replicas,
      gpusPerWorker: w.gpusPerWorker,
      slotsPerWorker: w.slotsPerWorker,
      cpu: w.cpuMillis === undefined ? undefined : Cpu.millis(w.cpuMillis),
      cpuLimit: w.cpuLimitMillis === undefined ? undefined : Cpu.millis(w.cpuLimitMillis),
      memory: w.memoryGi === undefined ? undefined : Size.gibibytes(w.memoryGi),
      sharedMemorySize: w.sharedMemoryGi === undefined ? undefined : Size.gibibytes(w.sharedMemoryGi),
      nodeSelector: w.nodeSelector,
      tolerations: w.toleration ? [w.toleration] : undefined,
    },
    launcher: d.launcherGpus === undefined ? undefined : { gpus: d.launcherGpus },
    runLauncherAsWorker: d.launcherAsWorker,
    script: d.script,
    env: d.env === undefined ? undefined : { [d.env]: EnvValue.fromValue(d.env === 'NCCL_DEBUG' ? 'WARN' : '0') },
    mpirun: d.mpirun,
    backoffLimit: d.backoffLimit,
    activeDeadline: d.activeDeadlineMillis === undefined ? undefined : Duration.millis(d.activeDeadlineMillis),
    deepspeedConfig: d.config && deepspeedConfig(d.config, nvmeMount),
    storage: s ? { volumes: storage, checkpoint: s.checkpoint === 'none' ? undefined : { directory: s.checkpoint === 'on-volume' ? '/data/ckpt' : '/ckpt' } } : undefined,
    scheduling: d.scheduling && {
      kueue: d.scheduling.queueName === undefined ? undefined : { queueName: d.scheduling.queueName },
      gpuProduct: d.scheduling.gpuProduct,
      spreadWorkers: d.scheduling.spreadWorkers,
    },
  };
}

/** Where a message starts naming what is wrong: the props (and the DeepSpeed keys) a user writes. */
const PROP_FIELDS = /^(workers\.|launcher\.|image\.|script\b|args\b|env\.|mpirun\.|backoffLimit\b|activeDeadline\b|runLauncherAsWorker\b|deepspeedConfig\.|ds_config\.|storage\.|scheduling\.|metadata\.name\b|security\.|network\.|suspend\b|operatorVersion\b)/;

/** The field of a synth error line (`  [test/train] <field> is <value>: ...`). */
function fieldOf(line: string): string {
  return line.replace(/^\s*\[[^\]]*\] /, '').split(' is ')[0];
}

interface Outcome {
  readonly draw: Draw;
  readonly errors: string[];
  readonly manifests?: any[];
  /** Whether the MPIJob's spec holds names derived from the job's name. */
  readonly ownNames: boolean;
  readonly app: App;
}

function synth(d: Draw, props: DeepSpeedMpiJobProps = propsFrom(d)): Outcome {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const job = new DeepSpeedMpiJob(chart, 'train', props);
  // Names derived from the job's (the claims it creates, spreadWorkers' anti-affinity) keep a twin from sharing.
  const ownNames = JSON.stringify(job.apiObject.toJson().spec).split(`"${job.configMap?.name}"`).join('').includes(job.name);
  try {
    app.synth();
  } catch (e) {
    const message = (e as Error).message;
    if (!message.startsWith('Validation failed')) throw e;
    return { draw: d, errors: message.split('\n').slice(1), ownNames, app };
  }
  return { draw: d, errors: [], manifests: Testing.synth(chart), ownNames, app };
}

describe('random public props: rejected with a message naming a prop, or valid for the CRD, Kubernetes and mpirun', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => { stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true); });
  afterEach(() => stderr.mockRestore());

  test(`${RUNS} combinations`, async () => {
    const passing: Outcome[] = [];
    let rejected = 0;
    let twins = 0;
    let sharingTwins = 0;
    const sharedBefore = _sharedFindingsCount().spec;
    fc.assert(fc.property(drawArb, d => {
      const props = propsFrom(d);
      const outcome = synth(d, props);
      // Every third draw once more at another path: that job takes the first one's shared findings,
      // which setup.ts checks against an unshared run of its rules.
      if (twins * 3 < rejected + passing.length) {
        twins++;
        if (!outcome.ownNames) sharingTwins++;
        const twin = new DeepSpeedMpiJob(new Chart(outcome.app, 'twin'), 'train', props);
        expect(twin.node.validate().length).toBe(outcome.errors.length);
      }
      if (outcome.errors.length > 0) {
        rejected++;
        expect(outcome.errors.map(fieldOf).filter(field => !PROP_FIELDS.test(field))).toEqual([]);
        return;
      }
      expect(manifestSchemaErrors(outcome.manifests!)).toEqual([]);
      passing.push(outcome);
    }), { numRuns: RUNS, seed: SEED });

    // mpirun can rehearse Open MPI jobs, and a few dozen ranks on this machine.
    const rehearsable = passing.filter(o => {
      const job = o.manifests!.find(m => m.kind === 'MPIJob');
      const hosts = (job.spec.mpiReplicaSpecs.Worker?.replicas ?? 0) + (job.spec.runLauncherAsWorker ? 1 : 0);
      return job.spec.mpiImplementation === 'OpenMPI' && hosts * job.spec.slotsPerWorker <= 16;
    }).slice(0, REHEARSALS);
    for (const o of rehearsable) {
      const report = await rehearse(o.manifests!);
      expect({ draw: o.draw, failed: report.checks.filter(c => c.status === 'failed') }).toEqual({ draw: o.draw, failed: [] });
    }
    stderr.mockRestore();
    process.stdout.write(`props property: ${RUNS} runs (seed ${SEED}): ${rejected} rejected with messages naming props, `
      + `${passing.length} valid for the MPIJob CRD and Kubernetes 1.27 schemas, ${rehearsable.length} of them rehearsed with mpirun; `
      + `${twins} validated again at another path, ${sharingTwins} of them from shared findings\n`);
    expect(rejected).toBeGreaterThan(RUNS / 10);
    expect(passing.length).toBeGreaterThan(RUNS / 10);
    expect(rehearsable.length).toBe(REHEARSALS);
    expect(_sharedFindingsCount().spec - sharedBefore).toBe(sharingTwins);
  }, 300_000);
});
