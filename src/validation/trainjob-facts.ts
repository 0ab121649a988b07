import * as trainer from '../../imports/trainer.kubeflow.org';
import type { DeepSpeedTrainJob } from '../train-job';
import { DEEPSPEED_DISTRIBUTED_RUNTIME } from '../trainer-runtime';
import { ImageFacts, JobFacts, PodFacts } from './facts';
import { readLaunchArgv } from './manifest';

/*
 * Builds the job facts of a DeepSpeedTrainJob, so the rules every operator shares run on the
 * Trainer's launch too. Pods are read from the generated TrainingRuntime as it will be written
 * (escape hatches included); with a referenced runtime, from the pods the job asks for (the
 * TrainJob's trainer fields and runtime patch on top of the job's own pod templates).
 */

/** Volumes the Trainer's MPI plugin adds: the SSH keys on every pod, the hostfile on the launcher. */
const TRAINER_LAUNCHER_VOLUMES = ['mpi-ssh-auth', 'mpi-hostfile'];
const TRAINER_NODE_VOLUMES = ['mpi-ssh-auth'];

/** Replicated job of a runtime manifest by name. */
export function replicatedJob(runtime: any, name: string): any | undefined {
  return (runtime?.spec?.template?.spec?.replicatedJobs ?? []).find((job: any) => job?.name === name);
}

/** The index of a replicated job in a runtime manifest, -1 when absent. */
function replicatedJobIndex(runtime: any, name: string): number {
  return (runtime?.spec?.template?.spec?.replicatedJobs ?? []).findIndex((job: any) => job?.name === name);
}

/** The pod template of a replica as the job renders it, in JSON. */
function renderedTemplate(job: DeepSpeedTrainJob, launcher: boolean): any {
  return trainer.toJson_TrainingRuntimeSpecTemplateSpecReplicatedJobsTemplateSpecTemplate(job._podTemplate(launcher ? job.launcher : job.workers));
}

/** The job facts of a TrainJob (`trainJob`) and its generated runtime (`runtime`), as written. */
export function trainJobFacts(job: DeepSpeedTrainJob, trainJob: any, runtime: any | undefined, image: ImageFacts): JobFacts {
  const props = job.jobProps;
  const mpi = runtime?.spec?.mlPolicy?.mpi ?? {};
  const trainerSpec = trainJob.spec?.trainer ?? {};
  const launcherHostsRanks = runtime ? mpi.runLauncherAsNode === true : job.runLauncherAsWorker;
  const sshAuthMountPath = runtime
    ? (mpi.sshAuthMountPath ?? '/root/.ssh')
    : (job.runtime.name === DEEPSPEED_DISTRIBUTED_RUNTIME.name ? DEEPSPEED_DISTRIBUTED_RUNTIME.sshAuthMountPath : image.user.sshDirectory);
  const pod = (role: string, jobName: string, launcher: boolean): PodFacts => {
    const index = replicatedJobIndex(runtime, jobName);
    return {
      role,
      prop: launcher ? 'launcher' : 'workers',
      path: runtime && index >= 0
        ? `TrainingRuntime spec.template.spec.replicatedJobs[${index}].template.spec.template`
        : `runtime ${job.runtime.name} ${jobName} pod template`,
      replicas: launcher ? 1 : job.workers.replicas,
      hostsRanks: !launcher || launcherHostsRanks,
      operatorVolumes: launcher ? TRAINER_LAUNCHER_VOLUMES : TRAINER_NODE_VOLUMES,
      operatorMountPaths: launcher ? [String(sshAuthMountPath), '/etc/mpi'] : [String(sshAuthMountPath)],
      template: runtime ? (replicatedJob(runtime, jobName)?.template?.spec?.template ?? {}) : renderedTemplate(job, launcher),
    };
  };
  const pods = [pod('Launcher', 'launcher', true), pod('Worker', 'node', false)];
  const launcherContainer = pods[0].template?.spec?.containers?.[0];
  const read = runtime ? readLaunchArgv(launcherContainer?.command, launcherContainer?.args) : readLaunchArgv(trainerSpec.command, trainerSpec.args);
  const slotsPerWorker = trainerSpec.numProcPerNode ?? mpi.numProcPerNode ?? 1;
  const numNodes = typeof trainerSpec.numNodes === 'number' ? trainerSpec.numNodes : 1;
  const gang = props.scheduling?.gangScheduling;
  return {
    path: job.node.path,
    props,
    image,
    launch: {
      implementation: runtime ? (mpi.mpiImplementation ?? 'OpenMPI') : image.mpiImplementation,
      slotsPerWorker,
      workers: launcherHostsRanks ? Math.max(numNodes - 1, 1) : numNodes,
      hosts: launcherHostsRanks ? Math.max(numNodes - 1, 1) + 1 : numNodes,
      launcherHostsRanks,
      worldSize: (launcherHostsRanks ? Math.max(numNodes - 1, 1) + 1 : numNodes) * slotsPerWorker,
      ...read,
      waitForWorkers: { enabled: job.launcher.waitForWorkers, timeoutSeconds: job.launcher.workerWaitTimeout.toSeconds({ integral: false }) },
      gpuResourceName: job.workers.gpuResourceName,
      // The Trainer's PodGroup counts every pod: the launcher and the nodes.
      gangMinAvailable: gang ? job.workers.replicas + 1 : undefined,
      sshAuthMountPath,
      sshAuthMountPathField: runtime ? 'TrainingRuntime spec.mlPolicy.mpi.sshAuthMountPath' : `runtime ${job.runtime.name} mlPolicy.mpi.sshAuthMountPath`,
      suspend: trainJob.spec?.suspend,
    },
    pods,
    operator: { kind: 'TrainJob', version: 'v2.3', name: 'the Trainer' },
    manifest: trainJob,
    deepspeedConfig: job.deepspeedConfigJson,
    configMapName: job.configMap?.name,
  };
}
