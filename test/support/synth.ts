import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, JsonPatch, Testing } from 'cdk8s';
import {
  BaseImage, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedSweep, DeepSpeedSweepProps,
  DeepSpeedTrainingImage, DeepSpeedTrainingImageProps, Severity, Validation,
} from '../../src';
import { parseWorkerWaitStep } from '../../src/worker-wait';
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

/** The launcher's mpirun argv: its container command after the wait-for-workers step, if any. */
export function mpirunCommand(launcher: any): string[] {
  const command: string[] = container(launcher).command;
  return parseWorkerWaitStep(command)?.command ?? command;
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

/** The image most tests run: the MPI Operator base-image layout (non-root mpiuser, Open MPI). */
export const TEST_IMAGE = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1');

/** A valid job: 2 workers with 1 GPU each, no DeepSpeed config; overrides replace top-level props. */
export function jobProps(overrides: Partial<DeepSpeedMpiJobProps> = {}): DeepSpeedMpiJobProps {
  return { image: TEST_IMAGE, workers: { replicas: 2, gpusPerWorker: 1 }, script: 'train.py', ...overrides };
}

/** JSON pointers into the MPIJob, for escape-hatch patches in tests. */
export const LAUNCHER = '/spec/mpiReplicaSpecs/Launcher';
export const WORKER = '/spec/mpiReplicaSpecs/Worker';
export const LAUNCHER_CONTAINER = `${LAUNCHER}/template/spec/containers/0`;
export const WORKER_CONTAINER = `${WORKER}/template/spec/containers/0`;

/** A job mutation that applies JSON patches to the MPIJob. */
export function patch(...ops: JsonPatch[]): (job: DeepSpeedMpiJob) => void {
  return job => job.apiObject.addJsonPatch(...ops);
}

/** What `app.synth()` did with one job. */
export interface SynthOutcome {
  readonly job: DeepSpeedMpiJob;
  /** Messages of the thrown validation error, one per finding, without cdk8s's `[path]` prefix. */
  readonly errors: string[];
  /** The `*.k8s.yaml` files written to the output folder. */
  readonly written: string[];
}

/** Options for `synthToTempDir`. */
export interface SynthOptions {
  /** Changes the job after construction (escape hatches, extra volumes). */
  readonly mutate?: (job: DeepSpeedMpiJob) => void;
  /** App context, e.g. the warnings-as-errors switch. */
  readonly context?: { [key: string]: any };
  /** Chart id; the job's construct path is `<chartId>/train`. */
  readonly chartId?: string;
}

/**
 * Builds one job in a fresh app whose outdir is a new temp folder, runs `app.synth()` the way
 * `cdk8s synth` does, and reports the validation errors and the manifests written.
 */
export function synthToTempDir(props: DeepSpeedMpiJobProps, options: SynthOptions = {}): SynthOutcome {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-deepspeed-'));
  try {
    const app = new App({ outdir });
    for (const [key, value] of Object.entries(options.context ?? {})) app.node.setContext(key, value);
    const chart = new Chart(app, options.chartId ?? 'test');
    const job = new DeepSpeedMpiJob(chart, 'train', props);
    options.mutate?.(job);
    const message = synthError(app);
    const errors = message === undefined ? [] : message.split('\n').slice(1).map(line => line.replace(/^\s*\[([^\]]*)\] /, '$1: '));
    const written = fs.readdirSync(outdir).filter(file => file.endsWith('.k8s.yaml'));
    return { job, errors, written };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Messages of a job's findings of one severity, in report order. */
export function findingMessages(job: DeepSpeedMpiJob, severity: Severity): string[] {
  return Validation.validateJob(job).filter(f => f.severity === severity).map(f => f.message);
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
  return Validation.validateImage(image).map(f => `${f.severity}: ${f.message}`);
}

/** Builds one job in a fresh app without synthesizing it, for rules that fail synth. */
export function buildJob(props: DeepSpeedMpiJobProps, id = 'train', chartId = 'test'): { app: App; job: DeepSpeedMpiJob } {
  const app = Testing.app();
  const job = new DeepSpeedMpiJob(new Chart(app, chartId), id, props);
  return { app, job };
}

/**
 * A chart's manifests rendered without running validation: what a hand-edited or patched
 * manifest file would hold, for tests of the tools that check manifests after synth.
 */
export function renderUnvalidated(chart: Chart): any[] {
  return chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject).map(o => o.toJson());
}

/** What a chart with one sweep synthesizes, split by kind. */
export interface SynthesizedSweep {
  readonly sweep: DeepSpeedSweep;
  readonly manifests: any[];
  readonly mpiJobs: any[];
  readonly configMaps: any[];
}

/** Synthesizes one sweep in a fresh chart (validation runs, as in `app.synth()`) and picks out its parts. */
export function synthSweep(props: DeepSpeedSweepProps, id = 'sweep', chartId = 'test'): SynthesizedSweep {
  const app = Testing.app();
  const chart = new Chart(app, chartId);
  const sweep = new DeepSpeedSweep(chart, id, props);
  const manifests = Testing.synth(chart);
  return {
    sweep,
    manifests,
    mpiJobs: manifests.filter(m => m.kind === 'MPIJob'),
    configMaps: manifests.filter(m => m.kind === 'ConfigMap'),
  };
}
