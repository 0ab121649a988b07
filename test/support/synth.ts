import { App, Chart, Testing } from 'cdk8s';
import {
  BaseImage, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, DeepSpeedTrainingImageProps, validateImage,
} from '../../src';
import { expectValidManifests } from './k8s-schema';

/** What a chart with one job synthesizes, split by kind. */
export interface SynthesizedJob {
  readonly job: DeepSpeedMpiJob;
  readonly chart: Chart;
  readonly manifests: any[];
  readonly mpiJob: any;
  readonly launcher: any;
  readonly worker: any;
  readonly configMap?: any;
}

/** Synthesizes one job in a fresh chart (without running validation) and picks out its parts. */
export function synthJob(props: DeepSpeedMpiJobProps, id = 'train', chartId = 'test'): SynthesizedJob {
  const chart = new Chart(Testing.app(), chartId);
  return synthesizeJob(chart, new DeepSpeedMpiJob(chart, id, props));
}

/** A job whose image is a recipe in the same chart, synthesized like `synthJob`. */
export function synthJobWithRecipe(
  recipe: Partial<DeepSpeedTrainingImageProps>,
  props: Omit<DeepSpeedMpiJobProps, 'image'>,
): SynthesizedJob & { image: DeepSpeedTrainingImage } {
  const chart = new Chart(Testing.app(), 'test');
  const image = new DeepSpeedTrainingImage(chart, 'image', { ...BASE_RECIPE, ...recipe });
  return { ...synthesizeJob(chart, new DeepSpeedMpiJob(chart, 'train', { ...props, image })), image };
}

/** Synthesizes the chart and checks every object against its real schema (MPIJob CRD, Kubernetes 1.27). */
function synthesizeJob(chart: Chart, job: DeepSpeedMpiJob): SynthesizedJob {
  const manifests = Testing.synth(chart);
  expectValidManifests(manifests);
  const mpiJob = manifests.find(m => m.kind === 'MPIJob');
  return {
    job,
    chart,
    manifests,
    mpiJob,
    launcher: mpiJob.spec.mpiReplicaSpecs.Launcher,
    worker: mpiJob.spec.mpiReplicaSpecs.Worker,
    configMap: manifests.find(m => m.kind === 'ConfigMap'),
  };
}

/** The first container of a replica spec. */
export function container(replica: any): any {
  return replica.template.spec.containers[0];
}

/** Runs the app's validation the way `app.synth()` does and returns the thrown message, or undefined. */
export function synthError(app: App): string | undefined {
  try {
    app.synth();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A minimal valid recipe: the pytorch 2.4.1 / CUDA 12.4 devel base with DeepSpeed 0.16.3. */
export const BASE_RECIPE: DeepSpeedTrainingImageProps = {
  imageRef: 'registry.example.com/train:v1',
  baseImage: BaseImage.pytorch({ torchVersion: '2.4.1', cudaVersion: '12.4', cudnnVersion: '9' }),
  deepspeedVersion: '0.16.3',
};

/** An image recipe in a fresh chart `test`, on top of BASE_RECIPE. */
export function imageRecipe(props: Partial<DeepSpeedTrainingImageProps> = {}, id = 'image'): {
  app: App; chart: Chart; image: DeepSpeedTrainingImage;
} {
  const app = Testing.app();
  const chart = new Chart(app, 'test');
  const image = new DeepSpeedTrainingImage(chart, id, { ...BASE_RECIPE, ...props });
  return { app, chart, image };
}

/** The messages of every finding of an image recipe. */
export function imageFindings(image: DeepSpeedTrainingImage): string[] {
  return validateImage(image).map(f => `${f.severity}: ${f.message}`);
}

/** Builds one job in a fresh app without synthesizing it, for rules that fail synth. */
export function buildJob(props: DeepSpeedMpiJobProps, id = 'train', chartId = 'test'): { app: App; job: DeepSpeedMpiJob } {
  const app = Testing.app();
  const job = new DeepSpeedMpiJob(new Chart(app, chartId), id, props);
  return { app, job };
}
