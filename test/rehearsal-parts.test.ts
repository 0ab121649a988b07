import { EnvValue, MpiJobManifest } from '../src';
import { expandKubernetesReferences, launcherArgv, launcherContainerEnv } from '../src/rehearsal/container-env';
import { MpirunCommandLine, parseMpirunHelp } from '../src/rehearsal/mpirun-cli';
import { configMapFileAt } from '../src/rehearsal/pod-files';
import { mpirunFailureReason } from '../src/rehearsal/rehearsal';
import { JOB_VARIATIONS } from './support/job-variations';
import { synthJob } from './support/synth';

describe('reading an mpirun command line', () => {
  // The layout of `mpirun --help all` in Open MPI 4.1: spellings joined by '|', then <argN> per value.
  const help = [
    '   -am <arg0>            Aggregate MCA parameter set file list',
    '-c|-np|--np <arg0>       Number of processes to run',
    '   -hostfile|--hostfile <arg0>  ',
    '                         Provide a hostfile',
    '   -mca|--mca <arg0> <arg1>  ',
    '   -oversubscribe|--oversubscribe ',
    '-x <arg0>                Export an environment variable, optionally',
    '                         specifying a value (e.g., "-x foo" exports the',
  ].join('\n');
  const arity = parseMpirunHelp(help);

  test('the help text gives each spelling its number of values', () => {
    expect(Object.fromEntries(arity)).toEqual({
      '-am': 1, '-c': 1, '-np': 1, '--np': 1, '-hostfile': 1, '--hostfile': 1, '-mca': 2, '--mca': 2,
      '-oversubscribe': 0, '--oversubscribe': 0, '-x': 1,
    });
  });

  test('options end at the first argument that is not one: the program', () => {
    const line = MpirunCommandLine.parse([
      'mpirun', '-np', '4', '--oversubscribe', '--mca', 'btl', '^openib', '-x', 'A', '-x', 'B=1', 'python', 'train.py', '-x', 'C',
    ], arity);
    expect(line.program).toBe('python');
    expect(line.programIndex).toBe(11);
    expect(line.programArgs).toEqual(['train.py', '-x', 'C']);
    expect(line.processCount).toBe(4);
    expect(line.exportedEnv).toEqual(['A', 'B=1']);
    expect(line.mcaParameter('btl')).toBe('^openib');
  });
});

describe('what the launcher container receives', () => {
  test('Kubernetes $(VAR) expansion: defined names expand, $$ escapes, unknown names stay', () => {
    const vars = new Map([['A', 'x'], ['B', 'y']]);
    expect(expandKubernetesReferences('$(A)-$(B)/$$(A)/$(C)/$A', vars)).toBe('x-y/$(A)/$(C)/$A');
  });

  test('script arguments that reference container variables arrive expanded, as the kubelet passes them', () => {
    const { manifests } = synthJob({
      ...JOB_VARIATIONS['minimal CPU job'],
      args: ['--log-level', '$(NCCL_DEBUG)', '--literal', '$$(NCCL_DEBUG)'],
      env: { NCCL_DEBUG: EnvValue.fromValue('WARN') },
    });
    const [job] = MpiJobManifest.fromManifests(manifests);
    expect(launcherArgv(job).slice(-4)).toEqual(['--log-level', 'WARN', '--literal', '$(NCCL_DEBUG)']);
  });

  test('the operator\'s variables come after the container\'s and replace one of the same name', () => {
    const { manifests, job: construct } = synthJob(JOB_VARIATIONS['minimal CPU job']);
    construct.launcher.addEnv('K_MPI_JOB_ROLE', EnvValue.fromValue('mine'));
    const [job] = MpiJobManifest.fromManifests([construct.apiObject.toJson(), ...manifests.slice(1)]);
    const env = launcherContainerEnv(job);
    expect(env.filter(v => v.name === 'K_MPI_JOB_ROLE')).toEqual([{ name: 'K_MPI_JOB_ROLE', value: 'launcher', source: 'operator' }]);
    expect(env.map(v => v.name).slice(-2)).toEqual(['NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES']);
  });
});

describe('which ConfigMap key a pod sees at a path', () => {
  const { manifests } = synthJob(JOB_VARIATIONS['4 workers x 2 GPUs with resources and a DeepSpeed config']);
  const [job] = MpiJobManifest.fromManifests(manifests);
  const worker = job.worker!;
  const withVolume = (mount: any, configMap: any) => ({
    ...worker,
    container: { ...worker.container, volumeMounts: [mount] },
    podSpec: { ...worker.podSpec, volumes: [{ name: 'v', configMap }] },
  });

  test('a whole-ConfigMap mount: the path below the mount is the key', () => {
    expect(configMapFileAt(job, worker, '/etc/deepspeed/ds_config.json')).toMatchObject({
      mountPath: '/etc/deepspeed', configMapName: 'test-train-deepspeed', key: 'ds_config.json', content: expect.stringContaining('"zero_optimization"'),
    });
    expect(configMapFileAt(job, worker, '/dev/shm/x')).toBeUndefined();
    expect(configMapFileAt(job, worker, '/opt/other.json')).toBeUndefined();
  });

  test('items rename keys, a subPath mount is one file', () => {
    const items = withVolume({ name: 'v', mountPath: '/cfg' }, { name: 'test-train-deepspeed', items: [{ key: 'ds_config.json', path: 'ds.json' }] });
    expect(configMapFileAt(job, items, '/cfg/ds.json')).toMatchObject({ key: 'ds_config.json' });
    expect(configMapFileAt(job, items, '/cfg/ds_config.json')).toMatchObject({ problem: 'volume v projects no item at ds_config.json' });
    const subPath = withVolume({ name: 'v', mountPath: '/cfg/ds.json', subPath: 'ds_config.json' }, { name: 'test-train-deepspeed' });
    expect(configMapFileAt(job, subPath, '/cfg/ds.json')).toMatchObject({ key: 'ds_config.json' });
  });

  test('a ConfigMap that is not in the manifests', () => {
    const other = withVolume({ name: 'v', mountPath: '/cfg' }, { name: 'elsewhere' });
    expect(configMapFileAt(job, other, '/cfg/a.json')).toMatchObject({ problem: 'ConfigMap elsewhere is not in the manifests' });
  });
});

describe('mpirun\'s reason for failing', () => {
  test('the first paragraph of its banner, with the next when it ends in a colon', () => {
    const output = [
      '-'.repeat(74),
      'There are not enough slots available in the system to satisfy the 3',
      'slots that were requested by the application:',
      '',
      '  /usr/bin/node',
      '',
      'Either request fewer slots for your application.',
      '-'.repeat(74),
    ].join('\n');
    expect(mpirunFailureReason(output)).toBe('There are not enough slots available in the system to satisfy the 3 slots that were requested by the application: /usr/bin/node');
  });

  test('without a banner, its last lines', () => {
    expect(mpirunFailureReason('a\nmpirun: Error: unknown option "--x"\nType \'mpirun --help\' for usage.\n'))
      .toBe('a / mpirun: Error: unknown option "--x" / Type \'mpirun --help\' for usage.');
  });
});
