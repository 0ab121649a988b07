import { Duration, Size, Testing } from 'cdk8s';
import {
  CleanPodPolicy, Cpu, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, EnvValue, ImageUser,
  LauncherCreationPolicy, MpiImplementation, NodeLabelQuery, ReplicaRestartPolicy, TaintEffect, Toleration, Volume,
} from '../src';
import { container, mpirunCommand, synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0');
const rootImage = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0', { user: ImageUser.root() });

function props(overrides: Partial<DeepSpeedMpiJobProps> = {}): DeepSpeedMpiJobProps {
  return {
    image,
    workers: { replicas: 2, gpusPerWorker: 1 },
    script: 'train.py',
    ...overrides,
  };
}

/** The value following `flag` in an argv. */
function argAfter(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i < 0 ? undefined : argv[i + 1];
}

/** Every NAME forwarded with `-x NAME`. */
function forwarded(argv: string[]): string[] {
  return argv.flatMap((a, i) => (a === '-x' ? [argv[i + 1]] : []));
}

describe('MPIJob spec', () => {
  const { mpiJob, launcher, worker } = synthJob(props(), 'train', 'cifar10');

  test('is a kubeflow.org/v2beta1 MPIJob named after the construct path', () => {
    expect(mpiJob.apiVersion).toBe('kubeflow.org/v2beta1');
    expect(mpiJob.kind).toBe('MPIJob');
    expect(mpiJob.metadata.name).toBe('cifar10-train');
  });

  test('sets the operator fields explicitly, with cleanPodPolicy Running', () => {
    expect(mpiJob.spec.slotsPerWorker).toBe(1);
    expect(mpiJob.spec.mpiImplementation).toBe('OpenMPI');
    expect(mpiJob.spec.launcherCreationPolicy).toBe('AtStartup');
    expect(mpiJob.spec.sshAuthMountPath).toBe('/home/mpiuser/.ssh');
    expect(mpiJob.spec.runPolicy).toEqual({ cleanPodPolicy: 'Running', backoffLimit: 3 });
    expect(mpiJob.spec.runLauncherAsWorker).toBeUndefined();
  });

  test('has one launcher with OnFailure and N workers with Never', () => {
    expect(Object.keys(mpiJob.spec.mpiReplicaSpecs).sort()).toEqual(['Launcher', 'Worker']);
    expect(launcher.replicas).toBe(1);
    expect(launcher.restartPolicy).toBe('OnFailure');
    expect(worker.replicas).toBe(2);
    expect(worker.restartPolicy).toBe('Never');
  });

  test('workers run sshd as the image user on the image port, with a readiness probe on it', () => {
    const c = container(worker);
    expect(c.name).toBe('worker');
    expect(c.image).toBe('registry.example.com/train:1.0');
    expect(c.command).toEqual(['/usr/sbin/sshd', '-De', '-p', '2222', '-f', '/home/mpiuser/.sshd_config']);
    expect(c.ports).toEqual([{ name: 'ssh', containerPort: 2222, protocol: 'TCP' }]);
    expect(c.readinessProbe.tcpSocket).toEqual({ port: 2222 });
    expect(worker.template.spec.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true });
  });

  test('workers get a memory-backed /dev/shm of 1Gi per slot', () => {
    const spec = worker.template.spec;
    expect(spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } });
    expect(container(worker).volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
  });

  test('the launcher is CPU-only with modest requests', () => {
    const resources = container(launcher).resources;
    expect(resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } });
    expect(launcher.template.spec.volumes ?? []).not.toContainEqual(expect.objectContaining({ name: 'dshm' }));
  });
});

describe('launch command', () => {
  test.each([
    [1, 0, 1, 1],
    [1, 1, 1, 1],
    [2, 1, 1, 2],
    [3, 2, 2, 6],
    [4, 8, 8, 32],
    [16, 8, 8, 128],
    [2, 0, 1, 2],
  ])('%i workers x %i GPUs: slotsPerWorker %i and -np %i', (replicas, gpus, slots, np) => {
    const { mpiJob, launcher, worker } = synthJob(props({ workers: { replicas, gpusPerWorker: gpus } }));
    expect(mpiJob.spec.slotsPerWorker).toBe(slots);
    expect(worker.replicas).toBe(replicas);
    const argv: string[] = mpirunCommand(launcher);
    expect(argAfter(argv, '-np')).toBe(String(np));
    const resources = container(worker).resources ?? {};
    if (gpus > 0) {
      expect(resources.requests['nvidia.com/gpu']).toBe(gpus);
      expect(resources.limits['nvidia.com/gpu']).toBe(gpus);
    } else {
      expect(JSON.stringify(resources)).not.toContain('nvidia.com/gpu');
    }
    expect(JSON.stringify(container(launcher).resources)).not.toContain('gpu');
  });

  test('starts with mpirun and the explicit hostfile, binding and mapping', () => {
    const argv: string[] = mpirunCommand(synthJob(props()).launcher);
    expect(argv.slice(0, 9)).toEqual(['mpirun', '-np', '2', '--hostfile', '/etc/mpi/hostfile', '--bind-to', 'none', '--map-by', 'slot']);
  });

  test('tells ssh the port sshd listens on', () => {
    const custom = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0', { sshPort: 2022 });
    const { launcher, worker } = synthJob(props({ image: custom }));
    const argv: string[] = mpirunCommand(launcher);
    expect(argv).toEqual(expect.arrayContaining(['--mca', 'plm_rsh_args', '-p 2022 -o ConnectionAttempts=10']));
    expect(container(worker).command).toContain('2022');
    expect(container(worker).readinessProbe.tcpSocket.port).toBe(2022);
  });

  test('ends with the absolute python, the script, its arguments and the mounted config', () => {
    const { launcher } = synthJob(props({
      script: 'training/cifar/cifar10_deepspeed.py',
      args: ['--deepspeed', '--epochs', '3', 'a value with spaces'],
      deepspeedConfig: { trainMicroBatchSizePerGpu: 8 },
    }));
    const argv: string[] = mpirunCommand(launcher);
    expect(argv.slice(-8)).toEqual([
      '/opt/conda/bin/python', 'training/cifar/cifar10_deepspeed.py',
      '--deepspeed', '--epochs', '3', 'a value with spaces',
      '--deepspeed_config', '/etc/deepspeed/ds_config.json',
    ]);
  });

  test('forwards the image variables and every training variable with -x, keeping values out of argv', () => {
    const app = Testing.app();
    const chart = new (require('cdk8s').Chart)(app, 'c');
    const job = new DeepSpeedMpiJob(chart, 'train', props({
      env: {
        NCCL_DEBUG: EnvValue.fromValue('INFO'),
        NCCL_SOCKET_IFNAME: EnvValue.fromValue('eth0'),
        HF_TOKEN: EnvValue.fromSecretKey('hf-token', 'token'),
      },
    }));
    job.addEnv('TORCH_EXTENSIONS_DIR', EnvValue.fromValue('/tmp/ext'));
    const launcher = Testing.synth(chart)[0].spec.mpiReplicaSpecs.Launcher;
    const c = container(launcher);
    expect(forwarded(c.command)).toEqual(['PATH', 'LD_LIBRARY_PATH', 'NCCL_DEBUG', 'NCCL_SOCKET_IFNAME', 'HF_TOKEN', 'TORCH_EXTENSIONS_DIR']);
    expect(c.env).toEqual([
      { name: 'NCCL_DEBUG', value: 'INFO' },
      { name: 'NCCL_SOCKET_IFNAME', value: 'eth0' },
      { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } },
      { name: 'TORCH_EXTENSIONS_DIR', value: '/tmp/ext' },
    ]);
    expect(c.command.join(' ')).not.toContain('INFO');
  });

  test('does not forward a variable twice when the training env overrides an image variable', () => {
    const { launcher } = synthJob(props({ env: { PATH: EnvValue.fromValue('/opt/conda/bin:/usr/bin') } }));
    expect(forwarded(container(launcher).command)).toEqual(['PATH', 'LD_LIBRARY_PATH']);
  });

  test('adds MCA parameters and extra arguments before the program', () => {
    const { launcher } = synthJob(props({
      mpirun: { mcaParameters: { pml: 'ob1', btl: '^openib' }, extraArgs: ['--report-bindings'], bindTo: 'core', mapBy: 'ppr:1:socket' },
    }));
    const argv: string[] = mpirunCommand(launcher);
    const joined = argv.join(' ');
    expect(joined).toContain('--mca pml ob1 --mca btl ^openib');
    expect(argAfter(argv, '--bind-to')).toBe('core');
    expect(argAfter(argv, '--map-by')).toBe('ppr:1:socket');
    expect(argv.indexOf('--report-bindings')).toBe(argv.indexOf('/opt/conda/bin/python') - 1);
  });

  test('lets a user plm_rsh_args replace the generated one', () => {
    const { launcher } = synthJob(props({ mpirun: { mcaParameters: { plm_rsh_args: '-p 2222 -o ConnectionAttempts=30' } } }));
    const argv: string[] = mpirunCommand(launcher);
    expect(argv.filter(a => a === 'plm_rsh_args')).toHaveLength(1);
    expect(argAfter(argv, 'plm_rsh_args')).toBe('-p 2222 -o ConnectionAttempts=30');
  });

  test('passes --allow-run-as-root only for a root image, which also switches the ssh paths', () => {
    const nonRoot = mpirunCommand(synthJob(props()).launcher);
    expect(nonRoot).not.toContain('--allow-run-as-root');

    const { mpiJob, launcher, worker } = synthJob(props({ image: rootImage }));
    expect(container(launcher).command).toContain('--allow-run-as-root');
    expect(mpiJob.spec.sshAuthMountPath).toBe('/root/.ssh');
    expect(container(worker).command).toEqual(['/usr/sbin/sshd', '-De', '-p', '2222']);
    expect(worker.template.spec.securityContext).toMatchObject({ runAsUser: 0 });
    expectWarnings('test/train: image.user is ImageUser.root()');
  });

  test('uses Hydra syntax for Intel MPI and MPICH', () => {
    for (const implementation of [MpiImplementation.INTEL, MpiImplementation.MPICH]) {
      const hydra = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0', { mpiImplementation: implementation });
      const { mpiJob, launcher } = synthJob(props({ image: hydra, workers: { replicas: 3, gpusPerWorker: 4 } }));
      expect(mpiJob.spec.mpiImplementation).toBe(implementation);
      const argv: string[] = mpirunCommand(launcher);
      expect(argv.slice(0, 7)).toEqual(['mpirun', '-n', '12', '-ppn', '4', '-f', '/etc/mpi/hostfile']);
      expect(argAfter(argv, '-genvlist')).toBe('PATH,LD_LIBRARY_PATH');
      expect(argv).not.toContain('-x');
    }
  });
});

describe('DeepSpeed config delivery', () => {
  test('a config becomes a ConfigMap mounted read-only on the launcher and every worker', () => {
    const { configMap, launcher, worker, mpiJob } = synthJob(props({ deepspeedConfig: { trainMicroBatchSizePerGpu: 4 } }));
    expect(configMap.metadata.name).toBe(`${mpiJob.metadata.name}-deepspeed`);
    expect(JSON.parse(configMap.data['ds_config.json'])).toEqual({ train_micro_batch_size_per_gpu: 4 });
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.volumes).toContainEqual({ name: 'deepspeed-config', configMap: { name: configMap.metadata.name } });
      expect(container(replica).volumeMounts).toContainEqual({ name: 'deepspeed-config', mountPath: '/etc/deepspeed', readOnly: true });
    }
  });

  test('without a config there is no ConfigMap, mount or --deepspeed_config', () => {
    const { manifests, launcher, worker } = synthJob(props());
    expect(manifests.map(m => m.kind)).toEqual(['MPIJob', 'NetworkPolicy']);
    expect(container(launcher).command).not.toContain('--deepspeed_config');
    for (const replica of [launcher, worker]) {
      expect(JSON.stringify(replica)).not.toContain('deepspeed-config');
    }
  });

  test('passDeepSpeedConfigArgument: false mounts the file without passing the flag', () => {
    const { launcher, configMap } = synthJob(props({ deepspeedConfig: { trainBatchSize: 16 }, passDeepSpeedConfigArgument: false }));
    expect(configMap).toBeDefined();
    expect(container(launcher).command).not.toContain('--deepspeed_config');
    expect(container(launcher).volumeMounts).toContainEqual(expect.objectContaining({ mountPath: '/etc/deepspeed' }));
  });
});

describe('run policy and job options', () => {
  test('renders durations as seconds and keeps the other run policy fields', () => {
    const { mpiJob } = synthJob(props({
      cleanPodPolicy: CleanPodPolicy.ALL,
      ttlAfterFinished: Duration.hours(1),
      activeDeadline: Duration.days(2),
      backoffLimit: 5,
      suspend: true,
    }));
    expect(mpiJob.spec.runPolicy).toEqual({
      cleanPodPolicy: 'All',
      ttlSecondsAfterFinished: 3600,
      activeDeadlineSeconds: 172800,
      backoffLimit: 5,
      suspend: true,
    });
  });

  test('restart policies and the launcher creation policy are overridable', () => {
    const { mpiJob, launcher, worker } = synthJob(props({
      workers: { replicas: 2, restartPolicy: ReplicaRestartPolicy.ON_FAILURE },
      launcher: { restartPolicy: ReplicaRestartPolicy.NEVER },
      launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
    }));
    expect(worker.restartPolicy).toBe('OnFailure');
    expect(launcher.restartPolicy).toBe('Never');
    expect(mpiJob.spec.launcherCreationPolicy).toBe('WaitForWorkersReady');
  });

  test('metadata name, namespace and labels pass through', () => {
    const { mpiJob, configMap } = synthJob(props({
      metadata: { name: 'bert', namespace: 'ml', labels: { team: 'nlp' } },
      deepspeedConfig: { trainBatchSize: 8 },
    }));
    expect(mpiJob.metadata).toEqual({ name: 'bert', namespace: 'ml', labels: { team: 'nlp' } });
    expect(configMap.metadata).toMatchObject({ name: 'bert-deepspeed', namespace: 'ml' });
  });

  test('runLauncherAsWorker adds the launcher slots to -np and gives the launcher GPUs and shared memory', () => {
    const { mpiJob, launcher } = synthJob(props({ runLauncherAsWorker: true, workers: { replicas: 2, gpusPerWorker: 4 } }));
    expect(mpiJob.spec.runLauncherAsWorker).toBe(true);
    const c = container(launcher);
    expect(argAfter(c.command, '-np')).toBe('12');
    expect(c.resources.requests['nvidia.com/gpu']).toBe(4);
    expect(c.resources.limits['nvidia.com/gpu']).toBe(4);
    expect(c.volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
  });

  test('runLauncherAsWorker with no workers omits the Worker replica spec', () => {
    const { mpiJob, launcher } = synthJob(props({ runLauncherAsWorker: true, workers: { replicas: 0, gpusPerWorker: 2 } }));
    expect(Object.keys(mpiJob.spec.mpiReplicaSpecs)).toEqual(['Launcher']);
    expect(argAfter(container(launcher).command, '-np')).toBe('2');
  });
});

describe('exposed parts', () => {
  test('the job exposes its launcher, workers, MPIJob and ConfigMap', () => {
    const { job, mpiJob, configMap } = synthJob(props({ deepspeedConfig: { trainBatchSize: 16 } }));
    expect(job.apiObject.name).toBe(mpiJob.metadata.name);
    expect(job.configMap?.name).toBe(configMap.metadata.name);
    expect(job.launcher.command).toEqual(container(mpiJob.spec.mpiReplicaSpecs.Launcher).command);
    expect(job.workers.replicas).toBe(2);
    expect(job.worldSize).toBe(2);
    expect(job.slotsPerWorker).toBe(1);
    expect(job.deepspeedConfigJson).toEqual({ train_batch_size: 16 });
  });

  test('replicas can be extended after the job is created', () => {
    const app = Testing.app();
    const chart = new (require('cdk8s').Chart)(app, 'c');
    const job = new DeepSpeedMpiJob(chart, 'train', props());
    const data = Volume.fromEmptyDir('data');
    job.workers.mount('/data', data, { readOnly: true });
    job.workers.addEnv('SSHD_ONLY', EnvValue.fromValue('1'));
    job.workers.addNodeSelector('nvidia.com/gpu.product', 'NVIDIA-A100-SXM4-80GB');
    job.workers.addPodLabel('team', 'vision');
    job.workers.addPodAnnotation('example.com/owner', 'ml-platform');
    job.launcher.tolerate(Toleration.exists('dedicated'));
    const mpiJob = Testing.synth(chart)[0];
    const worker = mpiJob.spec.mpiReplicaSpecs.Worker;
    expect(container(worker).volumeMounts).toContainEqual({ name: 'data', mountPath: '/data', readOnly: true });
    expect(worker.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    expect(container(worker).env).toEqual([{ name: 'SSHD_ONLY', value: '1' }]);
    expect(worker.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB' });
    expect(worker.template.metadata).toEqual({ labels: { team: 'vision' }, annotations: { 'example.com/owner': 'ml-platform' } });
    expect(mpiJob.spec.mpiReplicaSpecs.Launcher.template.spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
    // Worker env never becomes part of the launch command.
    expect(forwarded(job.launcher.command)).not.toContain('SSHD_ONLY');
  });
});

describe('bridge from the library\'s value types to the imported MPIJob types', () => {
  test('quantities arrive exact: CPU 8, memory 32Gi, GPU 1', () => {
    const { worker } = synthJob(props({ workers: { replicas: 1, gpusPerWorker: 1, cpu: Cpu.units(8), memory: Size.gibibytes(32) } }));
    const resources = container(worker).resources;
    expect(resources.requests).toEqual({ 'cpu': '8', 'memory': '32Gi', 'nvidia.com/gpu': 1 });
    expect(resources.limits).toEqual({ 'cpu': '8', 'memory': '32Gi', 'nvidia.com/gpu': 1 });
  });

  test.each([
    [Cpu.millis(500), '500m'],
    [Cpu.units(0.5), '0.5'],
    [Cpu.units(96), '96'],
  ])('CPU %p renders as %s', (cpu, expected) => {
    const { worker } = synthJob(props({ workers: { replicas: 1, cpu } }));
    expect(container(worker).resources.requests.cpu).toBe(expected);
  });

  test.each([
    [Size.mebibytes(1536), '1536Mi'],
    [Size.gibibytes(1), '1Gi'],
    [Size.tebibytes(2), '2Ti'],
    [Size.kibibytes(1536), '1536Ki'],
  ])('memory %p renders as %s', (memory, expected) => {
    // /dev/shm counts against the memory limit, so it stays below the smallest of these.
    const { worker } = synthJob(props({ workers: { replicas: 1, memory, sharedMemorySize: Size.kibibytes(512) } }));
    expect(container(worker).resources.requests.memory).toBe(expected);
  });

  test('separate limits override the request-equals-limit default', () => {
    const { worker } = synthJob(props({
      workers: { replicas: 1, cpu: Cpu.units(4), cpuLimit: Cpu.units(8), memory: Size.gibibytes(16), memoryLimit: Size.gibibytes(24) },
    }));
    expect(container(worker).resources).toEqual({
      requests: { cpu: '4', memory: '16Gi' },
      limits: { cpu: '8', memory: '24Gi' },
    });
  });

  test('shared memory size, tolerations, node affinity and PVC volumes keep every field', () => {
    const app = Testing.app();
    const chart = new (require('cdk8s').Chart)(app, 'c');
    const job = new DeepSpeedMpiJob(chart, 'train', props({
      workers: {
        replicas: 2,
        gpusPerWorker: 8,
        sharedMemorySize: Size.gibibytes(64),
        tolerations: [Toleration.equal('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })],
      },
    }));
    job.workers.requireNodeLabels(NodeLabelQuery.inValues('nvidia.com/gpu.product', ['H100', 'A100']));
    job.addVolume('/datasets', Volume.fromPersistentVolumeClaim('datasets', { name: 'datasets', readOnly: true }));
    const spec = Testing.synth(chart)[0].spec.mpiReplicaSpecs.Worker.template.spec;
    expect(spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '64Gi' } });
    expect(spec.volumes).toContainEqual({ name: 'datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } });
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }]);
    expect(spec.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'nvidia.com/gpu.product', operator: 'In', values: ['H100', 'A100'] }] }],
        },
      },
    });
  });

  test('nothing in the synthesized MPIJob is null or a stringified object', () => {
    const { mpiJob } = synthJob(props({
      workers: { replicas: 4, gpusPerWorker: 8, cpu: Cpu.units(32), memory: Size.gibibytes(256) },
      launcher: { cpu: Cpu.millis(500), memory: Size.mebibytes(512) },
      env: { NCCL_DEBUG: EnvValue.fromValue('WARN') },
      deepspeedConfig: { trainBatchSize: 64 },
    }));
    const text = JSON.stringify(mpiJob);
    expect(text).not.toContain('null');
    expect(text).not.toContain('[object Object]');
    expect(text).not.toContain('undefined');
  });
});
