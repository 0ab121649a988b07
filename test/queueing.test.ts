import { Duration, Size } from 'cdk8s';
import {
  Cpu, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, Interconnect, LauncherCreationPolicy, TaintEffect,
  Toleration, Validation,
} from '../src';
import { buildJob, container, mpirunCommand, synthError, synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1');
const base: DeepSpeedMpiJobProps = {
  image,
  workers: { replicas: 2, gpusPerWorker: 4, cpu: Cpu.units(8), memory: Size.gibibytes(32) },
  script: '/opt/train.py',
  metadata: { name: 'llm' },
};

describe('Kueue', () => {
  test('a queue labels the MPIJob and creates it suspended', () => {
    const { mpiJob } = synthJob({ ...base, scheduling: { kueue: { queueName: 'team-a' } } });
    expect(mpiJob.metadata.labels).toEqual({ 'kueue.x-k8s.io/queue-name': 'team-a' });
    expect(mpiJob.spec.runPolicy.suspend).toBe(true);
    expect(mpiJob.spec.runPolicy.managedBy).toBeUndefined();
  });

  test('without a queue the job is not suspended and carries no Kueue label', () => {
    const { mpiJob } = synthJob(base);
    expect(mpiJob.metadata.labels).toBeUndefined();
    expect(mpiJob.spec.runPolicy.suspend).toBeUndefined();
  });

  test('WorkloadPriorityClass label and MultiKueue managedBy', () => {
    const { mpiJob } = synthJob({
      ...base,
      metadata: { name: 'llm', labels: { team: 'a' } },
      scheduling: { kueue: { queueName: 'team-a', priorityClass: 'high', multiKueue: true } },
    });
    expect(mpiJob.metadata.labels).toEqual({ 'team': 'a', 'kueue.x-k8s.io/queue-name': 'team-a', 'kueue.x-k8s.io/priority-class': 'high' });
    expect(mpiJob.spec.runPolicy.managedBy).toBe('kueue.x-k8s.io/multikueue');
  });

  test('suspend: false with a queue is reported, since Kueue suspends the job anyway', () => {
    const { job, mpiJob } = synthJob({ ...base, suspend: false, scheduling: { kueue: { queueName: 'team-a' } } });
    expect(mpiJob.spec.runPolicy.suspend).toBe(false);
    expect(Validation.validateJob(job).filter(f => f.rule === 'kueue/suspend').map(f => [f.severity, f.message])).toEqual([['warning',
      'test/train: suspend is false: Kueue\'s webhook suspends queued jobs on creation and resumes them on admission, so the value has no effect. '
      + 'Remove suspend; the job starts suspended and Kueue resumes it.']]);
    expectWarnings('test/train: suspend is false');
  });

  test('a queue name that is not a label value fails synth', () => {
    const { app } = buildJob({ ...base, scheduling: { kueue: { queueName: 'team a' } } });
    // One message: the label the queue name becomes is not reported again under metadata.labels.
    expect(synthError(app)).toBe('Validation failed with the following errors:\n  [test/train] scheduling.kueue.queueName is \'team a\': it becomes the kueue.x-k8s.io/queue-name label, '
      + 'and the API server rejects label values longer than 63 characters or not letters, digits, \'-\', \'_\' and \'.\' between alphanumerics. '
      + 'Use the name of the LocalQueue as it exists in the cluster (kubectl get localqueues -n <namespace>).');
  });
});

describe('priority', () => {
  test('priorityClassName goes on both pod templates', () => {
    const { launcher, worker } = synthJob({ ...base, scheduling: { priorityClassName: 'training-high' } });
    expect(launcher.template.spec.priorityClassName).toBe('training-high');
    expect(worker.template.spec.priorityClassName).toBe('training-high');
  });

  test('an invalid PriorityClass name fails synth', () => {
    const { app } = buildJob({ ...base, scheduling: { priorityClassName: 'Training_High' } });
    expect(synthError(app)).toContain('[test/train] scheduling.priorityClassName is \'Training_High\': the API server rejects pods whose priorityClassName is not a DNS subdomain name');
  });
});

describe('gang scheduling', () => {
  test('defaults: every pod, and minResources summed from the launcher and worker requests', () => {
    const { mpiJob } = synthJob({ ...base, scheduling: { gangScheduling: {} } });
    expect(mpiJob.spec.runPolicy.schedulingPolicy).toEqual({
      minAvailable: 3,
      // launcher 1 CPU / 2Gi + 2 workers x (8 CPU / 32Gi / 4 GPUs)
      minResources: { 'cpu': '17', 'memory': '66Gi', 'nvidia.com/gpu': '8' },
    });
  });

  test('Volcano queue and priority class, scheduler-plugins timeout', () => {
    const { mpiJob } = synthJob({
      ...base,
      scheduling: { gangScheduling: { volcanoQueue: 'gpu', priorityClass: 'high', scheduleTimeout: Duration.minutes(10), computeMinResources: false } },
    });
    expect(mpiJob.spec.runPolicy.schedulingPolicy).toEqual({ minAvailable: 3, queue: 'gpu', priorityClass: 'high', scheduleTimeoutSeconds: 600 });
  });

  test('a smaller gang counts the launcher and minAvailable - 1 workers, like the operator', () => {
    const { mpiJob } = synthJob({
      ...base,
      workers: { ...base.workers, replicas: 4 },
      launcher: { cpu: Cpu.millis(500), memory: Size.mebibytes(512) },
      scheduling: { gangScheduling: { minAvailable: 3 } },
    });
    expect(mpiJob.spec.runPolicy.schedulingPolicy).toEqual({
      minAvailable: 3,
      minResources: { 'cpu': '16500m', 'memory': '66048Mi', 'nvidia.com/gpu': '8' },
    });
  });

  test('with WaitForWorkersReady the gang defaults to the workers, since the launcher comes later', () => {
    const { mpiJob } = synthJob({
      ...base,
      launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
      scheduling: { gangScheduling: {} },
    });
    expect(mpiJob.spec.runPolicy.schedulingPolicy).toEqual({
      minAvailable: 2,
      // 2 workers x (8 CPU / 32Gi / 4 GPUs), no launcher: it is created after the gang starts
      minResources: { 'cpu': '16', 'memory': '64Gi', 'nvidia.com/gpu': '8' },
    });
  });

  test.each([
    ['queued through Kueue', { kueue: { queueName: 'team-a' } }, undefined],
    ['created suspended', {}, true],
  ])('%s, WaitForWorkersReady does not hold the launcher back (kubeflow/mpi-operator#615): the gang is every pod', (_name, scheduling, suspend) => {
    const { mpiJob, job } = synthJob({
      ...base,
      suspend,
      launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
      scheduling: { ...scheduling, gangScheduling: {} },
    });
    expect(job.suspend).toBe(true);
    expect(mpiJob.spec.runPolicy.suspend).toBe(true);
    expect(mpiJob.spec.runPolicy.schedulingPolicy).toEqual({
      minAvailable: 3,
      // the launcher (1 CPU / 2Gi) and 2 workers x (8 CPU / 32Gi / 4 GPUs)
      minResources: { 'cpu': '17', 'memory': '66Gi', 'nvidia.com/gpu': '8' },
    });
    expect(Validation.validateJob(job)).toEqual([]);
  });

  test('a gang larger than the job fails synth', () => {
    const { app } = buildJob({ ...base, scheduling: { gangScheduling: { minAvailable: 4 } } });
    expect(synthError(app)).toContain('[test/train] scheduling.gangScheduling.minAvailable is 4: the job has only 3 pods (2 workers and the launcher), '
      + 'so the PodGroup never reaches minMember and the gang scheduler never starts the job. Remove minAvailable (it defaults to all 3 pods) or set it between 1 and 3.');
  });
});

describe('launcher creation and the launcher as a worker', () => {
  test('WaitForWorkersReady with the workers ready once sshd accepts connections', () => {
    const { mpiJob, worker } = synthJob({ ...base, launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY });
    expect(mpiJob.spec.launcherCreationPolicy).toBe('WaitForWorkersReady');
    expect(container(worker).readinessProbe.tcpSocket).toEqual({ port: 2222 });
    expect(container(worker).ports).toEqual([{ name: 'ssh', containerPort: 2222, protocol: 'TCP' }]);
  });

  test('runLauncherAsWorker: the launcher gets the workers\' GPUs and its slots join the world size', () => {
    const { mpiJob, launcher, job } = synthJob({ ...base, runLauncherAsWorker: true });
    expect(mpiJob.spec.runLauncherAsWorker).toBe(true);
    expect(container(launcher).resources.limits['nvidia.com/gpu']).toBe(4);
    expect(job.worldSize).toBe(12);
    expect(mpirunCommand(launcher).slice(0, 3)).toEqual(['mpirun', '-np', '12']);
    expect(container(launcher).volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
  });

  test('runLauncherAsWorker: the launcher takes the workers\' CPU, memory and GPU placement unless set', () => {
    const gpuTaint = Toleration.equal('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE });
    const workers = { ...base.workers, tolerations: [gpuTaint], nodeSelector: { pool: 'gpu' } };
    const { launcher } = synthJob({ ...base, workers, runLauncherAsWorker: true });
    expect(container(launcher).resources.limits).toEqual({ 'cpu': '8', 'memory': '32Gi', 'nvidia.com/gpu': 4 });
    expect(launcher.template.spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }]);
    expect(launcher.template.spec.nodeSelector).toEqual({ pool: 'gpu' });
    const own = synthJob({ ...base, workers, runLauncherAsWorker: true, launcher: { memory: Size.gibibytes(48) } });
    expect(container(own.launcher).resources.limits.memory).toBe('48Gi');
    const plain = synthJob({ ...base, workers });
    expect(container(plain.launcher).resources.limits).toEqual({ cpu: '1', memory: '2Gi' });
    expect(plain.launcher.template.spec.tolerations).toBeUndefined();
  });

  test('runLauncherAsWorker with no workers: one pod, no Worker replica spec', () => {
    const { mpiJob, launcher } = synthJob({ ...base, runLauncherAsWorker: true, workers: { ...base.workers, replicas: 0 } });
    expect(Object.keys(mpiJob.spec.mpiReplicaSpecs)).toEqual(['Launcher']);
    expect(mpirunCommand(launcher).slice(0, 3)).toEqual(['mpirun', '-np', '4']);
  });

  test('runLauncherAsWorker carries the interconnect devices to the launcher', () => {
    const { launcher } = synthJob({
      ...base,
      runLauncherAsWorker: true,
      launcher: { cpu: Cpu.units(8), memory: Size.gibibytes(32) },
      network: { interconnect: Interconnect.efa({ devicesPerPod: 4 }) },
    });
    expect(container(launcher).resources.limits['vpc.amazonaws.com/efa']).toBe(4);
    expect(container(launcher).resources.limits['hugepages-2Mi']).toBe('5Gi');
  });
});

describe('topology', () => {
  const antiAffinity = (roles: string[]) => ({
    requiredDuringSchedulingIgnoredDuringExecution: [{
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: {
        matchLabels: { 'training.kubeflow.org/operator-name': 'mpi-operator', 'training.kubeflow.org/job-name': 'llm' },
        matchExpressions: [{ key: 'training.kubeflow.org/job-role', operator: 'In', values: roles }],
      },
    }],
  });

  test('spreadWorkers keeps workers one per node; the launcher is free', () => {
    const { launcher, worker } = synthJob({ ...base, scheduling: { spreadWorkers: true } });
    expect(worker.template.spec.affinity).toEqual({ podAntiAffinity: antiAffinity(['worker']) });
    expect(launcher.template.spec.affinity).toBeUndefined();
  });

  test('with the launcher as a worker it is spread too', () => {
    const { launcher, worker } = synthJob({ ...base, runLauncherAsWorker: true, scheduling: { spreadWorkers: true } });
    expect(worker.template.spec.affinity).toEqual({ podAntiAffinity: antiAffinity(['launcher', 'worker']) });
    expect(launcher.template.spec.affinity).toEqual({ podAntiAffinity: antiAffinity(['launcher', 'worker']) });
  });

  test('gpuProduct selects nodes by the GPU feature discovery label, on the pods that host ranks', () => {
    const { launcher, worker } = synthJob({ ...base, scheduling: { gpuProduct: 'NVIDIA-H100-80GB-HBM3' } });
    expect(worker.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    expect(launcher.template.spec.nodeSelector).toBeUndefined();
    const custom = synthJob({ ...base, scheduling: { gpuProduct: 'MI300X', gpuProductLabel: 'amd.com/gpu.product-name' } });
    expect(custom.worker.template.spec.nodeSelector).toEqual({ 'amd.com/gpu.product-name': 'MI300X' });
  });
});
