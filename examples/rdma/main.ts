// The CIFAR-10 training of examples/cifar10 on 2 nodes x 8 GPUs over an RDMA fabric, once per
// Interconnect preset. Each preset puts its device plugin resources (request = limit) on the
// workers and its NCCL or libfabric variables on the launcher, forwarded to every rank with
// `mpirun -x` (variables on worker pods never reach ranks started over ssh).
//
// - rdma-infiniband: InfiniBand (or RoCE) HCAs from the Mellanox RDMA shared device plugin.
//   The image adds the verbs libraries NCCL loads at run time; without them NCCL falls back to
//   TCP sockets without an error. Verbs pin memory within the node's locked-memory limit
//   (RLIMIT_MEMLOCK, set by the container runtime); IPC_LOCK would not reach the non-root ranks
//   (kubernetes/kubernetes#56374), so the preset adds none and the pods stay restricted.
// - rdma-efa: AWS Elastic Fabric Adapter on p4d.24xlarge nodes (8 A100 GPUs, 4 EFA devices).
//   The image is the CIFAR-10 recipe's Dockerfile plus AWS's EFA installer (libfabric with the
//   EFA provider and the aws-ofi-nccl plugin), which the recipe does not model; its ENV
//   LD_LIBRARY_PATH, forwarded to every rank, must reach /opt/amazon/efa and /opt/amazon/ofi-nccl.
// Both presets keep Open MPI's own messages on TCP (--mca pml ob1 --mca btl ^openib); NCCL carries
// the GPU traffic over the fabric.
import { App, Chart, Size } from 'cdk8s';
import {
  Cpu, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, Interconnect, NcclDebugLevel,
  NcclDebugSubsystem,
} from '../../src';
import { CIFAR10_IMAGE, CIFAR10_SCRIPT, cifar10DeepSpeedConfig } from '../cifar10/main';

/** What both jobs share: 2 workers x 8 GPUs running the CIFAR-10 script, NCCL reporting its transport. */
function rdmaJobProps(): Omit<DeepSpeedMpiJobProps, 'image' | 'metadata'> {
  return {
    workers: { replicas: 2, gpusPerWorker: 8, cpu: Cpu.units(88), memory: Size.gibibytes(1000) },
    script: CIFAR10_SCRIPT,
    args: ['--deepspeed'],
    deepspeedConfig: cifar10DeepSpeedConfig(16),
    // INFO on INIT and NET logs "Using network IB" (or "AWS Libfabric"): the proof the fabric is used.
    network: { ncclDebug: NcclDebugLevel.INFO, ncclDebugSubsystems: [NcclDebugSubsystem.INIT, NcclDebugSubsystem.NET] },
  };
}

export function buildRdmaInfiniband(app: App): Chart {
  const chart = new Chart(app, 'rdma-infiniband');
  const image = new DeepSpeedTrainingImage(chart, 'image', {
    ...CIFAR10_IMAGE,
    imageRef: 'registry.example.com/cifards-ib:v0.0.1',
    // libibverbs and the mlx5 provider that NCCL's IB transport loads.
    systemPackages: ['ibverbs-providers', 'libibverbs1'],
  });
  const props = rdmaJobProps();
  new DeepSpeedMpiJob(chart, 'train', {
    ...props,
    image,
    metadata: { name: 'cifar10-ib', namespace: 'ml-rdma' },
    network: {
      ...props.network,
      // For RoCE v2 add gidIndex: 3.
      interconnect: Interconnect.infiniband({ hcas: ['mlx5_0', 'mlx5_1', 'mlx5_2', 'mlx5_3'] }),
    },
  });
  return chart;
}

export function buildRdmaEfa(app: App): Chart {
  const chart = new Chart(app, 'rdma-efa');
  const props = rdmaJobProps();
  new DeepSpeedMpiJob(chart, 'train', {
    ...props,
    image: DeepSpeedTrainingImage.fromImage('registry.example.com/cifards-efa:v0.0.1', { workingDirectory: '/opt/DeepSpeedExamples' }),
    metadata: { name: 'cifar10-efa', namespace: 'ml' },
    workers: { ...props.workers, nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' } },
    network: {
      ...props.network,
      interconnect: Interconnect.efa({ devicesPerPod: 4, gpuDirectRdma: true }),
    },
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildRdmaInfiniband(app);
  buildRdmaEfa(app);
  app.synth();
}
