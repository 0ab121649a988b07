import { compareQuantities, parseQuantity } from '../quantity';
import { SHARED_MEMORY_PATH } from '../replica';
import { JobRule } from './context';
import { JobFacts, mainContainerOf, PodFacts, specOf } from './facts';
import { error, Finding, plural, show, warning } from './finding';
import { readsWholeJob } from './shared-findings';
import { gpuCount, mountPaths } from './manifest';

/*
 * Settings that synthesize and schedule, but break the ranks once they run.
 */

type Json = { [key: string]: any };

/** The value at a dotted path of the rendered DeepSpeed config. */
function configValue(config: Json | undefined, path: string): any {
  return path.split('.').reduce<any>((node, key) => (node !== null && typeof node === 'object' ? node[key] : undefined), config);
}

/**
 * The name of a DeepSpeed setting in the words the user wrote: the typed prop
 * (`deepspeedConfig.fp16.enabled`) when it is set, else the key of the rendered file
 * (`ds_config.fp16.enabled`, which `raw` and typed props both write).
 */
function configField(ctx: JobFacts, typedPath: string, dsPath: string): string {
  const typed = configValue(ctx.props.deepspeedConfig as Json | undefined, typedPath);
  return typed !== undefined && configValue(ctx.props.deepspeedConfig?.raw, dsPath) === undefined
    ? `deepspeedConfig.${typedPath}` : `ds_config.${dsPath}`;
}

function rankPods(ctx: JobFacts): PodFacts[] {
  return ctx.pods.filter(pod => pod.hostsRanks);
}

/** fp16 and bf16 are GPU settings: on pods without GPUs DeepSpeed falls back to its CPU accelerator. */
const precisionWithoutGpus: JobRule = (ctx: JobFacts): Finding[] => {
  const config = ctx.deepspeedConfig;
  if (!config) return [];
  const bf16Key = config.bf16 !== undefined || config.bfloat16 === undefined ? 'bf16' : 'bfloat16';
  const fp16 = configValue(config, 'fp16.enabled') === true;
  const bf16 = configValue(config, `${bf16Key}.enabled`) === true;
  if (!fp16 && !bf16) return [];
  const pods = rankPods(ctx);
  if (pods.length === 0 || pods.some(pod => gpuCount(mainContainerOf(pod), ctx.launch.gpuResourceName) > 0)) return [];
  const findings: Finding[] = [];
  const noGpus = 'no pod that hosts ranks requests a GPU (workers.gpusPerWorker is 0), so DeepSpeed finds no CUDA device and falls back to its CPU accelerator ("Setting accelerator to CPU")';
  if (fp16) {
    findings.push(error('runtime/precision-without-gpus', {
      path: ctx.path,
      field: configField(ctx, 'fp16.enabled', 'fp16.enabled'),
      value: 'true',
      why: `${noGpus}, which accepts fp16 only on CPUs with native fp16 arithmetic (oneDNN fp16, rare on GPU nodes) and otherwise stops deepspeed.initialize`,
      fix: 'Set workers.gpusPerWorker to the GPUs of each worker, or disable fp16 for a CPU-only run.',
    }));
  }
  if (bf16) {
    findings.push(warning('runtime/precision-without-gpus', {
      path: ctx.path,
      field: configField(ctx, 'bf16.enabled', `${bf16Key}.enabled`),
      value: 'true',
      why: `${noGpus}, where bf16 runs on the CPU cores, orders of magnitude slower than on GPUs`,
      fix: 'Set workers.gpusPerWorker to the GPUs of each worker, or disable bf16 for a CPU-only test run.',
    }));
  }
  return findings;
};

/** The variables torch.distributed reads, which DeepSpeed's MPI discovery sets per rank. */
const DISTRIBUTED_ENV = ['RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'];

/**
 * env reaches every rank with the same value. deepspeed.init_distributed (which
 * deepspeed.initialize calls) sets these five from MPI on each rank unless all five are set already.
 */
const distributedEnv: JobRule = (ctx: JobFacts): Finding[] => {
  const env = ctx.props.env ?? {};
  const given = DISTRIBUTED_ENV.filter(name => env[name] !== undefined);
  if (given.length === 0) return [];
  const shown = (name: string) => {
    const value = env[name]!.value;
    return typeof value === 'string' ? show(value) : 'taken from a reference';
  };
  if (given.length === DISTRIBUTED_ENV.length) {
    return [error('runtime/distributed-env', {
      path: ctx.path,
      field: 'env.RANK',
      value: shown('RANK'),
      why: 'with RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT all in env, every rank gets the same five values and deepspeed.init_distributed skips its MPI discovery, so all ranks claim the same rank and torch.distributed\'s rendezvous fails or hangs',
      fix: 'Remove RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT from env: DeepSpeed derives each rank\'s own from MPI.',
    })];
  }
  return given.map(name => error('runtime/distributed-env', {
    path: ctx.path,
    field: `env.${name}`,
    value: shown(name),
    why: `not all of ${DISTRIBUTED_ENV.filter(n => n !== name).join(', ').replace(/, ([A-Z_]+)$/, ' and $1')} are in env as well, so deepspeed.init_distributed runs its MPI discovery and overwrites ${name} on every rank with the value from MPI: the setting would be silently lost`,
    fix: name === 'MASTER_PORT'
      ? 'Remove MASTER_PORT from env, and pass distributed_port to deepspeed.init_distributed in the script to choose the port.'
      : `Remove ${name} from env: DeepSpeed derives each rank's own from MPI.`,
  }));
};

/** Devices a CUDA_VISIBLE_DEVICES value lists. */
function listedDevices(value: string): number {
  return value.split(',').map(v => v.trim()).filter(v => v !== '').length;
}

/**
 * Every rank gets the variable (the job forwards its env with -x), and DeepSpeed selects
 * device `local_rank` among the devices it lists.
 */
const cudaVisibleDevices: JobRule = (ctx: JobFacts): Finding[] => {
  const launcher = ctx.pods.find(pod => pod.role === 'Launcher');
  const variable = (mainContainerOf(launcher)?.env ?? []).find((e: any) => e.name === 'CUDA_VISIBLE_DEVICES');
  if (!variable || !ctx.launch.argv.some(word => word === 'CUDA_VISIBLE_DEVICES' || word.split(',').includes('CUDA_VISIBLE_DEVICES'))) return [];
  const field = ctx.props.env?.CUDA_VISIBLE_DEVICES !== undefined ? 'env.CUDA_VISIBLE_DEVICES' : 'launcher env CUDA_VISIBLE_DEVICES';
  const slots = ctx.launch.slotsPerWorker;
  const value = variable.value;
  const fix = 'Remove CUDA_VISIBLE_DEVICES: the device plugin already gives each pod exactly its GPUs, numbered from 0, and each rank selects GPU local_rank among them.';
  if (typeof value === 'string' && listedDevices(value) >= slots) {
    return [warning('runtime/cuda-visible-devices', {
      path: ctx.path,
      field,
      value: show(value),
      why: 'it is forwarded to every rank on every pod, where the device plugin has already narrowed the GPUs to the pod\'s own, so at best it changes nothing',
      fix,
    })];
  }
  return [error('runtime/cuda-visible-devices', {
    path: ctx.path,
    field,
    value: value === undefined ? 'taken from a reference' : show(value),
    why: `it is forwarded to every rank, and DeepSpeed calls set_device(local_rank) for local ranks 0 to ${slots - 1} (${plural(slots, 'slot')} per pod), so ranks whose local rank is not among the ${typeof value === 'string' ? plural(listedDevices(value), 'listed device') : 'devices it lists'} fail with "invalid device ordinal"`,
    fix,
  })];
};

/** The memory-backed /dev/shm volume of a pod and the container's memory limit. */
function sharedMemoryAndLimit(pod: PodFacts): { size: string; limit: string } | undefined {
  const container = mainContainerOf(pod);
  const mount = (container?.volumeMounts ?? []).find((m: any) => m.mountPath === SHARED_MEMORY_PATH);
  const volume = (specOf(pod).volumes ?? []).find((v: any) => v.name === mount?.name && v.emptyDir?.medium === 'Memory');
  const size = volume?.emptyDir?.sizeLimit;
  const limit = container?.resources?.limits?.memory;
  if (size === undefined || limit === undefined) return undefined;
  return { size: String(size), limit: String(limit) };
}

/** /dev/shm is tmpfs whose pages count against the container's memory limit. */
const sharedMemoryLimit: JobRule = (ctx: JobFacts): Finding[] => {
  const over = rankPods(ctx).flatMap(pod => {
    const pair = sharedMemoryAndLimit(pod);
    const size = parseQuantity(pair?.size);
    const limit = parseQuantity(pair?.limit);
    // The kubelet leaves a limit of 0 unset (props/sizes reports it); equal leaves the ranks no memory of their own.
    return pair && size && limit && limit.mantissa !== 0n && compareQuantities(size, limit) >= 0 ? [{ pod, ...pair }] : [];
  });
  if (over.length === 0) return [];
  const size = over[0].size;
  const limits = over.map(o => `${o.pod.role === 'Launcher' ? 'the launcher' : 'the workers'} ${show(o.limit)}`).join(', ');
  const limitProps = [...new Set(over.map(o => {
    const given = o.pod.prop === 'launcher' ? ctx.props.launcher : ctx.props.workers;
    return given?.memoryLimit !== undefined ? `${o.pod.prop}.memoryLimit` : `${o.pod.prop}.memory`;
  }))];
  const given = ctx.props.workers.sharedMemorySize !== undefined;
  return [error('runtime/shared-memory-limit', {
    path: ctx.path,
    field: 'workers.sharedMemorySize',
    value: given ? show(size) : `not set, so 1Gi per slot: ${show(size)}`,
    why: `the memory-backed /dev/shm counts against the memory limit of its pod (${limits}), so the ranks are OOM-killed before /dev/shm is full, with no memory left for the processes themselves`,
    fix: `${given ? 'Lower' : 'Set'} workers.sharedMemorySize well below the memory limit, or raise ${limitProps.join(' and ')}.`,
  })];
};

/** Where DeepSpeed swaps offloaded tensors to NVMe. */
const NVME_PATHS: Array<[string, string]> = [
  ['zeroOptimization.offloadParam.nvmePath', 'zero_optimization.offload_param.nvme_path'],
  ['zeroOptimization.offloadOptimizer.nvmePath', 'zero_optimization.offload_optimizer.nvme_path'],
];

function isWithin(path: string, dir: string): boolean {
  const base = dir.replace(/\/+$/, '');
  return path === base || path.startsWith(`${base}/`);
}

/** NVMe offload needs a fast volume mounted at its path on every pod that hosts ranks. */
const nvmeOffloadPath: JobRule = (ctx: JobFacts): Finding[] => (configValue(ctx.deepspeedConfig, 'zero_optimization.stage') !== 3 ? [] : NVME_PATHS.flatMap(([typed, dsPath]) => {
  const device = configValue(ctx.deepspeedConfig, dsPath.replace(/nvme_path$/, 'device'));
  const path = configValue(ctx.deepspeedConfig, dsPath);
  // Below stage 3 DeepSpeed does not swap to NVMe at all (reported by deepspeed/offload).
  if (device !== 'nvme' || typeof path !== 'string' || path === '' || configValue(ctx.deepspeedConfig, 'zero_optimization.stage') !== 3) return [];
  const field = configField(ctx, typed, dsPath);
  if (!path.startsWith('/')) {
    return [error('runtime/nvme-offload-path', {
      path: ctx.path,
      field,
      value: show(path),
      why: 'each rank resolves a relative path against its own working directory, on the container\'s writable layer rather than an NVMe volume',
      fix: 'Use the absolute path of a local NVMe volume mounted on every worker, e.g. /local_nvme.',
    })];
  }
  const unmounted = rankPods(ctx).filter(pod => !mountPaths(pod).some(dir => dir !== '/' && isWithin(path, dir)));
  if (unmounted.length === 0) {
    // The mount that holds the path (the deepest one) must be writable: DeepSpeed writes its swap files there.
    const readOnly = rankPods(ctx).map(pod => ((mainContainerOf(pod)?.volumeMounts ?? []) as any[])
      .filter(m => typeof m.mountPath === 'string' && m.mountPath !== '/' && isWithin(path, m.mountPath))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0]).find(m => m?.readOnly === true);
    if (!readOnly) return [];
    return [error('runtime/nvme-offload-path', {
      path: ctx.path,
      field,
      value: show(path),
      why: `volume '${readOnly.name}' is mounted read-only at ${readOnly.mountPath}, and DeepSpeed writes its swap files there, so the first swap fails with "Read-only file system"`,
      fix: `Mount '${readOnly.name}' read-write, or offload to a writable local NVMe volume.`,
    })];
  }
  return [error('runtime/nvme-offload-path', {
    path: ctx.path,
    field,
    value: show(path),
    why: `nothing is mounted there on the ${unmounted.map(p => p.role === 'Launcher' ? 'launcher' : 'worker').join(' and ')} pods, so DeepSpeed swaps the offloaded tensors into the container's writable layer on the node's root disk, not an NVMe drive, and the kubelet evicts the pod once that disk runs short`,
    fix: 'Mount a local NVMe volume at that path on every pod that hosts ranks (storage.volumes or job.addVolume).',
  })];
}));

/** Rules for settings that break the ranks at run time. */
export const RUNTIME_RULES: JobRule[] = [distributedEnv, readsWholeJob(precisionWithoutGpus), cudaVisibleDevices, sharedMemoryLimit, readsWholeJob(nvmeOffloadPath)];
