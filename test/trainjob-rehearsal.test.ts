import { readFileSync } from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { CheckStatus, DeepSpeedMpiJob, MpiJobManifest, DeepSpeedTrainingImage, DeepSpeedTrainJob, DeepSpeedTrainJobProps, TrainerRuntime, TrainJobManifest } from '../src';
import { JOB_VARIATIONS } from './support/job-variations';
import { check, rehearse } from './support/rehearsal';
import { jobProps } from './support/synth';

const REFERENCE_RUNTIME = path.resolve(__dirname, '../../shared/crds/kubeflow-trainer-v2.3.0/deepspeed-distributed-runtime.yaml');

function trainJobManifests(props: Partial<DeepSpeedTrainJobProps> = {}): any[] {
  const chart = new Chart(Testing.app(), 'test');
  new DeepSpeedTrainJob(chart, 'train', { ...jobProps(), ...props });
  return Testing.synth(chart);
}

function mpiChart(): Chart {
  const chart = new Chart(Testing.app(), 'test');
  new DeepSpeedMpiJob(chart, 'train', jobProps());
  return chart;
}

describe('TrainJobManifest reads what the Trainer\'s MPI plugin derives', () => {
  test('hostfile: short JobSet names under the TrainJob subdomain, node pods first, the launcher last as a node', () => {
    const [job] = TrainJobManifest.fromManifests(trainJobManifests({ runLauncherAsWorker: true, workers: { replicas: 2, gpusPerWorker: 2 } }));
    expect(job.hostfile).toBe([
      'test-train-node-0-0.test-train slots=2',
      'test-train-node-0-1.test-train slots=2',
      'test-train-launcher-0-0.test-train slots=2',
      '',
    ].join('\n'));
    expect(job.launcherHostname).toBe('test-train-launcher-0-0');
    expect(job.totalSlots).toBe(6);
  });

  test('the launcher gets the four OMPI_MCA variables; no role or NVIDIA variables', () => {
    const [job] = TrainJobManifest.fromManifests(trainJobManifests());
    expect(job.launcherOperatorEnv).toEqual([
      { name: 'OMPI_MCA_orte_default_hostfile', value: '/etc/mpi/hostfile' },
      { name: 'OMPI_MCA_orte_keep_fqdn_hostnames', value: 'true' },
      { name: 'OMPI_MCA_orte_set_default_slots', value: '1' },
      { name: 'OMPI_MCA_plm_rsh_args', value: '-o ConnectionAttempts=10' },
    ]);
    expect(job.hostfile).toBe('test-train-node-0-0.test-train slots=1\ntest-train-node-0-1.test-train slots=1\n');
    expect(job.sshAuthMountPath).toBe('/home/mpiuser/.ssh');
    expect(job.sshKeyFileModes).toEqual({ 'id_rsa': 0o640, 'id_rsa.pub': 0o644, 'authorized_keys': 0o644 });
    const [mpiJob] = MpiJobManifest.fromManifests(Testing.synth(mpiChart()));
    expect(mpiJob.sshKeyFileModes).toEqual({ 'id_rsa': 0o644, 'id_rsa.pub': 0o644, 'authorized_keys': 0o644 });
  });

  test('a referenced runtime: the TrainJob\'s trainer fields and patches on the reference deepspeed-distributed runtime', () => {
    const runtimes = parseAllDocuments(readFileSync(REFERENCE_RUNTIME, 'utf8')).map(d => d.toJS()).filter(Boolean);
    const image = DeepSpeedTrainingImage.fromImage('ghcr.io/kubeflow/trainer/deepspeed-runtime:v2.3.0', { pythonPath: '/usr/bin/python3' });
    const manifests = trainJobManifests({ image, runtime: TrainerRuntime.clusterRuntime('deepspeed-distributed'), runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 4 } });
    const [job] = TrainJobManifest.fromManifests(manifests, runtimes);
    expect(job.launcher.container.image).toBe('ghcr.io/kubeflow/trainer/deepspeed-runtime:v2.3.0');
    expect(job.launcher.container.command.slice(10, 13)).toEqual(['mpirun', '-np', '8']);
    expect(job.worker!.container.command).toEqual(['/usr/sbin/sshd']);
    expect(job.worker!.container.resources.limits).toEqual({ 'nvidia.com/gpu': 4 });
    expect(job.hostfile).toBe('test-train-node-0-0.test-train slots=4\ntest-train-launcher-0-0.test-train slots=4\n');
    expect(() => TrainJobManifest.fromManifests(manifests)).toThrow('TrainJob test-train references ClusterTrainingRuntime deepspeed-distributed, which is neither in the manifests nor among the runtimes given');
  });
});

describe('the launch rehearsal runs the Trainer\'s launch with the real mpirun', () => {
  test('2 nodes x 2 GPUs with a DeepSpeed config: every check passes', async () => {
    const report = await rehearse(trainJobManifests({ workers: { replicas: 2, gpusPerWorker: 2 }, deepspeedConfig: { trainMicroBatchSizePerGpu: 2 } }));
    expect(report.jobKind).toBe('TrainJob');
    expect(report.checks.filter(c => c.status === CheckStatus.FAILED)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.ranks.map(r => r.pod)).toEqual(['test-train-node-0-0', 'test-train-node-0-0', 'test-train-node-0-1', 'test-train-node-0-1']);
    // The Trainer's four variables reach mpirun; the hostfile one points at the hostfile written here.
    const env = Object.fromEntries(report.launcherEnv.map(v => [v.name, v]));
    expect(env.OMPI_MCA_orte_keep_fqdn_hostnames).toMatchObject({ value: 'true', source: 'operator' });
    expect(env.OMPI_MCA_orte_set_default_slots).toMatchObject({ value: '2', source: 'operator' });
    expect(env.OMPI_MCA_plm_rsh_args).toMatchObject({ value: '-o ConnectionAttempts=10', source: 'operator' });
    expect(env.OMPI_MCA_orte_default_hostfile.source).toBe('local run');
    expect(report.hostfile).toBe('test-train-node-0-0.test-train slots=2\ntest-train-node-0-1.test-train slots=2\n');
    expect(env.K_MPI_JOB_ROLE).toBeUndefined();
    expect(check(report, 'world size').detail).toBe('4 ranks: -np 4 = 2 workers × 2 slots');
  }, 60_000);

  test('the launcher as a node: its line is last in the hostfile, yet Open MPI starts rank 0 on it, the local node', async () => {
    const report = await rehearse(trainJobManifests({ runLauncherAsWorker: true, workers: { replicas: 1, gpusPerWorker: 1 } }));
    expect(report.passed).toBe(true);
    expect(report.hostfile).toBe('test-train-node-0-0.test-train slots=1\ntest-train-launcher-0-0.test-train slots=1\n');
    expect(report.ranks.map(r => r.pod)).toEqual(['test-train-launcher-0-0', 'test-train-node-0-0']);
  }, 60_000);

  test('the same props rehearse the same ranks as the MPIJob', async () => {
    const props = JOB_VARIATIONS['4 workers x 2 GPUs with resources and a DeepSpeed config'];
    const trainChart = new Chart(Testing.app(), 'test');
    new DeepSpeedTrainJob(trainChart, 'train', props);
    const mpiChart = new Chart(Testing.app(), 'test');
    new DeepSpeedMpiJob(mpiChart, 'train', props);
    const [trainer, mpi] = await Promise.all([rehearse(Testing.synth(trainChart)), rehearse(Testing.synth(mpiChart))]);
    expect(trainer.passed).toBe(true);
    expect(mpi.passed).toBe(true);
    const view = (r: typeof trainer) => r.ranks.map(rank => ({ rank: rank.rank, localRank: rank.localRank, argv: rank.argv, cwd: rank.cwd }));
    expect(view(trainer)).toEqual(view(mpi));
  }, 120_000);
});
