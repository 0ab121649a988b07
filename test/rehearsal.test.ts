import * as path from 'path';
import { JsonPatch, Testing } from 'cdk8s';
import { buildCifar10 } from '../examples/cifar10/main';
import { CheckStatus, DeepSpeedMpiJob, EnvValue, MpiJobManifest } from '../src';
import { JOB_VARIATIONS } from './support/job-variations';
import { check, exportedNames, rehearse } from './support/rehearsal';
import { container, renderUnvalidated, synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

// Every test here runs the real Open MPI mpirun (Debian openmpi-bin; scripts/install-test-deps.sh).
jest.setTimeout(60_000);

/** The synthesized launcher command after the wait step, split at the interpreter: [mpirun and its flags, interpreter, script and args]. */
function splitCommand(command: string[], interpreter: string) {
  const mpirun = command.slice(command.indexOf('mpirun'));
  const at = mpirun.indexOf(interpreter);
  return { flags: mpirun.slice(0, at), programArgs: mpirun.slice(at + 1) };
}

describe('the CIFAR-10 example launches as synthesized', () => {
  const manifests = Testing.synth(buildCifar10(Testing.app()));
  const mpiJob = manifests.find(m => m.kind === 'MPIJob');
  const launcher = container(mpiJob.spec.mpiReplicaSpecs.Launcher);
  const worker = mpiJob.spec.mpiReplicaSpecs.Worker;
  let report: Awaited<ReturnType<typeof rehearse>>;
  beforeAll(async () => {
    report = await rehearse(manifests);
  });

  test('every check passes', () => {
    expect(report.checks.filter(c => c.status !== CheckStatus.PASSED)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.exitCode).toBe(0);
  });

  test('world size = -np = workers × slots, one rank per worker pod', () => {
    const np = Number(launcher.command[launcher.command.indexOf('-np') + 1]);
    expect(np).toBe(worker.replicas * mpiJob.spec.slotsPerWorker);
    expect(report.ranks.map(r => r.rank)).toEqual([0, 1]);
    expect(report.ranks.every(r => r.worldSize === np)).toBe(true);
    expect(report.ranks.map(r => `${r.pod} ${r.localRank}/${r.localSize}`))
      .toEqual(['cifar10-train-worker-0 0/1', 'cifar10-train-worker-1 0/1']);
  });

  test('every -x variable reaches every rank with the launcher value', () => {
    const names = exportedNames(launcher.command);
    expect(names).toEqual(['PATH', 'LD_LIBRARY_PATH', 'NCCL_DEBUG']);
    for (const rank of report.ranks) {
      expect(rank.env.NCCL_DEBUG).toBe('INFO');
      for (const name of names) expect(rank.env[name]).toBeDefined();
    }
  });

  test('the script path and its arguments arrive intact, in the working directory', () => {
    const { programArgs } = splitCommand(launcher.command, '/opt/conda/bin/python');
    expect(programArgs).toEqual(['training/cifar/cifar10_deepspeed.py', '--deepspeed', '--deepspeed_config', '/etc/deepspeed/ds_config.json']);
    for (const rank of report.ranks) {
      expect(rank.argv).toEqual(programArgs);
      expect(rank.cwd).toBe('/opt/DeepSpeedExamples');
    }
  });

  test('--deepspeed_config names the file the ConfigMap mount provides on the workers', () => {
    const configMap = manifests.find(m => m.kind === 'ConfigMap');
    const mount = container(worker).volumeMounts.find((m: any) => m.mountPath === '/etc/deepspeed');
    const volume = worker.template.spec.volumes.find((v: any) => v.name === mount.name);
    expect(volume.configMap.name).toBe(configMap.metadata.name);
    expect(Object.keys(configMap.data)).toContain('ds_config.json');
    for (const rank of report.ranks) {
      const file = rank.argv[rank.argv.indexOf('--deepspeed_config') + 1];
      expect(file).toBe(`${mount.mountPath}/ds_config.json`);
    }
    expect(check(report, 'DeepSpeed config').detail).toBe('--deepspeed_config /etc/deepspeed/ds_config.json is key ds_config.json of ConfigMap '
      + 'cifar10-train-deepspeed mounted at /etc/deepspeed in every rank\'s pod, and parses as JSON');
  });

  test('ssh goes to the port the workers\' sshd listens on', () => {
    expect(container(worker).command).toEqual(expect.arrayContaining(['-p', '2222']));
    expect(check(report, 'ssh port').detail).toBe('mpirun reached 2 worker pods over ssh port 2222, where their sshd listens');
  });

  test('the command ran unchanged apart from the documented local-run changes', () => {
    const { flags, programArgs } = splitCommand(launcher.command, '/opt/conda/bin/python');
    const [mpirun, mca, agentParameter, agent, ...rest] = report.localCommand;
    expect(mpirun).toMatch(/\/mpirun$/);
    expect([mca, agentParameter]).toEqual(['--mca', 'plm_rsh_agent']);
    const work = path.dirname(agent);
    const local: Record<string, string> = {
      '/etc/mpi/hostfile': `${work}/hostfile`,
      '/opt/DeepSpeedExamples': `${work}/pod-root/opt/DeepSpeedExamples`,
    };
    expect(rest).toEqual([...flags.slice(1).map(arg => local[arg] ?? arg), process.execPath, `${work}/probe.js`, ...programArgs]);
    expect(report.localChanges).toHaveLength(process.getuid?.() === 0 ? 9 : 8);
    expect(report.localChanges[0]).toBe('wait step (/opt/conda/bin/python -c <wait program> --hostfile /etc/mpi/hostfile --port 2222 --timeout 900 --) not run: '
      + 'the stand-in hosts do not resolve here; mpirun runs as the wait step would exec it (the check \'worker wait\' reads its options)');
  });

  test('the launcher waits for its workers on the port their sshd listens on, then runs mpirun', () => {
    expect(launcher.command.slice(0, 2)).toEqual(['/opt/conda/bin/python', '-c']);
    expect(launcher.command.slice(3, 10)).toEqual(['--hostfile', '/etc/mpi/hostfile', '--port', '2222', '--timeout', '900', '--']);
    expect(launcher.command[10]).toBe('mpirun');
    expect(check(report, 'worker wait')).toEqual({
      name: 'worker wait',
      status: CheckStatus.PASSED,
      detail: 'before mpirun the launcher waits up to 900 s until 2 worker pods of /etc/mpi/hostfile accept connections on port 2222, where their sshd listens (not run here)',
    });
  });
});

describe('job shapes', () => {
  test('4 workers × 2 slots: 8 ranks, 2 per pod with local ranks 0 and 1, arguments with spaces and quotes intact', async () => {
    const { launcher } = synthJob(JOB_VARIATIONS['4 workers x 2 GPUs with resources and a DeepSpeed config']);
    const report = await rehearse(synthJob(JOB_VARIATIONS['4 workers x 2 GPUs with resources and a DeepSpeed config']).manifests);
    expect(report.passed).toBe(true);
    expect(report.ranks.map(r => `${r.rank}:${r.pod}:${r.localRank}`)).toEqual([
      '0:test-train-worker-0:0', '1:test-train-worker-0:1', '2:test-train-worker-1:0', '3:test-train-worker-1:1',
      '4:test-train-worker-2:0', '5:test-train-worker-2:1', '6:test-train-worker-3:0', '7:test-train-worker-3:1',
    ]);
    expect(report.ranks.every(r => r.worldSize === 8 && r.localSize === 2)).toBe(true);
    const { programArgs } = splitCommand(container(launcher).command, '/opt/conda/bin/python');
    expect(programArgs).toContain('--name=with spaces and "quotes"');
    expect(report.ranks.every(r => JSON.stringify(r.argv) === JSON.stringify(programArgs))).toBe(true);
  });

  test('launcher as a worker: the launcher hosts the first ranks, started by mpirun itself with the launcher environment', async () => {
    const { manifests } = synthJob(JOB_VARIATIONS['launcher as a worker next to 2 workers']);
    const report = await rehearse(manifests);
    expect(report.passed).toBe(true);
    expect(report.hostfile).toBe([
      'test-train-launcher.test-train.default.svc slots=2',
      'test-train-worker-0.test-train.default.svc slots=2',
      'test-train-worker-1.test-train.default.svc slots=2',
      '',
    ].join('\n'));
    expect(report.ranks.map(r => `${r.rank}:${r.pod}:${r.localRank}`)).toEqual([
      '0:test-train-launcher:0', '1:test-train-launcher:1',
      '2:test-train-worker-0:0', '3:test-train-worker-0:1', '4:test-train-worker-1:0', '5:test-train-worker-1:1',
    ]);
    // Ranks on the launcher inherit its whole environment; ranks reached over ssh only what -x forwards.
    expect(report.ranks.map(r => r.env.K_MPI_JOB_ROLE)).toEqual(['launcher', 'launcher', undefined, undefined, undefined, undefined]);
    expect(check(report, 'DeepSpeed config').status).toBe(CheckStatus.PASSED);
    expect(check(report, 'ssh port').detail).toBe('mpirun reached 2 worker pods over ssh port 2222, where their sshd listens');
  });

  test('production features: 16 ranks, the interconnect and NCCL variables and the checkpoint argument reach every rank', async () => {
    const { manifests, launcher } = synthJob(JOB_VARIATIONS['production: NetworkPolicy, ServiceAccount, claims, checkpoints, Kueue, gang scheduling, EFA']);
    const report = await rehearse(manifests);
    expect(report.passed).toBe(true);
    expect(report.ranks).toHaveLength(16);
    expect(exportedNames(container(launcher).command)).toEqual(['PATH', 'LD_LIBRARY_PATH', 'FI_PROVIDER', 'NCCL_DEBUG']);
    expect(new Set(report.ranks.map(r => `${r.env.FI_PROVIDER} ${r.env.NCCL_DEBUG} ${r.argv.join(' ')}`))).toEqual(new Set([
      'efa WARN /workspace/train.py --checkpoint_dir /checkpoints/llm --deepspeed_config /etc/deepspeed/ds_config.json',
    ]));
  });

  test('launcher as the only worker: no ssh at all', async () => {
    const report = await rehearse(synthJob(JOB_VARIATIONS['launcher as the only worker']).manifests);
    expect(report.passed).toBe(true);
    expect(report.ranks.map(r => r.pod)).toEqual(['test-train-launcher']);
    expect(report.checks.map(c => c.name)).not.toContain('ssh port');
  });

  test('custom env: manifest values, pod fields and secrets (through a stand-in) reach every rank; launcher-only variables are flagged', async () => {
    const { job, chart } = synthJob(JOB_VARIATIONS['root image with custom env from every source']);
    job.launcher.addEnv('MPIRUN_ONLY', EnvValue.fromValue('x'));
    // Only the cluster can read the Secret: the rehearsal environment's value stands in for it.
    const report = await rehearse(Testing.synth(chart), { environment: { HF_TOKEN: 'hf_standin' } });
    expect(report.passed).toBe(true);
    const env = report.ranks.map(r => [r.env.NCCL_DEBUG, r.env.NCCL_SOCKET_IFNAME, r.env.JOB_NAMESPACE, r.env.HF_TOKEN, r.env.CUDA_HOME]);
    expect(env).toEqual([0, 1].map(() => ['INFO', 'eth0', 'default', 'hf_standin', '<CUDA_HOME from the image>']));
    expect(check(report, 'forwarded env').detail)
      .toBe('PATH, LD_LIBRARY_PATH, CUDA_HOME, NCCL_DEBUG, NCCL_SOCKET_IFNAME, JOB_NAMESPACE, HF_TOKEN reached all 2 ranks with the launcher\'s values');
    expect(check(report, 'launcher-only env')).toEqual({
      name: 'launcher-only env',
      status: CheckStatus.WARNING,
      detail: 'MPIRUN_ONLY is set on the launcher but not forwarded with -x, so ranks 0-1 do not see it',
    });
    expect(check(report, 'ssh port').detail).toBe('mpirun reached 2 worker pods over ssh port 22, where their sshd listens');
    expectWarnings('test/train: image.user is ImageUser.root()');
  });
});

describe('a broken launch fails the rehearsal with a readable reason', () => {
  function patchedCifar(...patches: JsonPatch[]) {
    const app = Testing.app();
    const chart = buildCifar10(app);
    const job = chart.node.findAll().find((c): c is DeepSpeedMpiJob => c instanceof DeepSpeedMpiJob)!;
    job.apiObject.addJsonPatch(...patches);
    return renderUnvalidated(chart);
  }
  const COMMAND = '/spec/mpiReplicaSpecs/Launcher/template/spec/containers/0/command';
  // Index of mpirun in the launcher argv: after the wait step's interpreter, program, options and `--`.
  const M = 10;

  test('-np larger than the hostfile: mpirun itself refuses', async () => {
    const report = await rehearse(patchedCifar(JsonPatch.replace(`${COMMAND}/${M + 2}`, '3')));
    expect(report.passed).toBe(false);
    expect(report.checks).toEqual([{
      name: 'mpirun',
      status: CheckStatus.FAILED,
      detail: 'mpirun exited with code 1: There are not enough slots available in the system to satisfy the 3 slots that were '
        + `requested by the application: ${process.execPath}`,
    }]);
  });

  test('a misspelt mpirun option', async () => {
    const report = await rehearse(patchedCifar(JsonPatch.replace(`${COMMAND}/${M + 3}`, '--hostfil')));
    expect(check(report, 'mpirun').detail).toMatch(/^mpirun exited with code 1: \S*mpirun: Error: unknown option "--hostfil"/);
  });

  test('-np smaller than the slots: runs, but the world size check fails', async () => {
    const report = await rehearse(patchedCifar(JsonPatch.replace(`${COMMAND}/${M + 2}`, '1')));
    expect(check(report, 'world size')).toEqual({
      name: 'world size',
      status: CheckStatus.FAILED,
      detail: '-np 1 but the hostfile has 2 slots, 2 workers × 1 slot: slots would sit idle',
    });
  });

  test('a -x without a name swallows the interpreter', async () => {
    const manifests = patchedCifar(JsonPatch.remove(`${COMMAND}/${M + 25}`));
    expect(container(manifests[0].spec.mpiReplicaSpecs.Launcher).command.slice(M + 24, M + 27))
      .toEqual(['-x', '/opt/conda/bin/python', 'training/cifar/cifar10_deepspeed.py']);
    const report = await rehearse(manifests);
    expect(report.passed).toBe(false);
    expect(check(report, 'forwarded env').detail)
      .toBe('-x /opt/conda/bin/python is not a variable name: a -x without one takes the next argument');
    expect(check(report, 'program')).toEqual({
      name: 'program',
      status: CheckStatus.WARNING,
      detail: 'mpirun starts training/cifar/cifar10_deepspeed.py on every rank, which is not a Python interpreter',
    });
  });

  test('--deepspeed_config pointing where no ConfigMap is mounted', async () => {
    const report = await rehearse(patchedCifar(JsonPatch.replace(`${COMMAND}/${M + 30}`, '/etc/deepspeed/ds-config.json')));
    expect(check(report, 'DeepSpeed config')).toEqual({
      name: 'DeepSpeed config',
      status: CheckStatus.FAILED,
      detail: '--deepspeed_config /etc/deepspeed/ds-config.json: /etc/deepspeed/ds-config.json is missing in the worker pod cifar10-train-worker-0: '
        + 'ConfigMap cifar10-train-deepspeed has no key ds-config.json (keys: ds_config.json); '
        + '/etc/deepspeed/ds-config.json is missing in the worker pod cifar10-train-worker-1: '
        + 'ConfigMap cifar10-train-deepspeed has no key ds-config.json (keys: ds_config.json)',
    });
  });

  test('ssh to a port the workers do not listen on', async () => {
    const report = await rehearse(patchedCifar(JsonPatch.replace('/spec/mpiReplicaSpecs/Worker/template/spec/containers/0/command/3', '2223')));
    expect(check(report, 'ssh port')).toEqual({
      name: 'ssh port',
      status: CheckStatus.FAILED,
      detail: 'mpirun connects to cifar10-train-worker-0.cifar10-train.default.svc on port 2222, but the workers\' sshd listens on 2223',
    });
  });

  test('a wait step watching another port than the workers\' sshd fails the worker wait check', async () => {
    const report = await rehearse(patchedCifar(JsonPatch.replace(`${COMMAND}/6`, '22')));
    expect(check(report, 'worker wait')).toEqual({
      name: 'worker wait',
      status: CheckStatus.FAILED,
      detail: 'the wait step waits for port 22, but the workers\' sshd listens on 2222, so it would wait until its deadline and fail',
    });
    expect(report.passed).toBe(false);
  });

  test('without the wait step the launch still runs, with a warning', async () => {
    const { manifests } = synthJob({ ...JOB_VARIATIONS['4 workers x 2 GPUs with resources and a DeepSpeed config'], waitForWorkers: false });
    const report = await rehearse(manifests);
    expect(report.passed).toBe(true);
    expect(report.command[0]).toBe('mpirun');
    expect(check(report, 'worker wait')).toEqual({
      name: 'worker wait',
      status: CheckStatus.WARNING,
      detail: 'the launcher runs mpirun at once: worker names resolve only once each worker is Ready, so ssh fails on a worker that is still starting and the launcher retries',
    });
  });

  test('an Intel MPI job is not rehearsed, and says why', async () => {
    const report = await rehearse(synthJob(JOB_VARIATIONS['Intel MPI image']).manifests);
    expect(report.checks).toEqual([{ name: 'launcher command', status: CheckStatus.FAILED, detail: 'the job uses Intel; the rehearsal runs Open MPI\'s mpirun only' }]);
  });
});

describe('MpiJobManifest reads what the operator derives', () => {
  test('hostfile names and launcher variables follow namespace and slots', () => {
    const [job] = MpiJobManifest.fromManifests(synthJob(JOB_VARIATIONS['scheduling, labels and run policy']).manifests);
    expect(job.hostfile).toBe([0, 1, 2].map(i => `scheduled-worker-${i}.scheduled.ml.svc slots=4`).join('\n') + '\n');
    expect(job.launcherOperatorEnv).toEqual([
      { name: 'K_MPI_JOB_ROLE', value: 'launcher' },
      { name: 'OMPI_MCA_orte_keep_fqdn_hostnames', value: 'true' },
      { name: 'OMPI_MCA_orte_default_hostfile', value: '/etc/mpi/hostfile' },
      { name: 'OMPI_MCA_plm_rsh_args', value: '-o ConnectionAttempts=10' },
      { name: 'OMPI_MCA_orte_set_default_slots', value: '4' },
      { name: 'NVIDIA_VISIBLE_DEVICES', value: '' },
      { name: 'NVIDIA_DRIVER_CAPABILITIES', value: '' },
    ]);
  });
});
