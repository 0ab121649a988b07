import { JsonPatch, Size } from 'cdk8s';
import { DeepSpeedTrainingImage } from '../src';
import { container, synthJob } from './support/synth';

describe('escape hatches on the MPIJob', () => {
  test('a JSON patch on a quantity keeps its value instead of turning into null', () => {
    const { job } = synthJob({
      image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1'),
      workers: { replicas: 2, gpusPerWorker: 1, memory: Size.gibibytes(8) },
      script: 'train.py',
    });
    job.apiObject.addJsonPatch(JsonPatch.replace('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/resources/limits/memory', '16Gi'));
    const worker = job.apiObject.toJson().spec.mpiReplicaSpecs.Worker;
    expect(container(worker).resources.limits.memory).toBe('16Gi');
    expect(container(worker).resources.requests.memory).toBe('8Gi');
  });

  test('a JSON patch can add a field the generated types do not know', () => {
    const { job } = synthJob({
      image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1'),
      workers: { replicas: 1 },
      script: 'train.py',
    });
    job.apiObject.addJsonPatch(JsonPatch.add('/spec/futureField', 'kept'));
    expect(job.apiObject.toJson().spec.futureField).toBe('kept');
  });
});
