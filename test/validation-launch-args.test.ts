// The launch checks that look at what the ranks run: the script's DeepSpeed flags, and bf16 on the GPUs the pods are pinned to.
import { Size } from 'cdk8s';
import { DeepSpeedTrainingImage, Validation } from '../src';
import { buildJob, jobProps, synthToTempDir } from './support/synth';

const IMAGE_0_16 = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { deepspeedVersion: '0.16.3' });
const IMAGE_0_12 = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { deepspeedVersion: '0.12.6' });

function findings(props: Parameters<typeof jobProps>[0]) {
  return Validation.validateJob(buildJob(jobProps(props)).job).map(f => `${f.severity}: ${f.message}`);
}

describe('--deepspeed_mpi', () => {
  test('an error when the image has DeepSpeed 0.13.1 or later, and nothing is written', () => {
    const outcome = synthToTempDir(jobProps({ image: IMAGE_0_16, args: ['--deepspeed', '--deepspeed_mpi'] }));
    expect(outcome.errors).toEqual([
      'test/train: args is \'--deepspeed_mpi\': the image has DeepSpeed 0.16.3, which no longer knows the flag (removed in 0.13.1), so the script\'s argparse exits with "unrecognized arguments: --deepspeed_mpi" on every rank. Remove it: DeepSpeed finds the MPI ranks through mpi4py by itself.',
    ]);
    expect(outcome.written).toEqual([]);
  });

  test('a warning when the version is unknown or older', () => {
    expect(findings({ args: ['--deepspeed_mpi'] })).toEqual([
      'warning: test/train: args is \'--deepspeed_mpi\': DeepSpeed 0.13.1 removed the flag, so with a newer DeepSpeed (the image does not declare its version) the script\'s argparse exits with "unrecognized arguments: --deepspeed_mpi". Remove it: DeepSpeed finds the MPI ranks through mpi4py by itself.',
    ]);
    expect(findings({ image: IMAGE_0_12, args: ['--deepspeed_mpi'] })).toEqual([
      'warning: test/train: args is \'--deepspeed_mpi\': the flag does nothing with DeepSpeed 0.12.6 and breaks the script from DeepSpeed 0.13.1 on. Remove it: DeepSpeed finds the MPI ranks through mpi4py by itself.',
    ]);
  });

  test('no finding without the flag', () => {
    expect(findings({ image: IMAGE_0_16, args: ['--deepspeed'] })).toEqual([]);
  });
});

describe('--deepspeed_config in the script arguments', () => {
  test('twice: the job\'s mounted config and one in args', () => {
    expect(findings({ args: ['--deepspeed_config', '/opt/ds.json'], deepspeedConfig: { trainMicroBatchSizePerGpu: 4 } })).toEqual([
      'error: test/train: args is \'--deepspeed_config\' given 2 times (\'/opt/ds.json\', \'/etc/deepspeed/ds_config.json\'): the script\'s argparse keeps only the last one, so the other config is silently ignored. Pass the config once: remove --deepspeed_config from args (the job passes the mounted deepspeedConfig), or set passDeepSpeedConfigArgument: false.',
    ]);
  });

  test('a relative path fails', () => {
    expect(findings({ args: ['--deepspeed_config=ds_config.json'] })).toEqual([
      'error: test/train: args --deepspeed_config is \'ds_config.json\': every rank resolves a relative path against its own working directory on its worker pod, where the file is not mounted, and DeepSpeed fails with "Expected a string path to an existing deepspeed config". Give the config as deepspeedConfig (mounted at /etc/deepspeed/ds_config.json), or use an absolute path on a volume mounted on every worker.',
    ]);
  });

  test('an absolute path outside every worker volume is a warning, inside one it is fine', () => {
    expect(findings({ args: ['--deepspeed_config', '/opt/configs/ds.json'] })).toEqual([
      'warning: test/train: args --deepspeed_config is \'/opt/configs/ds.json\': no volume is mounted there on the worker pods, so unless the image contains the file DeepSpeed fails with "Expected a string path to an existing deepspeed config". Give the config as deepspeedConfig (mounted on every pod), or mount the file\'s volume with job.addVolume.',
    ]);
    expect(findings({ args: ['--deepspeed_config', '/dev/shm/ds.json'] })).toEqual([]);
  });

  test('the job\'s own mounted config passes', () => {
    expect(findings({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4 } })).toEqual([]);
  });
});

describe('bf16 on GPUs without bfloat16', () => {
  const bf16 = { trainMicroBatchSizePerGpu: 4, bf16: { enabled: true } };

  test('a warning when the workers are pinned to a pre-Ampere GPU model', () => {
    expect(findings({ deepspeedConfig: bf16, scheduling: { gpuProduct: 'Tesla-V100-SXM2-16GB' } })).toEqual([
      'warning: test/train: ds_config.bf16.enabled is true: the pods are pinned to \'Tesla-V100-SXM2-16GB\' GPUs (nodeSelector nvidia.com/gpu.product), which predate Ampere and have no bfloat16 arithmetic: torch 2.3 and newer report bf16 as supported and emulate it, so training runs, several times slower than with fp16. Use fp16 on these GPUs, or select Ampere or newer GPUs (A100, A10, L4, H100, ...).',
    ]);
  });

  test('nothing on Ampere or newer, on an unknown model, or with fp16', () => {
    expect(findings({ deepspeedConfig: bf16, scheduling: { gpuProduct: 'NVIDIA-A100-SXM4-80GB' } })).toEqual([]);
    expect(findings({ deepspeedConfig: bf16, scheduling: { gpuProduct: 'NVIDIA-H100-80GB-HBM3' } })).toEqual([]);
    expect(findings({ deepspeedConfig: bf16 })).toEqual([]);
    expect(findings({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, fp16: { enabled: true } }, scheduling: { gpuProduct: 'Tesla-T4' } })).toEqual([]);
  });

  test('strict mode turns the warning into a synth error', () => {
    const outcome = synthToTempDir(jobProps({ deepspeedConfig: bf16, scheduling: { gpuProduct: 'Tesla-T4' }, workers: { replicas: 2, gpusPerWorker: 1, memory: Size.gibibytes(16) } }),
      { context: { 'cdk8s-deepspeed:warningsAsErrors': true } });
    expect(outcome.errors).toHaveLength(1);
    expect(outcome.errors[0]).toContain('\'Tesla-T4\' GPUs');
    expect(outcome.written).toEqual([]);
  });
});
