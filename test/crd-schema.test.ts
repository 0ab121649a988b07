import { JsonPatch, Testing } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import {
  crdValidator, DEFAULT_MPIJOB_CRD, expectValidMpiJob, loadMpiJobCrdSchema, mpiJobCrdPath, mpiJobSchemaErrors, pinnedCrdUrl,
} from './support/crd-schema';
import { JOB_VARIATIONS } from './support/job-variations';
import { synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

describe('the MPIJob v0.8.0 CRD schema accepts what the library synthesizes', () => {
  test('the CIFAR-10 example', () => {
    const mpiJob = Testing.synth(buildCifar10(Testing.app())).find(m => m.kind === 'MPIJob');
    expect(mpiJobSchemaErrors(mpiJob)).toEqual([]);
  });

  test.each(Object.keys(JOB_VARIATIONS))('%s', name => {
    expect(mpiJobSchemaErrors(synthJob(JOB_VARIATIONS[name]).mpiJob)).toEqual([]);
    expectWarnings(...name === 'root image with custom env from every source' ? ['test/train: image.user is ImageUser.root()'] : []);
  });
});

describe('the CRD check rejects what the API server would reject, with a readable reason', () => {
  const patched = (...ops: JsonPatch[]) => {
    const { job } = synthJob(JOB_VARIATIONS['minimal CPU job']);
    job.apiObject.addJsonPatch(...ops);
    return job.apiObject.toJson();
  };

  test('a field of the wrong type', () => {
    expect(mpiJobSchemaErrors(patched(JsonPatch.replace('/spec/slotsPerWorker', '2'))))
      .toEqual(['spec.slotsPerWorker: must be integer, got "2"']);
  });

  test('an unknown field at the top of the spec and deep in a pod template', () => {
    expect(mpiJobSchemaErrors(patched(
      JsonPatch.add('/spec/futureField', 'kept'),
      JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/gpus', 2),
    ))).toEqual([
      'spec.futureField: unknown field',
      'spec.mpiReplicaSpecs.Worker.template.spec.containers[0].gpus: unknown field',
    ]);
  });

  test('a value outside the enum', () => {
    expect(mpiJobSchemaErrors(patched(JsonPatch.replace('/spec/mpiImplementation', 'OpenMPI5'))))
      .toEqual(['spec.mpiImplementation: must be one of "OpenMPI", "Intel", "MPICH", got "OpenMPI5"']);
  });

  test('a quantity that is not one, and a quantity that became null', () => {
    const errors = mpiJobSchemaErrors(patched(
      JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/resources', { limits: { cpu: 'eight', memory: null } }),
    ));
    expect(errors).toEqual([
      'spec.mpiReplicaSpecs.Worker.template.spec.containers[0].resources.limits.memory: null must be integer or must be string',
      expect.stringMatching(/^spec\.mpiReplicaSpecs\.Worker\.template\.spec\.containers\[0\]\.resources\.limits\.cpu: "eight" does not match \^/),
    ]);
  });

  test('two mounts at one path (a list the API server keys by mountPath)', () => {
    const errors = mpiJobSchemaErrors(patched(
      JsonPatch.add('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/volumeMounts/-', { name: 'other', mountPath: '/dev/shm' }),
    ));
    expect(errors).toEqual(['spec.mpiReplicaSpecs.Worker.template.spec.containers[0].volumeMounts: has a duplicate entry for mountPath ["/dev/shm"]']);
  });

  test('a missing required field', () => {
    expect(mpiJobSchemaErrors(patched(JsonPatch.remove('/spec/mpiReplicaSpecs'))))
      .toEqual(['spec.mpiReplicaSpecs: required field is missing']);
  });

  test('expectValidMpiJob names the job and lists every violation', () => {
    const broken = patched(JsonPatch.replace('/spec/slotsPerWorker', -1.5), JsonPatch.add('/spec/extra', true));
    expect(() => expectValidMpiJob(broken)).toThrow([
      'MPIJob test-train violates the MPIJob CRD schema:',
      '  spec.extra: unknown field',
      '  spec.slotsPerWorker: must be integer, got -1.5',
    ].join('\n'));
  });
});

describe('strict structural schema', () => {
  const validate = crdValidator({
    type: 'object',
    properties: {
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        properties: {
          port: { 'x-kubernetes-int-or-string': true },
          config: { 'type': 'object', 'x-kubernetes-preserve-unknown-fields': true, 'properties': { known: { type: 'string' } } },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          empty: { type: 'object' },
        },
      },
    },
  });

  test('int-or-string takes an integer or a string and nothing else', () => {
    expect(validate({ spec: { port: 8080 } })).toEqual([]);
    expect(validate({ spec: { port: 'http' } })).toEqual([]);
    expect(validate({ spec: { port: true } })).toEqual(['spec.port: true must be integer or must be string']);
  });

  test('preserve-unknown-fields keeps an object open but still types its known fields', () => {
    expect(validate({ spec: { config: { anything: [1, 2], known: 'x' } } })).toEqual([]);
    expect(validate({ spec: { config: { known: 3 } } })).toEqual(['spec.config.known: must be string, got 3']);
  });

  test('maps stay maps, objects without properties are closed, the root metadata is left to ObjectMeta', () => {
    expect(validate({ metadata: { name: 'x', anything: 1 }, spec: { labels: { a: 'b' } } })).toEqual([]);
    expect(validate({ spec: { empty: { a: 1 } } })).toEqual(['spec.empty.a: unknown field']);
  });
});

describe('CRD location', () => {
  const saved = process.env.MPIJOB_CRD;
  afterEach(() => {
    if (saved === undefined) delete process.env.MPIJOB_CRD;
    else process.env.MPIJOB_CRD = saved;
  });

  test('defaults to the shared copy, relative to the repo root', () => {
    delete process.env.MPIJOB_CRD;
    expect(DEFAULT_MPIJOB_CRD).toBe('../shared/crds/mpijobs.kubeflow.org.v0.8.0.yaml');
    expect(mpiJobCrdPath()).toBe(require('path').resolve(__dirname, '..', DEFAULT_MPIJOB_CRD));
  });

  test('a missing CRD fails in one line that names the pinned upstream URL', () => {
    process.env.MPIJOB_CRD = '/nonexistent/mpijobs.yaml';
    expect(pinnedCrdUrl()).toBe('https://raw.githubusercontent.com/kubeflow/mpi-operator/v0.8.0/manifests/base/kubeflow.org_mpijobs.yaml');
    expect(() => loadMpiJobCrdSchema()).toThrow(new Error(
      `MPIJob CRD not found at /nonexistent/mpijobs.yaml: download ${pinnedCrdUrl()} and set MPIJOB_CRD to its path.`));
  });
});
