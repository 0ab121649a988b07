import { ApiObject, Duration, Lazy, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { Cpu } from './cpu';
import { DeepSpeedTrainingImage } from './image';
import { cpuToQuantity, sizeToQuantity } from './quantity';
import { registerBuildValidation } from './validation';

/** The builder image: BuildKit in rootless mode (uid 1000), which needs no privileged pod. */
export const DEFAULT_BUILDER_IMAGE = 'moby/buildkit:v0.23.2-rootless';

/** Home of the rootless BuildKit image's user. */
const BUILDER_HOME = '/home/user';
/** Build context inside the builder: only the Dockerfile. */
const WORKSPACE = '/workspace';
const CONTAINER = 'buildkit';

/**
 * Properties of an in-cluster image build.
 */
export interface InClusterImageBuildProps {
  /** The recipe to build; its source must not be a local build context. */
  readonly image: DeepSpeedTrainingImage;

  /**
   * Name of a `kubernetes.io/dockerconfigjson` Secret in the build's namespace with push
   * access to the image's registry. Only the name is referenced; create the Secret
   * outside the manifests, e.g. `kubectl create secret docker-registry`.
   */
  readonly registrySecretName: string;

  /**
   * The BuildKit rootless image that builds and pushes.
   * @default 'moby/buildkit:v0.23.2-rootless'
   */
  readonly builderImage?: string;

  /**
   * Namespace of the ConfigMap and the Job.
   * @default - the chart's namespace
   */
  readonly buildNamespace?: string;

  /**
   * CPU of the builder, request and limit. Compiling DeepSpeed ops and mpi4py is CPU-bound.
   * @default Cpu.units(4)
   */
  readonly cpu?: Cpu;

  /**
   * Memory of the builder, request and limit.
   * @default Size.gibibytes(16)
   */
  readonly memory?: Size;

  /**
   * Size of the scratch volume that holds BuildKit's layers; CUDA base images are large.
   * @default Size.gibibytes(50)
   */
  readonly storage?: Size;

  /**
   * Retries of a failed build (`backoffLimit`).
   * @default 1
   */
  readonly backoffLimit?: number;

  /**
   * Delete the finished Job after this long (`ttlSecondsAfterFinished`), so the next apply
   * of the same name can build again.
   * @default - kept until deleted
   */
  readonly ttlAfterFinished?: Duration;

  /**
   * CPU architecture of the node the build runs on (`kubernetes.io/arch`): the image's
   * architecture.
   * @default BuildArchitecture.AMD64
   */
  readonly architecture?: BuildArchitecture;

  /**
   * More node labels the build Job requires, e.g. a node pool of the cluster's oldest CPU
   * generation when the recipe pre-builds DeepSpeed's CPU ops, which DeepSpeed compiles for the
   * build node's CPU (`-march=native`).
   * @default - the architecture only
   */
  readonly nodeSelector?: { [key: string]: string };
}

/** CPU architecture of the node the build Job runs on (`kubernetes.io/arch`). */
export enum BuildArchitecture {
  /** x86-64 nodes. */
  AMD64 = 'amd64',
  /** 64-bit Arm nodes. */
  ARM64 = 'arm64',
}

/**
 * Builds and pushes a training image inside the cluster: a ConfigMap with the recipe's
 * Dockerfile and a Job running rootless BuildKit (`buildctl-daemonless.sh`).
 *
 * Registry credentials come from the named Secret and never appear in the manifests. The
 * build context holds only the Dockerfile, so the recipe's code must come from git.
 * Rootless BuildKit needs seccomp and AppArmor unconfined for its container (no privileges).
 */
export class InClusterImageBuild extends Construct {
  /** The builder image used unless `builderImage` is set (rootless BuildKit). */
  public static readonly DEFAULT_BUILDER_IMAGE: string = DEFAULT_BUILDER_IMAGE;

  /** The ConfigMap holding the Dockerfile. */
  public readonly configMap: ApiObject;
  /** The build Job. */
  public readonly job: ApiObject;
  /** The recipe being built. */
  public readonly image: DeepSpeedTrainingImage;
  /** The build Job's node selector: the architecture and the given labels. */
  public readonly nodeSelector: { [key: string]: string };

  public constructor(scope: Construct, id: string, props: InClusterImageBuildProps) {
    super(scope, id);
    this.image = props.image;
    const image = props.image;
    // The image runs on the architecture it is built on, and any op compiled at build time is
    // tuned for the build node's CPU: the placement is stated, never left to the scheduler.
    this.nodeSelector = { 'kubernetes.io/arch': props.architecture ?? BuildArchitecture.AMD64, ...props.nodeSelector };
    const cpu = cpuToQuantity(props.cpu ?? Cpu.units(4));
    const memory = sizeToQuantity(props.memory ?? Size.gibibytes(16));
    const resources = { cpu: kplus.k8s.Quantity.fromString(cpu), memory: kplus.k8s.Quantity.fromString(memory) };

    this.configMap = new kplus.k8s.KubeConfigMap(this, 'Dockerfile', {
      metadata: { name: `${image.name}-dockerfile`, namespace: props.buildNamespace },
      // Rendered at synth, after validation, so an invalid recipe reports instead of throwing here.
      data: Lazy.any({ produce: () => ({ Dockerfile: image.dockerfile }) }),
    });

    this.job = new kplus.k8s.KubeJob(this, 'Resource', {
      metadata: { name: `${image.name}-build`, namespace: props.buildNamespace },
      spec: {
        backoffLimit: props.backoffLimit ?? 1,
        // Rendered unrounded: validation (build/job-numbers) names ttlAfterFinished when it is not whole.
        ttlSecondsAfterFinished: props.ttlAfterFinished?.toSeconds({ integral: false }),
        template: {
          metadata: {
            // Kubernetes 1.27 has no appArmorProfile field yet; the annotation works up to its removal.
            annotations: { [`container.apparmor.security.beta.kubernetes.io/${CONTAINER}`]: 'unconfined' },
          },
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { ...this.nodeSelector },
            securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, fsGroup: 1000 },
            containers: [{
              name: CONTAINER,
              image: props.builderImage ?? DEFAULT_BUILDER_IMAGE,
              command: ['buildctl-daemonless.sh'],
              args: [
                'build', '--frontend', 'dockerfile.v0',
                '--local', `context=${WORKSPACE}`, '--local', `dockerfile=${WORKSPACE}`,
                '--output', `type=image,name=${image.imageRef},push=true`,
              ],
              env: [
                // No process sandbox: what lets BuildKit run without privileges in a pod.
                { name: 'BUILDKITD_FLAGS', value: '--oci-worker-no-process-sandbox' },
                { name: 'DOCKER_CONFIG', value: `${BUILDER_HOME}/.docker` },
              ],
              securityContext: { seccompProfile: { type: 'Unconfined' } },
              resources: { requests: resources, limits: resources },
              volumeMounts: [
                // subPath gives a plain file: BuildKit would send the ConfigMap's symlinks as symlinks.
                { name: 'dockerfile', mountPath: `${WORKSPACE}/Dockerfile`, subPath: 'Dockerfile', readOnly: true },
                { name: 'registry-credentials', mountPath: `${BUILDER_HOME}/.docker`, readOnly: true },
                { name: 'buildkit-state', mountPath: `${BUILDER_HOME}/.local/share/buildkit` },
              ],
            }],
            volumes: [
              { name: 'dockerfile', configMap: { name: this.configMap.name } },
              {
                name: 'registry-credentials',
                secret: { secretName: props.registrySecretName, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
              },
              {
                name: 'buildkit-state',
                emptyDir: { sizeLimit: kplus.k8s.Quantity.fromString(sizeToQuantity(props.storage ?? Size.gibibytes(50))) },
              },
            ],
          },
        },
      },
    });

    registerBuildValidation(this);
  }
}
