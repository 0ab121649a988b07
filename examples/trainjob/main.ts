// One DeepSpeed job, two operators: the CIFAR-10 job of examples/cifar10 as a Kubeflow MPI
// Operator MPIJob and as a Kubeflow Trainer v2 TrainJob. The props are the same object; only
// the construct differs (DeepSpeedMpiJob or DeepSpeedTrainJob). The TrainJob runs with a
// namespaced TrainingRuntime generated from the image's facts (user, sshd port and config,
// slots, launcher wait), which the chart writes before the TrainJob.
import { App, Chart } from 'cdk8s';
import { DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, DeepSpeedTrainJob } from '../../src';
import { CIFAR10_IMAGE, cifar10JobProps } from '../cifar10/main';

/** The job's props, shared by both operators, in namespace `ml`. */
export function trainjobExampleProps(image: DeepSpeedTrainingImage): DeepSpeedMpiJobProps {
  return { ...cifar10JobProps(image), metadata: { name: 'cifar10', namespace: 'ml' } };
}

/** The MPI Operator's MPIJob, with the image recipe (its Dockerfile goes to images/). */
export function buildMpiJob(app: App): Chart {
  const chart = new Chart(app, 'mpijob');
  const image = new DeepSpeedTrainingImage(chart, 'image', CIFAR10_IMAGE);
  new DeepSpeedMpiJob(chart, 'train', trainjobExampleProps(image));
  return chart;
}

/** The same job as a Trainer v2 TrainJob. */
export function buildTrainJob(app: App): Chart {
  const chart = new Chart(app, 'trainjob');
  const image = new DeepSpeedTrainingImage(chart, 'image', CIFAR10_IMAGE);
  new DeepSpeedTrainJob(chart, 'train', trainjobExampleProps(image));
  return chart;
}

if (require.main === module) {
  const app = new App();
  buildMpiJob(app);
  buildTrainJob(app);
  app.synth();
}
