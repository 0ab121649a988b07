import { Duration, JsonPatch } from 'cdk8s';
import {
  DeepSpeedMpiJob, DeepSpeedMpiJobProps, LauncherCreationPolicy, OptimizerType, SchedulerType, Severity,
  Validation, ZeroStage,
} from '../src';
import { findingMessages, jobProps, LAUNCHER_CONTAINER, patch, synthToTempDir, WORKER_CONTAINER } from './support/synth';
import { takeWarnings } from './support/warnings';

/** A legal but almost certainly wrong job and the warnings it must produce. */
interface WarningCase {
  readonly title: string;
  readonly props: DeepSpeedMpiJobProps;
  readonly mutate?: (job: DeepSpeedMpiJob) => void;
  readonly chartId?: string;
  readonly warnings: string[];
}

const P = 'test/train';
const STRICT_ENV = 'CDK8S_DEEPSPEED_WARNINGS_AS_ERRORS';

const warningCases: WarningCase[] = [
  {
    title: 'fewer slots than GPUs (the issue\'s example)',
    props: jobProps({ workers: { replicas: 2, gpusPerWorker: 2, slotsPerWorker: 1 } }),
    chartId: 'Cifar10',
    warnings: ['Cifar10/train: workers.gpusPerWorker is 2 but slotsPerWorker is 1: 1 GPU per worker would sit idle. Remove workers.slotsPerWorker (it defaults to the GPU count) or set it to 2.'],
  },
  {
    title: '--allow-run-as-root for a non-root image',
    props: jobProps({ mpirun: { extraArgs: ['--allow-run-as-root'] } }),
    warnings: [`${P}: launcher mpirun is given --allow-run-as-root: the image runs as mpiuser (uid 1000), so the flag does nothing and suggests the image user is declared wrongly. Remove --allow-run-as-root, or declare the image user as ImageUser.root().`],
  },
  {
    title: 'DeepSpeed\'s runner without the operator\'s hostfile',
    props: jobProps(),
    mutate: patch(JsonPatch.replace(`${LAUNCHER_CONTAINER}/command`, ['deepspeed', 'train.py'])),
    warnings: [`${P}: spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].command is 'deepspeed train.py': DeepSpeed's runner reads /job/hostfile unless told otherwise and, finding none, runs every rank on the launcher, whose GPUs the MPI Operator hides. Pass --hostfile /etc/mpi/hostfile to deepspeed.`],
  },
  {
    title: 'WaitForWorkersReady without a worker readiness probe',
    props: jobProps({ launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY }),
    mutate: patch(JsonPatch.remove(`${WORKER_CONTAINER}/readinessProbe`)),
    warnings: [`${P}: spec.mpiReplicaSpecs.Worker.template.spec.containers[0].readinessProbe is not set: with launcherCreationPolicy WaitForWorkersReady the MPI Operator waits for Ready workers, and without a probe a worker is Ready as soon as its container starts, before sshd accepts connections. Keep the worker readiness probe (a TCP check on the sshd port), or use launcherCreationPolicy AtStartup.`],
  },
  {
    title: 'both bf16 and its legacy alias bfloat16',
    props: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, bf16: { enabled: true }, raw: { bfloat16: { enabled: false } } } }),
    warnings: [`${P}: ds_config.bfloat16 is {"enabled":false}: DeepSpeed reads only the bf16 section when both are present and ignores this legacy alias. Merge it into bf16 and remove it.`],
  },
  {
    title: 'ZeRO-2 without an optimizer section',
    props: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, zeroOptimization: { stage: ZeroStage.STAGE_2 } } }),
    warnings: [`${P}: ds_config.optimizer is not set: DeepSpeed fails with "zero stage 2 requires an optimizer" unless the script passes its own optimizer to deepspeed.initialize. Add an optimizer section, or make sure the script passes an optimizer.`],
  },
  {
    title: '1-bit Adam without fp16',
    props: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, optimizer: { kind: OptimizerType.ONE_BIT_ADAM } } }),
    warnings: [`${P}: ds_config.optimizer.type is 'OneBitAdam': DeepSpeed warns "Currently the convergence of 1-bit Adam is only verified under FP16". Enable fp16, or use Adam.`],
  },
  {
    title: 'training shorter than the warm-up',
    props: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, scheduler: { kind: SchedulerType.WARMUP_COSINE_LR, totalNumSteps: 500 } } }),
    warnings: [`${P}: ds_config.scheduler.params.total_num_steps is 500: it is less than warmup_num_steps 1000, so training ends during warm-up (DeepSpeed warns "total_num_steps 500 is less than warmup_num_steps 1000"). Raise totalNumSteps or lower warmupNumSteps.`],
  },
  {
    title: 'a vocabulary size not aligned to 8',
    props: jobProps({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4, raw: { vocabulary_size: 50257 } } }),
    warnings: [`${P}: ds_config.vocabulary_size is 50257: DeepSpeed warns that a vocabulary size not aligned to 8 underuses tensor cores. Pad the vocabulary to a multiple of 8, e.g. 50264.`],
  },
  {
    title: 'a gang of only the workers on a Kueue job with WaitForWorkersReady',
    props: jobProps({
      launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
      scheduling: { kueue: { queueName: 'gpu' }, gangScheduling: { minAvailable: 2 } },
    }),
    warnings: [`${P}: scheduling.gangScheduling.minAvailable is 2: the job is created suspended (runPolicy.suspend, as every Kueue job is), so the MPI Operator starts the launcher together with the 2 workers despite launcherCreationPolicy WaitForWorkersReady (kubeflow/mpi-operator#615), and a gang of 2 can start the launcher and 1 worker while the last worker waits. Set minAvailable to 3 (every pod) or remove it (the job then counts every pod).`],
  },
  {
    title: 'WaitForWorkersReady alone on a Kueue job, with the launcher\'s wait turned off',
    props: jobProps({
      launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
      waitForWorkers: false,
      scheduling: { kueue: { queueName: 'gpu' } },
    }),
    warnings: [`${P}: launcherCreationPolicy is 'WaitForWorkersReady' with waitForWorkers: false on a job created suspended: the MPI Operator creates the launcher of a suspended job (every Kueue job) at once and starts it together with the workers on resume (kubeflow/mpi-operator#615), so mpirun runs before the workers resolve and every failed attempt uses up a launcher retry. Remove waitForWorkers: false, so the launcher waits until every worker accepts ssh connections.`],
  },
  {
    title: 'a worker wait as long as the launcher Job\'s active deadline',
    props: jobProps({ workerWaitTimeout: Duration.hours(1), activeDeadline: Duration.minutes(30) }),
    warnings: [`${P}: workerWaitTimeout is 3600 s but activeDeadline is 1800 s: Kubernetes stops the launcher Job at its activeDeadlineSeconds before the wait gives up, so the job fails without naming the workers that never came up. Set workerWaitTimeout well below activeDeadline.`],
  },
];

/** Runs `fn` with the strict-mode variable set (or removed), restoring it afterwards. */
function withStrictEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env[STRICT_ENV];
  if (value === undefined) delete process.env[STRICT_ENV];
  else process.env[STRICT_ENV] = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env[STRICT_ENV];
    else process.env[STRICT_ENV] = saved;
  }
}

/** Captures what `fn` writes to stderr. */
function captureStderr(fn: () => void): string[] {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

describe.each(warningCases.map(c => [c.title, c] as const))('warning: %s', (_title, warningCase) => {
  const synth = (context?: { [key: string]: any }) =>
    synthToTempDir(warningCase.props, { mutate: warningCase.mutate, chartId: warningCase.chartId, context });

  test('is reported by Validation.validateJob as a warning, with no errors', () => {
    const { job } = withStrictEnv(undefined, () => synth());
    expect(findingMessages(job, Severity.WARNING)).toEqual(warningCase.warnings);
    expect(findingMessages(job, Severity.ERROR)).toEqual([]);
    expect(takeWarnings()).toEqual(warningCase.warnings);
  });

  test('lets synth write the manifest and prints the warning to stderr once', () => {
    let outcome: ReturnType<typeof synth> | undefined;
    const printed = captureStderr(() => { outcome = withStrictEnv(undefined, () => synth()); });
    expect(outcome!.errors).toEqual([]);
    expect(outcome!.written).toHaveLength(1);
    expect(printed).toEqual(warningCase.warnings.map(w => `[cdk8s-deepspeed warning] ${w}\n`));
  });

  test('fails synth and writes nothing with the warnings-as-errors context', () => {
    const outcome = withStrictEnv(undefined, () => synth({ [Validation.WARNINGS_AS_ERRORS_CONTEXT]: true }));
    expect(outcome.errors).toEqual(warningCase.warnings);
    expect(outcome.written).toEqual([]);
  });
});

describe('strict mode switches', () => {
  const props = warningCases[0].props;
  const warnings = warningCases[0].warnings.map(w => w.replace('Cifar10/', 'test/'));

  test.each(['1', 'true'])('CDK8S_DEEPSPEED_WARNINGS_AS_ERRORS=%s fails synth on warnings', value => {
    const outcome = withStrictEnv(value, () => synthToTempDir(props));
    expect(outcome.errors).toEqual(warnings);
    expect(outcome.written).toEqual([]);
  });

  test('the context value \'true\' (from cdk8s.yaml or --context) also turns warnings into errors', () => {
    const outcome = withStrictEnv(undefined, () => synthToTempDir(props, { context: { [Validation.WARNINGS_AS_ERRORS_CONTEXT]: 'true' } }));
    expect(outcome.errors).toEqual(warnings);
  });

  test('an explicit false in the context wins over the environment variable', () => {
    const outcome = captureStderrOutcome(() => withStrictEnv('1', () => synthToTempDir(props, { context: { [Validation.WARNINGS_AS_ERRORS_CONTEXT]: false } })));
    expect(outcome.errors).toEqual([]);
    expect(outcome.written).toEqual(['test.k8s.yaml']);
  });

  test('other environment values leave warnings as warnings', () => {
    const outcome = captureStderrOutcome(() => withStrictEnv('0', () => synthToTempDir(props)));
    expect(outcome.errors).toEqual([]);
  });

  test('strict mode reports errors and warnings together, in rule order', () => {
    const outcome = withStrictEnv('1', () => synthToTempDir(jobProps({
      workers: { replicas: 2, gpusPerWorker: 2, slotsPerWorker: 1 },
      launcher: { gpus: 1 },
    })));
    expect(outcome.errors).toEqual([
      `${P}: launcher.gpus is 1: the MPI Operator hides GPUs from a launcher that does not run as a worker, so they would sit idle. Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.`,
      ...warnings,
    ]);
  });

  test('validateJob names the rule and severity of each finding', () => {
    const { job } = captureStderrOutcome(() => withStrictEnv(undefined, () => synthToTempDir(props)));
    expect(Validation.validateJob(job).map(f => [f.rule, f.severity])).toEqual([['launch/slots-match-gpus', Severity.WARNING]]);
  });
});

/** Runs a synth that prints warnings, keeping them out of the test output. */
function captureStderrOutcome<T>(fn: () => T): T {
  let result: T | undefined;
  captureStderr(() => { result = fn(); });
  return result as T;
}
