/**
 * The keys DeepSpeed reads from `ds_config.json` (DeepSpeed 0.16, runtime/config.py and the
 * pydantic models it builds sections with), and a closest-key finder for typos.
 */

/**
 * Top-level keys DeepSpeed reads with `dict.get`. It ignores every other key silently,
 * so a typo loses the setting.
 */
export const TOP_LEVEL_KEYS = [
  'train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps', 'steps_per_print',
  'wall_clock_breakdown', 'memory_breakdown', 'dump_state', 'gradient_clipping', 'prescale_gradients',
  'gradient_predivide_factor', 'communication_data_type', 'seq_parallel_communication_data_type',
  'sparse_gradients', 'disable_allgather', 'zero_allow_untested_optimizer', 'zero_force_ds_cpu_optimizer',
  'dataloader_drop_last', 'vocabulary_size', 'data_types', 'amp', 'torch_autocast', 'optimizer', 'scheduler',
  'fp16', 'bf16', 'bfloat16', 'zero_optimization', 'aio', 'activation_checkpointing', 'flops_profiler',
  'tensorboard', 'wandb', 'csv_monitor', 'comet', 'comms_logger', 'checkpoint', 'elasticity', 'autotuning',
  'hybrid_engine', 'sparse_attention', 'pipeline', 'progressive_layer_drop', 'curriculum_learning',
  'data_efficiency', 'compression_training', 'quantize_training', 'weight_quantization', 'nebula', 'compile',
  'timers', 'tensor_parallel', 'graph_harvesting', 'use_data_before_expert_parallel_', 'sequence_parallel_size',
];

/** `zero_optimization` keys (pydantic, unknown keys rejected); field names and their stage3_ aliases. */
const ZERO_KEYS = [
  'stage', 'contiguous_gradients', 'reduce_scatter', 'reduce_bucket_size', 'use_multi_rank_bucket_allreduce',
  'allgather_partitions', 'allgather_bucket_size', 'overlap_comm', 'load_from_fp32_weights', 'elastic_checkpoint',
  'offload_param', 'offload_optimizer', 'sub_group_size', 'ignore_unused_parameters', 'legacy_stage1',
  'round_robin_gradients', 'zero_hpz_partition_size', 'zero_quantized_weights', 'zero_quantized_nontrainable_weights',
  'zero_quantized_gradients', 'zeropp_loco_param', 'mics_shard_size', 'mics_hierarchical_params_gather',
  'memory_efficient_linear', 'pipeline_loading_checkpoint', 'override_module_apply', 'log_trace_cache_warnings',
  ...['prefetch_bucket_size', 'param_persistence_threshold', 'model_persistence_threshold', 'max_live_parameters',
    'max_reuse_distance', 'gather_16bit_weights_on_model_save', 'module_granularity_threshold',
    'use_all_reduce_for_fetch_params'].flatMap(field => [field, `stage3_${field}`]),
  // Deprecated, still accepted with a warning.
  'cpu_offload', 'cpu_offload_param', 'cpu_offload_use_pin_memory', 'stage3_gather_fp16_weights_on_model_save',
];

const MONITOR_KEYS = ['enabled', 'output_path', 'job_name'];

/** Sections DeepSpeed builds with pydantic models that forbid extra keys, by dotted path. */
export const STRICT_SECTIONS: { [section: string]: string[] } = {
  'zero_optimization': ZERO_KEYS,
  'zero_optimization.offload_param': ['device', 'nvme_path', 'buffer_count', 'buffer_size', 'max_in_cpu', 'pin_memory'],
  'zero_optimization.offload_optimizer': [
    'device', 'nvme_path', 'buffer_count', 'pin_memory', 'pipeline_read', 'pipeline_write', 'fast_init', 'ratio',
  ],
  'tensorboard': MONITOR_KEYS,
  'csv_monitor': MONITOR_KEYS,
  'wandb': ['enabled', 'group', 'team', 'project'],
  'comet': [
    'enabled', 'samples_log_interval', 'project', 'workspace', 'api_key', 'experiment_name', 'experiment_key',
    'online', 'mode',
  ],
  'comms_logger': ['enabled', 'prof_all', 'prof_ops', 'verbose', 'debug'],
};

/** Deprecated `zero_optimization` keys and the keys that replace them. */
export const DEPRECATED_ZERO_KEYS: Array<[string, string[]]> = [
  ['cpu_offload', ['offload_optimizer']],
  ['cpu_offload_param', ['offload_param']],
  ['stage3_gather_fp16_weights_on_model_save', ['stage3_gather_16bit_weights_on_model_save', 'gather_16bit_weights_on_model_save']],
];

/** Optimizers DeepSpeed implements, matched case-insensitively. */
export const DEEPSPEED_OPTIMIZERS = [
  'Adam', 'AdamW', 'Lamb', 'OneBitAdam', 'ZeroOneAdam', 'OneBitLamb', 'Adagrad', 'Lion', 'MuAdam', 'MuAdamW', 'MuSGD',
];

/** `torch.optim` classes, matched case-sensitively. */
export const TORCH_OPTIMIZERS = [
  'Adadelta', 'Adafactor', 'Adagrad', 'Adam', 'AdamW', 'Adamax', 'ASGD', 'LBFGS', 'NAdam', 'RAdam', 'RMSprop', 'Rprop',
  'SGD', 'SparseAdam',
];

/** Schedulers DeepSpeed implements, matched case-sensitively, with their required params. */
export const DEEPSPEED_SCHEDULERS: { [type: string]: string[] } = {
  LRRangeTest: [],
  OneCycle: ['cycle_min_lr', 'cycle_max_lr'],
  WarmupLR: [],
  WarmupDecayLR: ['total_num_steps'],
  WarmupCosineLR: ['total_num_steps'],
};

const WARMUP_PARAMS = ['warmup_min_lr', 'warmup_max_lr', 'warmup_num_steps', 'warmup_type', 'last_batch_iteration'];

/** The keyword arguments each DeepSpeed scheduler's constructor takes (deepspeed/runtime/lr_schedules.py). */
export const DEEPSPEED_SCHEDULER_PARAMS: { [type: string]: string[] } = {
  LRRangeTest: ['lr_range_test_min_lr', 'lr_range_test_step_size', 'lr_range_test_step_rate', 'lr_range_test_staircase', 'last_batch_iteration'],
  OneCycle: [
    'cycle_min_lr', 'cycle_max_lr', 'decay_lr_rate', 'cycle_first_step_size', 'cycle_second_step_size', 'cycle_first_stair_count',
    'cycle_second_stair_count', 'decay_step_size', 'cycle_momentum', 'cycle_min_mom', 'cycle_max_mom', 'decay_mom_rate',
    'last_batch_iteration',
  ],
  WarmupLR: WARMUP_PARAMS,
  WarmupDecayLR: ['total_num_steps', ...WARMUP_PARAMS],
  WarmupCosineLR: ['total_num_steps', 'warmup_min_ratio', 'warmup_num_steps', 'cos_min_ratio', 'warmup_type', 'last_batch_iteration'],
};

/** The typed `DeepSpeedSchedulerConfig` prop of each scheduler parameter. */
export const SCHEDULER_PARAM_PROPS: { [param: string]: string } = {
  warmup_min_lr: 'warmupMinLr', warmup_max_lr: 'warmupMaxLr', warmup_num_steps: 'warmupNumSteps', warmup_type: 'warmupType',
  total_num_steps: 'totalNumSteps', warmup_min_ratio: 'warmupMinRatio', cos_min_ratio: 'cosMinRatio', cycle_min_lr: 'cycleMinLr',
  cycle_max_lr: 'cycleMaxLr', cycle_first_step_size: 'cycleFirstStepSize', cycle_second_step_size: 'cycleSecondStepSize',
  decay_lr_rate: 'decayLrRate', decay_step_size: 'decayStepSize', cycle_momentum: 'cycleMomentum', cycle_min_mom: 'cycleMinMom',
  cycle_max_mom: 'cycleMaxMom', lr_range_test_min_lr: 'lrRangeTestMinLr', lr_range_test_step_size: 'lrRangeTestStepSize',
  lr_range_test_step_rate: 'lrRangeTestStepRate', lr_range_test_staircase: 'lrRangeTestStaircase',
};

/** `torch.optim.lr_scheduler` classes, matched case-sensitively. */
export const TORCH_SCHEDULERS = [
  'LambdaLR', 'MultiplicativeLR', 'StepLR', 'MultiStepLR', 'ConstantLR', 'LinearLR', 'ExponentialLR', 'SequentialLR',
  'CosineAnnealingLR', 'ChainedScheduler', 'ReduceLROnPlateau', 'CyclicLR', 'CosineAnnealingWarmRestarts',
  'OneCycleLR', 'PolynomialLR',
];

/** Edit distance (insertions, deletions, substitutions) between two strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known key closest to `key` (case-insensitive), if it is close enough to be a typo:
 * within 2 edits, or a third of the key's length for long keys.
 */
export function closestKey(key: string, known: string[]): string | undefined {
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
