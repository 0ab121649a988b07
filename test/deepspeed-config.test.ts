import {
  CheckpointTagValidation, DeepSpeedConfigFile, DeepSpeedDataType, OffloadDevice, OptimizerType, SchedulerType,
  WarmupType, ZeroStage,
} from '../src';
import { synthJob } from './support/synth';
import { DeepSpeedTrainingImage } from '../src';
import { expectWarnings } from './support/warnings';

describe('renderDeepSpeedConfig', () => {
  test('renders every typed field under DeepSpeed\'s own key names', () => {
    const json = DeepSpeedConfigFile.render({
      trainBatchSize: 256,
      trainMicroBatchSizePerGpu: 4,
      gradientAccumulationSteps: 2,
      stepsPerPrint: 100,
      wallClockBreakdown: true,
      memoryBreakdown: false,
      gradientClipping: 1.0,
      prescaleGradients: false,
      gradientPredivideFactor: 1.0,
      communicationDataType: DeepSpeedDataType.BF16,
      gradAccumDataType: DeepSpeedDataType.FP32,
      sparseGradients: false,
      zeroAllowUntestedOptimizer: true,
      zeroForceDsCpuOptimizer: false,
      dataloaderDropLast: true,
      optimizer: { kind: OptimizerType.ADAMW, lr: 3e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1, torchAdam: true, adamWMode: true, extraParams: { amsgrad: false } },
      scheduler: { kind: SchedulerType.WARMUP_DECAY_LR, warmupMinLr: 0, warmupMaxLr: 3e-4, warmupNumSteps: 500, warmupType: WarmupType.LINEAR, totalNumSteps: 10000 },
      bf16: { enabled: true, immediateGradUpdate: true },
      zeroOptimization: {
        stage: ZeroStage.STAGE_3,
        contiguousGradients: true,
        reduceScatter: true,
        reduceBucketSize: 500_000_000,
        allgatherPartitions: true,
        allgatherBucketSize: 500_000_000,
        overlapComm: true,
        loadFromFp32Weights: true,
        roundRobinGradients: false,
        ignoreUnusedParameters: true,
        offloadOptimizer: { device: OffloadDevice.CPU, pinMemory: true, bufferCount: 4, pipelineRead: false, pipelineWrite: false, fastInit: false, ratio: 1 },
        offloadParam: { device: OffloadDevice.NVME, nvmePath: '/local_nvme', pinMemory: true, bufferCount: 5, bufferSize: 100_000_000, maxInCpu: 1_000_000_000 },
        subGroupSize: 1_000_000_000,
        stage3PrefetchBucketSize: 50_000_000,
        stage3ParamPersistenceThreshold: 100_000,
        stage3MaxLiveParameters: 1_000_000_000,
        stage3MaxReuseDistance: 1_000_000_000,
        stage3Gather16bitWeightsOnModelSave: true,
        zeroHpzPartitionSize: 8,
        zeroQuantizedWeights: true,
        zeroQuantizedGradients: true,
      },
      activationCheckpointing: { partitionActivations: true, cpuCheckpointing: false, contiguousMemoryOptimization: false, numberCheckpoints: 4, synchronizeCheckpointBoundary: false, profile: false },
      flopsProfiler: { enabled: true, profileStep: 2, moduleDepth: -1, topModules: 3, detailed: true, outputFile: '/tmp/flops.txt' },
      tensorboard: { enabled: true, outputPath: '/logs/tb', jobName: 'bert' },
      csvMonitor: { enabled: true, outputPath: '/logs/csv', jobName: 'bert' },
      wandb: { enabled: true, group: 'g', team: 't', project: 'p' },
      checkpoint: { tagValidation: CheckpointTagValidation.FAIL, loadUniversal: false, useNodeLocalStorage: true },
    });
    expect(json).toEqual({
      train_batch_size: 256,
      train_micro_batch_size_per_gpu: 4,
      gradient_accumulation_steps: 2,
      steps_per_print: 100,
      wall_clock_breakdown: true,
      memory_breakdown: false,
      gradient_clipping: 1.0,
      prescale_gradients: false,
      gradient_predivide_factor: 1.0,
      communication_data_type: 'bf16',
      data_types: { grad_accum_dtype: 'fp32' },
      sparse_gradients: false,
      zero_allow_untested_optimizer: true,
      zero_force_ds_cpu_optimizer: false,
      dataloader_drop_last: true,
      optimizer: { type: 'AdamW', params: { lr: 3e-4, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1, torch_adam: true, adam_w_mode: true, amsgrad: false } },
      scheduler: { type: 'WarmupDecayLR', params: { warmup_min_lr: 0, warmup_max_lr: 3e-4, warmup_num_steps: 500, warmup_type: 'linear', total_num_steps: 10000 } },
      bf16: { enabled: true, immediate_grad_update: true },
      zero_optimization: {
        stage: 3,
        contiguous_gradients: true,
        reduce_scatter: true,
        reduce_bucket_size: 500000000,
        allgather_partitions: true,
        allgather_bucket_size: 500000000,
        overlap_comm: true,
        load_from_fp32_weights: true,
        round_robin_gradients: false,
        ignore_unused_parameters: true,
        offload_optimizer: { device: 'cpu', pin_memory: true, buffer_count: 4, pipeline_read: false, pipeline_write: false, fast_init: false, ratio: 1 },
        offload_param: { device: 'nvme', nvme_path: '/local_nvme', pin_memory: true, buffer_count: 5, buffer_size: 100000000, max_in_cpu: 1000000000 },
        sub_group_size: 1000000000,
        stage3_prefetch_bucket_size: 50000000,
        stage3_param_persistence_threshold: 100000,
        stage3_max_live_parameters: 1000000000,
        stage3_max_reuse_distance: 1000000000,
        stage3_gather_16bit_weights_on_model_save: true,
        zero_hpz_partition_size: 8,
        zero_quantized_weights: true,
        zero_quantized_gradients: true,
      },
      activation_checkpointing: { partition_activations: true, cpu_checkpointing: false, contiguous_memory_optimization: false, number_checkpoints: 4, synchronize_checkpoint_boundary: false, profile: false },
      flops_profiler: { enabled: true, profile_step: 2, module_depth: -1, top_modules: 3, detailed: true, output_file: '/tmp/flops.txt' },
      tensorboard: { enabled: true, output_path: '/logs/tb', job_name: 'bert' },
      csv_monitor: { enabled: true, output_path: '/logs/csv', job_name: 'bert' },
      wandb: { enabled: true, group: 'g', team: 't', project: 'p' },
      checkpoint: { tag_validation: 'Fail', load_universal: false, use_node_local_storage: true },
    });
  });

  test('leaves out what is not set', () => {
    expect(DeepSpeedConfigFile.render({})).toEqual({});
    expect(DeepSpeedConfigFile.render({ fp16: { enabled: true }, optimizer: { kind: OptimizerType.ADAM } })).toEqual({
      fp16: { enabled: true },
      optimizer: { type: 'Adam' },
    });
  });

  test('a torch optimizer or scheduler keeps its case-sensitive class name', () => {
    expect(DeepSpeedConfigFile.render({ optimizer: { torchOptimizer: 'SGD', lr: 0.1, extraParams: { momentum: 0.9 } }, scheduler: { torchScheduler: 'StepLR', extraParams: { step_size: 10 } } })).toEqual({
      optimizer: { type: 'SGD', params: { lr: 0.1, momentum: 0.9 } },
      scheduler: { type: 'StepLR', params: { step_size: 10 } },
    });
  });

  test('raw keys are deep-merged last and win over typed fields', () => {
    expect(DeepSpeedConfigFile.render({
      trainBatchSize: 16,
      zeroOptimization: { stage: ZeroStage.STAGE_2, overlapComm: true },
      raw: { zero_optimization: { overlap_comm: false, round_robin_gradients: true }, seq_parallel_communication_data_type: 'fp32' },
    })).toEqual({
      train_batch_size: 16,
      zero_optimization: { stage: 2, overlap_comm: false, round_robin_gradients: true },
      seq_parallel_communication_data_type: 'fp32',
    });
  });

  test('large integers are written as JSON integers, not exponents', () => {
    const { configMap } = synthJob({
      image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0'),
      workers: { replicas: 1 },
      script: 'train.py',
      deepspeedConfig: { trainMicroBatchSizePerGpu: 1, zeroOptimization: { stage: ZeroStage.STAGE_2, reduceBucketSize: 5e8 } },
    });
    expect(configMap.data['ds_config.json']).toContain('"reduce_bucket_size": 500000000');
    expectWarnings('test/train: ds_config.optimizer is not set');
  });
});
