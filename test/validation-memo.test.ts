// cdk8s validates an app more than once per synthesis; the job's rules run once per distinct render.
import { Chart, Testing } from 'cdk8s';
import { DeepSpeedMpiJob, EnvValue } from '../src';
import { ALL_RULES, JobFacts } from '../src/validation';
import { _checkSharedFindings } from '../src/validation/shared-findings';
import { jobProps } from './support/synth';

describe('validation passes', () => {
  const seen: string[] = [];
  const counting = (ctx: JobFacts) => {
    seen.push(JSON.stringify(ctx.manifest.spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].env ?? []));
    return [];
  };
  // The check of shared findings would run the rule a second time.
  beforeAll(() => { ALL_RULES.push(counting); _checkSharedFindings(false); });
  afterAll(() => { ALL_RULES.splice(ALL_RULES.indexOf(counting), 1); _checkSharedFindings(true); });

  test('an unchanged job is checked once, and every change is checked again', () => {
    const app = Testing.app();
    const job = new DeepSpeedMpiJob(new Chart(app, 'c'), 'train', jobProps());
    app.synthYaml(); // validates the app, then again for the chart
    expect(seen).toEqual(['[]']);

    job.addEnv('NCCL_DEBUG', EnvValue.fromValue('WARN'));
    const errors = job.node.validate();
    expect(errors).toEqual([]);
    expect(seen).toEqual(['[]', '[{"name":"NCCL_DEBUG","value":"WARN"}]']);
  });

  test('a change that breaks a rule after a passing pass is reported', () => {
    const app = Testing.app();
    const job = new DeepSpeedMpiJob(new Chart(app, 'c'), 'train', jobProps());
    expect(job.node.validate()).toEqual([]);
    job.launcher.addExtendedResource('nvidia.com/gpu', 1);
    expect(job.node.validate()).toEqual([
      'launcher.gpus is 1: the MPI Operator hides GPUs from a launcher that does not run as a worker, so they would sit idle. Remove launcher.gpus, or set runLauncherAsWorker: true to run ranks on the launcher too.',
    ]);
  });
});
