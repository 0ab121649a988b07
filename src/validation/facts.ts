import type { DeepSpeedJobProps } from '../job';
import type { WorkerWaitStep } from '../worker-wait';

/*
 * The facts about one training job that the rules read: plain data, no constructs. Each
 * operator's job construct builds this record (mpijob-facts.ts for the MPI Operator's MPIJob),
 * so the same rules run on any operator that starts the same launch.
 */

/** The image user as the rules need it. */
export interface UserFacts {
  /** User name, e.g. `mpiuser`. */
  readonly name: string;
  /** Numeric user id. */
  readonly uid: number;
  /** Numeric group id. */
  readonly gid: number;
  /** Home directory. */
  readonly home: string;
  /** `~/.ssh`, where ssh and sshd look for keys. */
  readonly sshDirectory: string;
  /** Whether the user is root (uid 0). */
  readonly isRoot: boolean;
}

/** What the job knows about its image. */
export interface ImageFacts {
  /** Image reference the pods pull. */
  readonly imageRef: string;
  /** The user that runs sshd and the ranks. */
  readonly user: UserFacts;
  /** Port sshd listens on. */
  readonly sshPort: number;
  /** Absolute path of the Python interpreter. */
  readonly pythonPath: string;
  /** MPI implementation installed in the image ('OpenMPI', 'Intel', 'MPICH'). */
  readonly mpiImplementation: string;
  /** Working directory of the containers, if the job sets one. */
  readonly workingDirectory?: string;
  /** Image-defined variables forwarded to every rank. */
  readonly forwardedImageEnv: string[];
  /** DeepSpeed version in the image, if declared. */
  readonly deepspeedVersion?: string;
  /** Whether the image is a recipe of this app, which validates its own props (sshPort, ...). */
  readonly isRecipe: boolean;
}

/**
 * One pod template of the job as it will be written (escape hatches included), with where it
 * sits in the manifest and which props shape it.
 */
export interface PodFacts {
  /** Role name used in messages and report order: 'Launcher' or 'Worker'. */
  readonly role: string;
  /** The prop that configures these pods: 'launcher' or 'workers'. */
  readonly prop: string;
  /** Manifest path of the pod template, e.g. `spec.mpiReplicaSpecs.Worker.template`. */
  readonly path: string;
  /** Pods created from the template, as written (not checked: operator rules do that). */
  readonly replicas: unknown;
  /** Whether the pods host ranks. */
  readonly hostsRanks: boolean;
  /** Volumes the operator adds to these pods, whose names the job cannot use. */
  readonly operatorVolumes: string[];
  /** Directories the operator mounts into the main container. */
  readonly operatorMountPaths: string[];
  /** The rendered pod template (`metadata`, `spec`). */
  readonly template: any;
}

/** The launch as the job computed and rendered it. */
export interface LaunchFacts {
  /** MPI implementation the launcher is configured for ('OpenMPI', 'Intel', 'MPICH'). */
  readonly implementation: string;
  /** MPI slots on every host. */
  readonly slotsPerWorker: number;
  /** Worker pods. */
  readonly workers: number;
  /** Hosts in the hostfile: the workers, and the launcher when it hosts ranks. */
  readonly hosts: number;
  /** Whether the launcher hosts ranks. */
  readonly launcherHostsRanks: boolean;
  /** Ranks the hostfile has room for: slotsPerWorker on every host. */
  readonly worldSize: number;
  /** The launcher's argv (command then args) after its wait-for-workers step, a shell line split into words. */
  readonly argv: string[];
  /** mpirun's own options in the argv (up to the Python program), undefined when it runs no mpirun. */
  readonly mpirunOptions?: string[];
  /** What the ranks run: the interpreter or script and every word after it; empty without mpirun. */
  readonly program: string[];
  /** Whether the launcher starts DeepSpeed's own `deepspeed` runner rather than mpirun. */
  readonly usesDeepSpeedRunner: boolean;
  /**
   * The launcher's wait-for-workers step, as written.
   * @default - the launcher runs its command without waiting
   */
  readonly wait?: WorkerWaitStep;
  /** Whether the launcher's wait is on (`waitForWorkers`), and its deadline in seconds (`workerWaitTimeout`, unrounded). */
  readonly waitForWorkers: { readonly enabled: boolean; readonly timeoutSeconds: number };
  /** Extended resource name of the GPUs. */
  readonly gpuResourceName: string;
  /** The gang minimum the typed gang-scheduling props render, if gang scheduling is on. */
  readonly gangMinAvailable?: number;
  /** Where the operator mounts the SSH keys, as written (operator default applied). */
  readonly sshAuthMountPath: unknown;
  /** The manifest field that sets it, for messages. */
  readonly sshAuthMountPathField: string;
  /** Whether the job is created suspended, as written (undefined when not set). */
  readonly suspend: unknown;
}

/** Everything a job rule reads. */
export interface JobFacts {
  /** Construct path of the job, the prefix of every message. */
  readonly path: string;
  /** The props as the user wrote them; their paths (`workers.cpuLimit`) name them in messages. */
  readonly props: DeepSpeedJobProps;
  /** The image's facts. */
  readonly image: ImageFacts;
  /** The computed launch. */
  readonly launch: LaunchFacts;
  /** The rendered pod templates, launcher first. */
  readonly pods: PodFacts[];
  /**
   * The operator the manifest is for, its release and its name in messages, e.g.
   * `{ kind: 'MPIJob', version: 'v0.8', name: 'the MPI Operator' }`.
   */
  readonly operator: { readonly kind: string; readonly version: string; readonly name: string };
  /** The job's manifest as it will be written, escape hatches included (operator-specific rules read it). */
  readonly manifest: any;
  /**
   * The DeepSpeed config as written to the ConfigMap.
   * @default - the job has no DeepSpeed config
   */
  readonly deepspeedConfig?: { [key: string]: any };
  /**
   * Name of the ConfigMap the job generated for its DeepSpeed config (its own or a registry's):
   * the only name in the spec that differs between otherwise equal jobs of a sweep.
   * @default - the job generated no ConfigMap
   */
  readonly configMapName?: string;
}

/** The JSON path prefix of a pod's spec, for messages. */
export function podSpecPath(pod: PodFacts): string {
  return `${pod.path}.spec`;
}

/** The pod of a role, if the job renders one. */
export function podOf(facts: JobFacts, role: string): PodFacts | undefined {
  return facts.pods.find(pod => pod.role === role);
}

/** The pod spec of a pod template, or an empty object. */
export function specOf(pod: PodFacts | undefined): any {
  return pod?.template?.spec ?? {};
}

/** The first container of a pod: the one the operator sets up ssh in and ranks run in. */
export function mainContainerOf(pod: PodFacts | undefined): any | undefined {
  return specOf(pod).containers?.[0];
}
