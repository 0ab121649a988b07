/**
 * Renders the typed DeepSpeed configuration (deepspeed-config.ts) to DeepSpeed's own
 * snake_case `ds_config.json`, and the file text the ConfigMap holds.
 */
import {
  DeepSpeedConfig, DeepSpeedOptimizerConfig, DeepSpeedSchedulerConfig, MonitorConfig, OffloadOptimizerConfig, OffloadParamConfig, ZeroOptimizationConfig,
} from './deepspeed-config';

/** Directory where the DeepSpeed config ConfigMap is mounted on the launcher and the workers. */
export const DEEPSPEED_CONFIG_DIR = '/etc/deepspeed';
/** File name of the DeepSpeed config inside DEEPSPEED_CONFIG_DIR. */
export const DEEPSPEED_CONFIG_FILE_NAME = 'ds_config.json';

type Json = { [key: string]: any };

/** Builds an object from [key, value] pairs, leaving out undefined values and empty objects. */
function obj(entries: Array<[string, any]>): Json | undefined {
  const out: Json = {};
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    if (isPlainObject(value) && Object.keys(value).length === 0) continue;
    out[key] = value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge where `override` wins; arrays are replaced, not concatenated. */
export function deepMerge(base: Json, override: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key], value) : value;
  }
  return out;
}

function renderOptimizer(o: DeepSpeedOptimizerConfig | undefined): Json | undefined {
  if (!o) return undefined;
  const params = obj([
    ['lr', o.lr],
    ['betas', o.betas],
    ['eps', o.eps],
    ['weight_decay', o.weightDecay],
    ['torch_adam', o.torchAdam],
    ['adam_w_mode', o.adamWMode],
  ]);
  return obj([
    ['type', o.kind ?? o.torchOptimizer],
    ['params', deepMerge(params ?? {}, o.extraParams ?? {})],
  ]);
}

function renderScheduler(s: DeepSpeedSchedulerConfig | undefined): Json | undefined {
  if (!s) return undefined;
  const params = obj([
    ['warmup_min_lr', s.warmupMinLr],
    ['warmup_max_lr', s.warmupMaxLr],
    ['warmup_num_steps', s.warmupNumSteps],
    ['warmup_type', s.warmupType],
    ['total_num_steps', s.totalNumSteps],
    ['warmup_min_ratio', s.warmupMinRatio],
    ['cos_min_ratio', s.cosMinRatio],
    ['cycle_min_lr', s.cycleMinLr],
    ['cycle_max_lr', s.cycleMaxLr],
    ['cycle_first_step_size', s.cycleFirstStepSize],
    ['cycle_second_step_size', s.cycleSecondStepSize],
    ['decay_lr_rate', s.decayLrRate],
    ['decay_step_size', s.decayStepSize],
    ['cycle_momentum', s.cycleMomentum],
    ['cycle_min_mom', s.cycleMinMom],
    ['cycle_max_mom', s.cycleMaxMom],
    ['lr_range_test_min_lr', s.lrRangeTestMinLr],
    ['lr_range_test_step_size', s.lrRangeTestStepSize],
    ['lr_range_test_step_rate', s.lrRangeTestStepRate],
    ['lr_range_test_staircase', s.lrRangeTestStaircase],
  ]);
  return obj([
    ['type', s.kind ?? s.torchScheduler],
    ['params', deepMerge(params ?? {}, s.extraParams ?? {})],
  ]);
}

function renderOffload(o: OffloadOptimizerConfig | OffloadParamConfig | undefined): Json | undefined {
  if (!o) return undefined;
  const optimizer = o as OffloadOptimizerConfig;
  const param = o as OffloadParamConfig;
  return obj([
    ['device', o.device],
    ['nvme_path', o.nvmePath],
    ['pin_memory', o.pinMemory],
    ['buffer_count', o.bufferCount],
    ['buffer_size', param.bufferSize],
    ['max_in_cpu', param.maxInCpu],
    ['pipeline_read', optimizer.pipelineRead],
    ['pipeline_write', optimizer.pipelineWrite],
    ['fast_init', optimizer.fastInit],
    ['ratio', optimizer.ratio],
  ]);
}

function renderZero(z: ZeroOptimizationConfig | undefined): Json | undefined {
  if (!z) return undefined;
  return obj([
    ['stage', z.stage],
    ['contiguous_gradients', z.contiguousGradients],
    ['reduce_scatter', z.reduceScatter],
    ['reduce_bucket_size', z.reduceBucketSize],
    ['allgather_partitions', z.allgatherPartitions],
    ['allgather_bucket_size', z.allgatherBucketSize],
    ['overlap_comm', z.overlapComm],
    ['load_from_fp32_weights', z.loadFromFp32Weights],
    ['round_robin_gradients', z.roundRobinGradients],
    ['ignore_unused_parameters', z.ignoreUnusedParameters],
    ['offload_optimizer', renderOffload(z.offloadOptimizer)],
    ['offload_param', renderOffload(z.offloadParam)],
    ['sub_group_size', z.subGroupSize],
    ['stage3_prefetch_bucket_size', z.stage3PrefetchBucketSize],
    ['stage3_param_persistence_threshold', z.stage3ParamPersistenceThreshold],
    ['stage3_max_live_parameters', z.stage3MaxLiveParameters],
    ['stage3_max_reuse_distance', z.stage3MaxReuseDistance],
    ['stage3_gather_16bit_weights_on_model_save', z.stage3Gather16bitWeightsOnModelSave],
    ['zero_hpz_partition_size', z.zeroHpzPartitionSize],
    ['zero_quantized_weights', z.zeroQuantizedWeights],
    ['zero_quantized_gradients', z.zeroQuantizedGradients],
  ]);
}

function renderMonitor(m: MonitorConfig | undefined): Json | undefined {
  return m && obj([['enabled', m.enabled], ['output_path', m.outputPath], ['job_name', m.jobName]]);
}

/** Configs the library made and never changes (a sweep's points), with their render once made. */
const renderedOnce = new WeakMap<DeepSpeedConfig, { [key: string]: any } | undefined>();
/** The renders of those: shared by every job of the config, so their identity stands for their content. */
const sharedRenders = new WeakSet<object>();

/**
 * Marks a config the library made and never changes (a sweep point's), so that it is rendered
 * once however many jobs use it.
 * @internal
 */
export function _renderOnce<T extends DeepSpeedConfig>(config: T): T {
  if (!renderedOnce.has(config)) renderedOnce.set(config, undefined);
  return config;
}

/**
 * Whether a rendered config is the one render of a config the library made, which the jobs of
 * a sweep share: equal identity means equal content, so lookups can skip writing it out.
 * @internal
 */
export function _isSharedRender(config: object | undefined): boolean {
  return config !== undefined && sharedRenders.has(config);
}

/**
 * Renders a typed DeepSpeed configuration to the JSON object DeepSpeed reads
 * (`ds_config.json`), with DeepSpeed's key names; `raw` is merged last.
 */
export function renderDeepSpeedConfig(config: DeepSpeedConfig): { [key: string]: any } {
  if (!renderedOnce.has(config)) return renderFresh(config);
  let rendered = renderedOnce.get(config);
  if (rendered === undefined) {
    rendered = renderFresh(config);
    renderedOnce.set(config, rendered);
    sharedRenders.add(rendered);
  }
  return rendered;
}

function renderFresh(config: DeepSpeedConfig): { [key: string]: any } {
  const typed = obj([
    ['train_batch_size', config.trainBatchSize],
    ['train_micro_batch_size_per_gpu', config.trainMicroBatchSizePerGpu],
    ['gradient_accumulation_steps', config.gradientAccumulationSteps],
    ['steps_per_print', config.stepsPerPrint],
    ['wall_clock_breakdown', config.wallClockBreakdown],
    ['memory_breakdown', config.memoryBreakdown],
    ['gradient_clipping', config.gradientClipping],
    ['prescale_gradients', config.prescaleGradients],
    ['gradient_predivide_factor', config.gradientPredivideFactor],
    ['communication_data_type', config.communicationDataType],
    ['data_types', obj([['grad_accum_dtype', config.gradAccumDataType]])],
    ['sparse_gradients', config.sparseGradients],
    ['zero_allow_untested_optimizer', config.zeroAllowUntestedOptimizer],
    ['zero_force_ds_cpu_optimizer', config.zeroForceDsCpuOptimizer],
    ['dataloader_drop_last', config.dataloaderDropLast],
    ['optimizer', renderOptimizer(config.optimizer)],
    ['scheduler', renderScheduler(config.scheduler)],
    ['fp16', config.fp16 && obj([
      ['enabled', config.fp16.enabled],
      ['auto_cast', config.fp16.autoCast],
      ['loss_scale', config.fp16.lossScale],
      ['initial_scale_power', config.fp16.initialScalePower],
      ['loss_scale_window', config.fp16.lossScaleWindow],
      ['hysteresis', config.fp16.hysteresis],
      ['consecutive_hysteresis', config.fp16.consecutiveHysteresis],
      ['min_loss_scale', config.fp16.minLossScale],
      ['fp16_master_weights_and_grads', config.fp16.fp16MasterWeightsAndGrads],
    ])],
    ['bf16', config.bf16 && obj([
      ['enabled', config.bf16.enabled],
      ['immediate_grad_update', config.bf16.immediateGradUpdate],
    ])],
    ['zero_optimization', renderZero(config.zeroOptimization)],
    ['activation_checkpointing', config.activationCheckpointing && obj([
      ['partition_activations', config.activationCheckpointing.partitionActivations],
      ['cpu_checkpointing', config.activationCheckpointing.cpuCheckpointing],
      ['contiguous_memory_optimization', config.activationCheckpointing.contiguousMemoryOptimization],
      ['number_checkpoints', config.activationCheckpointing.numberCheckpoints],
      ['synchronize_checkpoint_boundary', config.activationCheckpointing.synchronizeCheckpointBoundary],
      ['profile', config.activationCheckpointing.profile],
    ])],
    ['flops_profiler', config.flopsProfiler && obj([
      ['enabled', config.flopsProfiler.enabled],
      ['profile_step', config.flopsProfiler.profileStep],
      ['module_depth', config.flopsProfiler.moduleDepth],
      ['top_modules', config.flopsProfiler.topModules],
      ['detailed', config.flopsProfiler.detailed],
      ['output_file', config.flopsProfiler.outputFile],
    ])],
    ['tensorboard', renderMonitor(config.tensorboard)],
    ['csv_monitor', renderMonitor(config.csvMonitor)],
    ['wandb', config.wandb && obj([
      ['enabled', config.wandb.enabled],
      ['group', config.wandb.group],
      ['team', config.wandb.team],
      ['project', config.wandb.project],
    ])],
    ['checkpoint', config.checkpoint && obj([
      ['tag_validation', config.checkpoint.tagValidation],
      ['load_universal', config.checkpoint.loadUniversal],
      ['use_node_local_storage', config.checkpoint.useNodeLocalStorage],
    ])],
  ]) ?? {};
  return deepMerge(typed, config.raw ?? {});
}

/**
 * The text of `ds_config.json` for a rendered configuration: what the ConfigMap holds and
 * what decides whether two jobs can share one.
 */
export function renderDeepSpeedConfigFile(config: { [key: string]: any }): string {
  return JSON.stringify(config, null, 2) + '\n';
}
