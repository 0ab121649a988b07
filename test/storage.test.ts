import { Chart, Size, Testing } from 'cdk8s';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';
import { DeepSpeedMpiJobProps, DeepSpeedTrainingImage, FsGroupChangePolicy, ImageUser, PersistentVolumeAccessMode, TrainingStorage, Validation, Volume } from '../src';
import { buildJob, container, synthError, synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1');
const base: DeepSpeedMpiJobProps = {
  image,
  workers: { replicas: 2, gpusPerWorker: 1 },
  script: '/opt/train.py',
  args: ['--epochs', '3'],
  metadata: { name: 'llm', namespace: 'ml' },
};
const dataset = TrainingStorage.existingClaim('dataset', { claimName: 'imagenet', mountPath: '/data', readOnly: true });
const checkpoints = TrainingStorage.newClaim('checkpoints', { size: Size.gibibytes(500), storageClassName: 'cephfs', mountPath: '/checkpoints' });

describe('persistent volumes', () => {
  const { manifests, launcher, worker } = synthJob({ ...base, storage: { volumes: [dataset, checkpoints] } });

  test('an existing claim is mounted by name on the launcher and every worker', () => {
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.volumes).toContainEqual({ name: 'dataset', persistentVolumeClaim: { claimName: 'imagenet', readOnly: true } });
      expect(container(replica).volumeMounts).toContainEqual({ name: 'dataset', mountPath: '/data', readOnly: true });
    }
  });

  test('a new claim is created next to the job, ReadWriteMany by default, and mounted read-write', () => {
    const claim = manifests.find(m => m.kind === 'PersistentVolumeClaim');
    expect(claim).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'llm-checkpoints', namespace: 'ml' },
      spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '500Gi' } }, storageClassName: 'cephfs', volumeMode: 'Filesystem' },
    });
    expect(() => new PersistentVolumeClaim(claim).validate()).not.toThrow();
    for (const replica of [launcher, worker]) {
      expect(replica.template.spec.volumes).toContainEqual({ name: 'checkpoints', persistentVolumeClaim: { claimName: 'llm-checkpoints', readOnly: false } });
      expect(container(replica).volumeMounts).toContainEqual({ name: 'checkpoints', mountPath: '/checkpoints', readOnly: false });
    }
  });

  test('subPath mounts one directory of the volume', () => {
    const sub = synthJob({ ...base, storage: { volumes: [TrainingStorage.existingClaim('shared', { claimName: 'team', mountPath: '/data', subPath: 'imagenet' })] } });
    expect(container(sub.worker).volumeMounts).toContainEqual({ name: 'shared', mountPath: '/data', readOnly: false, subPath: 'imagenet' });
  });
});

describe('volume ownership (fsGroup)', () => {
  const podContext = (replica: any) => replica.template.spec.securityContext;

  test('a non-root job that mounts storage gets the image\'s gid as fsGroup, changed only on a root mismatch', () => {
    const custom = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.nonRoot({ uid: 1500, gid: 1600 }) });
    const { launcher, worker } = synthJob({ ...base, image: custom, storage: { volumes: [checkpoints] } });
    for (const replica of [launcher, worker]) {
      expect(podContext(replica)).toEqual({
        runAsUser: 1500, runAsGroup: 1600, runAsNonRoot: true, fsGroup: 1600, fsGroupChangePolicy: 'OnRootMismatch',
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });

  test('without persistent volumes (only the config map, /dev/shm and the operator\'s secret) there is no fsGroup', () => {
    const { launcher, worker } = synthJob({ ...base, deepspeedConfig: { trainMicroBatchSizePerGpu: 4 } });
    for (const replica of [launcher, worker]) {
      expect(podContext(replica).fsGroup).toBeUndefined();
      expect(podContext(replica).fsGroupChangePolicy).toBeUndefined();
    }
  });

  test('a root job gets none by default, and the one it asks for', () => {
    const root = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.root() });
    expect(podContext(synthJob({ ...base, image: root, storage: { volumes: [checkpoints] } }).worker).fsGroup).toBeUndefined();
    const asked = synthJob({ ...base, image: root, storage: { volumes: [checkpoints], fsGroup: 3000 } });
    expect(podContext(asked.worker)).toMatchObject({ runAsUser: 0, fsGroup: 3000, fsGroupChangePolicy: 'OnRootMismatch' });
    expectWarnings(...Array(2).fill('test/train: image.user is ImageUser.root()'));
  });

  test('overridable: another group, another change policy, or none at all', () => {
    const other = synthJob({ ...base, storage: { volumes: [checkpoints], fsGroup: 4242, fsGroupChangePolicy: FsGroupChangePolicy.ALWAYS } });
    expect(podContext(other.worker)).toMatchObject({ fsGroup: 4242, fsGroupChangePolicy: 'Always' });
    const off = synthJob({ ...base, storage: { volumes: [checkpoints], setFsGroup: false } });
    expect(podContext(off.worker).fsGroup).toBeUndefined();
    expect(podContext(off.launcher).fsGroup).toBeUndefined();
  });

  test('a volume added with job.addVolume counts as storage too', () => {
    const { job } = buildJob(base);
    expect(job.workers.mountsPersistentVolume).toBe(false);
    job.addVolume('/scratch', Volume.fromPersistentVolumeClaim('scratch'));
    expect(job.workers.mountsPersistentVolume).toBe(true);
    const mpiJob = Testing.synth(Chart.of(job)).find(m => m.kind === 'MPIJob');
    expect(podContext(mpiJob.spec.mpiReplicaSpecs.Worker).fsGroup).toBe(1000);
  });

  test('a bad group or a group with setFsGroup: false fails synth', () => {
    expect(synthError(buildJob({ ...base, storage: { volumes: [checkpoints], fsGroup: -1 } }).app))
      .toContain('[test/train] storage.fsGroup is -1: the API server rejects a pod whose fsGroup is not a group id from 0 to 2147483647. Set it to a group id, or remove it to use the image user\'s gid (1000).');
    expect(synthError(buildJob({ ...base, storage: { volumes: [checkpoints], fsGroup: 1000, setFsGroup: false } }).app))
      .toContain('[test/train] storage.fsGroup is 1000 with setFsGroup: false: setFsGroup: false leaves fsGroup off the pods, so the value would be ignored. Remove storage.fsGroup, or remove setFsGroup: false.');
    expect(synthError(buildJob({ ...base, storage: { fsGroupChangePolicy: FsGroupChangePolicy.ALWAYS, setFsGroup: false } }).app))
      .toContain('[test/train] storage.fsGroupChangePolicy is \'Always\' with setFsGroup: false: setFsGroup: false leaves fsGroup off the pods, so the value would be ignored. Remove storage.fsGroupChangePolicy, or remove setFsGroup: false.');
  });
});

describe('checkpoint directory', () => {
  test('is passed to the script after its own arguments', () => {
    const { launcher, job } = synthJob({ ...base, storage: { volumes: [checkpoints], checkpoint: { directory: '/checkpoints/run-1' } } });
    expect(container(launcher).command.slice(-5)).toEqual(['/opt/train.py', '--epochs', '3', '--checkpoint_dir', '/checkpoints/run-1']);
    expect(Validation.validateJob(job).filter(f => f.rule.startsWith('storage/'))).toEqual([]);
  });

  test('with the script\'s own flag name', () => {
    const { launcher } = synthJob({ ...base, storage: { volumes: [checkpoints], checkpoint: { directory: '/checkpoints/run-1', argument: '--save_dir' } } });
    expect(container(launcher).command.slice(-2)).toEqual(['--save_dir', '/checkpoints/run-1']);
  });

  test('outside every volume it fails synth: the shards would stay in the pods', () => {
    const { job } = buildJob({ ...base, storage: { checkpoint: { directory: '/tmp/ckpt' } } });
    expect(Validation.validateJob(job).filter(f => f.rule === 'storage/checkpoint-location').map(f => [f.severity, f.message])).toEqual([['error',
      'test/train: storage.checkpoint.directory is \'/tmp/ckpt\': it is on no storage volume, so every pod writes its shards to its own container filesystem, '
      + 'they are lost with the pods, and no pod can resume from all of them. Mount a shared TrainingStorage (ReadWriteMany) and put the directory under its mountPath.']]);
  });

  test('on a read-only volume it fails synth', () => {
    const { app } = buildJob({ ...base, storage: { volumes: [dataset], checkpoint: { directory: '/data/ckpt' } } });
    expect(synthError(app)).toContain('[test/train] storage.checkpoint.directory is \'/data/ckpt\': volume \'dataset\' is mounted read-only, '
      + 'so DeepSpeed\'s save_checkpoint fails on the first save. Mount \'dataset\' read-write or put checkpoints on another volume.');
  });

  test('a relative directory fails synth when the working directory is not declared', () => {
    const { app } = buildJob({ ...base, storage: { volumes: [checkpoints], checkpoint: { directory: 'ckpt' } } });
    expect(synthError(app)).toContain('[test/train] storage.checkpoint.directory is \'ckpt\': a relative path resolves against the ranks\' working directory, the image\'s WORKDIR, which the job does not know');
  });
});

describe('storage rules', () => {
  test('ReadWriteOnce across several pods is a warning, ReadWriteOncePod an error', () => {
    const rwo = TrainingStorage.newClaim('scratch', { size: Size.gibibytes(100), mountPath: '/scratch', accessMode: PersistentVolumeAccessMode.READ_WRITE_ONCE });
    const { job } = synthJob({ ...base, storage: { volumes: [rwo] } });
    expect(Validation.validateJob(job).filter(f => f.rule === 'storage/access-mode').map(f => [f.severity, f.message])).toEqual([['warning',
      'test/train: storage.volumes \'scratch\' accessMode is \'ReadWriteOnce\': a ReadWriteOnce volume attaches to one node, and the job\'s 3 pods mount it, '
      + 'so pods on other nodes wait in ContainerCreating with a Multi-Attach error. Use ReadWriteMany (the default) with a StorageClass that supports it, or keep the job on one node.']]);
    const rwop = TrainingStorage.newClaim('scratch', { size: Size.gibibytes(100), mountPath: '/scratch', accessMode: PersistentVolumeAccessMode.READ_WRITE_ONCE_POD });
    expect(synthError(buildJob({ ...base, storage: { volumes: [rwop] } }).app)).toContain('only one pod can use a ReadWriteOncePod volume');
    expectWarnings('test/train: storage.volumes \'scratch\' accessMode is \'ReadWriteOnce\'');
  });

  test('volume names the job or the operator already use fail synth', () => {
    const clash = (name: string) => synthError(buildJob({ ...base, storage: { volumes: [TrainingStorage.existingClaim(name, { claimName: 'x', mountPath: '/x' })] } }).app);
    expect(clash('ssh-auth')).toContain('[test/train] storage.volumes name is \'ssh-auth\': the MPI Operator adds a volume of that name to the pods it creates');
    expect(clash('dshm')).toContain('[test/train] storage.volumes name is \'dshm\': the job already has a volume of that name');
    expect(clash('Data_Set')).toContain('is \'Data_Set\': the API server rejects pod volume names that are not DNS labels');
    const twice = synthError(buildJob({ ...base, storage: { volumes: [dataset, TrainingStorage.existingClaim('dataset', { claimName: 'y', mountPath: '/y' })] } }).app);
    expect(twice).toContain('[test/train] storage.volumes name is \'dataset\': another storage volume has the same name');
  });

  test('mount paths over the operator\'s or the job\'s own mounts fail synth', () => {
    const at = (mountPath: string) => synthError(buildJob({ ...base, storage: { volumes: [TrainingStorage.existingClaim('data', { claimName: 'x', mountPath })] } }).app);
    expect(at('/etc/mpi')).toContain('[test/train] storage.volumes \'data\' mountPath is \'/etc/mpi\': the MPI Operator mounts the hostfile at /etc/mpi');
    expect(at('/home/mpiuser')).toContain('the MPI Operator mounts the SSH keys at /home/mpiuser/.ssh');
    expect(at('/dev/shm')).toContain('the job already mounts a volume at /dev/shm');
    expect(at('data')).toContain('the API server rejects relative mount paths');
  });
});
