import { Yaml } from 'cdk8s';
import { OPERATOR_HOSTFILE } from '../mpirun';
import { parseQuantity, quantityToNumber } from '../quantity';
import { MpiImplementation } from '../types';
import { configMapIn, ILaunchManifest, OperatorEnvVar, replicaOfHostname, ReplicaManifest } from './manifest';

const TRAINER_API_VERSION = 'trainer.kubeflow.org/v1alpha1';
const ANCESTOR_LABEL = 'trainer.kubeflow.org/trainjob-ancestor-step';

function isTrainJob(obj: any): boolean {
  return obj?.apiVersion === TRAINER_API_VERSION && obj?.kind === 'TrainJob';
}

/** Upserts variables by name, keeping the position of a replaced one (how the Trainer applies env). */
function upsertEnv(env: any[] | undefined, add: any[] | undefined): any[] | undefined {
  if (!add || add.length === 0) return env;
  const out = [...env ?? []];
  for (const variable of add) {
    const at = out.findIndex(v => v?.name === variable?.name);
    if (at >= 0) out[at] = variable;
    else out.push(variable);
  }
  return out;
}

/** Merges a list of objects by a key field, as a strategic merge patch does for keyed lists. */
function mergeByKey(base: any[] | undefined, patch: any[] | undefined, key: string, merge: (a: any, b: any) => any): any[] | undefined {
  if (!patch) return base;
  const out = [...base ?? []];
  for (const item of patch) {
    const at = out.findIndex(v => v?.[key] === item?.[key]);
    if (at >= 0) out[at] = merge(out[at], item);
    else out.push(item);
  }
  return out;
}

/** A runtime patch's pod template applied to a runtime pod template (the fields a PodSpecPatch and ContainerPatch have). */
function applyPodPatch(template: any, patch: any): any {
  if (!patch) return template;
  const spec = template.spec ?? {};
  const patchSpec = patch.spec ?? {};
  const containers = mergeByKey(spec.containers, patchSpec.containers, 'name', (container, change) => ({
    ...container,
    ...(change.securityContext ? { securityContext: { ...container.securityContext, ...change.securityContext } } : {}),
    env: upsertEnv(container.env, change.env),
    volumeMounts: mergeByKey(container.volumeMounts, change.volumeMounts, 'mountPath', (_, m) => m),
  }));
  return {
    metadata: {
      ...template.metadata,
      labels: { ...template.metadata?.labels, ...patch.metadata?.labels },
      annotations: { ...template.metadata?.annotations, ...patch.metadata?.annotations },
    },
    spec: {
      ...spec,
      ...Object.fromEntries(Object.entries(patchSpec).filter(([key]) => !['containers', 'volumes', 'securityContext'].includes(key))),
      securityContext: patchSpec.securityContext ? { ...spec.securityContext, ...patchSpec.securityContext } : spec.securityContext,
      containers,
      volumes: mergeByKey(spec.volumes, patchSpec.volumes, 'name', (_, v) => v),
    },
  };
}

/** Resources merged per key, as the Trainer merges `resourcesPerNode` into the runtime's. */
function mergeResources(resources: any, add: any): any {
  if (!add) return resources;
  return {
    ...resources,
    requests: add.requests ? { ...resources?.requests, ...add.requests } : resources?.requests,
    limits: add.limits ? { ...resources?.limits, ...add.limits } : resources?.limits,
  };
}

/** Per-node GPUs as the Trainer counts them: any resource whose name contains "gpu", requests first, then limits. */
function gpusOf(resources: any): number {
  for (const amounts of [resources?.requests, resources?.limits]) {
    for (const [name, amount] of Object.entries(amounts ?? {})) {
      if (!name.includes('gpu')) continue;
      const quantity = parseQuantity(amount);
      if (quantity) return quantityToNumber(quantity);
    }
  }
  return 0;
}

/**
 * A synthesized Kubeflow Trainer v2.3 TrainJob read back from its manifests together with its
 * runtime, with what the Trainer's MPI plugin derives from them for the launch
 * (`pkg/runtime/framework/plugins/mpi/mpi.go`): the JobSet pod hostnames
 * `<name>-<replicatedJob>-0-<index>`, the hostfile of short names `<hostname>.<subdomain>`
 * with `slots=<numProcPerNode>` (node pods first, the launcher last when it runs as a node),
 * and the four `OMPI_MCA_*` variables on the launcher. TrainJob `trainer` fields and runtime
 * patches are applied to the runtime's pod templates as the Trainer applies them.
 */
export class TrainJobManifest implements ILaunchManifest {
  /**
   * Every TrainJob in a list of manifests. Each one's runtime is looked up among the manifests
   * (a generated TrainingRuntime) and then in `runtimes` (e.g. the platform's
   * ClusterTrainingRuntime manifests); a TrainJob whose runtime is in neither is an error.
   */
  public static fromManifests(manifests: any[], runtimes: any[] = []): TrainJobManifest[] {
    return manifests.filter(isTrainJob).map(job => {
      const ref = job.spec?.runtimeRef ?? {};
      const kind = ref.kind ?? 'ClusterTrainingRuntime';
      const namespace = job.metadata?.namespace ?? 'default';
      const runtime = [...manifests, ...runtimes].find(obj => obj?.apiVersion === TRAINER_API_VERSION && obj?.kind === kind
        && obj.metadata?.name === ref.name && (kind === 'ClusterTrainingRuntime' || (obj.metadata?.namespace ?? 'default') === namespace));
      if (!runtime) {
        throw new Error(`TrainJob ${job.metadata?.name} references ${kind} ${ref.name}, which is neither in the manifests nor among the runtimes given`);
      }
      return new TrainJobManifest(job, runtime, manifests);
    });
  }

  /** Every TrainJob in a YAML file, with runtimes from the same file and from `runtimeFiles`. */
  public static fromFile(file: string, runtimeFiles: string[] = []): TrainJobManifest[] {
    const load = (f: string) => Yaml.load(f).filter(doc => doc !== null && doc !== undefined);
    return TrainJobManifest.fromManifests(load(file), runtimeFiles.flatMap(load));
  }

  /** Always `TrainJob`. */
  public readonly kind = 'TrainJob';
  /** `metadata.name`, also the JobSet's and the headless Service's. */
  public readonly name: string;
  /** `metadata.namespace`, or `default`. */
  public readonly jobNamespace: string;
  /** The DNS subdomain of the pods: the runtime's `network.subdomain`, else the JobSet name. */
  public readonly subdomain: string;
  /** Slots of every host: `trainer.numProcPerNode`, else the runtime's, and 1 becomes the GPU count when that is more. */
  public readonly slotsPerWorker: number;
  /** The runtime's `mlPolicy.mpi.runLauncherAsNode`. */
  public readonly runLauncherAsWorker: boolean;
  /** The runtime's `mlPolicy.mpi.mpiImplementation` (default OpenMPI). */
  public readonly mpiImplementation: MpiImplementation;
  /** Where the Trainer mounts the SSH keys (`sshAuthMountPath`, default /root/.ssh). */
  public readonly sshAuthMountPath: string;
  /** The launcher pod (the `launcher` replicated job): the runtime's, with the TrainJob's trainer fields and patches. */
  public readonly launcher: ReplicaManifest;
  /** The node pods (the `node` replicated job). */
  public readonly worker?: ReplicaManifest;
  /** Node pods the Trainer creates. */
  public readonly nodeCount: number;

  private readonly jobOrder: string[];

  private constructor(
    /** The TrainJob as synthesized. */
    public readonly manifest: any,
    /** The TrainingRuntime or ClusterTrainingRuntime it references. */
    public readonly runtime: any,
    private readonly siblings: any[],
  ) {
    this.name = manifest.metadata?.name ?? '';
    this.jobNamespace = manifest.metadata?.namespace ?? 'default';
    const jobset = runtime.spec?.template?.spec ?? {};
    this.subdomain = jobset.network?.subdomain ?? this.name;
    const mpi = runtime.spec?.mlPolicy?.mpi ?? {};
    const trainer = manifest.spec?.trainer ?? {};
    this.runLauncherAsWorker = mpi.runLauncherAsNode === true;
    this.mpiImplementation = (mpi.mpiImplementation || MpiImplementation.OPEN_MPI) as MpiImplementation;
    this.sshAuthMountPath = mpi.sshAuthMountPath ?? '/root/.ssh';
    const jobs: any[] = jobset.replicatedJobs ?? [];
    this.jobOrder = jobs.map(j => j.name);
    const launcherJob = jobs.find(j => j.template?.metadata?.labels?.[ANCESTOR_LABEL] === 'trainer');
    const nodeJob = jobs.find(j => j.name === 'node');
    if (!launcherJob) throw new Error(`TrainJob ${this.name}: runtime ${runtime.metadata?.name} has no replicated job labelled ${ANCESTOR_LABEL}: trainer`);
    const patches = (name: string) => (manifest.spec?.runtimePatches ?? [])
      .flatMap((p: any) => p?.trainingRuntimeSpec?.template?.spec?.replicatedJobs ?? [])
      .filter((j: any) => j?.name === name)
      .map((j: any) => j.template?.spec?.template);
    const build = (job: any, isLauncher: boolean): any => {
      let template = job.template?.spec?.template ?? {};
      for (const patch of patches(job.name)) template = applyPodPatch(template, patch);
      const spec = template.spec ?? {};
      const containers = (spec.containers ?? []).map((c: any) => {
        if (c?.name !== 'node') return c;
        const takesTrainer = isLauncher || this.runLauncherAsWorker;
        return {
          ...c,
          ...(isLauncher && trainer.image ? { image: trainer.image } : {}),
          ...(isLauncher && trainer.command ? { command: trainer.command } : {}),
          ...(isLauncher && trainer.args ? { args: trainer.args } : {}),
          env: takesTrainer ? upsertEnv(c.env, trainer.env) : c.env,
          resources: takesTrainer ? mergeResources(c.resources, trainer.resourcesPerNode) : c.resources,
        };
      });
      return { ...template, spec: { ...spec, containers } };
    };
    const replica = (role: string, job: any, isLauncher: boolean, replicas: number): ReplicaManifest => {
      const template = build(job, isLauncher);
      const podSpec = template.spec ?? {};
      const container = podSpec.containers?.find((c: any) => c?.name === 'node') ?? podSpec.containers?.[0] ?? {};
      return { role, replicas, podSpec, container };
    };
    const numNodes: number = trainer.numNodes ?? nodeJob?.template?.spec?.parallelism ?? 1;
    this.nodeCount = this.runLauncherAsWorker ? Math.max(numNodes - 1, 1) : numNodes;
    this.launcher = replica('Launcher', launcherJob, true, 1);
    this.worker = nodeJob ? replica('Worker', nodeJob, false, this.nodeCount) : undefined;
    const procs: number = trainer.numProcPerNode ?? mpi.numProcPerNode ?? 1;
    const gpus = gpusOf(trainer.resourcesPerNode) || gpusOf(this.worker?.container?.resources);
    this.slotsPerWorker = procs === 1 && gpus > 1 ? gpus : procs;
  }

  /** Hostname of the launcher pod (`<name>-launcher-0-0`). */
  public get launcherHostname(): string {
    return `${this.name}-launcher-0-0`;
  }

  /** Hostnames of the node pods (`<name>-node-0-<i>`). */
  public get workerHostnames(): string[] {
    return Array.from({ length: this.worker ? this.nodeCount : 0 }, (_, i) => `${this.name}-node-0-${i}`);
  }

  /** The name the hostfile uses for a pod: the short JobSet name `<hostname>.<subdomain>`. */
  public podAddress(hostname: string): string {
    return `${hostname}.${this.subdomain}`;
  }

  /** The hosts of the hostfile in the runtime's replicated-job order (node first in the Trainer's runtimes). */
  public get hostfileHosts(): string[] {
    const hosts = this.jobOrder.flatMap(job => {
      if (job === 'node') return this.workerHostnames;
      if (job === 'launcher' && this.runLauncherAsWorker) return [this.launcherHostname];
      return [];
    });
    return hosts.map(h => this.podAddress(h));
  }

  /** Total slots in the hostfile. */
  public get totalSlots(): number {
    return this.hostfileHosts.length * this.slotsPerWorker;
  }

  /** The hostfile the MPI plugin writes into ConfigMap `<name>-mpi-hostfile` and mounts at /etc/mpi/hostfile. */
  public get hostfile(): string {
    return this.hostfileHosts.map(host => `${host} slots=${this.slotsPerWorker}\n`).join('');
  }

  /** The four variables the MPI plugin sets on the launcher's `node` container (workers get none). */
  public get launcherOperatorEnv(): OperatorEnvVar[] {
    return [
      { name: 'OMPI_MCA_orte_default_hostfile', value: OPERATOR_HOSTFILE },
      { name: 'OMPI_MCA_orte_keep_fqdn_hostnames', value: 'true' },
      { name: 'OMPI_MCA_orte_set_default_slots', value: String(this.slotsPerWorker) },
      { name: 'OMPI_MCA_plm_rsh_args', value: '-o ConnectionAttempts=10' },
    ];
  }

  /** The MPI plugin's Secret items: `id_rsa` 0640, `id_rsa.pub` and `authorized_keys` 0644, at any mount path (#3649). */
  public get sshKeyFileModes(): { [file: string]: number } {
    return { 'id_rsa': 0o640, 'id_rsa.pub': 0o644, 'authorized_keys': 0o644 };
  }

  /** The replica whose pod has this hostname. */
  public replicaOf(hostname: string): ReplicaManifest | undefined {
    return replicaOfHostname(this, hostname);
  }

  /** A ConfigMap from the same manifests, in the job's namespace; undefined when absent. */
  public configMap(name: string): any {
    return configMapIn(this.siblings, name, this.jobNamespace);
  }
}
