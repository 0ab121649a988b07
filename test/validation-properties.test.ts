import { JsonPatch } from 'cdk8s';
import * as fc from 'fast-check';
import {
  Cpu, DeepSpeedConfig, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, ImageUser, MpiImplementation,
  OffloadDevice, OptimizerType, Severity, Validation, ZeroStage,
} from '../src';
import { LAUNCHER, synthToTempDir } from './support/synth';

// Random job props, and an oracle that re-derives every rule these props can break from the
// synthesized manifest and DeepSpeed config alone, without using src/validation.

type Offload = 'cpu' | 'nvme' | 'nvme-without-path';

interface DrawnConfig {
  readonly tb?: number;
  readonly mb?: number;
  readonly gas?: number;
  readonly fp16: boolean;
  readonly bf16: boolean;
  readonly stage: number;
  readonly offloadParam?: Offload;
  readonly offloadOptimizer?: Offload;
  readonly optimizer?: string;
}

interface Draw {
  readonly name?: string;
  readonly replicas: number;
  readonly gpus: number;
  readonly slots?: number;
  readonly launcherGpus?: number;
  readonly launcherAsWorker: boolean;
  readonly root: boolean;
  readonly mpi: MpiImplementation;
  readonly cpuMillis?: number;
  readonly cpuLimitMillis?: number;
  readonly backoffLimit?: number;
  readonly restartPolicy?: string;
  readonly cleanPodPolicy?: string;
  readonly launcherCreationPolicy?: string;
  readonly schedulingPolicy?: { minAvailable?: number };
  readonly config?: DrawnConfig;
}

/** Mostly undefined (the default), so that draws with no or few broken rules are common. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: arb, weight: 1 });
}

const offloadArb = rarely(fc.constantFrom<Offload>('cpu', 'nvme', 'nvme-without-path'));

const configArb: fc.Arbitrary<DrawnConfig> = fc.record({
  tb: rarely(fc.integer({ min: 0, max: 300 })),
  mb: fc.option(fc.integer({ min: 0, max: 16 }), { nil: undefined, freq: 8 }),
  gas: rarely(fc.integer({ min: 0, max: 8 })),
  fp16: fc.boolean(),
  bf16: rarely(fc.constant(true)).map(enabled => enabled === true),
  stage: fc.integer({ min: 0, max: 3 }),
  offloadParam: offloadArb,
  offloadOptimizer: offloadArb,
  optimizer: rarely(fc.constantFrom('Adam', 'AdamW', 'Lamb', 'SGD')),
});

const drawArb: fc.Arbitrary<Draw> = fc.record({
  name: rarely(fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,60}[a-z0-9]$/), fc.stringMatching(/^[a-zA-Z0-9-]{1,8}$/))),
  replicas: fc.integer({ min: 0, max: 64 }),
  gpus: fc.integer({ min: 0, max: 8 }),
  slots: rarely(fc.integer({ min: -1, max: 9 })),
  launcherGpus: rarely(fc.integer({ min: 0, max: 3 })),
  launcherAsWorker: fc.boolean(),
  root: fc.boolean(),
  mpi: fc.constantFrom(...Object.values(MpiImplementation)),
  cpuMillis: fc.option(fc.integer({ min: 100, max: 4000 }), { nil: undefined }),
  cpuLimitMillis: rarely(fc.integer({ min: 100, max: 4000 })),
  backoffLimit: rarely(fc.integer({ min: -2, max: 6 })),
  restartPolicy: rarely(fc.constantFrom('Never', 'OnFailure', 'Always', 'ExitCode')),
  cleanPodPolicy: rarely(fc.constantFrom('None', 'Running', 'All', 'Sometimes')),
  launcherCreationPolicy: rarely(fc.constantFrom('AtStartup', 'WaitForWorkersReady', 'Later')),
  schedulingPolicy: rarely(fc.record({ minAvailable: fc.option(fc.integer({ min: -1, max: 70 }), { nil: undefined }) })),
  config: fc.option(configArb, { nil: undefined }),
});

function offloadProps(offload: Offload | undefined) {
  if (offload === undefined) return undefined;
  return offload === 'cpu'
    ? { device: OffloadDevice.CPU }
    : { device: OffloadDevice.NVME, nvmePath: offload === 'nvme' ? '/local_nvme' : undefined };
}

function configProps(c: DrawnConfig): DeepSpeedConfig {
  return {
    trainBatchSize: c.tb,
    trainMicroBatchSizePerGpu: c.mb,
    gradientAccumulationSteps: c.gas,
    fp16: c.fp16 ? { enabled: true } : undefined,
    bf16: c.bf16 ? { enabled: true } : undefined,
    zeroOptimization: {
      stage: c.stage as ZeroStage,
      offloadParam: offloadProps(c.offloadParam),
      offloadOptimizer: offloadProps(c.offloadOptimizer),
    },
    optimizer: c.optimizer === undefined ? undefined
      : c.optimizer === 'SGD' ? { torchOptimizer: 'SGD' } : { kind: c.optimizer as OptimizerType },
  };
}

function jobPropsFrom(d: Draw): DeepSpeedMpiJobProps {
  return {
    image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', {
      user: d.root ? ImageUser.root() : ImageUser.nonRoot(),
      mpiImplementation: d.mpi,
    }),
    metadata: d.name === undefined ? undefined : { name: d.name },
    workers: {
      replicas: d.replicas,
      gpusPerWorker: d.gpus,
      slotsPerWorker: d.slots,
      cpu: d.cpuMillis === undefined ? undefined : Cpu.millis(d.cpuMillis),
      cpuLimit: d.cpuLimitMillis === undefined ? undefined : Cpu.millis(d.cpuLimitMillis),
    },
    launcher: { gpus: d.launcherGpus },
    runLauncherAsWorker: d.launcherAsWorker,
    backoffLimit: d.backoffLimit,
    script: 'train.py',
    deepspeedConfig: d.config && configProps(d.config),
  };
}

function patchesFrom(d: Draw): JsonPatch[] {
  const patches: JsonPatch[] = [];
  if (d.restartPolicy) patches.push(JsonPatch.replace(`${LAUNCHER}/restartPolicy`, d.restartPolicy));
  if (d.cleanPodPolicy) patches.push(JsonPatch.replace('/spec/runPolicy/cleanPodPolicy', d.cleanPodPolicy));
  if (d.launcherCreationPolicy) patches.push(JsonPatch.replace('/spec/launcherCreationPolicy', d.launcherCreationPolicy));
  if (d.schedulingPolicy) patches.push(JsonPatch.add('/spec/runPolicy/schedulingPolicy', d.schedulingPolicy));
  return patches;
}

/** CPU as millicores: '1500m' or '2'. */
function millis(cpu: string): number {
  return cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}

/**
 * DeepSpeed 0.16's batch derivation and assertions: does it fail? Values that are not positive
 * whole numbers, or neither train_batch_size nor the micro batch, fail whatever the world size.
 */
function batchFails(tb: number | undefined, mb: number | undefined, gas: number | undefined, world: number): boolean {
  if ([tb, mb, gas].some(v => v !== undefined && (!Number.isInteger(v) || v <= 0))) return true;
  if (tb === undefined) return mb === undefined;
  if (world <= 0) return false;
  if (mb === undefined) mb = Math.floor(Math.floor(tb / world) / (gas ?? 1));
  else if (gas === undefined) gas = Math.floor(Math.floor(tb / mb) / world);
  gas = gas ?? 1;
  return mb < 1 || gas < 1 || tb !== mb * gas * world;
}

interface Expected {
  readonly errors: Set<string>;
  readonly warnings: Set<string>;
}

/** Every rule the drawn props can break, checked on the synthesized objects. */
function oracle(d: Draw, manifest: any, ds: any): Expected {
  const errors = new Set<string>();
  const warnings = new Set<string>();
  const spec = manifest.spec;
  const launcher = spec.mpiReplicaSpecs.Launcher;
  const worker = spec.mpiReplicaSpecs.Worker;
  const main = (replica: any) => replica.template.spec.containers[0];
  const gpus = (replica: any) => Number(main(replica)?.resources?.limits?.['nvidia.com/gpu'] ?? 0);
  const slots = spec.slotsPerWorker;
  const law = spec.runLauncherAsWorker === true;
  const workers = worker ? worker.replicas : 0;

  // The MPI Operator's validation.
  const name: string = manifest.metadata.name;
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) || `${name}-worker-${Math.max(workers, 1) - 1}`.length > 63) errors.add('operator/job-name');
  if (worker ? workers < 1 : !law) errors.add('operator/worker-replicas');
  // Counts the user wrote that are not whole and not negative are reported under the props.
  if (!(Number.isInteger(slots) && slots >= 0)) errors.add('props/whole-numbers');
  if (spec.runPolicy.backoffLimit < 0) errors.add('props/whole-numbers');
  if (!['Never', 'OnFailure'].includes(launcher.restartPolicy)) errors.add('operator/restart-policy');
  if (!['None', 'Running', 'All'].includes(spec.runPolicy.cleanPodPolicy)) errors.add('operator/clean-pod-policy');
  if (!['AtStartup', 'WaitForWorkersReady'].includes(spec.launcherCreationPolicy)) errors.add('operator/launcher-creation-policy');

  // Kubernetes: GPUs whole with request = limit; CPU request <= limit.
  for (const replica of [launcher, worker].filter(Boolean)) {
    const resources = main(replica).resources ?? {};
    const gpu = resources.limits?.['nvidia.com/gpu'];
    if (gpu !== resources.requests?.['nvidia.com/gpu'] || (gpu !== undefined && !Number.isInteger(gpu))) errors.add('kubernetes/resources');
    if (resources.requests?.cpu && resources.limits?.cpu && millis(resources.requests.cpu) > millis(resources.limits.cpu)) errors.add('kubernetes/resources');
  }

  // Launch consistency.
  const hosts = workers + (law ? 1 : 0);
  const world = hosts * slots;
  const command: string[] = main(launcher).command;
  const ranks = Number(command[command.indexOf(d.mpi === MpiImplementation.OPEN_MPI ? '-np' : '-n') + 1]);
  if (!law && gpus(launcher) > 0) errors.add('launch/launcher-gpus');
  if (slots === 0 && hosts > 0) errors.add('launch/no-slots');
  if (world > 0 && ranks !== world) errors.add('launch/process-count');
  // More ranks than GPUs on a pod fail (set_device(local_rank)); fewer leave GPUs idle.
  const slotMismatch = (gpuCount: number) => (slots > gpuCount ? errors : warnings).add('launch/slots-match-gpus');
  // Slots below 1 fail on their own (launch/no-slots, props/whole-numbers): no second message about GPUs.
  if (slots >= 1 && worker && gpus(worker) > 0 && gpus(worker) !== slots) slotMismatch(gpus(worker));
  const launcherGpusWhole = d.launcherGpus === undefined || Number.isInteger(d.launcherGpus);
  if (slots >= 1 && launcherGpusWhole && law && (gpus(launcher) > 0 || gpus(worker ?? launcher) > 0) && gpus(launcher) !== slots) slotMismatch(gpus(launcher));
  if (spec.sshAuthMountPath !== (d.root ? '/root/.ssh' : '/home/mpiuser/.ssh')) errors.add('launch/ssh-auth-mount-path');
  const flagged = command.includes('--allow-run-as-root');
  if (d.mpi === MpiImplementation.OPEN_MPI && d.root && !flagged) errors.add('launch/allow-run-as-root');
  if (d.mpi === MpiImplementation.OPEN_MPI && !d.root && flagged) warnings.add('launch/allow-run-as-root');
  for (const replica of [launcher, worker].filter(Boolean)) {
    if (replica.template.spec.securityContext.runAsUser !== (d.root ? 0 : 1000)) errors.add('launch/run-as-user');
  }

  // DeepSpeed.
  if (ds) {
    if (batchFails(ds.train_batch_size, ds.train_micro_batch_size_per_gpu, ds.gradient_accumulation_steps, world)) {
      errors.add('deepspeed/batch-size');
    }
    const fp16 = ds.fp16?.enabled === true;
    const bf16 = ds.bf16?.enabled === true;
    if (fp16 && bf16) errors.add('deepspeed/precision');
    const zero = ds.zero_optimization ?? {};
    const stage = zero.stage ?? 0;
    const param = zero.offload_param?.device;
    const optimizerDevice = zero.offload_optimizer?.device;
    if (param !== undefined && stage !== 3) errors.add('deepspeed/offload');
    if (optimizerDevice !== undefined && stage === 0) errors.add('deepspeed/offload');
    if (optimizerDevice === 'nvme' && (stage === 1 || stage === 2)) errors.add('deepspeed/offload');
    if ([zero.offload_param, zero.offload_optimizer].some(o => o?.device === 'nvme' && !o.nvme_path)) errors.add('deepspeed/offload');
    const type = ds.optimizer?.type;
    if (stage > 0 && type !== undefined && !['Adam', 'AdamW'].includes(type)) errors.add('deepspeed/zero-optimizer');
    if ((stage === 1 || stage === 2) && type === undefined) warnings.add('deepspeed/zero-optimizer');
    if (type === 'Lamb' && bf16) errors.add('deepspeed/optimizer');
    // Run time: fp16 needs a GPU on some pod that hosts ranks; NVMe offload (stage 3) a volume at its path.
    const rankGpus = (worker ? gpus(worker) : 0) + (law ? gpus(launcher) : 0);
    if (fp16 && rankGpus === 0) errors.add('runtime/precision-without-gpus');
    if (stage === 3 && [zero.offload_param, zero.offload_optimizer].some(o => o?.device === 'nvme' && o.nvme_path)) {
      errors.add('runtime/nvme-offload-path');
    }
  }

  // Scheduling.
  const minAvailable = spec.runPolicy.schedulingPolicy?.minAvailable;
  const pods = workers + 1;
  if (minAvailable !== undefined && (minAvailable < 1 || minAvailable > pods)) errors.add('scheduling/min-available');
  if (spec.launcherCreationPolicy === 'WaitForWorkersReady' && spec.runPolicy.schedulingPolicy && workers > 0
    && minAvailable !== workers && !(minAvailable > pods)) {
    errors.add('scheduling/gang-wait-for-workers');
  }
  return { errors, warnings };
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** The rule groups of synth-time validation, which the oracle models; feature rules are tested elsewhere. */
const GROUPS = ['operator', 'kubernetes', 'launch', 'deepspeed', 'scheduling'];
const inGroups = (rule: string) => GROUPS.includes(rule.split('/')[0]);

describe('random jobs: synth fails exactly when an independent check finds a broken rule', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  test('library findings equal the oracle\'s, and synth writes manifests only for valid jobs', () => {
    fc.assert(fc.property(drawArb, d => {
      const patches = patchesFrom(d);
      const outcome = synthToTempDir(jobPropsFrom(d), { mutate: job => job.apiObject.addJsonPatch(...patches) });
      const expected = oracle(d, outcome.job.apiObject.toJson(), outcome.job.deepspeedConfigJson);
      const findings = Validation.validateJob(outcome.job);
      const errors = findings.filter(f => f.severity === Severity.ERROR).map(f => f.rule);
      const warnings = findings.filter(f => f.severity === Severity.WARNING).map(f => f.rule).filter(inGroups);
      // These props touch no typed feature, so every error comes from the five groups.
      expect(sorted(errors)).toEqual(sorted(expected.errors));
      expect(sorted(warnings)).toEqual(sorted(expected.warnings));
      if (expected.errors.size === 0) {
        expect(outcome.errors).toEqual([]);
        expect(outcome.written).toEqual(['test.k8s.yaml']);
      } else {
        expect(outcome.errors.length).toBeGreaterThan(0);
        expect(outcome.written).toEqual([]);
      }
    }), { numRuns: 400 });
  });

  test('jobs drawn from the valid part of the space always synthesize', () => {
    const validArb = drawArb.map(d => ({
      ...d,
      name: undefined,
      replicas: Math.max(d.replicas, 1),
      gpus: d.config?.fp16 ? Math.max(d.gpus, 1) : d.gpus,
      slots: undefined,
      launcherGpus: undefined,
      cpuLimitMillis: undefined,
      backoffLimit: undefined,
      restartPolicy: undefined,
      cleanPodPolicy: undefined,
      launcherCreationPolicy: undefined,
      schedulingPolicy: undefined,
      config: d.config && { tb: undefined, mb: Math.max(d.config.mb ?? 1, 1), gas: undefined, fp16: d.config.fp16, bf16: false, stage: 0 },
    }));
    fc.assert(fc.property(validArb, d => {
      const outcome = synthToTempDir(jobPropsFrom(d));
      expect(outcome.errors).toEqual([]);
      expect(oracle(d, outcome.job.apiObject.toJson(), outcome.job.deepspeedConfigJson).errors).toEqual(new Set());
    }), { numRuns: 100 });
  });
});
