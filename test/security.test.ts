import { JsonPatch, Size, Testing } from 'cdk8s';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodTemplate, ServiceAccount } from 'kubernetes-models/v1';
import {
  DeepSpeedMpiJobProps, DeepSpeedTrainingImage, EgressDestination, EgressPort, EnvValue, Interconnect,
  NcclDebugLevel, SweepAxis, TrainingStorage, Validation, ZeroStage,
} from '../src';
import { buildCifar10 } from '../examples/cifar10/main';
import { scanForSecrets } from './support/secret-scan';
import { buildJob, container, synthError, synthJob, synthSweep } from './support/synth';
import { expectWarnings } from './support/warnings';

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

describe('NetworkPolicy egress (security.egress)', () => {
  const jobPods = { matchLabels: { 'training.kubeflow.org/operator-name': 'mpi-operator', 'training.kubeflow.org/job-name': 'llm' } };
  const dns = {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
  };
  const ownPods = { to: [{ podSelector: jobPods }], ports: [{ protocol: 'TCP' }] };

  test('adds Egress: DNS to kube-dns on UDP and TCP 53 and the job\'s own pods, nothing else by default', () => {
    const policy = synthJob({ ...base, security: { egress: {} } }).manifests.find(m => m.kind === 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toEqual([dns, ownPods]);
    expect(policy.spec.ingress).toEqual([{ from: [{ podSelector: jobPods }], ports: [{ protocol: 'TCP' }] }]);
    expect(() => new NetworkPolicy(policy).validate()).not.toThrow();
  });

  test('listed destinations: CIDR blocks with exceptions, pods in another namespace, ports; another DNS', () => {
    const policy = synthJob({
      ...base,
      security: {
        egress: {
          dnsNamespace: 'dns', dnsPodLabels: { app: 'coredns' },
          destinations: [
            EgressDestination.cidr('0.0.0.0/0', { exceptCidrs: ['10.0.0.0/8'], ports: [EgressPort.tcp(443)] }),
            EgressDestination.pods({ namespaceName: 'storage', podLabels: { app: 'minio' }, ports: [EgressPort.tcp(9000)] }),
            EgressDestination.pods({ namespaceLabels: { team: 'data' } }),
            EgressDestination.cidr('fd00::/8'),
          ],
        },
      },
    }).manifests.find(m => m.kind === 'NetworkPolicy');
    expect(policy.spec.egress).toEqual([
      { ...dns, to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns' } }, podSelector: { matchLabels: { app: 'coredns' } } }] },
      ownPods,
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'storage' } }, podSelector: { matchLabels: { app: 'minio' } } }], ports: [{ protocol: 'TCP', port: 9000 }] },
      { to: [{ namespaceSelector: { matchLabels: { team: 'data' } }, podSelector: {} }] },
      { to: [{ ipBlock: { cidr: 'fd00::/8' } }] },
    ]);
    expect(() => new NetworkPolicy(policy).validate()).not.toThrow();
  });

  test('bad CIDRs and ports, and egress without the NetworkPolicy, fail synth', () => {
    const messages = (egress: any, networkPolicy?: boolean) => Validation.validateJob(buildJob({ ...base, security: { egress, networkPolicy } }).job)
      .filter(f => f.rule === 'security/egress').map(f => f.message);
    expect(messages({ destinations: [EgressDestination.cidr('10.0.0.0')] })).toEqual([
      'test/train: security.egress.destinations[0] is \'10.0.0.0\': the API server rejects an ipBlock whose cidr or except entry is not an IPv4 or IPv6 CIDR (address/prefix). '
      + 'Write the block as address/prefix, e.g. \'10.20.0.0/16\' or \'0.0.0.0/0\'.',
    ]);
    expect(messages({ destinations: [EgressDestination.cidr('10.0.0.0/8', { exceptCidrs: ['10.300.0.0/16'] })] })).toHaveLength(1);
    expect(messages({ destinations: [EgressDestination.pods({ podLabels: { app: 'x' }, ports: [EgressPort.tcp(70000)] })] })).toEqual([
      'test/train: security.egress.destinations[0] ports is 70000: the API server rejects a NetworkPolicy port outside 1-65535. Use a port from 1 to 65535, or leave ports out to allow every port.',
    ]);
    expect(messages({}, false)).toEqual([
      'test/train: security.egress is set with networkPolicy: false: the egress rules are part of the job\'s NetworkPolicy, which networkPolicy: false leaves out, so they would be ignored. '
      + 'Remove networkPolicy: false, or remove security.egress.',
    ]);
  });

  test('a sweep\'s shared policy carries the base\'s egress for the sweep\'s pods; sharedNetworkPolicy: false isolates every job', () => {
    const sweepBase = { ...base, metadata: { namespace: 'ml' }, deepspeedConfig: { trainMicroBatchSizePerGpu: 4 }, security: { egress: {} } };
    const shared = synthSweep({ name: 'lr', baseJob: sweepBase, axes: [SweepAxis.workers([1, 2])] });
    const [policy] = shared.manifests.filter(m => m.kind === 'NetworkPolicy');
    const sweepPods = { matchLabels: { 'training.kubeflow.org/operator-name': 'mpi-operator', 'deepspeed-sweep/sweep': 'lr' } };
    expect(policy.spec.egress).toEqual([dns, { to: [{ podSelector: sweepPods }], ports: [{ protocol: 'TCP' }] }]);
    const isolated = synthSweep({ name: 'lr', baseJob: sweepBase, axes: [SweepAxis.workers([1, 2])], sharedNetworkPolicy: false });
    const policies = isolated.manifests.filter(m => m.kind === 'NetworkPolicy');
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(p.spec.ingress[0].from[0].podSelector.matchLabels['training.kubeflow.org/job-name']).toBe(p.metadata.name);
      expect(p.spec.egress[1].to[0].podSelector.matchLabels['training.kubeflow.org/job-name']).toBe(p.metadata.name);
    }
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
    expectWarnings('test/train: ds_config.optimizer is not set');
  });

  test('the pod templates of that job are valid core/v1 pod templates', () => {
    const { launcher, worker } = synthJob(everything);
    for (const replica of [launcher, worker]) {
      expect(() => new PodTemplate({ metadata: { name: 'llm' }, template: replica.template }).validate()).not.toThrow();
    }
    expectWarnings('test/train: ds_config.optimizer is not set');
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
    expectWarnings('test/train: ds_config.optimizer is not set');
  });

  test('a literal value for a credential-named variable is reported', () => {
    const { job } = synthJob({ ...base, env: { HF_TOKEN: EnvValue.fromValue('hf_x') } });
    expect(Validation.validateJob(job).filter(f => f.rule === 'security/literal-credential').map(f => f.message)).toEqual([
      'test/train: Launcher env HF_TOKEN is a literal value: the value is written in plain text into the synthesized MPIJob manifest, '
      + 'where anyone who can read the manifest or the MPIJob can read it. Keep it in a Secret and pass EnvValue.fromSecretKey(secretName, key) for HF_TOKEN.',
    ]);
    expectWarnings('test/train: Launcher env HF_TOKEN is a literal value');
  });
});
