import { Construct } from 'constructs';
import type { DeepSpeedMpiJob } from '../job';
import { effectiveMinAvailable } from '../scheduling';
import { ImageFacts, JobFacts, PodFacts } from './facts';
import { readLaunchArgv } from './manifest';

/*
 * Builds the job facts of a DeepSpeedMpiJob from its props and its MPIJob manifest as it will be
 * written, escape hatches included: the only place validation reads the construct. Defaults the
 * MPI Operator applies are applied the same way (slotsPerWorker 1, mpiImplementation OpenMPI).
 */

/** The replica types the MPI Operator knows, in the order rules report them. */
export const MPI_REPLICA_TYPES = ['Launcher', 'Worker'];

/** A replica spec of an MPIJob manifest, or undefined when the manifest has none. */
export function mpiReplicaSpec(manifest: any, replicaType: string): any | undefined {
  return manifest.spec?.mpiReplicaSpecs?.[replicaType];
}

/** The image facts of any training image (a recipe construct or a declared prebuilt image). */
export function imageFacts(image: DeepSpeedMpiJob['image']): ImageFacts {
  const user = image.user;
  return {
    imageRef: image.imageRef,
    user: { name: user.name, uid: user.uid, gid: user.gid, home: user.home, sshDirectory: user.sshDirectory, isRoot: user.isRoot },
    sshPort: image.sshPort,
    pythonPath: image.pythonPath,
    mpiImplementation: image.mpiImplementation,
    workingDirectory: image.workingDirectory,
    forwardedImageEnv: image.forwardedImageEnv,
    deepspeedVersion: image.deepspeedVersion,
    isRecipe: Construct.isConstruct(image),
  };
}

/** The job facts of an MPIJob manifest (`manifest`, as written) and the props and image behind it. */
export function mpiJobFacts(job: DeepSpeedMpiJob, manifest: any, image: ImageFacts): JobFacts {
  const props = job._props;
  const spec = manifest.spec ?? {};
  const launcherHostsRanks = spec.runLauncherAsWorker === true;
  const sshMount = spec.sshAuthMountPath ?? '/root/.ssh';
  const pods: PodFacts[] = MPI_REPLICA_TYPES.flatMap(role => {
    const replica = mpiReplicaSpec(manifest, role);
    if (!replica) return [];
    return [{
      role,
      prop: role === 'Launcher' ? 'launcher' : 'workers',
      path: `spec.mpiReplicaSpecs.${role}.template`,
      replicas: replica.replicas,
      hostsRanks: role === 'Worker' || launcherHostsRanks,
      // The operator's SSH keys on every pod, and the hostfile (mpi-job-config) on the launcher.
      operatorVolumes: role === 'Launcher' ? ['ssh-auth', 'mpi-job-config'] : ['ssh-auth'],
      operatorMountPaths: role === 'Launcher' ? [sshMount, '/etc/mpi'] : [sshMount],
      template: replica.template ?? {},
    }];
  });
  const workerReplicas = mpiReplicaSpec(manifest, 'Worker')?.replicas;
  const workers = typeof workerReplicas === 'number' ? workerReplicas : 0;
  const slotsPerWorker = spec.slotsPerWorker ?? 1;
  const hosts = workers + (launcherHostsRanks ? 1 : 0);
  const launcher = mpiReplicaSpec(manifest, 'Launcher')?.template?.spec?.containers?.[0];
  const gang = props.scheduling?.gangScheduling;
  const read = readLaunchArgv(launcher?.command, launcher?.args);
  return {
    path: job.node.path,
    props,
    image,
    launch: {
      implementation: spec.mpiImplementation ?? 'OpenMPI',
      slotsPerWorker,
      workers,
      hosts,
      launcherHostsRanks,
      worldSize: hosts * slotsPerWorker,
      ...read,
      waitForWorkers: { enabled: job.launcher.waitForWorkers, timeoutSeconds: job.launcher.workerWaitTimeout.toSeconds({ integral: false }) },
      gpuResourceName: job.workers.gpuResourceName,
      gangMinAvailable: gang ? effectiveMinAvailable(job, gang) : undefined,
      sshAuthMountPath: sshMount,
      sshAuthMountPathField: 'spec.sshAuthMountPath',
      suspend: spec.runPolicy?.suspend,
    },
    pods,
    operator: { kind: 'MPIJob', version: job.operatorVersion, name: 'the MPI Operator' },
    manifest,
    deepspeedConfig: job.deepspeedConfigJson,
    configMapName: job.configMap?.name,
  };
}
