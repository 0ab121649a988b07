import * as fs from 'fs';
import { parseAllDocuments } from 'yaml';
import { OPERATOR_HOSTFILE } from '../mpirun';
import { MpiImplementation } from '../types';

/** A variable the MPI Operator injects into the launcher container. */
export interface OperatorEnvVar {
  /** Variable name. */
  readonly name: string;
  /** Value as the operator sets it. */
  readonly value: string;
}

/** One replica of an MPIJob (the launcher or the workers) as written in the manifest. */
export interface ReplicaManifest {
  /** `Launcher` or `Worker`. */
  readonly role: string;
  /** Number of pods. */
  readonly replicas: number;
  /** The pod template's spec. */
  readonly podSpec: any;
  /** The first container: the operator only touches containers[0], and the launcher runs mpirun there. */
  readonly container: any;
}

/**
 * A synthesized job read back from its manifests, with what its operator derives from it for
 * the launch: pod hostnames, the hostfile and the variables injected into the launcher. The
 * launch rehearsal runs any job through this view: an MPIJob (`MpiJobManifest`) or a Kubeflow
 * Trainer TrainJob (`TrainJobManifest`).
 */
export interface ILaunchManifest {
  /** The job object as synthesized (the MPIJob or the TrainJob). */
  readonly manifest: any;
  /** The job's kind, `MPIJob` or `TrainJob`. */
  readonly kind: string;
  /** `metadata.name`. */
  readonly name: string;
  /** `metadata.namespace`, or `default`. */
  readonly jobNamespace: string;
  /** MPI slots of every host in the hostfile. */
  readonly slotsPerWorker: number;
  /** Whether the launcher is a host of the hostfile. */
  readonly runLauncherAsWorker: boolean;
  /** The MPI implementation the operator configures the launcher for. */
  readonly mpiImplementation: MpiImplementation;
  /** The launcher pod as it will run (operator changes to containers applied, its injected env excepted). */
  readonly launcher: ReplicaManifest;
  /**
   * The worker pods as they will run.
   * @default - none: the launcher is the only host
   */
  readonly worker?: ReplicaManifest;
  /** Hostname of the launcher pod. */
  readonly launcherHostname: string;
  /** Hostnames of the worker pods, in hostfile order. */
  readonly workerHostnames: string[];
  /** The hosts of the hostfile in order. */
  readonly hostfileHosts: string[];
  /** Total slots in the hostfile: what `mpirun -np` must not exceed. */
  readonly totalSlots: number;
  /** The hostfile the operator mounts at /etc/mpi/hostfile on the launcher. */
  readonly hostfile: string;
  /** The variables the operator sets on the launcher container, after the container's own. */
  readonly launcherOperatorEnv: OperatorEnvVar[];
  /** Where the operator mounts the SSH key files on the launcher and the workers. */
  readonly sshAuthMountPath: string;
  /**
   * Permission bits of the key files the operator mounts there, by file name (`id_rsa`,
   * `id_rsa.pub`, `authorized_keys`), before the kubelet applies `fsGroup`.
   */
  readonly sshKeyFileModes: { [file: string]: number };
  /** The name the hostfile uses for a pod with this hostname. */
  podAddress(hostname: string): string;
  /** The replica whose pod has this hostname. */
  replicaOf(hostname: string): ReplicaManifest | undefined;
  /** A ConfigMap from the same manifests, in the job's namespace; undefined when absent. */
  configMap(name: string): any;
}

function isMpiJob(obj: any): boolean {
  return obj?.apiVersion === 'kubeflow.org/v2beta1' && obj?.kind === 'MPIJob';
}

function replica(role: string, spec: any): ReplicaManifest | undefined {
  if (!spec) return undefined;
  const podSpec = spec.template?.spec ?? {};
  return { role, replicas: spec.replicas ?? 0, podSpec, container: podSpec.containers?.[0] ?? {} };
}

/**
 * The replica of a launch manifest whose pod has this hostname: the same rule for every operator.
 * @internal
 */
export function replicaOfHostname(manifest: ILaunchManifest, hostname: string): ReplicaManifest | undefined {
  if (hostname === manifest.launcherHostname) return manifest.launcher;
  return manifest.workerHostnames.includes(hostname) ? manifest.worker : undefined;
}

/**
 * A ConfigMap among the objects of the same manifests, in `namespace`; undefined when absent.
 * @internal
 */
export function configMapIn(objects: any[], name: string, namespace: string): any {
  return objects.find(obj => obj?.apiVersion === 'v1' && obj?.kind === 'ConfigMap'
    && obj.metadata?.name === name && (obj.metadata?.namespace ?? 'default') === namespace);
}

/**
 * A synthesized MPIJob read back from its manifest, with what the MPI Operator (v0.8)
 * derives from it for the launch: pod hostnames, the hostfile and the launcher's injected
 * variables. Defaults are the operator's (namespace `default`, one slot per worker, Open MPI).
 */
export class MpiJobManifest implements ILaunchManifest {
  /** Every MPIJob in a list of manifests, each able to find the ConfigMaps next to it. */
  public static fromManifests(manifests: any[]): MpiJobManifest[] {
    return manifests.filter(isMpiJob).map(job => new MpiJobManifest(job, manifests));
  }

  /** Every MPIJob in a YAML file such as `dist/manifests/app.k8s.yaml`. */
  public static fromFile(file: string): MpiJobManifest[] {
    return MpiJobManifest.fromManifests(readManifestFile(file));
  }

  /** Always `MPIJob`. */
  public readonly kind = 'MPIJob';
  /** `metadata.name`. */
  public readonly name: string;
  /** `metadata.namespace`, or `default`. */
  public readonly jobNamespace: string;
  /** `spec.slotsPerWorker` (operator default 1). */
  public readonly slotsPerWorker: number;
  /** `spec.runLauncherAsWorker`. */
  public readonly runLauncherAsWorker: boolean;
  /** `spec.mpiImplementation` (operator default OpenMPI). */
  public readonly mpiImplementation: MpiImplementation;
  /** The launcher replica. */
  public readonly launcher: ReplicaManifest;
  /** The worker replica; undefined when the launcher is the only worker. */
  public readonly worker?: ReplicaManifest;

  private constructor(
    /** The MPIJob object as synthesized. */
    public readonly manifest: any,
    private readonly siblings: any[],
  ) {
    const spec = manifest.spec ?? {};
    this.name = manifest.metadata?.name ?? '';
    this.jobNamespace = manifest.metadata?.namespace ?? 'default';
    this.slotsPerWorker = spec.slotsPerWorker ?? 1;
    this.runLauncherAsWorker = spec.runLauncherAsWorker === true;
    this.mpiImplementation = (spec.mpiImplementation ?? MpiImplementation.OPEN_MPI) as MpiImplementation;
    const launcher = replica('Launcher', spec.mpiReplicaSpecs?.Launcher);
    if (!launcher) throw new Error(`MPIJob ${this.name} has no Launcher replica`);
    this.launcher = launcher;
    this.worker = replica('Worker', spec.mpiReplicaSpecs?.Worker);
  }

  /** Hostname of the launcher pod (`<name>-launcher`). */
  public get launcherHostname(): string {
    return `${this.name}-launcher`;
  }

  /** Hostnames of the worker pods (`<name>-worker-<i>`). */
  public get workerHostnames(): string[] {
    return Array.from({ length: this.worker?.replicas ?? 0 }, (_, i) => `${this.name}-worker-${i}`);
  }

  /** The name the hostfile uses for a pod: `<hostname>.<job>.<namespace>.svc`, resolved by the job's headless Service. */
  public podAddress(hostname: string): string {
    return `${hostname}.${this.name}.${this.jobNamespace}.svc`;
  }

  /** The hosts of the hostfile in order (the launcher first when it runs as a worker), each with `slotsPerWorker` slots. */
  public get hostfileHosts(): string[] {
    const hostnames = [...(this.runLauncherAsWorker ? [this.launcherHostname] : []), ...this.workerHostnames];
    return hostnames.map(h => this.podAddress(h));
  }

  /** Total slots in the hostfile: what `mpirun -np` must not exceed. */
  public get totalSlots(): number {
    return this.hostfileHosts.length * this.slotsPerWorker;
  }

  /** The hostfile the operator mounts at /etc/mpi/hostfile on the launcher. */
  public get hostfile(): string {
    const line = (host: string) => this.mpiImplementation === MpiImplementation.OPEN_MPI
      ? `${host} slots=${this.slotsPerWorker}`
      : `${host}:${this.slotsPerWorker}`;
    return this.hostfileHosts.map(line).join('\n') + '\n';
  }

  /**
   * The variables the operator appends to the launcher's first container, after the
   * container's own (so they win over a variable of the same name).
   */
  public get launcherOperatorEnv(): OperatorEnvVar[] {
    const env: OperatorEnvVar[] = [{ name: 'K_MPI_JOB_ROLE', value: 'launcher' }];
    if (this.mpiImplementation === MpiImplementation.OPEN_MPI) {
      env.push(
        { name: 'OMPI_MCA_orte_keep_fqdn_hostnames', value: 'true' },
        { name: 'OMPI_MCA_orte_default_hostfile', value: OPERATOR_HOSTFILE },
        { name: 'OMPI_MCA_plm_rsh_args', value: '-o ConnectionAttempts=10' },
        { name: 'OMPI_MCA_orte_set_default_slots', value: String(this.slotsPerWorker) },
      );
    } else if (this.mpiImplementation === MpiImplementation.INTEL) {
      env.push(
        { name: 'I_MPI_HYDRA_HOST_FILE', value: OPERATOR_HOSTFILE },
        { name: 'I_MPI_HYDRA_BOOTSTRAP_EXEC_EXTRA_ARGS', value: '-o ConnectionAttempts=10' },
        { name: 'I_MPI_PERHOST', value: String(this.slotsPerWorker) },
      );
    } else {
      env.push(
        { name: 'HYDRA_HOST_FILE', value: OPERATOR_HOSTFILE },
        { name: 'HYDRA_LAUNCH_EXTRA_ARGS', value: '-o ConnectionAttempts=10' },
      );
    }
    if (!this.runLauncherAsWorker) {
      // The operator hides the launcher's GPUs unless it hosts ranks.
      env.push({ name: 'NVIDIA_VISIBLE_DEVICES', value: '' }, { name: 'NVIDIA_DRIVER_CAPABILITIES', value: '' });
    }
    return env;
  }

  /** `spec.sshAuthMountPath` (operator default `/root/.ssh`): where launcher and workers get the SSH key files. */
  public get sshAuthMountPath(): string {
    return this.manifest.spec?.sshAuthMountPath ?? '/root/.ssh';
  }

  /** The operator mounts the Secret with `defaultMode: 0600` at /root/.ssh only; elsewhere the files keep the Secret default, 0644. */
  public get sshKeyFileModes(): { [file: string]: number } {
    const mode = this.sshAuthMountPath.replace(/\/+$/, '') === '/root/.ssh' ? 0o600 : 0o644;
    return { 'id_rsa': mode, 'id_rsa.pub': mode, 'authorized_keys': mode };
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

/**
 * The documents of a YAML file, empty ones left out. cdk8s's Yaml.load keeps going past a syntax
 * error and returns what it could read, which then looks like a broken job; this throws the YAML
 * error and where it is instead.
 * @internal
 */
export function readManifestFile(file: string): any[] {
  const documents = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  for (const document of documents) {
    const error = document.errors[0];
    if (error) {
      const where = error.linePos ? ` line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
      throw new Error(`${file}${where}: not valid YAML: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
    }
  }
  return documents.map(d => d.toJS()).filter(doc => doc !== null && doc !== undefined);
}
