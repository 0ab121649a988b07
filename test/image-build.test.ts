import { Duration, Size, Testing } from 'cdk8s';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { BuildArchitecture, Cpu, DeepSpeedTrainingImageProps, InClusterImageBuild, SourceCode } from '../src';
import { lintAll } from './support/dockerfile';
import { imageRecipe, synthError } from './support/synth';

const GIT = { source: SourceCode.fromGitRepository('https://github.com/org/train', '0123456789abcdef0123456789abcdef01234567') };

function synthBuild(recipe: Partial<DeepSpeedTrainingImageProps> = GIT) {
  const { app, chart, image } = imageRecipe(recipe);
  const build = new InClusterImageBuild(chart, 'build', { image, registrySecretName: 'registry-push' });
  const manifests = Testing.synth(chart);
  return {
    app, image, build, manifests,
    configMap: manifests.find(m => m.kind === 'ConfigMap'),
    job: manifests.find(m => m.kind === 'Job'),
  };
}

describe('in-cluster image build', () => {
  test('emits a ConfigMap with the Dockerfile and a Job, both accepted by the Kubernetes schema', () => {
    const { image, manifests, configMap, job } = synthBuild();
    expect(manifests.map(m => `${m.apiVersion}/${m.kind}/${m.metadata.name}`)).toEqual([
      'v1/ConfigMap/test-image-dockerfile', 'batch/v1/Job/test-image-build',
    ]);
    expect(configMap.data).toEqual({ Dockerfile: image.dockerfile });
    expect(lintAll(configMap.data.Dockerfile)).toEqual([]);
    expect(() => new ConfigMap(configMap).validate()).not.toThrow();
    expect(() => new Job(job).validate()).not.toThrow();
  });

  test('rootless BuildKit builds the mounted Dockerfile and pushes to the recipe\'s reference', () => {
    const { job } = synthBuild();
    const pod = job.spec.template;
    const builder = pod.spec.containers[0];
    expect(builder.image).toBe('moby/buildkit:v0.23.2-rootless');
    expect(builder.command).toEqual(['buildctl-daemonless.sh']);
    expect(builder.args).toEqual([
      'build', '--frontend', 'dockerfile.v0', '--local', 'context=/workspace', '--local', 'dockerfile=/workspace',
      '--output', 'type=image,name=registry.example.com/train:v1,push=true',
    ]);
    expect(builder.env).toEqual([
      { name: 'BUILDKITD_FLAGS', value: '--oci-worker-no-process-sandbox' },
      { name: 'DOCKER_CONFIG', value: '/home/user/.docker' },
    ]);
    expect(builder.volumeMounts).toEqual([
      { name: 'dockerfile', mountPath: '/workspace/Dockerfile', subPath: 'Dockerfile', readOnly: true },
      { name: 'registry-credentials', mountPath: '/home/user/.docker', readOnly: true },
      { name: 'buildkit-state', mountPath: '/home/user/.local/share/buildkit' },
    ]);
    expect(pod.spec.volumes[0]).toEqual({ name: 'dockerfile', configMap: { name: 'test-image-dockerfile' } });
    expect(job.spec.backoffLimit).toBe(1);
    expect(pod.spec.restartPolicy).toBe('Never');
  });

  test('runs as uid 1000 without privileges; only seccomp and AppArmor are unconfined', () => {
    const { job } = synthBuild();
    const pod = job.spec.template;
    expect(pod.spec.securityContext).toEqual({ runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, fsGroup: 1000 });
    expect(pod.spec.containers[0].securityContext).toEqual({ seccompProfile: { type: 'Unconfined' } });
    expect(pod.metadata.annotations).toEqual({ 'container.apparmor.security.beta.kubernetes.io/buildkit': 'unconfined' });
  });

  test('registry credentials are referenced by Secret name, never embedded', () => {
    const { manifests, job } = synthBuild();
    expect(job.spec.template.spec.volumes[1]).toEqual({
      name: 'registry-credentials',
      secret: { secretName: 'registry-push', items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
    });
    expect(manifests.map(m => m.kind)).not.toContain('Secret');
    expect(JSON.stringify(manifests)).not.toMatch(/auths/);
  });

  test('resources and scratch space default for a CUDA image build and can be changed', () => {
    const defaults = synthBuild().job.spec.template.spec;
    expect(defaults.containers[0].resources).toEqual({ requests: { cpu: '4', memory: '16Gi' }, limits: { cpu: '4', memory: '16Gi' } });
    expect(defaults.volumes[2]).toEqual({ name: 'buildkit-state', emptyDir: { sizeLimit: '50Gi' } });

    const { chart, image } = imageRecipe(GIT);
    new InClusterImageBuild(chart, 'build', {
      image, registrySecretName: 'push', cpu: Cpu.millis(1500), memory: Size.gibibytes(32), storage: Size.gibibytes(100),
      buildNamespace: 'builds', backoffLimit: 3, builderImage: 'mirror.example.com/buildkit:v0.23.2-rootless',
    });
    const job = Testing.synth(chart).find(m => m.kind === 'Job');
    expect(job.metadata.namespace).toBe('builds');
    expect(job.spec.backoffLimit).toBe(3);
    expect(job.spec.template.spec.containers[0].image).toBe('mirror.example.com/buildkit:v0.23.2-rootless');
    expect(job.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '1500m', memory: '32Gi' });
    expect(job.spec.template.spec.volumes[2].emptyDir.sizeLimit).toBe('100Gi');
  });

  test('the build Job\'s placement is explicit: amd64 by default, another architecture and node labels on request', () => {
    const { job, build } = synthBuild();
    expect(job.spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(build.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    const { chart, image } = imageRecipe(GIT);
    new InClusterImageBuild(chart, 'build', {
      image, registrySecretName: 'push', architecture: BuildArchitecture.ARM64,
      nodeSelector: { 'node.kubernetes.io/instance-type': 'm6g.4xlarge' },
    });
    const placed = Testing.synth(chart).find(m => m.kind === 'Job');
    expect(placed.spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64', 'node.kubernetes.io/instance-type': 'm6g.4xlarge' });
    expect(() => new Job(placed).validate()).not.toThrow();
  });

  test('a node selector the API server rejects fails synth', () => {
    const { app, chart, image } = imageRecipe(GIT);
    new InClusterImageBuild(chart, 'build', { image, registrySecretName: 'push', nodeSelector: { 'cpu generation': 'icelake' } });
    expect(synthError(app)).toContain('[test/build] nodeSelector \'cpu generation\' is \'icelake\': the API server rejects a Job whose nodeSelector is not label keys '
      + '(an optional DNS prefix and a name of at most 63 characters) with label values (at most 63 characters of letters, digits, \'-\', \'_\' and \'.\'). '
      + 'Use the label key and value of a node label, e.g. \'node.kubernetes.io/instance-type\': \'m5.4xlarge\'.');
  });

  test('a fractional TTL or a negative retry count names the prop instead of throwing while the build is defined', () => {
    const { app, chart, image } = imageRecipe(GIT);
    new InClusterImageBuild(chart, 'build', { image, registrySecretName: 'push', ttlAfterFinished: Duration.millis(1500), backoffLimit: -1 });
    expect(synthError(app)).toBe('Validation failed with the following errors:\n'
      + '  [test/build] ttlAfterFinished is 1.5 s: it becomes the Job\'s ttlSecondsAfterFinished, whole seconds of 0 or more, and the API server rejects the build Job. Give ttlAfterFinished in whole seconds, e.g. Duration.hours(1), or remove it.\n'
      + '  [test/build] backoffLimit is -1: it becomes the Job\'s backoffLimit, a whole number of retries of 0 or more, and the API server rejects the build Job. Set backoffLimit to a whole number of 0 or more, or remove it for 1.');
  });

  test('a local build context cannot be built in the cluster', () => {
    const { app, chart, image } = imageRecipe({ source: SourceCode.fromBuildContext('./trainer') });
    new InClusterImageBuild(chart, 'build', { image, registrySecretName: 'push' });
    expect(synthError(app)).toContain(
      '[test/build] image.source is SourceCode.fromBuildContext(\'./trainer\'): the in-cluster build context holds only the Dockerfile, '
      + 'so BuildKit never sees the local directory and COPY fails. '
      + 'Use SourceCode.fromGitRepository() for images built in the cluster, or build this one in CI with docker build.');
  });

  test('an invalid recipe reports at synth instead of throwing while the build is defined', () => {
    const { app, chart, image } = imageRecipe({ environment: { NOTE: 'a\nb' } });
    expect(() => new InClusterImageBuild(chart, 'build', { image, registrySecretName: 'push' })).not.toThrow();
    expect(synthError(app)).toContain('environment.NOTE is "a\\nb"');
  });
});
