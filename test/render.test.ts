import { App, AppProps, Chart, IResolver, JsonPatch, Lazy, ResolutionContext, Size, Testing } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { cifar10ScaleSweep } from '../examples/sweep/main';
import { DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedTrainingImage, EnvValue, ImageUser, TaintEffect, Toleration } from '../src';
import { expectWarnings } from './support/warnings';

/** An app-level resolver that changes nothing and counts the MPIJob spec values it is shown. */
class CountingResolver implements IResolver {
  public specValues = 0;
  public resolve(context: ResolutionContext): void {
    if (context.obj.kind === 'MPIJob' && context.key[0] === 'spec') this.specValues++;
  }
}

/** A job using every kind of value the pod templates hold: quantities, tolerations, env, volumes, metadata, patches. */
function busyJob(app: App, overrides: Partial<DeepSpeedMpiJobProps> = {}): DeepSpeedMpiJob {
  const chart = new Chart(app, 'busy', { labels: { team: 'ml' }, namespace: 'training' });
  const job = new DeepSpeedMpiJob(chart, 'train', {
    image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.root(), workingDirectory: '/work' }),
    workers: {
      replicas: 3,
      gpusPerWorker: 2,
      memory: Size.gibibytes(64),
      sharedMemorySize: Size.mebibytes(1536),
      tolerations: [Toleration.equal('nvidia.com/gpu', 'present', { effect: TaintEffect.NO_SCHEDULE })],
      nodeSelector: { 'zone': 'b', 'nvidia.com/gpu.product': 'A100' },
      podLabels: { tier: 'gpu', app: 'train' },
    },
    launcher: { podAnnotations: { note: 'launcher' } },
    runLauncherAsWorker: true,
    script: 'train.py',
    args: ['--epochs', '3'],
    env: { NCCL_DEBUG: EnvValue.fromValue('INFO'), A_FIRST: EnvValue.fromValue('1') },
    deepspeedConfig: { trainMicroBatchSizePerGpu: 4 },
    ...overrides,
  });
  job.apiObject.metadata.addLabel('added', 'later');
  job.apiObject.addJsonPatch(
    JsonPatch.replace('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/resources/limits/memory', '80Gi'),
    // A field the props do not set: patches reach the written manifest either way.
    JsonPatch.add('/spec/runPolicy/ttlSecondsAfterFinished', 3600));
  return job;
}

/**
 * The YAML an app writes, built twice: as usual, and with an app-level resolver, which makes every
 * MPIJob render through the cdk8s resolver (checked: the resolver sees the spec values).
 */
function bothWays(build: (app: App) => unknown): [string, string] {
  const synthYaml = (props?: AppProps) => {
    const app = Testing.app(props);
    build(app);
    return app.synthYaml();
  };
  const counter = new CountingResolver();
  const direct = synthYaml();
  const resolved = synthYaml({ resolvers: [counter] });
  expect(counter.specValues).toBeGreaterThan(0);
  return [direct, resolved];
}

describe('the MPIJob renders the same with and without the cdk8s resolver', () => {
  test.each([
    ['the CIFAR-10 example', (app: App) => buildCifar10(app)],
    ['a sample of the CIFAR-10 sweep', (app: App) => cifar10ScaleSweep(app, { count: 25, seed: 3 })],
    ['a job with quantities, tolerations, env, volumes, metadata and patches', (app: App) => busyJob(app)],
  ])('%s', (_, build) => {
    const [direct, resolved] = bothWays(build);
    expect(direct).toContain('kind: MPIJob');
    expect(direct).toBe(resolved);
    // Each of the two syntheses warns about busyJob's root image.
    expectWarnings(...direct.includes('name: busy-train') ? Array(2).fill('busy/train: image.user is ImageUser.root()') : []);
  });

  test('with key sorting turned off (CDK8S_DISABLE_SORT)', () => {
    process.env.CDK8S_DISABLE_SORT = '1';
    try {
      const [direct, resolved] = bothWays(app => busyJob(app));
      expect(direct).toBe(resolved);
      expectWarnings(...Array(2).fill('busy/train: image.user is ImageUser.root()'));
    } finally {
      delete process.env.CDK8S_DISABLE_SORT;
    }
  });

  test('the metadata renders as cdk8s renders it: every field, empty ones dropped, tokens left to the resolver', () => {
    const job = busyJob(Testing.app(), { metadata: { annotations: { zeta: '1', alpha: '2' }, labels: {} } });
    const metadata = job.apiObject.metadata;
    metadata.addFinalizers('example.com/keep');
    metadata.addOwnerReference({ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '1234' });
    metadata.add('generateName', 'busy-');
    const rendered = () => JSON.stringify(job.apiObject.toJson().metadata);
    expect(rendered()).toBe(JSON.stringify(metadata.toJson()));
    expect(Object.keys(job.apiObject.toJson().metadata)).toEqual(['annotations', 'finalizers', 'generateName', 'labels', 'name', 'namespace', 'ownerReferences']);
    metadata.addLabel('lazy', Lazy.any({ produce: () => 'from-a-token' }) as any);
    expect(job.apiObject.toJson().metadata.labels.lazy).toBe('from-a-token');
    expect(rendered()).toBe(JSON.stringify(metadata.toJson()));
  });

  test('a Lazy in the spec is left to the resolver', () => {
    const job = busyJob(Testing.app(), { args: [Lazy.any({ produce: () => '--from-a-token' }) as any] });
    const command: string[] = job.apiObject.toJson().spec.mpiReplicaSpecs.Launcher.template.spec.containers[0].command;
    expect(command).toContain('--from-a-token');
  });

  test('an implicit token (an object with resolve()) in the spec is left to the resolver', () => {
    const job = busyJob(Testing.app());
    job.workers.addPodLabel('resolved', { resolve: () => 'by-cdk8s' } as any);
    expect(job.apiObject.toJson().spec.mpiReplicaSpecs.Worker.template.metadata.labels.resolved).toBe('by-cdk8s');
  });
});
