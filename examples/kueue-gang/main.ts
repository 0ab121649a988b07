// The CIFAR-10 training of examples/cifar10 on 2 nodes x 4 GPUs, submitted to a Kueue LocalQueue
// and gang scheduled.
//
// - Kueue admits the job once its ClusterQueue has quota for every pod: the job is created
//   suspended (runPolicy.suspend) with the queue and WorkloadPriorityClass labels, and Kueue
//   resumes it on admission.
// - The MPI Operator, started with --gang-scheduling=scheduler-plugins-scheduler, creates a
//   PodGroup from runPolicy.schedulingPolicy, so the coscheduling plugin binds the workers
//   together or not at all: quota alone does not guarantee that the pods fit on the nodes.
// - The pods' PriorityClass lets kube-scheduler preempt lower-priority pods for them.
// - Kueue creates every job suspended, and the MPI Operator then starts the launcher together
//   with the workers whatever the launcherCreationPolicy (kubeflow/mpi-operator#615): the gang
//   is all 3 pods, and the launcher's wait step (waitForWorkers, on by default) keeps mpirun
//   back until both workers accept ssh connections.
//
// The image is the one examples/cifar10 builds; its facts are the defaults of fromImage
// (mpiuser 1000, sshd on 2222, Open MPI, /opt/conda/bin/python) plus the checkout directory.
import { App, Chart, Duration, Size } from 'cdk8s';
import { Cpu, DeepSpeedMpiJob, DeepSpeedTrainingImage } from '../../src';
import { CIFAR10_IMAGE, CIFAR10_SCRIPT, cifar10DeepSpeedConfig } from '../cifar10/main';

export function buildKueueGang(app: App): Chart {
  const chart = new Chart(app, 'kueue-gang');
  new DeepSpeedMpiJob(chart, 'train', {
    image: DeepSpeedTrainingImage.fromImage(CIFAR10_IMAGE.imageRef, { workingDirectory: '/opt/DeepSpeedExamples' }),
    metadata: { name: 'cifar10-queued', namespace: 'team-a' },
    workers: { replicas: 2, gpusPerWorker: 4, cpu: Cpu.units(16), memory: Size.gibibytes(64) },
    script: CIFAR10_SCRIPT,
    args: ['--deepspeed'],
    deepspeedConfig: cifar10DeepSpeedConfig(8),
    scheduling: {
      kueue: { queueName: 'team-a-gpu', priorityClass: 'research-high' },
      priorityClassName: 'training-high',
      gangScheduling: { scheduleTimeout: Duration.minutes(10) },
    },
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildKueueGang(app);
  app.synth();
}
