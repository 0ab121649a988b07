import { Chart, JsonPatch, Testing } from 'cdk8s';
import { EnvValue } from 'cdk8s-plus-27';
import { DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage } from '../src';
import { container } from './support/synth';

const props: DeepSpeedMpiJobProps = {
  image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1'),
  workers: { replicas: 2 },
  script: 'train.py',
};

function newJob(jobProps: DeepSpeedMpiJobProps = props): { chart: Chart; job: DeepSpeedMpiJob } {
  const chart = new Chart(Testing.app(), 'test');
  return { chart, job: new DeepSpeedMpiJob(chart, 'train', jobProps) };
}

function workerEnv(job: DeepSpeedMpiJob): string[] {
  return (container(job.apiObject.toJson().spec.mpiReplicaSpecs.Worker).env ?? []).map((e: any) => e.name);
}

describe('the validated render is written without rendering again', () => {
  test('synthesis renders the MPIJob once: for validation, reused for the output', () => {
    const { chart, job } = newJob();
    const renders = jest.spyOn(job.workers, '_toReplicaSpec');
    const manifests = Testing.synth(chart);
    expect(renders).toHaveBeenCalledTimes(1);
    expect(manifests[0].spec.mpiReplicaSpecs.Worker.replicas).toBe(2);
  });

  test('a change after synthesis shows in the next render', () => {
    const { chart, job } = newJob();
    Testing.synth(chart);
    job.workers.addEnv('AFTER_SYNTH', EnvValue.fromValue('1'));
    expect(workerEnv(job)).toEqual(['AFTER_SYNTH']);
  });

  test('a JSON patch after validation drops the kept render', () => {
    const { job } = newJob();
    expect(job.node.validate()).toEqual([]);
    job.apiObject.addJsonPatch(JsonPatch.add('/spec/mpiReplicaSpecs/Worker/replicas', 3));
    expect(job.apiObject.toJson().spec.mpiReplicaSpecs.Worker.replicas).toBe(3);
  });

  test('the kept render expires when the synchronous run ends', async () => {
    const { job } = newJob();
    expect(job.node.validate()).toEqual([]);
    await Promise.resolve();
    job.workers.addEnv('LATER', EnvValue.fromValue('1'));
    expect(workerEnv(job)).toEqual(['LATER']);
  });

  test('a job that fails validation keeps no render', () => {
    const { job } = newJob({ ...props, launcher: { gpus: 1 } });
    expect(job.node.validate()).toHaveLength(1);
    job.workers.addEnv('FIXED', EnvValue.fromValue('1'));
    expect(workerEnv(job)).toEqual(['FIXED']);
  });

  test('every validation renders the current state', () => {
    const { job } = newJob();
    expect(job.node.validate()).toEqual([]);
    job.apiObject.metadata.addLabel('changed', 'yes');
    const renders = jest.spyOn(job.workers, '_toReplicaSpec');
    job.node.validate();
    expect(renders).toHaveBeenCalledTimes(1);
    expect(job.apiObject.toJson().metadata.labels).toEqual({ changed: 'yes' });
  });
});
