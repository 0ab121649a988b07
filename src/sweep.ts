import { createHash } from 'crypto';
import { ApiObject, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { DeepSpeedConfigRegistry } from './config-registry';
import { DeepSpeedConfig, DeepSpeedDataType, SchedulerType, ZeroStage } from './deepspeed-config';
import { _renderOnce } from './deepspeed-config-render';
import { IDeepSpeedJob } from './deepspeed-job';
import { DeepSpeedMpiJob, DeepSpeedMpiJobProps } from './job';
import { OPERATOR_NAME, OPERATOR_NAME_LABEL } from './operator-labels';
import { podResourceTotals } from './scheduling';
import { createPeerNetworkPolicy } from './security';
import { createSweepQueues, SweepParallelism } from './sweep-queue';
import { DeepSpeedTrainJob } from './train-job';
import { TrainerRuntime } from './trainer-runtime';
import { registerFindings } from './validation';
import { FindingsGroup } from './validation/findings-group';
import { isDns1123Subdomain } from './validation/kubernetes-syntax';

/** Label and annotation keys use this prefix unless the sweep sets its own. */
const DEFAULT_LABEL_PREFIX = 'deepspeed-sweep';
/** Hex digits of the point hash that ends every job name. */
const POINT_HASH_LENGTH = 10;
/** The operator's limit for `<name>-worker-<index>`, the last worker's hostname. */
const HOSTNAME_LIMIT = 63;
/** Worker index digits every job name leaves room for (up to 10,000 workers), whatever the sweep's points. */
const WORKER_INDEX_DIGITS = 4;
/** Axis names become label name parts: lowercase DNS labels, at most 63 characters. */
const AXIS_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** JobSet's limit on a TrainJob name: 63 minus `-launcher-0-0-<5 chars>`. */
const TRAINJOB_NAME_LIMIT = 44;
/** A sweep name: the start of every job name (a DNS-1035 label) and a label value. */
const SWEEP_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Label values are at most 63 characters. */
const LABEL_VALUE_LIMIT = 63;
/** Label keys the sweep itself sets under its prefix. */
const RESERVED_AXIS_NAMES = ['sweep', 'point'];
/** Schedulers whose peak learning rate is `warmup_max_lr`, overriding the optimizer's `lr`. */
const WARMUP_SCHEDULERS: string[] = [SchedulerType.WARMUP_LR, SchedulerType.WARMUP_DECAY_LR];

type PropsSetter = (props: DeepSpeedMpiJobProps, index: number) => DeepSpeedMpiJobProps;

/**
 * Applies one value of a custom sweep axis to a job's props.
 */
export interface ISweepAxisSetter {
  /**
   * Returns the props of a job with `value` applied. Return a new object; `props` is shared
   * by other points.
   */
  apply(props: DeepSpeedMpiJobProps, value: string): DeepSpeedMpiJobProps;
}

/**
 * One named dimension of a sweep: a list of values, each applied to the base job props
 * through a typed setter.
 */
export class SweepAxis {
  /**
   * The optimizer's learning rate (`optimizer.params.lr`). With a WarmupLR or WarmupDecayLR
   * scheduler the rate the job reaches is `warmup_max_lr`, so that is set to the same value.
   */
  public static learningRate(values: number[]): SweepAxis {
    return SweepAxis.typed('learning-rate', values, (props, lr) => withConfig(props, 'learning-rate', lr, config => {
      const scheduler = config.scheduler;
      const warmup = scheduler !== undefined && WARMUP_SCHEDULERS.includes(scheduler.kind ?? '');
      if (!config.optimizer && !warmup) {
        throw new SweepAxisError('baseJob.deepspeedConfig.optimizer', 'not set',
          'sets the optimizer\'s lr (and warmup_max_lr of a WarmupLR or WarmupDecayLR scheduler), and the base has neither an optimizer nor such a scheduler',
          'Set baseJob.deepspeedConfig.optimizer, e.g. { kind: OptimizerType.ADAMW }.');
      }
      return {
        ...config,
        optimizer: config.optimizer && { ...config.optimizer, lr },
        scheduler: warmup ? { ...scheduler, warmupMaxLr: lr } : scheduler,
      };
    }));
  }

  /** The ZeRO stage (`zero_optimization.stage`); other ZeRO settings of the base are kept. */
  public static zeroStage(values: ZeroStage[]): SweepAxis {
    return SweepAxis.typed('zero-stage', values, (props, stage) => withConfig(props, 'zero-stage', stage, config => ({
      ...config,
      zeroOptimization: { ...config.zeroOptimization, stage },
    })));
  }

  /**
   * The training precision: `fp16` or `bf16` enables that section (keeping the base's
   * settings for it) and drops the other; `fp32` drops both.
   */
  public static precision(values: DeepSpeedDataType[]): SweepAxis {
    return SweepAxis.typed('precision', values, (props, precision) => withConfig(props, 'precision', precision, config => ({
      ...config,
      fp16: precision === DeepSpeedDataType.FP16 ? { ...config.fp16, enabled: true } : undefined,
      bf16: precision === DeepSpeedDataType.BF16 ? { ...config.bf16, enabled: true } : undefined,
    })));
  }

  /**
   * The micro batch size per GPU (`train_micro_batch_size_per_gpu`). Leave `trainBatchSize`
   * out of the base so DeepSpeed derives it from the micro batch and the world size.
   */
  public static microBatchSize(values: number[]): SweepAxis {
    return SweepAxis.typed('micro-batch-size', values, (props, size) => withConfig(props, 'micro-batch-size', size, config => ({
      ...config,
      trainMicroBatchSizePerGpu: size,
    })));
  }

  /** Gradient accumulation steps (`gradient_accumulation_steps`). */
  public static gradientAccumulationSteps(values: number[]): SweepAxis {
    return SweepAxis.typed('gradient-accumulation-steps', values, (props, steps) => withConfig(props, 'gradient-accumulation-steps', steps, config => ({
      ...config,
      gradientAccumulationSteps: steps,
    })));
  }

  /** The number of worker pods (`workers.replicas`). */
  public static workers(values: number[]): SweepAxis {
    return SweepAxis.typed('workers', values, (props, replicas) => ({ ...props, workers: { ...props.workers, replicas } }));
  }

  /** GPUs per worker pod (`workers.gpusPerWorker`); slots follow unless the base sets them. */
  public static gpusPerWorker(values: number[]): SweepAxis {
    return SweepAxis.typed('gpus-per-worker', values, (props, gpus) => ({ ...props, workers: { ...props.workers, gpusPerWorker: gpus } }));
  }

  /**
   * An axis for anything else: each value is passed to `setter`.
   *
   * @param name lowercase letters, digits and '-' (a label name); not `sweep` or `point`
   * @param values the values, as they appear in labels, annotations and error messages
   * @param setter applies one value to the job props
   */
  public static custom(name: string, values: string[], setter: ISweepAxisSetter): SweepAxis {
    return SweepAxis.typed(name, values, (props, value) => setter.apply(props, value));
  }

  private static typed<T>(name: string, values: T[], set: (props: DeepSpeedMpiJobProps, value: T) => DeepSpeedMpiJobProps): SweepAxis {
    // Checked by the sweep, whose construct path and prop (`axes[i]`) the message then names.
    const shown = values.map(String);
    let problem: SweepAxisProblem | undefined;
    if (!AXIS_NAME.test(name) || RESERVED_AXIS_NAMES.includes(name)) {
      problem = {
        field: 'name',
        value: `'${name}'`,
        why: RESERVED_AXIS_NAMES.includes(name)
          ? `the sweep itself sets the label keys '<labelPrefix>/${RESERVED_AXIS_NAMES.join('\' and \'<labelPrefix>/')}', and the axis would overwrite one of them`
          : 'it becomes the name part of a label key (\'<labelPrefix>/<axis name>\') on every job and pod, and the API server rejects names that are not at most 63 lowercase letters, digits and \'-\', starting and ending with a letter or digit',
        fix: `Name the axis with lowercase letters, digits and '-', other than ${RESERVED_AXIS_NAMES.map(n => `'${n}'`).join(' and ')}, e.g. 'seed'.`,
      };
    } else if (shown.length === 0) {
      problem = { field: 'values', value: '[]', why: 'an axis without values makes a grid of no points, so the sweep would create no job', fix: 'Give the axis at least one value.' };
    } else {
      const repeated = shown.find((value, i) => shown.indexOf(value) !== i);
      if (repeated !== undefined) {
        problem = {
          field: 'values',
          value: JSON.stringify(shown),
          why: `'${repeated}' is listed twice, and both points would be the same job under the same name`,
          fix: `List '${repeated}' once.`,
        };
      }
    }
    return new SweepAxis(name, shown, (props, index) => set(props, values[index]), problem);
  }

  private constructor(
    /** Name of the axis: the label name part and the key in point values. */
    public readonly name: string,
    /** The values as they appear in labels, annotations and messages. */
    public readonly values: string[],
    private readonly setter: PropsSetter,
    private readonly problem?: SweepAxisProblem,
  ) {}

  /**
   * What is wrong with the axis itself, reported by the sweep that uses it.
   * @internal
   */
  public get _problem(): SweepAxisProblem | undefined {
    return this.problem;
  }

  /**
   * Returns `props` with the value at `index` applied.
   * @internal
   */
  public _apply(props: DeepSpeedMpiJobProps, index: number): DeepSpeedMpiJobProps {
    return this.setter(props, index);
  }
}

/**
 * The configs the built-in axes made while a sweep plans its points, by the config they changed
 * and the axis value: points with the same config values get one config object, which is
 * rendered, keyed and checked once however many jobs use it (see renderDeepSpeedConfig).
 */
let plannedConfigs: WeakMap<DeepSpeedConfig, Map<string, DeepSpeedConfig>> | undefined;

/** Applies a change to the base's DeepSpeed config, which a config axis cannot invent. */
function withConfig(props: DeepSpeedMpiJobProps, axis: string, value: unknown, change: (config: DeepSpeedConfig) => DeepSpeedConfig): DeepSpeedMpiJobProps {
  const config = props.deepspeedConfig;
  if (!config) {
    throw new SweepAxisError('baseJob.deepspeedConfig', 'not set', 'changes the DeepSpeed config of every job, and the base has none to change',
      'Set baseJob.deepspeedConfig, e.g. { trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.ADAMW } }.');
  }
  // The change is a function of the config and the value alone, so it can be made once.
  const key = `${axis}=${typeof value}:${String(value)}`;
  let byValue = plannedConfigs?.get(config);
  let changed = byValue?.get(key);
  if (changed === undefined) {
    changed = _renderOnce(change(config));
    if (plannedConfigs) {
      if (!byValue) plannedConfigs.set(config, byValue = new Map());
      byValue.set(key, changed);
    }
  }
  return { ...props, deepspeedConfig: changed };
}

/**
 * A mistake in an axis, in the parts of a message; the sweep adds its path and `axes[i]`.
 * @internal
 */
export interface SweepAxisProblem {
  readonly field: string;
  readonly value: string;
  readonly why: string;
  readonly fix: string;
}

/** A sweep prop error whose message already names the sweep's path. */
class SweepPropError extends Error {}

/** A mistake of the base job that a built-in axis cannot work around, reported once for the sweep. */
class SweepAxisError extends Error {
  public constructor(public readonly field: string, public readonly value: string, public readonly why: string, public readonly fix: string) {
    super(`${field} is ${value}: ${why}. ${fix}`);
  }
}

/**
 * A seeded random sample of grid points.
 */
export interface SweepSample {
  /** Number of distinct grid points to draw. */
  readonly count: number;
  /** Seed of the generator, an integer: the same seed, axes (in order) and count draw the same points. */
  readonly seed: number;
}

/**
 * One point of a sweep and the job made for it.
 */
export interface SweepPoint {
  /** Axis name to value, as listed on the axis. */
  readonly values: { [axis: string]: string };
  /** The job of this point: a DeepSpeedMpiJob, or a DeepSpeedTrainJob with `trainerRuntime`. */
  readonly job: IDeepSpeedJob;
}

/**
 * Properties of a DeepSpeed sweep.
 */
export interface DeepSpeedSweepProps {
  /**
   * Props every job starts from; each axis changes them for its value. The image, the
   * config registry, Kueue and other settings pass through to every job. `metadata.name`
   * must not be set: every job gets `<sweep name>-<point values>-<point hash>`, the values as
   * far as the name's length budget allows.
   */
  readonly baseJob: DeepSpeedMpiJobProps;

  /**
   * The axes; the sweep covers their cartesian product (the grid).
   * @default - no axes: one job with the base props
   */
  readonly axes?: SweepAxis[];

  /**
   * Draw this many grid points at random instead of taking the whole grid.
   * @default - every point of the grid
   */
  readonly sample?: SweepSample;

  /**
   * Name of the sweep: the start of every job name (shortened when the largest worker count
   * needs the room) and the value of the `<labelPrefix>/sweep` label.
   * @default - derived from the construct path
   */
  readonly name?: string;

  /**
   * Prefix (a DNS subdomain) of the label and annotation keys that carry the sweep name,
   * the point hash and each axis value.
   * @default 'deepspeed-sweep'
   */
  readonly labelPrefix?: string;

  /**
   * One NetworkPolicy for the whole sweep instead of one per job: the pods of all its jobs may
   * reach each other, pods outside the sweep may not. Applies when the base keeps its
   * NetworkPolicy (`security.networkPolicy`, default true).
   * @default true
   */
  readonly sharedNetworkPolicy?: boolean;

  /**
   * Run at most this many jobs at once through a Kueue ClusterQueue and LocalQueue the sweep
   * creates; every job is submitted to the LocalQueue and starts suspended. Needs Kueue with
   * the MPIJob integration, and rights to create ClusterQueues when the manifests are applied.
   * @default - no limit: every job is created at once (or queued by the base's own Kueue settings)
   */
  readonly parallelism?: SweepParallelism;

  /**
   * Run every point as a Kubeflow Trainer v2 TrainJob (`DeepSpeedTrainJob`) with this runtime
   * instead of an MPIJob; `TrainerRuntime.generated()` gives each job its own runtime. Job names
   * are then kept to 44 characters (JobSet's pod names).
   * @default - every point is a DeepSpeedMpiJob
   */
  readonly trainerRuntime?: TrainerRuntime;
}

/**
 * Many DeepSpeed MPIJobs from one definition: a base job and a grid of axes (or a seeded
 * random sample of it), one job per point. The jobs share the image and one ConfigMap per
 * distinct DeepSpeed config, carry their point as labels and annotations, and each goes
 * through the job validation with its axis values in the construct path.
 */
export class DeepSpeedSweep extends Construct {
  /** Name of the sweep, the `<labelPrefix>/sweep` label value. */
  public readonly name: string;
  /** Prefix of the sweep's label and annotation keys. */
  public readonly labelPrefix: string;
  /** The points in grid order, each with its job. */
  public readonly points: SweepPoint[];
  /** The registry the jobs take their DeepSpeed ConfigMaps from, unless the base brings its own. */
  public readonly configRegistry: DeepSpeedConfigRegistry;
  /** The sweep's NetworkPolicy, when the jobs share one. */
  public readonly networkPolicy?: ApiObject;
  /** The Kueue ClusterQueue that bounds how many jobs run at once, with `parallelism`. */
  public readonly clusterQueue?: ApiObject;
  /** The Kueue LocalQueue every job is submitted to, with `parallelism`. */
  public readonly localQueue?: ApiObject;

  public constructor(scope: Construct, id: string, props: DeepSpeedSweepProps) {
    super(scope, id);
    if (props.baseJob.metadata?.name !== undefined) {
      throw new Error(`${this.node.path}: baseJob.metadata.name is '${props.baseJob.metadata.name}': every job of a sweep is named <sweep name>-<point values>-<point hash>. Set the sweep's name instead.`);
    }
    const axes = props.axes ?? [];
    axes.forEach((axis, index) => {
      const problem = axis._problem;
      if (problem) {
        throw new Error(`${this.node.path}: axes[${index}] ${problem.field === 'name' ? 'name' : `'${axis.name}' ${problem.field}`} is ${problem.value}: ${problem.why}. ${problem.fix}`);
      }
    });
    const names = axes.map(a => a.name);
    const repeatedAt = names.findIndex((n, i) => names.indexOf(n) !== i);
    if (repeatedAt >= 0) {
      throw new Error(`${this.node.path}: axes[${repeatedAt}] name is '${names[repeatedAt]}': axes[${names.indexOf(names[repeatedAt])}] has the same name, `
        + 'and the points\' labels and job names could not tell the two apart. Merge their values into one axis.');
    }
    this.name = props.name ?? Names.toDnsLabel(this, { includeHash: false });
    if (props.name !== undefined && !(SWEEP_NAME.test(props.name) && props.name.length <= LABEL_VALUE_LIMIT)) {
      throw new Error(`${this.node.path}: name is '${props.name}': it starts every job name, which the MPI Operator requires to be a DNS-1035 label, `
        + `and is the value of the '<labelPrefix>/sweep' label on every job and pod, at most ${LABEL_VALUE_LIMIT} characters. `
        + 'Set name to lowercase letters, digits and \'-\', starting with a letter and ending with a letter or digit, e.g. \'lr-scan\', or remove it to derive it from the construct path.');
    }
    this.labelPrefix = props.labelPrefix ?? DEFAULT_LABEL_PREFIX;
    if (!isDns1123Subdomain(this.labelPrefix)) {
      // One message here instead of one per label on every job and pod.
      throw new Error(`${this.node.path}: labelPrefix is '${this.labelPrefix}': it prefixes the sweep's label keys ('${this.labelPrefix}/sweep', `
        + `'${this.labelPrefix}/point' and one per axis) on every job and pod, and the API server rejects label key prefixes that are not DNS subdomains `
        + '(at most 253 lowercase letters, digits, \'-\' and \'.\'). Set labelPrefix to a domain of your own, e.g. \'ml.example.com\', or remove it.');
    }
    this.configRegistry = new DeepSpeedConfigRegistry(this, 'DeepSpeedConfigs', { namePrefix: `${this.name}-ds` });
    const maxJobs = props.parallelism?.maxJobs;
    if (maxJobs !== undefined && !(Number.isInteger(maxJobs) && maxJobs >= 1)) {
      throw new Error(`${this.node.path}: parallelism.maxJobs is ${maxJobs}: it is how many jobs may run at once: the sweep's ClusterQueue gets a quota of maxJobs times the largest job, so below 1 Kueue admits no job and a fraction admits only the whole jobs it covers. Set parallelism.maxJobs to a whole number of 1 or more.`);
    }
    for (const [field, value, what] of [
      ['parallelism.resourceFlavor', props.parallelism?.resourceFlavor, 'the name of a Kueue ResourceFlavor'],
      ['parallelism.cohort', props.parallelism?.cohort, 'a Kueue cohort name'],
    ] as Array<[string, string | undefined, string]>) {
      if (value !== undefined && !isDns1123Subdomain(value)) {
        throw new Error(`${this.node.path}: ${field} is '${value}': it is ${what}, which the ClusterQueue schema requires to be a DNS subdomain `
          + '(at most 253 lowercase letters, digits, \'-\' and \'.\', starting and ending with a letter or digit), so the API server rejects the sweep\'s ClusterQueue. '
          + `Use the name as it exists in the cluster${field.endsWith('resourceFlavor') ? ' (kubectl get resourceflavors)' : ''}.`);
      }
    }
    if (props.parallelism && props.baseJob.scheduling?.kueue) {
      throw new Error(`${this.node.path}: parallelism is set and baseJob.scheduling.kueue names queue '${props.baseJob.scheduling.kueue.queueName}': `
        + 'parallelism submits every job to a queue of its own. Remove one of them.');
    }
    const namespace = props.baseJob.metadata?.namespace;
    const sharePolicy = (props.sharedNetworkPolicy ?? true) && (props.baseJob.security?.networkPolicy ?? true);
    const sweepPodLabel = `${this.labelPrefix}/sweep`;

    plannedConfigs = new WeakMap();
    let planned: Array<{ id: string; values: { [axis: string]: string }; jobProps: DeepSpeedMpiJobProps }>;
    try {
      planned = selectPoints(this.node.path, axes, props.sample).map(indices => {
        const values: { [axis: string]: string } = {};
        axes.forEach((axis, a) => values[axis.name] = axis.values[indices[a]]);
        const id = pointId(values);
        const jobProps = this.atPoint(id, () => axes.reduce((p, axis, a) => this.applyAxis(axis, a, p, indices[a]), props.baseJob));
        return { id, values, jobProps };
      });
    } finally {
      plannedConfigs = undefined;
    }

    // One length budget for all jobs: what the operator's `<name>-worker-<index>` hostname leaves
    // for worker indexes of up to 4 digits (more if a point needs them), so that adding points keeps
    // every name; or JobSet's limit on a TrainJob name (its pods are `<name>-launcher-0-0-<5 chars>`).
    const maxWorkers = planned.reduce((max, p) => Math.max(max, p.jobProps.workers.replicas), 1);
    const room = props.trainerRuntime
      ? TRAINJOB_NAME_LIMIT
      : HOSTNAME_LIMIT - '-worker-'.length - Math.max(WORKER_INDEX_DIGITS, String(maxWorkers - 1).length);

    const taken = new Set<string>();
    this.points = planned.map(({ id, values, jobProps }) => {
      const hash = pointHash(this.name, values);
      const name = pointJobName(this.name, values, hash, room);
      if (taken.has(name)) {
        throw new Error(`${this.node.path}/${id}: job name '${name}' is already used by another point (a hash collision). Rename the sweep.`);
      }
      taken.add(name);
      const jobClass = (pointProps: DeepSpeedMpiJobProps): IDeepSpeedJob => props.trainerRuntime
        ? new DeepSpeedTrainJob(this, id, { ...pointProps, runtime: props.trainerRuntime })
        : new DeepSpeedMpiJob(this, id, pointProps);
      const job = this.atPoint(id, () => jobClass({
        ...jobProps,
        configRegistry: jobProps.configRegistry ?? this.configRegistry,
        // The shared policy carries the base's egress rules for every job.
        security: sharePolicy ? { ...jobProps.security, networkPolicy: false, egress: undefined } : jobProps.security,
        scheduling: props.parallelism ? { ...jobProps.scheduling, kueue: { queueName: this.name } } : jobProps.scheduling,
        metadata: {
          ...jobProps.metadata,
          name,
          labels: { ...jobProps.metadata?.labels, ...this.pointLabels(hash, values) },
          annotations: { ...jobProps.metadata?.annotations, ...this.pointAnnotations(values) },
        },
      }));
      if (sharePolicy) {
        job.launcher.addPodLabel(sweepPodLabel, this.name);
        job.workers.addPodLabel(sweepPodLabel, this.name);
      }
      return { values, job };
    });

    // A mistake in the base shows in every job: reported once, here, naming the base's prop
    // (when no axis changes it: the prop's value is the base's in every point).
    const fromBase = (field: string): boolean => {
      const path = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(field)?.[0].split('.');
      if (!path || !(path[0] in props.baseJob)) return false;
      const at = (value: any) => path.reduce((node, key) => (node !== null && typeof node === 'object' ? node[key] : undefined), value);
      const base = at(props.baseJob);
      return planned.every(p => at(p.jobProps) === base);
    };
    const group = new FindingsGroup(this, text => (fromBase(text) ? `baseJob.${text}` : text));
    this.points.forEach(point => group.add(point.job));
    registerFindings(this, () => group.findings());

    if (sharePolicy) {
      // TrainJob pods carry only JobSet labels and the pod labels the runtime gives them.
      this.networkPolicy = createPeerNetworkPolicy(this, this.name, namespace, props.trainerRuntime
        ? { [sweepPodLabel]: this.name }
        : { [OPERATOR_NAME_LABEL]: OPERATOR_NAME, [sweepPodLabel]: this.name }, props.baseJob.security?.egress);
    }
    if (props.parallelism) {
      const queues = createSweepQueues(this, this.name, namespace, this.largestJobTimes(props.parallelism.maxJobs), props.parallelism);
      this.clusterQueue = queues.clusterQueue;
      this.localQueue = queues.localQueue;
    }
  }

  /** The jobs, one per point, in grid order. */
  public get jobs(): IDeepSpeedJob[] {
    return this.points.map(p => p.job);
  }

  /** A label selector for all jobs of this sweep, e.g. for `kubectl get mpijobs -l`. */
  public get selector(): string {
    return `${this.labelPrefix}/sweep=${this.name}`;
  }

  /** `count` times, per resource, the most any one job of the sweep asks for (all its pods). */
  private largestJobTimes(count: number): Map<string, number> {
    const quota = new Map<string, number>();
    for (const job of this.jobs) {
      for (const [name, amount] of podResourceTotals([[job.launcher, 1], [job.workers, job.workers.replicas]])) {
        quota.set(name, Math.max(quota.get(name) ?? 0, amount * count));
      }
    }
    return quota;
  }

  /** Applies one axis; a base the axis cannot change is the sweep's mistake, reported with the axis. */
  private applyAxis(axis: SweepAxis, index: number, props: DeepSpeedMpiJobProps, valueIndex: number): DeepSpeedMpiJobProps {
    try {
      return axis._apply(props, valueIndex);
    } catch (e) {
      if (!(e instanceof SweepAxisError)) throw e;
      throw new SweepPropError(`${this.node.path}: ${e.field} is ${e.value}: axes[${index}] '${axis.name}' ${e.why}. ${e.fix}`);
    }
  }

  /** Runs `build` for one point; an error names the point's path (and thus its values). */
  private atPoint<T>(id: string, build: () => T): T {
    try {
      return build();
    } catch (e) {
      if (e instanceof SweepPropError) throw e;
      throw new Error(`${this.node.path}/${id}: ${(e as Error).message}`);
    }
  }

  private pointLabels(hash: string, values: { [axis: string]: string }): { [key: string]: string } {
    const labels: { [key: string]: string } = {
      [`${this.labelPrefix}/sweep`]: this.name,
      [`${this.labelPrefix}/point`]: hash,
    };
    for (const [axis, value] of Object.entries(values)) {
      labels[`${this.labelPrefix}/${axis}`] = toLabelValue(value);
    }
    return labels;
  }

  private pointAnnotations(values: { [axis: string]: string }): { [key: string]: string } {
    const annotations: { [key: string]: string } = {};
    for (const [axis, value] of Object.entries(values)) {
      annotations[`${this.labelPrefix}/${axis}`] = value;
    }
    return annotations;
  }
}

/**
 * The construct id of a point: its values, readable in paths and error messages. Path
 * separators become '--', as the constructs library would do, so messages show the real path.
 */
function pointId(values: { [axis: string]: string }): string {
  const pairs = Object.entries(values).map(([axis, value]) => `${axis}=${value.replace(/[/\n]/g, '--')}`);
  return pairs.length > 0 ? pairs.join(',') : 'base';
}

/**
 * A hash of the sweep name and the point's values in axis-name order: the same point keeps
 * its job name when axes are reordered or values are added elsewhere.
 */
/**
 * A job's name: the sweep name, the point's values in axis-name order (as DNS label characters)
 * as far as they fit in `room`, then the point hash, which keeps names unique when values are
 * shortened or spell alike. `lr-scan-0-0003-2-<hash>` is the point learning-rate=0.0003, zero-stage=2.
 */
function pointJobName(sweepName: string, values: { [axis: string]: string }, hash: string, room: number): string {
  const available = room - 1 - POINT_HASH_LENGTH;
  const prefix = sweepName.slice(0, Math.max(1, available)).replace(/-+$/, '');
  const readable = Object.keys(values).sort()
    .map(axis => values[axis].toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter(part => part !== '')
    .join('-');
  const shown = readable.slice(0, Math.max(0, available - prefix.length - 1)).replace(/-+$/, '');
  return [prefix, shown, hash].filter(part => part !== '').join('-');
}

function pointHash(sweepName: string, values: { [axis: string]: string }): string {
  const canonical = Object.keys(values).sort().map(axis => `${axis}=${values[axis]}`);
  return createHash('sha256').update([sweepName, ...canonical].join('\n')).digest('hex').slice(0, POINT_HASH_LENGTH);
}

/**
 * A Kubernetes label value for an axis value: characters other than letters, digits, '-',
 * '_' and '.' become '_', it starts and ends with a letter or digit, at most 63 characters.
 * The annotation keeps the exact value.
 */
function toLabelValue(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** Per point, the index of its value on each axis: the whole grid, or a seeded sample. */
function selectPoints(path: string, axes: SweepAxis[], sample?: SweepSample): number[][] {
  const sizes = axes.map(a => a.values.length);
  const gridSize = sizes.reduce((n, size) => n * size, 1);
  const toIndices = (point: number): number[] => {
    const indices = new Array<number>(sizes.length);
    for (let a = sizes.length - 1; a >= 0; a--) {
      indices[a] = point % sizes[a];
      point = Math.floor(point / sizes[a]);
    }
    return indices;
  };
  if (!sample) {
    return Array.from({ length: gridSize }, (_, point) => toIndices(point));
  }
  if (!Number.isInteger(sample.count) || sample.count < 1 || sample.count > gridSize) {
    throw new Error(`${path}: sample.count is ${sample.count}: a sample draws a whole number of distinct points from the grid of ${gridSize}. Set sample.count to a whole number from 1 to ${gridSize}.`);
  }
  if (!Number.isSafeInteger(gridSize)) {
    throw new Error(`${path}: axes make a grid of ${gridSize} points, too many to sample from exactly. Use fewer axis values.`);
  }
  if (!Number.isInteger(sample.seed)) {
    throw new Error(`${path}: sample.seed is ${sample.seed}: the generator takes a whole-number seed. Set sample.seed to an integer.`);
  }
  return drawDistinct(gridSize, sample.count, sample.seed).map(toIndices);
}

/**
 * `count` distinct integers below `size`, in ascending order, by Floyd's sampling: one draw
 * per point, so the work does not depend on the size of the grid.
 */
function drawDistinct(size: number, count: number, seed: number): number[] {
  const random = seededRandom(seed);
  const chosen = new Set<number>();
  for (let j = size - count; j < size; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * A seeded generator of uniform numbers in [0, 1) with 53 random bits: xorshift32
 * (Marsaglia, 2003) on a state scrambled from the seed, two outputs per number.
 */
function seededRandom(seed: number): () => number {
  // Scramble so that small, nearby seeds start far apart; the state must not be zero.
  let state = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35;
  if (state === 0) state = 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}
