import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { newDeepSpeedConfigMap } from './config-registry';
import { DEEPSPEED_CONFIG_DIR, DEEPSPEED_CONFIG_FILE_NAME, renderDeepSpeedConfig, renderDeepSpeedConfigFile } from './deepspeed-config-render';
import { EnvValue } from './env-value';
import type { IDeepSpeedTrainingImage } from './image';
import type { Interconnect } from './interconnect';
import type { DeepSpeedJobProps } from './job';
import { MpiLauncher, MpiLauncherOptions } from './launcher';
import type { MpirunOptions } from './mpirun';
import { networkEnv } from './network';
import { MpiReplica, RankPodSelector } from './replica';
import { applyPodScheduling } from './scheduling';
import { createJobServiceAccount, createPeerNetworkPolicy } from './security';
import { checkpointArgs, FsGroupChangePolicy } from './storage';
import { MpiImplementation } from './types';
import { MountOptions, Volume } from './volume';
import { MpiWorkerPool, MpiWorkerPoolOptions } from './worker-pool';

/**
 * What differs between the operators in the pods the job renders: the container names and
 * the labels the operator puts on the running pods (which the NetworkPolicy and the
 * anti-affinity select).
 * @internal
 */
export interface OperatorPodConventions {
  /** Container name of the launcher, undefined for the replica's own. */
  readonly launcherContainerName?: string;
  /** Container name of the workers, undefined for the replica's own. */
  readonly workerContainerName?: string;
  /** Labels that select every pod of job `name`. */
  podLabels(name: string): { [key: string]: string };
  /** The rank pods of job `name`, for one-pod-per-node anti-affinity. */
  rankPodSelector(name: string, launcherHostsRanks: boolean): RankPodSelector;
}

/**
 * The pods and supporting objects every DeepSpeed job renders, whichever operator runs it.
 * @internal
 */
export interface JobParts {
  readonly workers: MpiWorkerPool;
  readonly launcher: MpiLauncher;
  readonly configMap?: ApiObject;
  readonly deepspeedConfigJson?: { [key: string]: any };
  readonly networkPolicy?: ApiObject;
  readonly serviceAccount?: ApiObject;
  /** The replicas whose pods host ranks. */
  readonly rankReplicas: MpiReplica[];
}

/**
 * What a launcher that hosts ranks takes from the workers unless set on the launcher: it runs the
 * same ranks, so it needs their CPU, memory (which also holds /dev/shm) and GPU node placement.
 */
function rankPodDefaults(workers: MpiWorkerPoolOptions): MpiLauncherOptions {
  return {
    cpu: workers.cpu,
    cpuLimit: workers.cpuLimit,
    memory: workers.memory,
    memoryLimit: workers.memoryLimit,
    tolerations: workers.tolerations,
    nodeSelector: workers.nodeSelector,
  };
}

/**
 * The job's mpirun options with the interconnect's Open MPI MCA parameters first; the job's own
 * parameters win. Hydra images (Intel MPI, MPICH) take no `--mca`.
 */
function withInterconnectMca(mpirun: MpirunOptions | undefined, interconnect: Interconnect | undefined, image: IDeepSpeedTrainingImage): MpirunOptions | undefined {
  const preset = interconnect?.mcaParameters ?? {};
  if (image.mpiImplementation !== MpiImplementation.OPEN_MPI || Object.keys(preset).length === 0) return mpirun;
  return { ...mpirun, mcaParameters: { ...preset, ...mpirun?.mcaParameters } };
}

/**
 * Builds the launcher and the workers (the mpirun argv included), the DeepSpeed config
 * ConfigMap, the storage, network, scheduling and security settings of a job named `name`,
 * under `scope`, in the order the MPIJob has always rendered them.
 * @internal
 */
export function buildJobParts(scope: Construct, apiObject: ApiObject, props: DeepSpeedJobProps, conventions: OperatorPodConventions): JobParts {
  const name = apiObject.name;
  const namespace = props.metadata?.namespace;
  const runLauncherAsWorker = props.runLauncherAsWorker ?? false;
  const storage = props.storage ?? {};
  const security = props.security ?? {};
  const workers = new MpiWorkerPool(scope, 'Workers', { ...props.workers, image: props.image, containerName: conventions.workerContainerName });

  let configMap: ApiObject | undefined;
  let deepspeedConfigJson: { [key: string]: any } | undefined;
  let configFile: string | undefined;
  if (props.deepspeedConfig) {
    deepspeedConfigJson = renderDeepSpeedConfig(props.deepspeedConfig);
    configMap = props.configRegistry
      ? props.configRegistry.configMapFor(deepspeedConfigJson, namespace)
      : newDeepSpeedConfigMap(scope, 'DeepSpeedConfig', `${name}-deepspeed`, renderDeepSpeedConfigFile(deepspeedConfigJson), namespace);
    if (props.passDeepSpeedConfigArgument ?? true) {
      configFile = `${DEEPSPEED_CONFIG_DIR}/${DEEPSPEED_CONFIG_FILE_NAME}`;
    }
  }

  const launcher = new MpiLauncher(scope, 'Launcher', {
    ...(runLauncherAsWorker ? rankPodDefaults(props.workers) : {}),
    ...props.launcher,
    image: props.image,
    containerName: conventions.launcherContainerName,
    workers,
    script: props.script,
    args: [...props.args ?? [], ...checkpointArgs(storage.checkpoint)],
    mpirun: withInterconnectMca(props.mpirun, props.network?.interconnect, props.image),
    deepspeedConfigFile: configFile,
    runAsWorker: runLauncherAsWorker,
    waitForWorkers: props.waitForWorkers,
    workerWaitTimeout: props.workerWaitTimeout,
  });
  const rankReplicas: MpiReplica[] = runLauncherAsWorker ? [launcher, workers] : [workers];
  const mount = (path: string, volume: Volume, options: MountOptions) => {
    launcher.mount(path, volume, options);
    workers.mount(path, volume, options);
  };

  if (configMap) {
    const volume = Volume.fromConfigMap(configMap.name, { name: 'deepspeed-config' });
    mount(DEEPSPEED_CONFIG_DIR, volume, { readOnly: true });
  }
  for (const [envName, value] of Object.entries(props.env ?? {})) {
    launcher.addTrainingEnv(envName, value);
  }
  // Interconnect devices on the rank pods; NCCL variables on every rank, unless the job's env sets them.
  const network = props.network ?? {};
  if (network.interconnect) {
    for (const replica of rankReplicas) network.interconnect._applyTo(replica);
  }
  for (const [envName, value] of Object.entries(networkEnv(network))) {
    if (!launcher.envNames.includes(envName)) launcher.addTrainingEnv(envName, EnvValue.fromValue(value));
  }
  for (const [index, volume] of (storage.volumes ?? []).entries()) {
    const bound = volume._bind(scope, `Storage${index}`, name, namespace);
    mount(volume.mountPath, bound, { readOnly: volume.readOnly, subPath: volume.subPath });
  }
  applyPodScheduling({
    launcher, workers, rankReplicas, apiObject,
    spreadRankPods: () => {
      const selector = conventions.rankPodSelector(name, runLauncherAsWorker);
      for (const replica of rankReplicas) replica._spreadAcrossNodesMatching(selector);
    },
  }, props.scheduling ?? {});
  // The cdk8s-plus objects are internal: the public API hands out their flavour-free ApiObjects.
  const networkPolicy = (security.networkPolicy ?? true)
    ? createPeerNetworkPolicy(scope, name, namespace, conventions.podLabels(name), security.egress)
    : undefined;
  const serviceAccount = security.createServiceAccount
    ? ApiObject.of(createJobServiceAccount(scope, name, namespace, security.automountServiceAccountToken ?? false))
    : undefined;
  const identity = {
    serviceAccountName: security.serviceAccountName ?? serviceAccount?.name,
    automountServiceAccountToken: security.automountServiceAccountToken ?? false,
  };
  launcher.useIdentity(identity);
  workers.useIdentity(identity);
  const ownership = {
    enabled: storage.setFsGroup ?? true,
    fsGroup: storage.fsGroup,
    changePolicy: storage.fsGroupChangePolicy ?? FsGroupChangePolicy.ON_ROOT_MISMATCH,
  };
  launcher._setVolumeOwnership(ownership);
  workers._setVolumeOwnership(ownership);
  return { workers, launcher, configMap, deepspeedConfigJson, networkPolicy, serviceAccount, rankReplicas };
}
