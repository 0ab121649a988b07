import { Testing } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { JOB_VARIATIONS } from './support/job-variations';
import { coreObjectSchemaErrors, expectValidManifests, manifestSchemaErrors, podTemplateSchemaErrors } from './support/k8s-schema';
import { synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

describe('Kubernetes 1.27 schemas accept every object the library synthesizes', () => {
  test('the CIFAR-10 example: the ConfigMap and both pod templates', () => {
    const manifests = Testing.synth(buildCifar10(Testing.app()));
    const configMap = manifests.find(m => m.kind === 'ConfigMap');
    const replicas = manifests.find(m => m.kind === 'MPIJob').spec.mpiReplicaSpecs;
    expect(coreObjectSchemaErrors(configMap)).toEqual([]);
    expect(podTemplateSchemaErrors(replicas.Launcher.template)).toEqual([]);
    expect(podTemplateSchemaErrors(replicas.Worker.template)).toEqual([]);
    expect(manifestSchemaErrors(manifests)).toEqual([]);
  });

  test.each(Object.keys(JOB_VARIATIONS))('%s', name => {
    expect(manifestSchemaErrors(synthJob(JOB_VARIATIONS[name]).manifests)).toEqual([]);
    expectWarnings(...name === 'root image with custom env from every source' ? ['test/train: image.user is ImageUser.root()'] : []);
  });
});

describe('the Kubernetes check rejects invalid core objects with a readable reason', () => {
  test('a ConfigMap value that is not a string', () => {
    const configMap = synthJob(JOB_VARIATIONS['launcher as a worker next to 2 workers']).configMap;
    expect(coreObjectSchemaErrors({ ...configMap, data: { 'ds_config.json': 42 } }))
      .toEqual(['data.ds_config.json: must be string, got 42']);
  });

  test('a pod template with a quantity that is not one and a port that is not a number', () => {
    const { worker } = synthJob(JOB_VARIATIONS['minimal CPU job']);
    const template = JSON.parse(JSON.stringify(worker.template));
    template.spec.containers[0].resources = { limits: { cpu: 'eight' } };
    template.spec.containers[0].ports[0].containerPort = 'ssh';
    expect(podTemplateSchemaErrors(template)).toEqual([
      'spec.containers[0].resources.limits.cpu: "eight" must be number or must match format "quantity"',
      'spec.containers[0].ports[0].containerPort: must be integer, got "ssh"',
    ]);
  });

  test('a kind kubernetes-models does not know', () => {
    expect(coreObjectSchemaErrors({ apiVersion: 'example.com/v1', kind: 'Widget' }))
      .toEqual(['(root): kubernetes-models has no model for example.com/v1 Widget']);
  });

  test('expectValidManifests names the object and the replica', () => {
    const { manifests } = synthJob(JOB_VARIATIONS['minimal CPU job']);
    const broken = JSON.parse(JSON.stringify(manifests));
    broken[0].spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].env = [{ name: 'X', value: 1 }];
    expect(() => expectValidManifests(broken)).toThrow([
      'synthesized manifests violate their schemas:',
      '  MPIJob test-train: spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].env[0].value: must be string, got 1',
      '  MPIJob test-train: Launcher pod template: spec.containers[0].env[0].value: must be string, got 1',
    ].join('\n'));
  });
});
