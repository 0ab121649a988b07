// The library's own value types (env values, CPU, tolerations, node label queries, volumes): what
// each renders into the pod template, so they replace cdk8s-plus values field for field.
import { Duration, Size, Testing } from 'cdk8s';
import {
  Cpu, DeepSpeedMpiJob, DeepSpeedTrainingImage, EmptyDirMedium, EnvFieldPath, EnvValue, HostPathVolumeType,
  MountPropagation, NodeLabelQuery, TaintEffect, Toleration, Volume,
} from '../src';
import { container } from './support/synth';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1.0');

function workerSpec(build: (job: DeepSpeedMpiJob) => void): any {
  const chart = Testing.chart();
  const job = new DeepSpeedMpiJob(chart, 'train', { image, workers: { replicas: 1 }, script: 'train.py', security: { networkPolicy: false } });
  build(job);
  return job.apiObject.toJson().spec.mpiReplicaSpecs.Worker.template.spec;
}

describe('EnvValue', () => {
  test('a literal, a Secret key, a ConfigMap key and a pod field render as Kubernetes env entries', () => {
    const spec = workerSpec(job => {
      job.workers.addEnv('LITERAL', EnvValue.fromValue('1'));
      job.workers.addEnv('HF_TOKEN', EnvValue.fromSecretKey('hf-token', 'token'));
      job.workers.addEnv('OPTIONAL', EnvValue.fromSecretKey('maybe', 'k', { optional: true }));
      job.workers.addEnv('SETTING', EnvValue.fromConfigMapKey('settings', 'level'));
      job.workers.addEnv('NAMESPACE', EnvValue.fromFieldPath(EnvFieldPath.POD_NAMESPACE));
    });
    expect(container({ template: { spec } }).env).toEqual([
      { name: 'LITERAL', value: '1' },
      { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } },
      { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'maybe', key: 'k', optional: true } } },
      { name: 'SETTING', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } },
      { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]);
  });

  test('says where its value comes from', () => {
    const secret = EnvValue.fromSecretKey('hf-token', 'token');
    expect([secret.value, secret.secretName, secret.configMapName, secret.key]).toEqual([undefined, 'hf-token', undefined, 'token']);
    const config = EnvValue.fromConfigMapKey('settings', 'level');
    expect([config.secretName, config.configMapName, config.key]).toEqual([undefined, 'settings', 'level']);
    expect(EnvValue.fromValue('x').value).toBe('x');
  });
});

test('Cpu renders cores and millicores as quantities', () => {
  expect([Cpu.units(8).amount, Cpu.units(0.5).amount, Cpu.millis(500).amount]).toEqual(['8', '0.5', '500m']);
});

describe('Toleration', () => {
  test('equal, exists, all and the GPU taint render every field', () => {
    const spec = workerSpec(job => job.workers.tolerate(
      Toleration.equal('pool', 'a100', { effect: TaintEffect.NO_SCHEDULE }),
      Toleration.exists('spot'),
      Toleration.all({ effect: TaintEffect.NO_EXECUTE, evictAfter: Duration.minutes(5) }),
      Toleration.nvidiaGpu(),
    ));
    expect(spec.tolerations).toEqual([
      { key: 'pool', operator: 'Equal', value: 'a100', effect: 'NoSchedule' },
      { key: 'spot', operator: 'Exists' },
      { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  test('evictAfter without the NoExecute effect is kept for the job\'s validation, which names the prop', () => {
    // The job reports it (props/names, test/validation-props.test.ts) with its path and the prop.
    const toleration = Toleration.exists('spot', { effect: TaintEffect.NO_SCHEDULE, evictAfter: Duration.minutes(1) });
    expect(toleration.evictAfter?.toSeconds()).toBe(60);
  });
});

test('NodeLabelQuery renders each operator as a match expression', () => {
  const spec = workerSpec(job => job.workers.requireNodeLabels(
    NodeLabelQuery.equal('zone', 'a'),
    NodeLabelQuery.inValues('gpu', ['H100', 'A100']),
    NodeLabelQuery.notInValues('gpu', ['T4']),
    NodeLabelQuery.exists('rdma'),
    NodeLabelQuery.doesNotExist('spot'),
    NodeLabelQuery.greaterThan('gpu.memory', 40000),
    NodeLabelQuery.lessThan('gpu.count', 9),
  ));
  expect(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
    { key: 'zone', operator: 'In', values: ['a'] },
    { key: 'gpu', operator: 'In', values: ['H100', 'A100'] },
    { key: 'gpu', operator: 'NotIn', values: ['T4'] },
    { key: 'rdma', operator: 'Exists' },
    { key: 'spot', operator: 'DoesNotExist' },
    { key: 'gpu.memory', operator: 'Gt', values: ['40000'] },
    { key: 'gpu.count', operator: 'Lt', values: ['9'] },
  ]);
});

test('Volume sources and mount options render every field', () => {
  const spec = workerSpec(job => {
    job.workers.mount('/scratch', Volume.fromEmptyDir('scratch', { medium: EmptyDirMedium.MEMORY, sizeLimit: Size.gibibytes(2) }));
    job.workers.mount('/etc/settings', Volume.fromConfigMap('settings', { items: { level: 'level.txt' }, defaultMode: 0o444 }), { readOnly: true });
    job.workers.mount('/etc/token', Volume.fromSecret('hf-token', { name: 'token', optional: true }), { subPath: 'token', readOnly: true });
    job.workers.mount('/data', Volume.fromPersistentVolumeClaim('datasets', { readOnly: true }), { subPathExpr: '$(POD_NAME)' });
    job.workers.mount('/dev/infiniband', Volume.fromHostPath('ib', { path: '/dev/infiniband', hostPathType: HostPathVolumeType.DIRECTORY }),
      { propagation: MountPropagation.HOST_TO_CONTAINER });
  });
  expect(spec.volumes).toEqual(expect.arrayContaining([
    { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '2Gi' } },
    { name: 'configmap-settings', configMap: { name: 'settings', items: [{ key: 'level', path: 'level.txt' }], defaultMode: 0o444 } },
    { name: 'token', secret: { secretName: 'hf-token', optional: true } },
    { name: 'pvc-datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } },
    { name: 'ib', hostPath: { path: '/dev/infiniband', type: 'Directory' } },
  ]));
  expect(container({ template: { spec } }).volumeMounts).toEqual(expect.arrayContaining([
    { name: 'scratch', mountPath: '/scratch' },
    { name: 'configmap-settings', mountPath: '/etc/settings', readOnly: true },
    { name: 'token', mountPath: '/etc/token', subPath: 'token', readOnly: true },
    { name: 'pvc-datasets', mountPath: '/data', subPathExpr: '$(POD_NAME)' },
    { name: 'ib', mountPath: '/dev/infiniband', mountPropagation: 'HostToContainer' },
  ]));
});
