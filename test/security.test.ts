import { JsonPatch, Size, Testing } from 'cdk8s';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodTemplate, ServiceAccount } from 'kubernetes-models/v1';
import {
  DeepSpeedMpiJobProps, DeepSpeedTrainingImage, EnvValue, Interconnect, NcclDebugLevel, TrainingStorage,
  Validation, ZeroStage,
} from '../src';
import { buildCifar10 } from '../examples/cifar10/main';
import { scanForSecrets } from './support/secret-scan';
import { buildJob, container, synthError, synthJob } from './support/synth';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1');
const base: DeepSpeedMpiJobProps = {
  image,
  workers: { replicas: 2, gpusPerWorker: 1 },
  script: '/opt/train.py',
  metadata: { name: 'llm', namespace: 'ml' },
};

describe('NetworkPolicy', () => {
  const { manifests } = synthJob(base);
  const policy = manifests.find(m => m.kind === 'NetworkPolicy');
  const jobPods = { matchLabels: { 'training.kubeflow.org/operator-name': 'mpi-operator', 'training.kubeflow.org/job-name': 'llm' } };

  test('one per job by default, in the job\'s namespace, selecting the pods by the operator\'s labels', () => {
    expect(manifests.filter(m => m.kind === 'NetworkPolicy')).toHaveLength(1);
    expect(policy.metadata).toEqual({ name: 'llm', namespace: 'ml' });
    expect(policy.spec.podSelector).toEqual(jobPods);
  });

  test('admits TCP on every port from the job\'s own pods only, and leaves egress alone', () => {
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toEqual([{ from: [{ podSelector: jobPods }], ports: [{ protocol: 'TCP' }] }]);
  });

  test('is a valid NetworkPolicy', () => {
    expect(() => new NetworkPolicy(policy).validate()).not.toThrow();
  });

  test('can be turned off', () => {
    const off = synthJob({ ...base, security: { networkPolicy: false } });
    expect(off.manifests.some(m => m.kind === 'NetworkPolicy')).toBe(false);
    expect(off.job.networkPolicy).toBeUndefined();
  });
});

describe('ServiceAccount and token', () => {
  test('pods do not mount the API token by default and use the namespace\'s default account', () => {
    const { launcher, worker, manifests } = synthJob(base);
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.automountServiceAccountToken).toBe(false);
      expect(replica.template.spec.serviceAccountName).toBeUndefined();
    }
    expect(manifests.some(m => m.kind === 'ServiceAccount')).toBe(false);
  });

  test('createServiceAccount adds a ServiceAccount without token automounting, used by both replicas', () => {
    const { launcher, worker, manifests } = synthJob({ ...base, security: { createServiceAccount: true } });
    const account = manifests.find(m => m.kind === 'ServiceAccount');
    expect(account).toEqual({
      apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'llm', namespace: 'ml' }, automountServiceAccountToken: false,
    });
    expect(() => new ServiceAccount(account).validate()).not.toThrow();
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.serviceAccountName).toBe('llm');
      expect(replica.template.spec.automountServiceAccountToken).toBe(false);
    }
  });

  test('an existing ServiceAccount and token mounting on request', () => {
    const { launcher, worker, manifests } = synthJob({
      ...base,
      security: {
        serviceAccountName: 'bucket-reader',
        automountServiceAccountToken: true,
      },
    });
    expect(manifests.some(m => m.kind === 'ServiceAccount')).toBe(false);
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.serviceAccountName).toBe('bucket-reader');
      expect(replica.template.spec.automountServiceAccountToken).toBe(true);
    }
  });

  test('both an existing and a created ServiceAccount is an error', () => {
    const { app, job } = buildJob({
      ...base,
      security: { createServiceAccount: true, serviceAccountName: 'other' },
    });
    expect(Validation.validateJob(job).filter(f => f.rule === 'security/service-account').map(f => f.severity)).toEqual(['error']);
    expect(synthError(app)).toContain(
      '[test/train] security.serviceAccountName is \'other\': createServiceAccount is also set, and the pods can run as only one ServiceAccount. '
      + 'Remove createServiceAccount to use the existing ServiceAccount, or remove serviceAccountName to use the job\'s own.');
  });
});

describe('no secret material in synthesized output', () => {
  const everything: DeepSpeedMpiJobProps = {
    ...base,
    runLauncherAsWorker: true,
    workers: { replicas: 2, gpusPerWorker: 8, memory: Size.gibibytes(512) },
    env: { WANDB_API_KEY: EnvValue.fromSecretKey('wandb', 'key') },
    deepspeedConfig: { trainBatchSize: 72, zeroOptimization: { stage: ZeroStage.STAGE_2 } },
    network: { interconnect: Interconnect.efa({ devicesPerPod: 32 }), ncclDebug: NcclDebugLevel.WARN },
    storage: {
      volumes: [TrainingStorage.newClaim('checkpoints', { size: Size.tebibytes(2), mountPath: '/checkpoints' })],
      checkpoint: { directory: '/checkpoints/llm' },
    },
    scheduling: { kueue: { queueName: 'team-a', multiKueue: true }, gangScheduling: {}, spreadWorkers: true },
    security: { createServiceAccount: true },
  };

  test('a job with every option, and the CIFAR-10 example, contain no keys, tokens or Secret objects', () => {
    const { manifests } = synthJob(everything);
    expect(manifests.map(m => m.kind).sort()).toEqual(['ConfigMap', 'MPIJob', 'NetworkPolicy', 'PersistentVolumeClaim', 'ServiceAccount']);
    expect(scanForSecrets(manifests)).toEqual([]);
    expect(scanForSecrets(Testing.synth(buildCifar10(Testing.app())))).toEqual([]);
  });

  test('the pod templates of that job are valid core/v1 pod templates', () => {
    const { launcher, worker } = synthJob(everything);
    for (const replica of [launcher, worker]) {
      expect(() => new PodTemplate({ metadata: { name: 'llm' }, template: replica.template }).validate()).not.toThrow();
    }
  });

  test('the scan finds key material smuggled in through an escape hatch or a literal env value', () => {
    const { job } = synthJob(everything);
    const pem = ['-----BEGIN EC PRIVATE KEY-----', 'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oWbp2q4YdXtmoAoGCCqGSM49'].join('\n');
    job.apiObject.addJsonPatch(JsonPatch.add('/metadata/annotations', { leaked: pem }));
    job.addEnv('HF_TOKEN', EnvValue.fromValue('hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'));
    const kinds = scanForSecrets([job.apiObject.toJson()]).map(f => f.kind);
    expect(kinds).toEqual(expect.arrayContaining(['PEM block', 'credential-named variable', 'opaque token']));
    expect(container(job.apiObject.toJson().spec.mpiReplicaSpecs.Launcher).env.find((e: any) => e.name === 'HF_TOKEN').value)
      .toMatch(/^hf_/);
  });

  test('a literal value for a credential-named variable is reported', () => {
    const { job } = synthJob({ ...base, env: { HF_TOKEN: EnvValue.fromValue('hf_x') } });
    expect(Validation.validateJob(job).filter(f => f.rule === 'security/literal-credential').map(f => f.message)).toEqual([
      'test/train: Launcher env HF_TOKEN is a literal value: the value is written in plain text into the synthesized MPIJob manifest, '
      + 'where anyone who can read the manifest or the MPIJob can read it. Keep it in a Secret and pass EnvValue.fromSecretKey(secretName, key) for HF_TOKEN.',
    ]);
  });
});
