import { Size } from 'cdk8s';
import {
  DeepSpeedMpiJobProps, DeepSpeedTrainingImage, Interconnect, LauncherCreationPolicy, MpiImplementation,
  MpiOperatorVersion, TrainingStorage, Validation,
} from '../src';
import { specDrift } from './support/crd';
import { buildJob, synthError, synthJob } from './support/synth';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1');
const base: DeepSpeedMpiJobProps = {
  image,
  workers: { replicas: 2, gpusPerWorker: 8, memory: Size.gibibytes(512) },
  script: '/opt/train.py',
};
/** Every option this library renders into the MPIJob spec. */
const everything: DeepSpeedMpiJobProps = {
  ...base,
  runLauncherAsWorker: true,
  launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY,
  network: { interconnect: Interconnect.efa({ devicesPerPod: 32 }) },
  storage: { volumes: [TrainingStorage.newClaim('checkpoints', { size: Size.gibibytes(500), mountPath: '/checkpoints' })] },
  scheduling: { kueue: { queueName: 'team-a', multiKueue: true }, gangScheduling: {}, spreadWorkers: true, priorityClassName: 'high' },
  security: { createServiceAccount: true },
};

function compatibility(props: DeepSpeedMpiJobProps): Array<[string, string]> {
  const { job } = buildJob(props);
  return Validation.validateJob(job).filter(f => f.rule === 'compatibility/operator-version').map(f => [f.severity, f.message.split(':')[1].trim()]);
}

describe('operatorVersion', () => {
  test('defaults to v0.8, where every option is supported and nothing is pruned', () => {
    const { job, mpiJob } = synthJob(everything);
    expect(job.operatorVersion).toBe(MpiOperatorVersion.V0_8);
    expect(compatibility(everything)).toEqual([]);
    expect(specDrift(mpiJob, 'v0.8.0')).toEqual({ pruned: [], rejected: [] });
  });

  test('on v0.4 the default job renders only fields the v0.4 CRD keeps', () => {
    const { mpiJob } = synthJob({ ...base, operatorVersion: MpiOperatorVersion.V0_4 });
    expect(mpiJob.spec.launcherCreationPolicy).toBeUndefined();
    expect(specDrift(mpiJob, 'v0.4.0')).toEqual({ pruned: [], rejected: [] });
    expect(compatibility({ ...base, operatorVersion: MpiOperatorVersion.V0_4 })).toEqual([]);
  });

  test('on v0.4 every field the v0.4 CRD would prune or reject is reported, and nothing else', () => {
    const props = { ...everything, image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { mpiImplementation: MpiImplementation.MPICH }) };
    const { mpiJob } = synthJob({ ...props, operatorVersion: MpiOperatorVersion.V0_8 });
    expect(specDrift(mpiJob, 'v0.4.0')).toEqual({
      pruned: ['.spec.launcherCreationPolicy', '.spec.runLauncherAsWorker', '.spec.runPolicy.managedBy'],
      rejected: ['.spec.mpiImplementation="MPICH"'],
    });
    expect(compatibility({ ...props, operatorVersion: MpiOperatorVersion.V0_4 })).toEqual([
      ['error', 'launcherCreationPolicy is \'WaitForWorkersReady\''],
      ['error', 'runLauncherAsWorker is true'],
      ['error', 'image.mpiImplementation is \'MPICH\''],
      ['error', 'scheduling.kueue.multiKueue is true'],
      ['warning', 'runLauncherAsWorker is true'],
    ]);
  });

  test('the message names the release, what the older operator does and the fix', () => {
    const { app } = buildJob({ ...base, launcherCreationPolicy: LauncherCreationPolicy.WAIT_FOR_WORKERS_READY, operatorVersion: MpiOperatorVersion.V0_4 });
    expect(synthError(app)).toContain('[test/train] launcherCreationPolicy is \'WaitForWorkersReady\': operatorVersion is v0.4 and MPI Operator releases before v0.5 '
      + 'do not support it: their CRD has no launcherCreationPolicy, so the API server prunes it and the launcher starts with the workers. '
      + 'Upgrade the MPI Operator to v0.5 or later and set operatorVersion accordingly, or remove launcherCreationPolicy.');
  });

  test('managedBy needs v0.6; the launcher as a worker is fragile before v0.7', () => {
    expect(compatibility({ ...base, scheduling: { kueue: { queueName: 'q', multiKueue: true } }, operatorVersion: MpiOperatorVersion.V0_5 }))
      .toEqual([['error', 'scheduling.kueue.multiKueue is true']]);
    expect(compatibility({ ...base, scheduling: { kueue: { queueName: 'q', multiKueue: true } }, operatorVersion: MpiOperatorVersion.V0_6 })).toEqual([]);
    expect(compatibility({ ...base, runLauncherAsWorker: true, operatorVersion: MpiOperatorVersion.V0_6 })).toEqual([['warning', 'runLauncherAsWorker is true']]);
    expect(compatibility({ ...base, runLauncherAsWorker: true, operatorVersion: MpiOperatorVersion.V0_7 })).toEqual([]);
  });
});
