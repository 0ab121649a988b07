import { JobRule } from './context';
import { JobFacts, podOf, specOf } from './facts';
import {
  closestKey, DEEPSPEED_OPTIMIZERS, DEEPSPEED_SCHEDULER_PARAMS, DEEPSPEED_SCHEDULERS, DEPRECATED_ZERO_KEYS, SCHEDULER_PARAM_PROPS,
  STRICT_SECTIONS, TOP_LEVEL_KEYS, TORCH_OPTIMIZERS, TORCH_SCHEDULERS,
} from './deepspeed-keys';
import { error, Finding, FindingText, show, warning } from './finding';
import { worldSizeTerms } from './manifest';
import { OffloadDevice, OptimizerType } from '../deepspeed-config';
import { renderDeepSpeedConfig } from '../deepspeed-config-render';
import { readsOnlyConfig, readsWholeJob } from './shared-findings';

type Json = { [key: string]: any };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A section of the config, or an empty object when it is absent or not an object. */
function section(config: Json, path: string): Json {
  const value = path.split('.').reduce<any>((node, key) => (isObject(node) ? node[key] : undefined), config);
  return isObject(value) ? value : {};
}

/** A rule over the DeepSpeed config; jobs without one have nothing to check. */
function configRule(check: (ctx: JobFacts, config: Json) => Finding[]): JobRule {
  return (ctx: JobFacts) => (ctx.deepspeedConfig ? check(ctx, ctx.deepspeedConfig) : []);
}

/** Message parts for a config key: the field reads `ds_config.<key path>`. */
function at(ctx: JobFacts, key: string, value: string, why: string, fix: string): FindingText {
  return { path: ctx.path, field: `ds_config.${key}`, value, why, fix };
}

/** What DeepSpeed says when it fails, quoted so users can search for it. */
function fails(message: string): string {
  return `DeepSpeed fails with "${message}"`;
}

function zeroStage(config: Json): unknown {
  return section(config, 'zero_optimization').stage ?? 0;
}

function fp16Enabled(config: Json): boolean {
  return section(config, 'fp16').enabled === true;
}

/** DeepSpeed reads the first present of `bf16` and its legacy alias `bfloat16`. */
function bf16Key(config: Json): string {
  return config.bf16 !== undefined || config.bfloat16 === undefined ? 'bf16' : 'bfloat16';
}

function bf16Enabled(config: Json): boolean {
  return section(config, bf16Key(config)).enabled === true;
}

function optimizerType(config: Json): string | undefined {
  const type = section(config, 'optimizer').type;
  return typeof type === 'string' ? type : undefined;
}

const AUTO = 'auto';

/** Every path in the config whose value is the string "auto". */
function autoPaths(value: unknown, path: string): string[] {
  if (value === AUTO) return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => autoPaths(item, `${path}[${i}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([key, item]) => autoPaths(item, path ? `${path}.${key}` : key));
  return [];
}

/** "auto" is filled in by the Hugging Face Trainer only; DeepSpeed itself cannot use it. */
const autoValues = configRule((ctx, config) => autoPaths(config, '').map(path => error('deepspeed/auto-values', at(ctx, path, show(AUTO),
  'only the Hugging Face Trainer fills in \'auto\'; DeepSpeed itself drops it inside sections and fails on it at the top level',
  'Write the actual value.'))));

function unknownKeyFix(key: string, known: string[]): string {
  const suggestion = closestKey(key, known);
  return suggestion ? `Did you mean '${suggestion}'?` : 'Remove it, or check it against DeepSpeed\'s configuration reference.';
}

/** Unknown top-level keys are lost silently; unknown keys in pydantic sections fail. */
const unknownKeys = configRule((ctx, config) => {
  const topLevel = Object.keys(config).filter(key => !TOP_LEVEL_KEYS.includes(key)).map(key => error('deepspeed/unknown-keys',
    at(ctx, key, show(config[key]), 'DeepSpeed ignores unknown top-level keys, so the setting would be silently lost',
      unknownKeyFix(key, TOP_LEVEL_KEYS))));
  const nested = Object.entries(STRICT_SECTIONS).flatMap(([path, known]) => {
    const keys = Object.keys(section(config, path));
    return keys.filter(key => !known.includes(key)).map(key => error('deepspeed/unknown-keys',
      at(ctx, `${path}.${key}`, show(section(config, path)[key]),
        `DeepSpeed reads ${path} with a pydantic model that rejects unknown keys ("Extra inputs are not permitted")`,
        unknownKeyFix(key, known))));
  });
  return [...topLevel, ...nested];
});

/** A deprecated ZeRO key next to its replacement fails, whatever the deprecated key's value. */
const deprecatedKeys = configRule((ctx, config) => {
  const zero = section(config, 'zero_optimization');
  return DEPRECATED_ZERO_KEYS.flatMap(([deprecated, replacements]) => {
    const replacement = replacements.find(key => zero[key] !== undefined);
    if (zero[deprecated] === undefined || replacement === undefined) return [];
    return [error('deepspeed/deprecated-keys', at(ctx, `zero_optimization.${deprecated}`, show(zero[deprecated]),
      `${fails(`Cannot provide deprecated parameter '${deprecated}' and replacing parameter '${replacement}' together`)}, whatever its value`,
      `Remove ${deprecated}; ${replacement} replaces it.`))];
  });
});

const BATCH_KEYS = ['train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps'];

/** The value DeepSpeed derives when a batch key is missing, with how it got there. */
interface Derivation {
  readonly key: string;
  readonly expression: string;
  readonly value: number;
  /** train_batch_size must be a multiple of this for the derivation to be exact. */
  readonly unit: number;
  readonly unitTerms: string;
  /** DeepSpeed's assertion text when the derived value is 0. */
  readonly zeroMessage: string;
}

/** The three batch sizes after DeepSpeed filled in the missing ones. */
interface BatchSizes {
  readonly tb: number;
  readonly mb: number;
  readonly gas: number;
  /** How a value was derived from train_batch_size, if one was. */
  readonly derived?: Derivation;
}

/** Python's `//` on the positive whole numbers that reach it. */
function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/**
 * DeepSpeed's `_set_batch_related_parameters`: fills in the missing batch sizes with floor
 * division, in DeepSpeed's order. Undefined when neither train_batch_size nor the micro batch is given.
 */
function deriveBatch(tb: number | undefined, mb: number | undefined, gas: number | undefined, world: number): BatchSizes | undefined {
  if (tb !== undefined && mb !== undefined && gas !== undefined) return { tb, mb, gas };
  if (tb !== undefined && mb !== undefined) {
    const steps = floorDiv(floorDiv(tb, mb), world);
    return {
      tb, mb, gas: steps,
      derived: {
        key: 'gradient_accumulation_steps', expression: `(${tb} // ${mb}) // ${world}`, value: steps, unit: mb * world,
        unitTerms: 'train_micro_batch_size_per_gpu × world size', zeroMessage: 'Gradient accumulation steps: 0 has to be greater than 0',
      },
    };
  }
  if (tb !== undefined) {
    // With accumulation steps given DeepSpeed divides by them; without, it sets them to 1.
    const micro = floorDiv(floorDiv(tb, world), gas ?? 1);
    return {
      tb, mb: micro, gas: gas ?? 1,
      derived: {
        key: 'train_micro_batch_size_per_gpu',
        expression: gas === undefined ? `${tb} // ${world}` : `(${tb} // ${world}) // ${gas}`,
        value: micro,
        unit: (gas ?? 1) * world,
        unitTerms: gas === undefined ? 'the world size' : 'gradient_accumulation_steps × world size',
        zeroMessage: 'Micro batch size per gpu: 0 has to be greater than 0',
      },
    };
  }
  if (mb !== undefined) return { tb: mb * (gas ?? 1) * world, mb, gas: gas ?? 1 };
  return undefined;
}

/**
 * train_batch_size = micro batch × gradient accumulation × world size, with DeepSpeed's
 * derivation of a missing value and its assertions, for the job's real world size.
 */
const batchSize = configRule((ctx, config) => {
  const given = BATCH_KEYS.filter(key => config[key] !== undefined && config[key] !== null);
  const elasticity = section(config, 'elasticity');
  if (elasticity.enabled === true) {
    if (given.length === 0 || elasticity.ignore_non_elastic_batch_info === true) return [];
    return [error('deepspeed/batch-size', at(ctx, given[0], show(config[given[0]]),
      `elasticity is enabled and ${fails('ElasticityConfigError: One or more batch related parameters were found in your ds_config')}`,
      'Remove the batch sizes (elasticity sets them), or set elasticity.ignore_non_elastic_batch_info to true.'))];
  }
  if (given.some(key => config[key] === AUTO)) return []; // reported by deepspeed/auto-values
  // NaN and Infinity a typed prop gave are reported under it by deepspeed/ignored-settings.
  if (given.some(key => typeof config[key] === 'number' && !Number.isFinite(config[key]) && ctx.props.deepspeedConfig?.raw?.[key] === undefined)) return [];
  const invalid = given.filter(key => !Number.isInteger(config[key]) || config[key] <= 0);
  if (invalid.length > 0) {
    return invalid.map(key => error('deepspeed/batch-size', at(ctx, key, show(config[key]),
      'DeepSpeed needs a whole number greater than 0 (it floor-divides batch sizes and asserts they are positive)',
      'Set it to a positive whole number, or leave it out and let DeepSpeed derive it.')));
  }
  const world = ctx.launch.worldSize;
  const sizes = deriveBatch(config.train_batch_size ?? undefined, config.train_micro_batch_size_per_gpu ?? undefined,
    config.gradient_accumulation_steps ?? undefined, world);
  if (sizes === undefined) {
    return [error('deepspeed/batch-size', at(ctx, 'train_batch_size', 'not set',
      fails('Either train_batch_size or train_micro_batch_size_per_gpu needs to be provided'),
      'Set trainMicroBatchSizePerGpu (and gradientAccumulationSteps), or trainBatchSize.'))];
  }
  if (world <= 0) return []; // reported by the operator and slot rules
  const { tb, mb, gas, derived } = sizes;
  const worldText = `a world size of ${world} (${worldSizeTerms(ctx)})`;
  const identity = `Check batch related parameters. train_batch_size is not equal to micro_batch_per_gpu * gradient_acc_step * world_size ${tb} != ${mb} * ${gas} * ${world}`;
  if (derived) {
    const broken = derived.value === 0 ? derived.zeroMessage : tb !== mb * gas * world ? identity : undefined;
    if (broken === undefined) return [];
    const example = derived.unit * Math.max(1, Math.round(tb / derived.unit));
    return [error('deepspeed/batch-size', at(ctx, 'train_batch_size', show(tb),
      `DeepSpeed derives ${derived.key} = ${derived.expression} = ${derived.value} for ${worldText} and fails with "${broken}"`,
      `Set train_batch_size to a multiple of ${derived.unit} (${derived.unitTerms}), e.g. ${example}.`))];
  }
  if (tb === mb * gas * world) return [];
  return [error('deepspeed/batch-size', at(ctx, 'train_batch_size', show(tb),
    `DeepSpeed checks it against ${worldText} and fails with "${identity}"`,
    `Set train_batch_size to ${mb * gas * world} (${mb} × ${gas} × ${world}), or leave it out and let DeepSpeed derive it.`))];
});

/** NVIDIA GPU models before Ampere, as GPU feature discovery names them: no bfloat16. */
const PRE_AMPERE_GPU = /(^|[^A-Za-z0-9])(V100|T4|P100|P40|P4|K80|M60|M40|TITAN-V|RTX-20[0-9]0[A-Za-z-]*|QUADRO-RTX-[0-9]+)([^A-Za-z0-9]|$)/i;

/** bf16 on GPUs that cannot compute in it: DeepSpeed stops once the model reaches the device. */
const bf16Hardware = configRule((ctx, config) => {
  if (!bf16Enabled(config)) return [];
  const rankReplicas = ['Worker', ...(ctx.launch.launcherHostsRanks ? ['Launcher'] : [])];
  const pinned = rankReplicas.flatMap(type => Object.entries(specOf(podOf(ctx, type)).nodeSelector ?? {}))
    .find(([, value]) => typeof value === 'string' && PRE_AMPERE_GPU.test(value));
  if (!pinned) return [];
  return [warning('deepspeed/bf16-hardware', at(ctx, `${bf16Key(config)}.enabled`, 'true',
    `the pods are pinned to ${show(pinned[1])} GPUs (nodeSelector ${pinned[0]}), which predate Ampere and have no bfloat16 arithmetic: torch 2.3 and newer report bf16 as supported and emulate it, so training runs, several times slower than with fp16`,
    'Use fp16 on these GPUs, or select Ampere or newer GPUs (A100, A10, L4, H100, ...).'))];
});

/** fp16/bf16/amp combinations DeepSpeed rejects. */
const precision = configRule((ctx, config) => {
  const findings: Finding[] = [];
  const fp16 = fp16Enabled(config);
  const bf16 = bf16Enabled(config);
  const stage = zeroStage(config);
  if (fp16 && bf16) {
    findings.push(error('deepspeed/precision', at(ctx, `${bf16Key(config)}.enabled`, 'true',
      `fp16 is enabled too and ${fails('bfloat16 and fp16 modes cannot be simultaneously enabled')}`,
      'Enable only one of fp16 and bf16 (bf16 needs Ampere or newer GPUs).')));
  }
  if (config.bf16 !== undefined && config.bfloat16 !== undefined) {
    findings.push(warning('deepspeed/precision', at(ctx, 'bfloat16', show(config.bfloat16),
      'DeepSpeed reads only the bf16 section when both are present and ignores this legacy alias',
      'Merge it into bf16 and remove it.')));
  }
  if (section(config, 'amp').enabled === true) {
    const ampConflict = stage !== 0
      ? [`ZeRO stage ${stage} is enabled and ${fails('Amp and ZeRO are not currently compatible, please use (legacy) fp16 mode which performs similar to amp opt_mode=O2')}`,
        'Use fp16 instead of amp, or set zero_optimization.stage to 0.']
      : fp16
        ? [`fp16 is enabled too and ${fails('Cannot enable both amp with (legacy) fp16 or bfloat16 mode')}`, 'Enable only one of amp and fp16.']
        : bf16
          ? [`bf16 is enabled too and ${fails('Model data type and gradient accumulation data type must be equal to use Amp')}`, 'Enable only one of amp and bf16.']
          : undefined;
    if (ampConflict) findings.push(error('deepspeed/precision', at(ctx, 'amp.enabled', 'true', ampConflict[0], ampConflict[1])));
  }
  if (fp16 && section(config, 'fp16').fp16_master_weights_and_grads === true) {
    const key = 'fp16.fp16_master_weights_and_grads';
    const device = section(config, 'zero_optimization.offload_optimizer').device;
    const type = optimizerType(config)?.toLowerCase();
    const cpuAdam = type === undefined || (['adam', 'adamw'].includes(type) && section(config, 'optimizer.params').torch_adam !== true);
    if (stage !== 2) {
      findings.push(error('deepspeed/precision', at(ctx, key, 'true',
        `ZeRO stage is ${show(stage)} and ${fails('Fp16_master_weights_and_grads is only supported with ZeRO Stage 2 for now.')}`,
        'Use ZeRO stage 2 with the optimizer offloaded to the CPU, or remove it.')));
    } else if (!['cpu', 'nvme'].includes(device) || !cpuAdam) {
      findings.push(error('deepspeed/precision', at(ctx, key, 'true',
        'DeepSpeed supports it only with ZeRO-Offload and DeepSpeedCPUAdam and otherwise fails with "fp16_master_and_gradients requires optimizer to support keeping fp16 master and gradients while keeping the optimizer states in fp32"',
        'Set zero_optimization.offload_optimizer.device to \'cpu\' and use optimizer Adam or AdamW without torch_adam, or remove it.')));
    }
  }
  if (bf16 && stage === 0 && section(config, 'data_types').grad_accum_dtype === 'bf16') {
    findings.push(error('deepspeed/precision', at(ctx, 'data_types.grad_accum_dtype', show('bf16'),
      `bf16 is enabled without ZeRO and ${fails('Bfloat16 wrapper must use a gradient accumulation type of fp32, enable ZeRO to use Bfloat16 gradient accumulation')}`,
      'Set it to \'fp32\', or enable ZeRO (stage 1 or more).')));
  }
  return findings;
});

/** The stage is 0 to 3; the removed legacy stage 1 fails. */
const zeroStageRule = configRule((ctx, config) => {
  const stage = zeroStage(config);
  const findings: Finding[] = [];
  if (!Number.isInteger(stage) || (stage as number) < 0 || (stage as number) > 3) {
    findings.push(error('deepspeed/zero-stage', at(ctx, 'zero_optimization.stage', show(stage),
      'DeepSpeed accepts only ZeRO stages 0 to 3', 'Use a ZeroStage value.')));
  }
  if (section(config, 'zero_optimization').legacy_stage1 === true) {
    findings.push(error('deepspeed/zero-stage', at(ctx, 'zero_optimization.legacy_stage1', 'true',
      fails('The deprecated version of ZeRO Stage 1 is not supported in deepspeed >= 0.5.9'),
      'Remove it; stage 1 is the current implementation.')));
  }
  return findings;
});

const OFFLOAD_DEVICES = ['none', 'cpu', 'nvme'];

/** Offload devices, NVMe paths and the stages each offload works with. */
const offload = configRule((ctx, config) => {
  const stage = zeroStage(config);
  const findings: Finding[] = [];
  for (const kind of ['offload_param', 'offload_optimizer']) {
    const path = `zero_optimization.${kind}`;
    const settings = section(config, path);
    if (Object.keys(settings).length === 0) continue;
    const device = settings.device ?? 'none';
    if (!OFFLOAD_DEVICES.includes(device)) {
      findings.push(error('deepspeed/offload', at(ctx, `${path}.device`, show(device),
        'DeepSpeed accepts only \'none\', \'cpu\' and \'nvme\'', 'Use an OffloadDevice value.')));
      continue;
    }
    if (device === 'nvme' && !settings.nvme_path) {
      findings.push(error('deepspeed/offload', at(ctx, `${path}.nvme_path`, 'not set',
        fails('"nvme_path" in DeepSpeed Config cannot be None if remote device is nvme'),
        'Set nvmePath to a directory on a fast local volume mounted on every worker.')));
    }
    if (device === 'none') continue;
    if (kind === 'offload_param' && stage !== 3) {
      findings.push(error('deepspeed/offload', at(ctx, `${path}.device`, show(device),
        `DeepSpeed offloads parameters only with ZeRO stage 3 and silently ignores it at stage ${show(stage)}`,
        'Set zero_optimization.stage to 3, or remove offload_param.')));
    }
    if (kind === 'offload_optimizer' && stage === 0) {
      findings.push(error('deepspeed/offload', at(ctx, `${path}.device`, show(device),
        'DeepSpeed offloads the optimizer only with ZeRO stages 1 to 3; at stage 0 it still builds a CPU optimizer and the setup breaks',
        'Set zero_optimization.stage to 1, 2 or 3, or remove offload_optimizer.')));
    }
    if (kind === 'offload_optimizer' && device === 'nvme' && (stage === 1 || stage === 2)) {
      findings.push(error('deepspeed/offload', at(ctx, `${path}.device`, show(device),
        `DeepSpeed offloads to NVMe only with ZeRO stage 3; at stage ${stage} it silently offloads to CPU memory instead`,
        'Set zero_optimization.stage to 3, or use device \'cpu\'.')));
    }
  }
  const ratio = section(config, 'zero_optimization.offload_optimizer').ratio;
  if (ratio !== undefined && (typeof ratio !== 'number' || ratio < 0 || ratio > 1)) {
    findings.push(error('deepspeed/offload', at(ctx, 'zero_optimization.offload_optimizer.ratio', show(ratio),
      'DeepSpeed accepts a ratio from 0 to 1', 'Set it between 0 and 1.')));
  } else if (typeof ratio === 'number' && ratio < 1 && stage !== 3) {
    findings.push(error('deepspeed/offload', at(ctx, 'zero_optimization.offload_optimizer.ratio', show(ratio),
      `ZeRO stage is ${show(stage)} and ${fails('Partial offloading only supported for ZeRO Stage 3.')}`,
      'Set ratio to 1, or zero_optimization.stage to 3.')));
  }
  return findings;
});

const ONE_BIT_OPTIMIZERS: { [type: string]: string } = {
  onebitadam: '1bit-Adam is not compatible with ZeRO',
  zerooneadam: '0/1 Adam is not compatible with ZeRO',
  onebitlamb: '1bit-Lamb is not compatible with ZeRO',
};
const ZERO_TESTED_OPTIMIZERS = ['adam', 'adamw', 'adagrad', 'lion'];

/** Which optimizers work with ZeRO, and stages 1 and 2 needing one at all. */
const zeroOptimizer = configRule((ctx, config) => {
  const stage = zeroStage(config);
  if (stage === 0 || !Number.isInteger(stage)) return [];
  const type = optimizerType(config);
  if (type === undefined) {
    if (config.optimizer !== undefined || (stage !== 1 && stage !== 2)) return [];
    return [warning('deepspeed/zero-optimizer', at(ctx, 'optimizer', 'not set',
      `${fails(`zero stage ${stage} requires an optimizer`)} unless the script passes its own optimizer to deepspeed.initialize`,
      'Add an optimizer section, or make sure the script passes an optimizer.'))];
  }
  const oneBit = ONE_BIT_OPTIMIZERS[type.toLowerCase()];
  if (oneBit) {
    return [error('deepspeed/zero-optimizer', at(ctx, 'optimizer.type', show(type),
      `ZeRO stage ${stage} is enabled and ${fails(oneBit)}`, 'Set zero_optimization.stage to 0, or use Adam or AdamW.'))];
  }
  if (ZERO_TESTED_OPTIMIZERS.includes(type.toLowerCase()) || config.zero_allow_untested_optimizer === true) return [];
  return [error('deepspeed/zero-optimizer', at(ctx, 'optimizer.type', show(type),
    `ZeRO stage ${stage} is enabled and ${fails('You are using an untested ZeRO Optimizer. Please add <"zero_allow_untested_optimizer": true> in the configuration file to use it.')}`,
    'Set zeroAllowUntestedOptimizer: true, or use Adam, AdamW, Adagrad or Lion.'))];
});

/** ZeRO-2 with reduce-scatter supports neither gradient pre-scaling nor a pre-divide factor. */
const zeroReduceScatter = configRule((ctx, config) => {
  if (zeroStage(config) !== 2 || section(config, 'zero_optimization').reduce_scatter === false) return [];
  const findings: Finding[] = [];
  if (config.prescale_gradients === true) {
    findings.push(error('deepspeed/zero-reduce-scatter', at(ctx, 'prescale_gradients', 'true',
      `ZeRO stage 2 reduce-scatters gradients and ${fails('pre-scale gradients is not yet supported with ZeRO-2 with reduce scatter enabled')}`,
      'Remove prescaleGradients, or set zero_optimization.reduce_scatter to false.')));
  }
  const factor = config.gradient_predivide_factor;
  if (factor !== undefined && factor !== 1) {
    findings.push(error('deepspeed/zero-reduce-scatter', at(ctx, 'gradient_predivide_factor', show(factor),
      `ZeRO stage 2 reduce-scatters gradients and ${fails('gradient_predivide_factor != 1.0 is not yet supported with ZeRO-2 with reduce scatter enabled')}`,
      'Remove gradientPredivideFactor, or set zero_optimization.reduce_scatter to false.')));
  }
  return findings;
});

/** Known optimizer types, forbidden params, and loss-scaling needs. */
const optimizer = configRule((ctx, config) => {
  const settings = section(config, 'optimizer');
  const findings: Finding[] = [];
  const type = settings.type;
  if (type !== undefined) {
    const known = typeof type === 'string' && (DEEPSPEED_OPTIMIZERS.some(t => t.toLowerCase() === type.toLowerCase()) || TORCH_OPTIMIZERS.includes(type));
    if (!known) {
      const suggestion = typeof type === 'string' ? closestKey(type, [...DEEPSPEED_OPTIMIZERS, ...TORCH_OPTIMIZERS]) : undefined;
      findings.push(error('deepspeed/optimizer', at(ctx, 'optimizer.type', show(type),
        fails(`${type} is not a supported DeepSpeed Optimizer`),
        suggestion ? `Did you mean '${suggestion}'?` : 'Use an OptimizerType value, or a torch.optim class name such as \'SGD\' (case-sensitive).')));
    }
  }
  const params = section(config, 'optimizer.params');
  if (params.max_grad_norm !== undefined) {
    findings.push(error('deepspeed/optimizer', at(ctx, 'optimizer.params.max_grad_norm', show(params.max_grad_norm),
      fails('\'max_grad_norm\' is not supported as an optimizer parameter, please switch to using the deepspeed parameter \'gradient_clipping\''),
      `Remove it and set gradientClipping: ${show(params.max_grad_norm)} instead.`)));
  }
  const takesBetas = typeof type === 'string' && !OPTIMIZERS_WITHOUT.betas.some(name => name.toLowerCase() === type.toLowerCase());
  if (takesBetas && params.betas !== undefined && !(Array.isArray(params.betas) && params.betas.length === 2 && params.betas.every((b: unknown) => typeof b === 'number'))) {
    findings.push(error('deepspeed/optimizer', at(ctx, 'optimizer.params.betas', show(params.betas),
      `${type} unpacks betas into (beta1, beta2) at its first step and fails with a ValueError on anything but two numbers`,
      'Give two coefficients, e.g. [0.9, 0.999].')));
  }
  const lowered = typeof type === 'string' ? type.toLowerCase() : undefined;
  if (lowered === 'lamb' || lowered === 'onebitlamb') {
    const lossScale = section(config, 'fp16').loss_scale ?? 0;
    const staticScale = bf16Enabled(config) ? 'bf16 fixes the loss scale at 1'
      : fp16Enabled(config) && lossScale !== 0 ? `fp16.loss_scale is ${show(lossScale)} (static)` : undefined;
    if (staticScale) {
      findings.push(error('deepspeed/optimizer', at(ctx, 'optimizer.type', show(type),
        `${staticScale} and ${fails(`DeepSpeed ${lowered} optimizer requires dynamic loss scaling`)}`,
        bf16Enabled(config) ? 'Use fp16 with loss_scale 0, or another optimizer such as AdamW.' : 'Set fp16.loss_scale to 0 (dynamic).')));
    }
  }
  if (lowered !== undefined && ONE_BIT_OPTIMIZERS[lowered] && !fp16Enabled(config)) {
    findings.push(warning('deepspeed/optimizer', at(ctx, 'optimizer.type', show(type),
      'DeepSpeed warns "Currently the convergence of 1-bit Adam is only verified under FP16"',
      'Enable fp16, or use Adam.')));
  }
  return findings;
});

/** Known scheduler types, their required params, and a warm-up that ends before training does. */
const scheduler = configRule((ctx, config) => {
  const settings = section(config, 'scheduler');
  const type = settings.type;
  if (type === undefined) return [];
  const required = typeof type === 'string' ? DEEPSPEED_SCHEDULERS[type] : undefined;
  if (required === undefined) {
    if (typeof type === 'string' && TORCH_SCHEDULERS.includes(type)) return [];
    const suggestion = typeof type === 'string' ? closestKey(type, [...Object.keys(DEEPSPEED_SCHEDULERS), ...TORCH_SCHEDULERS]) : undefined;
    return [error('deepspeed/scheduler', at(ctx, 'scheduler.type', show(type),
      fails(`DeepSpeed does not recognize LR scheduler ${type}`),
      suggestion ? `Did you mean '${suggestion}'?` : 'Use a SchedulerType value, or a torch.optim.lr_scheduler class name (case-sensitive).'))];
  }
  const params = section(config, 'scheduler.params');
  const missing = required.filter(param => params[param] === undefined).map(param => error('deepspeed/scheduler',
    at(ctx, `scheduler.params.${param}`, 'not set',
      `DeepSpeed's ${type} requires it and fails with a TypeError when it builds the scheduler`,
      param === 'total_num_steps' ? 'Set scheduler.totalNumSteps to the number of training steps.' : `Set scheduler.${SCHEDULER_PARAM_PROPS[param] ?? `extraParams.${param}`}.`)));
  // DeepSpeed passes every param to the scheduler's constructor, which takes only its own.
  const accepted = DEEPSPEED_SCHEDULER_PARAMS[type];
  const typedScheduler = ctx.props.deepspeedConfig?.scheduler as { [key: string]: unknown } | undefined;
  const foreign = Object.keys(params).filter(param => !accepted.includes(param)).map(param => {
    const prop = SCHEDULER_PARAM_PROPS[param];
    const typed = prop !== undefined && typedScheduler?.[prop] !== undefined;
    const takers = Object.entries(DEEPSPEED_SCHEDULER_PARAMS).filter(([, list]) => list.includes(param)).map(([name]) => name);
    return error('deepspeed/scheduler-params', {
      path: ctx.path,
      field: typed ? `deepspeedConfig.scheduler.${prop}` : `ds_config.scheduler.params.${param}`,
      value: show(params[param]),
      why: `DeepSpeed passes every scheduler param to ${type}'s constructor, which does not take ${param}${takers.length > 0 ? ` (only ${takers.join(', ')} do)` : ''}, and fails with "TypeError: __init__() got an unexpected keyword argument '${param}'"`,
      fix: `Remove it; ${type} takes ${accepted.filter(p => p !== 'last_batch_iteration').map(p => SCHEDULER_PARAM_PROPS[p] ?? p).join(', ')}.`,
    });
  });
  if (missing.length > 0 || foreign.length > 0) return [...missing, ...foreign];
  const total = params.total_num_steps;
  const warmup = params.warmup_num_steps ?? 1000;
  if (required.includes('total_num_steps') && typeof total === 'number' && typeof warmup === 'number' && total < warmup) {
    return [warning('deepspeed/scheduler', at(ctx, 'scheduler.params.total_num_steps', show(total),
      `it is less than warmup_num_steps ${warmup}, so training ends during warm-up (DeepSpeed warns "total_num_steps ${total} is less than warmup_num_steps ${warmup}")`,
      'Raise totalNumSteps or lower warmupNumSteps.'))];
  }
  return [];
});

/** Data types, checkpoint settings and the vocabulary size. */
const miscellaneous = configRule((ctx, config) => {
  const findings: Finding[] = [];
  const dtype = config.communication_data_type;
  if (dtype !== undefined && dtype !== null && (typeof dtype !== 'string' || !['fp16', 'bf16', 'fp32'].includes(dtype.toLowerCase()))) {
    findings.push(error('deepspeed/data-types', at(ctx, 'communication_data_type', show(dtype),
      fails(`Invalid communication_data_type. Supported data types: ['fp16', 'bf16', 'fp32']. Got: ${typeof dtype === 'string' ? dtype.toLowerCase() : dtype}`),
      'Use a DeepSpeedDataType value.')));
  }
  const tagValidation = section(config, 'checkpoint').tag_validation;
  if (tagValidation !== undefined && (typeof tagValidation !== 'string' || !['IGNORE', 'WARN', 'FAIL'].includes(tagValidation.toUpperCase()))) {
    findings.push(error('deepspeed/checkpoint', at(ctx, 'checkpoint.tag_validation', show(tagValidation),
      fails(`Checkpoint config contains invalid tag_validation value of ${String(tagValidation).toUpperCase()}, expecting one of ['WARN', 'IGNORE', 'FAIL']`),
      'Use a CheckpointTagValidation value.')));
  }
  const pipelineStage = section(config, 'checkpoint.parallel_write').pipeline_stage;
  if (pipelineStage !== undefined && typeof pipelineStage !== 'boolean') {
    findings.push(error('deepspeed/checkpoint', at(ctx, 'checkpoint.parallel_write.pipeline_stage', show(pipelineStage),
      fails(`checkpoint::parallel_write::pipeline_stage value of '${pipelineStage}' is invalid, expecting: true or false`),
      'Use true or false.')));
  }
  const vocabulary = config.vocabulary_size;
  if (typeof vocabulary === 'number' && vocabulary % 8 !== 0) {
    findings.push(warning('deepspeed/vocabulary-size', at(ctx, 'vocabulary_size', show(vocabulary),
      'DeepSpeed warns that a vocabulary size not aligned to 8 underuses tensor cores',
      `Pad the vocabulary to a multiple of 8, e.g. ${Math.ceil(vocabulary / 8) * 8}.`)));
  }
  return findings;
});

/** Params that only DeepSpeed's Adam and AdamW take; DeepSpeed removes them for no other optimizer. */
const ADAM_ONLY_PARAMS: Array<[string, string]> = [['torchAdam', 'torch_adam'], ['adamWMode', 'adam_w_mode']];

/**
 * One optimizer and one scheduler: the typed config renders `kind` and drops a `torchOptimizer` or
 * `torchScheduler` given next to it, and Adam-only params break every other optimizer.
 */
const oneChoice: JobRule = (ctx: JobFacts): Finding[] => {
  const config = ctx.props.deepspeedConfig;
  const findings: Finding[] = [];
  const both: Array<[string, string | undefined, string | undefined, string]> = [
    ['optimizer', config?.optimizer?.kind, config?.optimizer?.torchOptimizer, 'torchOptimizer'],
    ['scheduler', config?.scheduler?.kind, config?.scheduler?.torchScheduler, 'torchScheduler'],
  ];
  for (const [section, type, torch, torchProp] of both) {
    if (type === undefined || torch === undefined) continue;
    findings.push(error('deepspeed/one-choice', {
      path: ctx.path,
      field: `deepspeedConfig.${section}.${torchProp}`,
      value: show(torch),
      why: `deepspeedConfig.${section}.kind is ${show(type)} too, and ds_config.json has one ${section} type, so ${show(torch)} would be silently dropped`,
      fix: `Set one of deepspeedConfig.${section}.kind and deepspeedConfig.${section}.${torchProp}.`,
    }));
  }
  const type = ctx.deepspeedConfig ? optimizerType(ctx.deepspeedConfig) : undefined;
  if (type !== undefined && !['adam', 'adamw'].includes(type.toLowerCase())) {
    for (const [prop, param] of ADAM_ONLY_PARAMS) {
      const value = (config?.optimizer as { [key: string]: unknown } | undefined)?.[prop];
      if (value === undefined) continue;
      findings.push(error('deepspeed/one-choice', {
        path: ctx.path,
        field: `deepspeedConfig.optimizer.${prop}`,
        value: show(value),
        why: `DeepSpeed removes ${param} from the params of Adam and AdamW only and passes it to ${type}'s constructor, which fails with "TypeError: __init__() got an unexpected keyword argument '${param}'"`,
        fix: `Remove ${prop}: it applies to Adam and AdamW only.`,
      }));
    }
  }
  return findings;
};

/** Leaf paths of a JSON value, with their values (arrays are leaves). */
function leaves(value: unknown, path: string[] = []): Array<[string[], unknown]> {
  if (!isObject(value)) return [[path, value]];
  return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]));
}

/**
 * Whether a JSON-like value holds NaN or Infinity anywhere. The typed configs of a sweep's jobs
 * share most of their sections (an axis replaces one), so each section object is scanned once.
 */
const scanned = new WeakMap<object, boolean>();
function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  const known = scanned.get(value);
  if (known !== undefined) return known;
  let found = false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasNonFinite(item)) { found = true; break; }
  } else {
    for (const key in value) if (hasNonFinite((value as Json)[key])) { found = true; break; }
  }
  scanned.set(value, found);
  return found;
}

/** Typed params of DeepSpeed's optimizers and torch.optim classes that do not take them (TypeError). */
const OPTIMIZERS_WITHOUT: { [param: string]: string[] } = {
  betas: ['SGD', 'MuSGD', 'Adagrad', 'RMSprop', 'Adadelta', 'ASGD', 'Rprop', 'LBFGS'],
  eps: ['SGD', 'MuSGD', 'Lion', 'ASGD', 'Rprop', 'LBFGS'],
};
const OPTIMIZER_PARAM_PROPS: { [param: string]: string } = { betas: 'betas', eps: 'eps' };
/** ZeRO settings that only stage 3 reads. */
const STAGE_3_ONLY: Array<[string, string]> = [
  ['stage3PrefetchBucketSize', 'stage3_prefetch_bucket_size'], ['stage3ParamPersistenceThreshold', 'stage3_param_persistence_threshold'],
  ['stage3MaxLiveParameters', 'stage3_max_live_parameters'], ['stage3MaxReuseDistance', 'stage3_max_reuse_distance'],
  ['stage3Gather16bitWeightsOnModelSave', 'stage3_gather_16bit_weights_on_model_save'], ['subGroupSize', 'sub_group_size'],
  ['zeroHpzPartitionSize', 'zero_hpz_partition_size'], ['zeroQuantizedWeights', 'zero_quantized_weights'],
];

/**
 * Typed settings that would not reach DeepSpeed, or that the chosen optimizer or scheduler
 * cannot take: a value JSON cannot hold, one an escape hatch overwrites, one DeepSpeed reads
 * only with another setting, or a param a torch class rejects.
 */
const ignoredSettings: JobRule = (ctx: JobFacts): Finding[] => {
  const typed = ctx.props.deepspeedConfig;
  if (!typed) return [];
  const findings: Finding[] = [];
  const finding = (field: string, value: unknown, why: string, fix: string) =>
    findings.push(error('deepspeed/ignored-settings', { path: ctx.path, field, value: show(value), why, fix }));
  // NaN and Infinity: JSON writes null in their place. (A cheap scan first: this rule runs for every job.)
  if (hasNonFinite(typed)) for (const [path, value] of leaves(typed)) {
    const numbers = Array.isArray(value) ? value : [value];
    if (numbers.some(n => typeof n === 'number' && !Number.isFinite(n))) {
      finding(`deepspeedConfig.${path.join('.')}`, value, 'JSON has no NaN or Infinity, so ds_config.json would hold null in its place and the setting would be lost (or DeepSpeed would fail on the null)',
        'Set it to a finite number, or remove it.');
    }
  }
  // extraParams and raw are merged over the typed settings: a different value there drops the typed one.
  if (typed.raw || typed.optimizer?.extraParams || typed.scheduler?.extraParams) {
    const plain = renderDeepSpeedConfig({
      ...typed, raw: undefined,
      optimizer: typed.optimizer && { ...typed.optimizer, extraParams: undefined },
      scheduler: typed.scheduler && { ...typed.scheduler, extraParams: undefined },
    });
    const sources: Array<[string, unknown, string[]]> = [
      ['deepspeedConfig.optimizer.extraParams', typed.optimizer?.extraParams, ['optimizer', 'params']],
      ['deepspeedConfig.scheduler.extraParams', typed.scheduler?.extraParams, ['scheduler', 'params']],
      ['deepspeedConfig.raw', typed.raw, []],
    ];
    for (const [prop, source, prefix] of sources) {
      if (!isObject(source)) continue;
      for (const [path, value] of leaves(source)) {
        const key = [...prefix, ...path];
        const written = key.reduce<any>((node, k) => (isObject(node) ? node[k] : undefined), plain);
        if (written === undefined || isObject(written) || JSON.stringify(written) === JSON.stringify(value)) continue;
        finding(`${prop}.${path.join('.')}`, value,
          `a typed setting writes ds_config.${key.join('.')} as ${show(written)} too, and ${prop.slice('deepspeedConfig.'.length)} is merged over it, so ${show(written)} would be silently dropped`,
          'Set the value in one place: the typed prop, or the escape hatch alone.');
      }
    }
  }
  const optimizer = typed.optimizer;
  const optimizerName = optimizer?.kind ?? optimizer?.torchOptimizer;
  if (optimizer && optimizerName === undefined && Object.keys(optimizer).length > 0) {
    finding('deepspeedConfig.optimizer', optimizer, 'without kind or torchOptimizer ds_config.json has an optimizer section with no type, and DeepSpeed builds no optimizer from it, so its params would be silently dropped',
      'Set deepspeedConfig.optimizer.kind (e.g. OptimizerType.ADAMW) or torchOptimizer, or remove the section.');
  }
  if (optimizerName !== undefined && optimizer) {
    for (const [param, without] of Object.entries(OPTIMIZERS_WITHOUT)) {
      const value = (optimizer as { [key: string]: unknown })[OPTIMIZER_PARAM_PROPS[param]];
      if (value === undefined || !without.some(name => name.toLowerCase() === optimizerName.toLowerCase())) continue;
      finding(`deepspeedConfig.optimizer.${OPTIMIZER_PARAM_PROPS[param]}`, value,
        `DeepSpeed passes every optimizer param to ${optimizerName}'s constructor, which does not take ${param}, and fails with "TypeError: __init__() got an unexpected keyword argument '${param}'"`,
        `Remove ${OPTIMIZER_PARAM_PROPS[param]}: ${optimizerName} has no ${param}.`);
    }
  }
  if (optimizer?.kind === OptimizerType.ADAMW && optimizer.adamWMode === false) {
    finding('deepspeedConfig.optimizer.adamWMode', false, 'DeepSpeed always uses decoupled weight decay for AdamW (adam_w_mode only switches Adam), so false would be silently ignored',
      'Use kind OptimizerType.ADAM with adamWMode: false for Adam with L2 weight decay, or remove adamWMode.');
  }
  const scheduler = typed.scheduler as { [key: string]: unknown } | undefined;
  if (scheduler && typed.scheduler?.kind === undefined) {
    const typedParams = Object.values(SCHEDULER_PARAM_PROPS).filter(prop => scheduler[prop] !== undefined);
    if (typed.scheduler?.torchScheduler === undefined && Object.keys(scheduler).length > 0) {
      finding('deepspeedConfig.scheduler', scheduler, 'without kind or torchScheduler ds_config.json has a scheduler section with no type, and DeepSpeed builds no scheduler from it, so its params would be silently dropped',
        'Set deepspeedConfig.scheduler.kind (e.g. SchedulerType.WARMUP_LR) or torchScheduler, or remove the section.');
    } else if (typed.scheduler?.torchScheduler !== undefined) {
      for (const prop of typedParams) {
        const param = Object.keys(SCHEDULER_PARAM_PROPS).find(p => SCHEDULER_PARAM_PROPS[p] === prop)!;
        finding(`deepspeedConfig.scheduler.${prop}`, scheduler[prop],
          `DeepSpeed passes every scheduler param to torch.optim.lr_scheduler.${typed.scheduler.torchScheduler}, which takes none of DeepSpeed's scheduler params, and fails with "TypeError: __init__() got an unexpected keyword argument '${param}'"`,
          `Give ${typed.scheduler.torchScheduler}'s own arguments in extraParams (e.g. { step_size: 1000 } for StepLR), or use a DeepSpeed scheduler kind.`);
      }
    }
  }
  const zero = typed.zeroOptimization;
  if (zero) {
    for (const [prop, offload] of [['offloadOptimizer', zero.offloadOptimizer], ['offloadParam', zero.offloadParam]] as const) {
      if (offload?.nvmePath !== undefined && offload.device !== OffloadDevice.NVME) {
        finding(`deepspeedConfig.zeroOptimization.${prop}.nvmePath`, offload.nvmePath, `DeepSpeed reads nvme_path only with device 'nvme', and the device is ${show(offload.device)}, so it would be silently ignored`,
          'Set device: OffloadDevice.NVME to offload to that path, or remove nvmePath.');
      }
    }
    if (typeof zero.stage === 'number' && zero.stage < 3) {
      for (const [prop, key] of STAGE_3_ONLY) {
        const value = (zero as unknown as { [key: string]: unknown })[prop];
        if (value === undefined) continue;
        finding(`deepspeedConfig.zeroOptimization.${prop}`, value, `DeepSpeed reads ${key} only with ZeRO stage 3, and the stage is ${zero.stage}, so it would be silently ignored`,
          `Set zeroOptimization.stage to ZeroStage.STAGE_3, or remove ${prop}.`);
      }
    }
  }
  return findings;
};

/** DeepSpeed's own configuration checks (deepspeed/runtime/config.py and the engine), at synth time. */
export const DEEPSPEED_RULES: JobRule[] = [
  readsOnlyConfig(autoValues), readsOnlyConfig(unknownKeys), readsOnlyConfig(deprecatedKeys), readsWholeJob(batchSize),
  readsOnlyConfig(precision), readsWholeJob(bf16Hardware), readsOnlyConfig(zeroStageRule), readsOnlyConfig(offload),
  readsOnlyConfig(zeroOptimizer), readsOnlyConfig(zeroReduceScatter), readsOnlyConfig(optimizer), readsOnlyConfig(scheduler),
  readsOnlyConfig(oneChoice), readsOnlyConfig(ignoredSettings), readsOnlyConfig(miscellaneous),
];
