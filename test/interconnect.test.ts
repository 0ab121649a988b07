import { Size } from 'cdk8s';
import {
  Cpu, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, EnvValue, ImageUser, Interconnect, MpiImplementation,
  NcclAsyncErrorHandling, NcclDebugLevel, NcclDebugSubsystem, Validation,
} from '../src';
import { buildJob, container, mpirunCommand, synthError, synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1');
const base: DeepSpeedMpiJobProps = {
  image,
  workers: { replicas: 2, gpusPerWorker: 8, cpu: Cpu.units(32), memory: Size.gibibytes(256) },
  script: '/opt/train.py',
};

/** The launcher's env as name → value, and the names mpirun forwards with -x. */
function rankEnv(props: DeepSpeedMpiJobProps): { env: { [name: string]: string }; forwarded: string[] } {
  const { launcher } = synthJob(props);
  const c = container(launcher);
  const command: string[] = c.command;
  return {
    env: Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value])),
    forwarded: command.flatMap((arg, i) => (arg === '-x' ? [command[i + 1]] : [])),
  };
}

describe('interconnect presets', () => {
  test('plain TCP: NCCL off verbs and on eth0, forwarded to every rank, nothing else on the pods', () => {
    const props = { ...base, network: { interconnect: Interconnect.tcp() } };
    const { env, forwarded } = rankEnv(props);
    expect(env).toMatchObject({ NCCL_IB_DISABLE: '1', NCCL_SOCKET_IFNAME: 'eth0' });
    expect(forwarded).toEqual(expect.arrayContaining(['NCCL_IB_DISABLE', 'NCCL_SOCKET_IFNAME']));
    const { worker } = synthJob(props);
    expect(Object.keys(container(worker).resources.limits)).toEqual(['cpu', 'memory', 'nvidia.com/gpu']);
    expect(container(worker).securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(worker.template.spec.hostNetwork).toBeUndefined();
  });

  test('InfiniBand / RoCE: RDMA device on the rank pods, NCCL_IB_* on every rank, no IPC_LOCK for a non-root image', () => {
    const props = {
      ...base,
      network: { interconnect: Interconnect.infiniband({ rdmaResource: 'rdma/rdma_shared_device_a', rdmaDevicesPerPod: 2, hcas: ['mlx5_0', 'mlx5_1'], gidIndex: 3 }) },
    };
    const { worker, launcher } = synthJob(props);
    expect(container(worker).resources.requests['rdma/rdma_shared_device_a']).toBe(2);
    expect(container(worker).resources.limits['rdma/rdma_shared_device_a']).toBe(2);
    // A non-root process never holds an added capability (kubernetes/kubernetes#56374): none is added.
    expect(container(worker).securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container(launcher).resources.limits['rdma/rdma_shared_device_a']).toBeUndefined();
    expect(container(launcher).securityContext.capabilities.add).toBeUndefined();
    const { env, forwarded } = rankEnv(props);
    expect(env).toMatchObject({ NCCL_IB_DISABLE: '0', NCCL_IB_HCA: 'mlx5_0,mlx5_1', NCCL_IB_GID_INDEX: '3' });
    expect(forwarded).toEqual(expect.arrayContaining(['NCCL_IB_DISABLE', 'NCCL_IB_HCA', 'NCCL_IB_GID_INDEX']));
    // No capability, so no Pod Security warning.
  });

  test('InfiniBand defaults: one shared HCA device; IPC_LOCK for a root image only, unless asked otherwise', () => {
    const { worker, job } = synthJob({ ...base, network: { interconnect: Interconnect.infiniband() } });
    expect(container(worker).resources.limits['rdma/hca_shared_devices_a']).toBe(1);
    expect(Validation.validateJob(job)).toEqual([]);
    const root = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.root() });
    const asRoot = synthJob({ ...base, image: root, network: { interconnect: Interconnect.infiniband() } });
    expect(container(asRoot.worker).securityContext).toEqual({ capabilities: { add: ['IPC_LOCK'] } });
    const rootNoLock = synthJob({ ...base, image: root, network: { interconnect: Interconnect.infiniband({ ipcLock: false }) } });
    expect(container(rootNoLock.worker).securityContext).toBeUndefined();
    const noLock = synthJob({ ...base, network: { interconnect: Interconnect.infiniband({ ipcLock: false }) } });
    expect(container(noLock.worker).securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expectWarnings('test/train: image.user is ImageUser.root()', 'test/train: Worker container capabilities.add is ["IPC_LOCK"]', 'test/train: image.user is ImageUser.root()');
  });

  test('IPC_LOCK asked for on a non-root image is added, and reported as doing nothing but breaking Pod Security', () => {
    const { worker, job } = synthJob({ ...base, network: { interconnect: Interconnect.infiniband({ ipcLock: true }) } });
    expect(container(worker).securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['IPC_LOCK'] });
    expect(Validation.validateJob(job).filter(f => f.rule === 'network/ipc-lock').map(f => [f.severity, f.message])).toEqual([['warning',
      'test/train: network.interconnect ipcLock is true: the image runs as mpiuser (uid 1000), and a non-root process never holds an added capability: '
      + 'Kubernetes sets no ambient capabilities, so IPC_LOCK is dropped at exec (kubernetes/kubernetes#56374), and the ranks sshd starts have none either. '
      + 'It only takes the pods out of the baseline and restricted Pod Security Standards; pinned memory is governed by the node\'s locked-memory limit (RLIMIT_MEMLOCK). '
      + 'Remove ipcLock, and make sure the nodes\' container runtime sets an unlimited memlock limit (containerd: LimitMEMLOCK=infinity).']]);
    expectWarnings('test/train: Worker container capabilities.add is ["IPC_LOCK"]', 'test/train: network.interconnect ipcLock is true');
  });

  test.each([
    ['TCP', Interconnect.tcp()],
    ['InfiniBand', Interconnect.infiniband()],
    ['EFA', Interconnect.efa({ devicesPerPod: 4 })],
  ])('%s keeps Open MPI\'s own traffic on TCP: --mca pml ob1 --mca btl ^openib; the job\'s own MCA parameters win', (_name, interconnect) => {
    expect(interconnect.mcaParameters).toEqual({ pml: 'ob1', btl: '^openib' });
    const command = mpirunCommand(synthJob({ ...base, network: { interconnect } }).launcher);
    expect(command.join(' ')).toContain('--mca pml ob1 --mca btl ^openib');
    const ucx = mpirunCommand(synthJob({ ...base, network: { interconnect }, mpirun: { mcaParameters: { pml: 'ucx', osc: 'ucx' } } }).launcher);
    expect(ucx.join(' ')).toContain('--mca pml ucx --mca btl ^openib --mca osc ucx');
    expect(ucx.filter(word => word === 'pml')).toHaveLength(1);
  });

  test('openMpiOverTcp: false leaves Open MPI\'s transport alone, and Hydra images never get --mca', () => {
    expect(mpirunCommand(synthJob({ ...base, network: { interconnect: Interconnect.infiniband({ openMpiOverTcp: false }) } }).launcher)).not.toContain('--mca pml');
    const intel = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { mpiImplementation: MpiImplementation.INTEL });
    const { job, launcher } = synthJob({ ...base, image: intel, network: { interconnect: Interconnect.efa({ devicesPerPod: 4 }) } });
    expect(mpirunCommand(launcher)).not.toContain('--mca');
    expect(Validation.validateJob(job).filter(f => f.rule === 'launch/mpirun-syntax')).toEqual([]);
  });

  test('AWS EFA: EFA devices and 2 MiB huge pages on the rank pods, FI_PROVIDER=efa on every rank', () => {
    const props = { ...base, network: { interconnect: Interconnect.efa({ devicesPerPod: 32, gpuDirectRdma: true }) } };
    const { worker } = synthJob(props);
    expect(container(worker).resources.requests).toMatchObject({ 'vpc.amazonaws.com/efa': 32, 'hugepages-2Mi': '5Gi' });
    expect(container(worker).resources.limits).toMatchObject({ 'vpc.amazonaws.com/efa': 32, 'hugepages-2Mi': '5Gi' });
    const { env, forwarded } = rankEnv(props);
    expect(env).toMatchObject({ FI_PROVIDER: 'efa', FI_EFA_USE_DEVICE_RDMA: '1' });
    expect(env.NCCL_IB_DISABLE).toBeUndefined();
    expect(env.NCCL_SOCKET_IFNAME).toBeUndefined();
    expect(forwarded).toEqual(expect.arrayContaining(['FI_PROVIDER', 'FI_EFA_USE_DEVICE_RDMA']));
  });

  test('EFA huge pages without a CPU or memory request fail synth, as the API server would', () => {
    const { app } = buildJob({ ...base, workers: { replicas: 2, gpusPerWorker: 8 }, network: { interconnect: Interconnect.efa({ devicesPerPod: 4, hugePages: Size.gibibytes(2) }) } });
    expect(synthError(app)).toContain('[test/train] workers.memory is not set: the pods request hugepages-2Mi and the API server rejects pods with huge pages '
      + 'but no CPU or memory request ("HugePages require cpu or memory"). Set workers.memory (and cpu) for the pods that host ranks.');
  });

  test('a device count below one fails synth', () => {
    const { app } = buildJob({ ...base, network: { interconnect: Interconnect.efa({ devicesPerPod: 0 }) } });
    expect(synthError(app)).toContain('[test/train] network.interconnect devices \'vpc.amazonaws.com/efa\' is 0:');
  });

  test('hostNetwork: node network with ClusterFirstWithHostNet on the rank pods, NCCL left to skip lo and docker', () => {
    const props = { ...base, network: { interconnect: Interconnect.tcp({ hostNetwork: true }) } };
    const { worker, launcher } = synthJob(props);
    expect(worker.template.spec.hostNetwork).toBe(true);
    expect(worker.template.spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(launcher.template.spec.hostNetwork).toBeUndefined();
    expect(container(worker).command).toEqual(['/usr/sbin/sshd', '-De', '-p', '2222', '-f', '/home/mpiuser/.sshd_config']);
    const { env } = rankEnv(props);
    expect(env.NCCL_SOCKET_IFNAME).toBeUndefined();
    expect(env.NCCL_IB_DISABLE).toBe('1');
    expectWarnings('test/train: Worker hostNetwork is true', 'test/train: Worker hostNetwork is true');
  });

  test('hostNetwork with sshd on the node\'s port 22 fails synth', () => {
    const { app } = buildJob({
      ...base,
      image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { sshPort: 22 }),
      network: { interconnect: Interconnect.infiniband({ hostNetwork: true }) },
    });
    expect(synthError(app)).toContain('[test/train] image.sshPort is 22: with hostNetwork the worker\'s sshd shares the node\'s ports and the node\'s own sshd '
      + 'already listens on 22, so the worker\'s sshd cannot bind and never becomes ready. Build the image with sshd on another port');
    expectWarnings('test/train: Worker hostNetwork is true');
  });
});

describe('NCCL settings', () => {
  test('by default nothing is set: NCCL and PyTorch keep their own defaults', () => {
    const { env, forwarded } = rankEnv(base);
    expect(env).toEqual({});
    expect(forwarded).toEqual(['PATH', 'LD_LIBRARY_PATH']);
  });

  test('debug level, subsystems and error handling', () => {
    const { env, forwarded } = rankEnv({
      ...base,
      network: {
        ncclDebug: NcclDebugLevel.INFO,
        ncclDebugSubsystems: [NcclDebugSubsystem.INIT, NcclDebugSubsystem.NET],
        asyncErrorHandling: NcclAsyncErrorHandling.SKIP_CLEAN_UP,
      },
    });
    expect(env).toEqual({ NCCL_DEBUG: 'INFO', NCCL_DEBUG_SUBSYS: 'INIT,NET', TORCH_NCCL_ASYNC_ERROR_HANDLING: '3' });
    expect(forwarded).toEqual(['PATH', 'LD_LIBRARY_PATH', 'NCCL_DEBUG', 'NCCL_DEBUG_SUBSYS', 'TORCH_NCCL_ASYNC_ERROR_HANDLING']);
  });

  test('user NCCL/torch env reaches every rank, and wins over the network settings with a warning', () => {
    const props = {
      ...base,
      env: { NCCL_IB_DISABLE: EnvValue.fromValue('1'), NCCL_NVLS_ENABLE: EnvValue.fromValue('0') },
      network: { interconnect: Interconnect.infiniband({ ipcLock: false }) },
    };
    const { env, forwarded } = rankEnv(props);
    expect(env).toMatchObject({ NCCL_IB_DISABLE: '1', NCCL_NVLS_ENABLE: '0' });
    expect(forwarded).toEqual(expect.arrayContaining(['NCCL_IB_DISABLE', 'NCCL_NVLS_ENABLE']));
    const findings = Validation.validateJob(synthJob(props).job).filter(f => f.rule === 'network/env-overrides-network');
    expect(findings.map(f => [f.severity, f.message])).toEqual([['warning',
      'test/train: env.NCCL_IB_DISABLE is \'1\': it replaces the value \'0\' that the network options set for every rank. '
      + 'Remove NCCL_IB_DISABLE from env to keep the network setting, or change the network option instead.']]);
    expectWarnings(...Array(2).fill('test/train: env.NCCL_IB_DISABLE is \'1\''));
  });

  test('Hydra launchers (Intel MPI, MPICH) get the same variables through -genvlist', () => {
    const { launcher } = synthJob({
      ...base,
      image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { mpiImplementation: MpiImplementation.INTEL }),
      network: { interconnect: Interconnect.tcp() },
    });
    const command: string[] = container(launcher).command;
    expect(command[command.indexOf('-genvlist') + 1]).toBe('PATH,LD_LIBRARY_PATH,NCCL_IB_DISABLE,NCCL_SOCKET_IFNAME');
  });
});

describe('/dev/shm', () => {
  test('workers get a memory-backed /dev/shm sized 1 GiB per slot unless set', () => {
    const { worker } = synthJob(base);
    expect(worker.template.spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '8Gi' } });
    const sized = synthJob({ ...base, workers: { ...base.workers, sharedMemorySize: Size.gibibytes(64) } });
    expect(sized.worker.template.spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '64Gi' } });
  });
});
