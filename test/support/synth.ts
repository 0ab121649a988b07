import { App, Chart, Testing } from 'cdk8s';
import { DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedSweep, DeepSpeedSweepProps } from '../../src';

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
  const app = Testing.app();
  const chart = new Chart(app, chartId);
  const job = new DeepSpeedMpiJob(chart, id, props);
  const manifests = Testing.synth(chart);
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
