/**
 * Typed DeepSpeed configuration (the `ds_config.json` file), rendered to DeepSpeed's own
 * snake_case keys by `renderDeepSpeedConfig` (deepspeed-config-render.ts). Keys mirror docs/config-json of DeepSpeed;
 * defaults noted here are DeepSpeed's code defaults, which apply when a field is omitted.
 */

/** ZeRO optimization stage. */
export enum ZeroStage {
  /** ZeRO disabled. */
  STAGE_0 = 0,
  /** Partition optimizer states. */
  STAGE_1 = 1,
  /** Partition optimizer states and gradients. */
  STAGE_2 = 2,
  /** Partition optimizer states, gradients and parameters. */
  STAGE_3 = 3,
}

/** Where ZeRO offloads optimizer states or parameters. */
export enum OffloadDevice {
  /** No offload. */
  NONE = 'none',
  /** Host memory. */
  CPU = 'cpu',
  /** NVMe storage at `nvmePath` (ZeRO stage 3; needs libaio in the image). */
  NVME = 'nvme',
}

/** Floating-point data types DeepSpeed accepts for communication and accumulation. */
export enum DeepSpeedDataType {
  /** IEEE half precision. */
  FP16 = 'fp16',
  /** bfloat16. */
  BF16 = 'bf16',
  /** single precision. */
  FP32 = 'fp32',
}

/** Optimizers DeepSpeed implements itself (matched case-insensitively by DeepSpeed). */
export enum OptimizerType {
  /** Adam (DeepSpeed FusedAdam on GPU, DeepSpeedCPUAdam with offload). */
  ADAM = 'Adam',
  /** AdamW. */
  ADAMW = 'AdamW',
  /** LAMB; needs dynamic loss scaling. */
  LAMB = 'Lamb',
  /** 1-bit Adam; not compatible with ZeRO. */
  ONE_BIT_ADAM = 'OneBitAdam',
  /** 0/1 Adam; not compatible with ZeRO. */
  ZERO_ONE_ADAM = 'ZeroOneAdam',
  /** 1-bit LAMB; not compatible with ZeRO. */
  ONE_BIT_LAMB = 'OneBitLamb',
  /** Adagrad. */
  ADAGRAD = 'Adagrad',
  /** Lion. */
  LION = 'Lion',
  /** MuP Adam. */
  MU_ADAM = 'MuAdam',
  /** MuP AdamW. */
  MU_ADAMW = 'MuAdamW',
  /** MuP SGD. */
  MU_SGD = 'MuSGD',
}

/** Learning-rate schedulers DeepSpeed implements. */
export enum SchedulerType {
  /** Learning-rate range test. */
  LR_RANGE_TEST = 'LRRangeTest',
  /** One-cycle policy; needs cycle_min_lr and cycle_max_lr in extraParams. */
  ONE_CYCLE = 'OneCycle',
  /** Warm up, then hold. */
  WARMUP_LR = 'WarmupLR',
  /** Warm up, then decay linearly to zero at totalNumSteps. */
  WARMUP_DECAY_LR = 'WarmupDecayLR',
  /** Warm up, then cosine decay until totalNumSteps. */
  WARMUP_COSINE_LR = 'WarmupCosineLR',
}

/** Shape of the warm-up curve. */
export enum WarmupType {
  /** Logarithmic warm-up (DeepSpeed's default). */
  LOG = 'log',
  /** Linear warm-up. */
  LINEAR = 'linear',
}

/** What DeepSpeed does when checkpoint tags differ across ranks. */
export enum CheckpointTagValidation {
  /** Ignore mismatches. */
  IGNORE = 'Ignore',
  /** Log a warning (DeepSpeed's default). */
  WARN = 'Warn',
  /** Fail the save. */
  FAIL = 'Fail',
}

/** The `optimizer` section. */
export interface DeepSpeedOptimizerConfig {
  /**
   * A DeepSpeed optimizer. Set exactly one of `kind` and `torchOptimizer`.
   * @default - none; set torchOptimizer instead
   */
  readonly kind?: OptimizerType;
  /**
   * A `torch.optim` class name, case-sensitive (e.g. `SGD`), for optimizers DeepSpeed does not implement.
   * @default - none; set kind instead
   */
  readonly torchOptimizer?: string;
  /**
   * Learning rate (`params.lr`).
   * @default - the optimizer's default
   */
  readonly lr?: number;
  /**
   * Adam betas (`params.betas`).
   * @default - the optimizer's default
   */
  readonly betas?: number[];
  /**
   * Epsilon (`params.eps`).
   * @default - the optimizer's default
   */
  readonly eps?: number;
  /**
   * Weight decay (`params.weight_decay`).
   * @default - the optimizer's default
   */
  readonly weightDecay?: number;
  /**
   * Use torch's Adam instead of DeepSpeed's fused kernel (`params.torch_adam`); avoids JIT-compiling the CUDA op.
   * @default false
   */
  readonly torchAdam?: boolean;
  /**
   * Apply decoupled weight decay (`params.adam_w_mode`).
   * @default true
   */
  readonly adamWMode?: boolean;
  /**
   * Further optimizer parameters, written verbatim (DeepSpeed's snake_case names).
   * @default - none
   */
  readonly extraParams?: { [key: string]: any };
}

/** The `scheduler` section. */
export interface DeepSpeedSchedulerConfig {
  /**
   * A DeepSpeed scheduler. Set exactly one of `kind` and `torchScheduler`.
   * @default - none; set torchScheduler instead
   */
  readonly kind?: SchedulerType;
  /**
   * A `torch.optim.lr_scheduler` class name, case-sensitive.
   * @default - none; set kind instead
   */
  readonly torchScheduler?: string;
  /**
   * `params.warmup_min_lr`.
   * @default 0
   */
  readonly warmupMinLr?: number;
  /**
   * `params.warmup_max_lr`.
   * @default 0.001
   */
  readonly warmupMaxLr?: number;
  /**
   * `params.warmup_num_steps`.
   * @default 1000
   */
  readonly warmupNumSteps?: number;
  /**
   * `params.warmup_type`.
   * @default WarmupType.LOG
   */
  readonly warmupType?: WarmupType;
  /**
   * `params.total_num_steps`; required by WarmupDecayLR and WarmupCosineLR.
   * @default - none
   */
  readonly totalNumSteps?: number;
  /**
   * WarmupCosineLR: the learning rate at the start of warm-up as a ratio of the optimizer's
   * (`params.warmup_min_ratio`).
   * @default 0
   */
  readonly warmupMinRatio?: number;
  /**
   * WarmupCosineLR: the learning rate at the end of the cosine decay as a ratio of the
   * optimizer's (`params.cos_min_ratio`).
   * @default 0.0001
   */
  readonly cosMinRatio?: number;
  /**
   * OneCycle: the lowest learning rate of the cycle (`params.cycle_min_lr`); required by OneCycle.
   * @default - none
   */
  readonly cycleMinLr?: number;
  /**
   * OneCycle: the highest learning rate of the cycle (`params.cycle_max_lr`); required by OneCycle.
   * @default - none
   */
  readonly cycleMaxLr?: number;
  /**
   * OneCycle: steps of the rising half of the cycle (`params.cycle_first_step_size`).
   * @default 2000
   */
  readonly cycleFirstStepSize?: number;
  /**
   * OneCycle: steps of the falling half (`params.cycle_second_step_size`).
   * @default - the first step size
   */
  readonly cycleSecondStepSize?: number;
  /**
   * OneCycle: learning-rate decay rate after the cycle (`params.decay_lr_rate`).
   * @default 0
   */
  readonly decayLrRate?: number;
  /**
   * OneCycle: steps between decays after the cycle (`params.decay_step_size`).
   * @default 0
   */
  readonly decayStepSize?: number;
  /**
   * OneCycle: whether momentum cycles inversely to the learning rate (`params.cycle_momentum`).
   * @default true
   */
  readonly cycleMomentum?: boolean;
  /**
   * OneCycle: the lowest momentum (`params.cycle_min_mom`).
   * @default 0.8
   */
  readonly cycleMinMom?: number;
  /**
   * OneCycle: the highest momentum (`params.cycle_max_mom`).
   * @default 0.9
   */
  readonly cycleMaxMom?: number;
  /**
   * LRRangeTest: the starting learning rate (`params.lr_range_test_min_lr`).
   * @default 0.001
   */
  readonly lrRangeTestMinLr?: number;
  /**
   * LRRangeTest: steps between increases (`params.lr_range_test_step_size`).
   * @default 2000
   */
  readonly lrRangeTestStepSize?: number;
  /**
   * LRRangeTest: the increase per step interval (`params.lr_range_test_step_rate`).
   * @default 1
   */
  readonly lrRangeTestStepRate?: number;
  /**
   * LRRangeTest: whether the rate rises in steps rather than continuously (`params.lr_range_test_staircase`).
   * @default false
   */
  readonly lrRangeTestStaircase?: boolean;
  /**
   * Further scheduler parameters, written verbatim (DeepSpeed's snake_case names).
   * @default - none
   */
  readonly extraParams?: { [key: string]: any };
}

/** The `fp16` section. */
export interface Fp16Config {
  /** Train in fp16 with loss scaling. */
  readonly enabled: boolean;
  /**
   * `auto_cast`: cast inputs to fp16.
   * @default false
   */
  readonly autoCast?: boolean;
  /**
   * `loss_scale`; 0 means dynamic loss scaling.
   * @default 0
   */
  readonly lossScale?: number;
  /**
   * `initial_scale_power`: the first dynamic loss scale is 2^power.
   * @default 16
   */
  readonly initialScalePower?: number;
  /**
   * `loss_scale_window`.
   * @default 1000
   */
  readonly lossScaleWindow?: number;
  /**
   * `hysteresis`.
   * @default 2
   */
  readonly hysteresis?: number;
  /**
   * `consecutive_hysteresis`.
   * @default false
   */
  readonly consecutiveHysteresis?: boolean;
  /**
   * `min_loss_scale`.
   * @default 1
   */
  readonly minLossScale?: number;
  /**
   * `fp16_master_weights_and_grads` (ZeRO stage 2 with CPU offload only).
   * @default false
   */
  readonly fp16MasterWeightsAndGrads?: boolean;
}

/** The `bf16` section. */
export interface Bf16Config {
  /** Train in bfloat16 (Ampere or newer GPUs). */
  readonly enabled: boolean;
  /**
   * `immediate_grad_update`.
   * @default false
   */
  readonly immediateGradUpdate?: boolean;
}

/** `zero_optimization.offload_optimizer`. */
export interface OffloadOptimizerConfig {
  /** Offload target. */
  readonly device: OffloadDevice;
  /**
   * `nvme_path`; required with OffloadDevice.NVME.
   * @default - none
   */
  readonly nvmePath?: string;
  /**
   * `pin_memory`.
   * @default false
   */
  readonly pinMemory?: boolean;
  /**
   * `buffer_count`.
   * @default 4
   */
  readonly bufferCount?: number;
  /**
   * `pipeline_read`.
   * @default false
   */
  readonly pipelineRead?: boolean;
  /**
   * `pipeline_write`.
   * @default false
   */
  readonly pipelineWrite?: boolean;
  /**
   * `fast_init`.
   * @default false
   */
  readonly fastInit?: boolean;
  /**
   * `ratio` of optimizer states offloaded, 0 to 1 (below 1 only with ZeRO stage 3).
   * @default 1
   */
  readonly ratio?: number;
}

/** `zero_optimization.offload_param` (ZeRO stage 3 only). */
export interface OffloadParamConfig {
  /** Offload target. */
  readonly device: OffloadDevice;
  /**
   * `nvme_path`; required with OffloadDevice.NVME.
   * @default - none
   */
  readonly nvmePath?: string;
  /**
   * `pin_memory`.
   * @default false
   */
  readonly pinMemory?: boolean;
  /**
   * `buffer_count`.
   * @default 5
   */
  readonly bufferCount?: number;
  /**
   * `buffer_size`.
   * @default 100000000
   */
  readonly bufferSize?: number;
  /**
   * `max_in_cpu`.
   * @default 1000000000
   */
  readonly maxInCpu?: number;
}

/** The `zero_optimization` section. */
export interface ZeroOptimizationConfig {
  /** ZeRO stage. */
  readonly stage: ZeroStage;
  /**
   * `contiguous_gradients`.
   * @default true
   */
  readonly contiguousGradients?: boolean;
  /**
   * `reduce_scatter`.
   * @default true
   */
  readonly reduceScatter?: boolean;
  /**
   * `reduce_bucket_size` in elements.
   * @default 500000000
   */
  readonly reduceBucketSize?: number;
  /**
   * `allgather_partitions`.
   * @default true
   */
  readonly allgatherPartitions?: boolean;
  /**
   * `allgather_bucket_size` in elements.
   * @default 500000000
   */
  readonly allgatherBucketSize?: number;
  /**
   * `overlap_comm`.
   * @default - true for stage 3, false otherwise
   */
  readonly overlapComm?: boolean;
  /**
   * `load_from_fp32_weights`.
   * @default true
   */
  readonly loadFromFp32Weights?: boolean;
  /**
   * `round_robin_gradients`.
   * @default false
   */
  readonly roundRobinGradients?: boolean;
  /**
   * `ignore_unused_parameters`.
   * @default true
   */
  readonly ignoreUnusedParameters?: boolean;
  /**
   * `offload_optimizer`.
   * @default - no optimizer offload
   */
  readonly offloadOptimizer?: OffloadOptimizerConfig;
  /**
   * `offload_param` (stage 3 only).
   * @default - no parameter offload
   */
  readonly offloadParam?: OffloadParamConfig;
  /**
   * `sub_group_size`.
   * @default 1000000000
   */
  readonly subGroupSize?: number;
  /**
   * `stage3_prefetch_bucket_size`.
   * @default 50000000
   */
  readonly stage3PrefetchBucketSize?: number;
  /**
   * `stage3_param_persistence_threshold`.
   * @default 100000
   */
  readonly stage3ParamPersistenceThreshold?: number;
  /**
   * `stage3_max_live_parameters`.
   * @default 1000000000
   */
  readonly stage3MaxLiveParameters?: number;
  /**
   * `stage3_max_reuse_distance`.
   * @default 1000000000
   */
  readonly stage3MaxReuseDistance?: number;
  /**
   * `stage3_gather_16bit_weights_on_model_save`.
   * @default false
   */
  readonly stage3Gather16bitWeightsOnModelSave?: boolean;
  /**
   * `zero_hpz_partition_size` (ZeRO++ hierarchical partitioning).
   * @default 1
   */
  readonly zeroHpzPartitionSize?: number;
  /**
   * `zero_quantized_weights` (ZeRO++).
   * @default false
   */
  readonly zeroQuantizedWeights?: boolean;
  /**
   * `zero_quantized_gradients` (ZeRO++).
   * @default false
   */
  readonly zeroQuantizedGradients?: boolean;
}

/** The `activation_checkpointing` section. */
export interface ActivationCheckpointingConfig {
  /**
   * `partition_activations`.
   * @default false
   */
  readonly partitionActivations?: boolean;
  /**
   * `cpu_checkpointing`.
   * @default false
   */
  readonly cpuCheckpointing?: boolean;
  /**
   * `contiguous_memory_optimization`.
   * @default false
   */
  readonly contiguousMemoryOptimization?: boolean;
  /**
   * `number_checkpoints`.
   * @default - none
   */
  readonly numberCheckpoints?: number;
  /**
   * `synchronize_checkpoint_boundary`.
   * @default false
   */
  readonly synchronizeCheckpointBoundary?: boolean;
  /**
   * `profile`.
   * @default false
   */
  readonly profile?: boolean;
}

/** A monitor section (`tensorboard`, `csv_monitor`). */
export interface MonitorConfig {
  /** Enable the monitor. */
  readonly enabled: boolean;
  /**
   * `output_path`.
   * @default - DeepSpeed's default
   */
  readonly outputPath?: string;
  /**
   * `job_name`.
   * @default 'DeepSpeedJobName'
   */
  readonly jobName?: string;
}

/** The `wandb` section. */
export interface WandbConfig {
  /** Enable Weights & Biases logging (needs the wandb package in the image). */
  readonly enabled: boolean;
  /**
   * `group`.
   * @default - none
   */
  readonly group?: string;
  /**
   * `team`.
   * @default - none
   */
  readonly team?: string;
  /**
   * `project`.
   * @default 'deepspeed'
   */
  readonly project?: string;
}

/** The `flops_profiler` section. */
export interface FlopsProfilerConfig {
  /** Enable the profiler. */
  readonly enabled: boolean;
  /**
   * `profile_step`.
   * @default 1
   */
  readonly profileStep?: number;
  /**
   * `module_depth`.
   * @default -1
   */
  readonly moduleDepth?: number;
  /**
   * `top_modules`.
   * @default 1
   */
  readonly topModules?: number;
  /**
   * `detailed`.
   * @default true
   */
  readonly detailed?: boolean;
  /**
   * `output_file`.
   * @default - stdout
   */
  readonly outputFile?: string;
}

/** The `checkpoint` section. */
export interface CheckpointConfig {
  /**
   * `tag_validation`.
   * @default CheckpointTagValidation.WARN
   */
  readonly tagValidation?: CheckpointTagValidation;
  /**
   * `load_universal`.
   * @default false
   */
  readonly loadUniversal?: boolean;
  /**
   * `use_node_local_storage`: set when pods share no file system.
   * @default false
   */
  readonly useNodeLocalStorage?: boolean;
}

/**
 * A DeepSpeed configuration. Every field renders to the key DeepSpeed reads.
 */
export interface DeepSpeedConfig {
  /**
   * `train_batch_size` = micro batch × gradient accumulation × world size.
   * @default - derived by DeepSpeed from the other two and the world size
   */
  readonly trainBatchSize?: number;
  /**
   * `train_micro_batch_size_per_gpu`.
   * @default - derived by DeepSpeed
   */
  readonly trainMicroBatchSizePerGpu?: number;
  /**
   * `gradient_accumulation_steps`.
   * @default - derived by DeepSpeed
   */
  readonly gradientAccumulationSteps?: number;
  /**
   * `steps_per_print`.
   * @default - never prints
   */
  readonly stepsPerPrint?: number;
  /**
   * `wall_clock_breakdown`.
   * @default false
   */
  readonly wallClockBreakdown?: boolean;
  /**
   * `memory_breakdown`.
   * @default false
   */
  readonly memoryBreakdown?: boolean;
  /**
   * `gradient_clipping` (max gradient norm; 0 disables).
   * @default 0
   */
  readonly gradientClipping?: number;
  /**
   * `prescale_gradients`.
   * @default false
   */
  readonly prescaleGradients?: boolean;
  /**
   * `gradient_predivide_factor`.
   * @default 1
   */
  readonly gradientPredivideFactor?: number;
  /**
   * `communication_data_type`.
   * @default - the model's data type
   */
  readonly communicationDataType?: DeepSpeedDataType;
  /**
   * `data_types.grad_accum_dtype`.
   * @default - the model's data type
   */
  readonly gradAccumDataType?: DeepSpeedDataType;
  /**
   * `sparse_gradients`.
   * @default false
   */
  readonly sparseGradients?: boolean;
  /**
   * `zero_allow_untested_optimizer`.
   * @default false
   */
  readonly zeroAllowUntestedOptimizer?: boolean;
  /**
   * `zero_force_ds_cpu_optimizer`.
   * @default true
   */
  readonly zeroForceDsCpuOptimizer?: boolean;
  /**
   * `dataloader_drop_last`.
   * @default false
   */
  readonly dataloaderDropLast?: boolean;
  /**
   * `optimizer`.
   * @default - the script passes its own optimizer
   */
  readonly optimizer?: DeepSpeedOptimizerConfig;
  /**
   * `scheduler`.
   * @default - no scheduler
   */
  readonly scheduler?: DeepSpeedSchedulerConfig;
  /**
   * `fp16`.
   * @default - fp32 training
   */
  readonly fp16?: Fp16Config;
  /**
   * `bf16`.
   * @default - fp32 training
   */
  readonly bf16?: Bf16Config;
  /**
   * `zero_optimization`.
   * @default - ZeRO disabled
   */
  readonly zeroOptimization?: ZeroOptimizationConfig;
  /**
   * `activation_checkpointing`.
   * @default - none
   */
  readonly activationCheckpointing?: ActivationCheckpointingConfig;
  /**
   * `flops_profiler`.
   * @default - disabled
   */
  readonly flopsProfiler?: FlopsProfilerConfig;
  /**
   * `tensorboard`.
   * @default - disabled
   */
  readonly tensorboard?: MonitorConfig;
  /**
   * `csv_monitor`.
   * @default - disabled
   */
  readonly csvMonitor?: MonitorConfig;
  /**
   * `wandb`.
   * @default - disabled
   */
  readonly wandb?: WandbConfig;
  /**
   * `checkpoint`.
   * @default - DeepSpeed's defaults
   */
  readonly checkpoint?: CheckpointConfig;
  /**
   * Keys this interface does not model yet, in DeepSpeed's snake_case, deep-merged last
   * (they win over typed fields). Validation still checks the merged result.
   * @default - none
   */
  readonly raw?: { [key: string]: any };
}
