import { PersistentVolumeAccessMode, TrainingStorage } from '../storage';
import { JobRule } from './context';
import { JobFacts } from './facts';
import { mainContainerOf, specOf } from './facts';
import { error, Finding, plural, show, warning } from './finding';
import { gpuCount } from './manifest';
import { MAX_GPUS_PER_NODE } from './prop-rules';

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Where the operator mounts the hostfile on the launcher (the MPI Operator and the Trainer alike). */
const OPERATOR_HOSTFILE_DIR = '/etc/mpi';

function storages(ctx: JobFacts): TrainingStorage[] {
  return ctx.props.storage?.volumes ?? [];
}

/** Rendered pod template specs. */
function podSpecs(ctx: JobFacts): any[] {
  return ctx.pods.map(specOf);
}

/** `items` without one entry per storage volume that `isStorage` matches: what the job itself renders. */
function withoutStorage<T>(items: T[], storage: TrainingStorage[], isStorage: (item: T, s: TrainingStorage) => boolean): T[] {
  const rest = [...items];
  for (const s of storage) {
    const i = rest.findIndex(item => isStorage(item, s));
    if (i >= 0) rest.splice(i, 1);
  }
  return rest;
}

function isWithin(path: string, dir: string): boolean {
  const base = dir.replace(/\/+$/, '');
  return path === base || path.startsWith(`${base}/`);
}

/** Pod volume names must be DNS labels, unique, and not one the job or the operator already uses. */
const volumeNames: JobRule = (ctx: JobFacts): Finding[] => {
  const jobVolumes = new Set(podSpecs(ctx).flatMap(spec =>
    withoutStorage<any>(spec.volumes ?? [], storages(ctx), (v, s) => v.name === s.name && v.persistentVolumeClaim !== undefined)
      .map(v => v.name as string)));
  const seen = new Set<string>();
  return storages(ctx).flatMap(storage => {
    const name = storage.name;
    const duplicate = seen.has(name);
    seen.add(name);
    let why: string | undefined;
    if (name.length > 63 || !DNS_1123_LABEL.test(name)) {
      why = 'the API server rejects pod volume names that are not DNS labels (lowercase letters, digits and \'-\', at most 63 characters)';
    } else if (ctx.pods.some(pod => pod.operatorVolumes.includes(name))) {
      why = `${ctx.operator.name} adds a volume of that name to the pods it creates, and the API server rejects the duplicate`;
    } else if (jobVolumes.has(name)) {
      why = 'the job already has a volume of that name, and the API server rejects the duplicate';
    } else if (duplicate) {
      why = 'another storage volume has the same name, and the API server rejects the duplicate';
    }
    if (!why) return [];
    return [error('storage/volume-name', {
      path: ctx.path,
      field: 'storage.volumes name',
      value: show(name),
      why,
      fix: 'Name the volume after its content, e.g. \'dataset\' or \'checkpoints\'.',
    })];
  });
};

/** Mount paths must be absolute and clear of the paths the job and the operator mount. */
const mountPaths: JobRule = (ctx: JobFacts): Finding[] => {
  const jobPaths = podSpecs(ctx).flatMap(spec =>
    withoutStorage<any>(spec.containers?.[0]?.volumeMounts ?? [], storages(ctx), (m, s) => m.name === s.name && m.mountPath === s.mountPath)
      .map(m => m.mountPath as string));
  const reserved = [...new Set([...jobPaths, OPERATOR_HOSTFILE_DIR, ctx.image.user.sshDirectory])];
  const seen = new Set<string>();
  return storages(ctx).flatMap(storage => {
    const path = storage.mountPath;
    const clash = reserved.find(dir => isWithin(path, dir) || isWithin(dir, path));
    const duplicate = seen.has(path);
    seen.add(path);
    let why: string | undefined;
    if (!path.startsWith('/')) {
      why = 'the API server rejects relative mount paths';
    } else if (path.replace(/\/+$/, '') === '') {
      why = 'a volume mounted at / hides the image\'s whole filesystem (the Python interpreter, MPI and sshd), so the container cannot start';
    } else if (clash) {
      why = clash === OPERATOR_HOSTFILE_DIR || clash === ctx.image.user.sshDirectory
        ? `${ctx.operator.name} mounts ${clash === OPERATOR_HOSTFILE_DIR ? 'the hostfile' : 'the SSH keys'} at ${clash}, and overlapping mounts hide one another or fail`
        : `the job already mounts a volume at ${clash}, and overlapping mounts hide one another or fail`;
    } else if (duplicate) {
      why = 'another storage volume is mounted there, and the API server rejects duplicate mount paths';
    }
    const subPath = storage.subPath;
    if (!why && subPath !== undefined && (subPath.startsWith('/') || subPath.split('/').includes('..'))) {
      return [error('storage/mount-path', {
        path: ctx.path,
        field: `storage.volumes '${storage.name}' subPath`,
        value: show(subPath),
        why: 'it names a directory inside the volume, and the API server rejects a subPath that is absolute or contains \'..\' ("must be a relative path" / "must not contain \'..\'")',
        fix: `Give the directory relative to the volume's root, e.g. '${subPath.replace(/^\/+/, '').split('/').filter(p => p !== '..' && p !== '').join('/') || 'team-a'}'.`,
      })];
    }
    if (!why) return [];
    return [error('storage/mount-path', {
      path: ctx.path,
      field: `storage.volumes '${storage.name}' mountPath`,
      value: show(path),
      why,
      fix: 'Mount the volume at a directory of its own, e.g. /data or /checkpoints.',
    })];
  });
};

/** Checkpoints need a writable volume every pod shares. */
const checkpointLocation: JobRule = (ctx: JobFacts): Finding[] => {
  const checkpoint = ctx.props.storage?.checkpoint;
  if (!checkpoint) return [];
  const argument = checkpoint.argument;
  if (argument !== undefined && (argument.trim() === '' || /\s/.test(argument))) {
    return [error('storage/checkpoint-location', {
      path: ctx.path,
      field: 'storage.checkpoint.argument',
      value: show(argument),
      why: 'the job passes it to the script as one word before the directory, and no shell splits it, so the script\'s argparse never sees the flag it declares and exits with "unrecognized arguments"',
      fix: `Give the flag alone, e.g. '${argument.trim().split(/\s+/)[0] || '--checkpoint_dir'}', or remove it for --checkpoint_dir.`,
    })];
  }
  const given = checkpoint.directory;
  const finding = { path: ctx.path, field: 'storage.checkpoint.directory', value: show(given) };
  // Every rank starts in the image's working directory (mpirun's --wdir): a relative path is under it.
  const workingDirectory = ctx.image.workingDirectory;
  if (!given.startsWith('/') && !(workingDirectory?.startsWith('/'))) {
    return [error('storage/checkpoint-location', {
      ...finding,
      why: 'a relative path resolves against the ranks\' working directory, the image\'s WORKDIR, which the job does not know (image.workingDirectory is not set), so nothing shows the checkpoints land on a volume every pod shares rather than in each pod\'s own container filesystem',
      fix: 'Use an absolute path under a TrainingStorage mountPath, e.g. /checkpoints/run-1, or declare image.workingDirectory.',
    })];
  }
  const dir = given.startsWith('/') ? given : `${workingDirectory!.replace(/\/+$/, '')}/${given}`;
  const volume = storages(ctx).find(s => isWithin(dir, s.mountPath));
  if (!volume) {
    return [error('storage/checkpoint-location', {
      ...finding,
      why: 'it is on no storage volume, so every pod writes its shards to its own container filesystem, they are lost with the pods, and no pod can resume from all of them',
      fix: 'Mount a shared TrainingStorage (ReadWriteMany) and put the directory under its mountPath.',
    })];
  }
  if (volume.readOnly) {
    return [error('storage/checkpoint-location', {
      ...finding,
      why: `volume '${volume.name}' is mounted read-only, so DeepSpeed's save_checkpoint fails on the first save`,
      fix: `Mount '${volume.name}' read-write or put checkpoints on another volume.`,
    })];
  }
  return [];
};

/**
 * Why the pods that host ranks can never share one node, if they cannot: together they need more
 * GPUs than any node has, or they use the node's network and each binds sshd to the same port.
 */
function rankPodsApart(ctx: JobFacts): string | undefined {
  if (ctx.launch.hosts < 2) return undefined;
  const gpus = ctx.pods.filter(pod => pod.hostsRanks)
    .reduce((sum, pod) => sum + gpuCount(mainContainerOf(pod), ctx.launch.gpuResourceName) * (pod.role === 'Worker' ? ctx.launch.workers : 1), 0);
  if (['nvidia.com/gpu', 'amd.com/gpu'].includes(ctx.launch.gpuResourceName) && gpus > MAX_GPUS_PER_NODE) {
    return `the job's ${plural(ctx.launch.hosts, 'pod')} that host ranks need ${gpus} GPUs together, more than any node has (${MAX_GPUS_PER_NODE}), so they run on several nodes`;
  }
  if (ctx.props.network?.interconnect?.hostNetwork) {
    return `the job's ${plural(ctx.launch.hosts, 'pod')} that host ranks use the node's network (network.interconnect hostNetwork) and each binds sshd to port ${ctx.image.sshPort}, so the scheduler never places two of them on one node`;
  }
  return undefined;
}

/** A claim every pod mounts must be attachable on several nodes. */
const sharedAccess: JobRule = (ctx: JobFacts): Finding[] => {
  const pods = ctx.props.workers.replicas + 1;
  if (pods < 2) return [];
  return storages(ctx).flatMap(storage => {
    const mode = storage.accessMode;
    const base = {
      path: ctx.path,
      field: `storage.volumes '${storage.name}' accessMode`,
      value: show(mode),
    };
    if (mode === PersistentVolumeAccessMode.READ_WRITE_ONCE_POD) {
      return [error('storage/access-mode', {
        ...base,
        why: `only one pod can use a ReadWriteOncePod volume, and all ${pods} pods of the job mount it, so the others stay Pending`,
        fix: 'Use ReadWriteMany (the default) with a StorageClass that supports it (NFS, CephFS, Lustre, EFS, Filestore).',
      })];
    }
    if (mode === PersistentVolumeAccessMode.READ_WRITE_ONCE && ctx.props.scheduling?.spreadWorkers && ctx.launch.hosts >= 2) {
      return [error('storage/access-mode', {
        ...base,
        why: `a ReadWriteOnce volume attaches to one node, and scheduling.spreadWorkers places the job's pods that host ranks on different nodes, so all but one wait in ContainerCreating with a Multi-Attach error`,
        fix: 'Use ReadWriteMany (the default) with a StorageClass that supports it (NFS, CephFS, Lustre, EFS, Filestore), or remove spreadWorkers.',
      })];
    }
    const apart = rankPodsApart(ctx);
    if (mode === PersistentVolumeAccessMode.READ_WRITE_ONCE && apart !== undefined) {
      return [error('storage/access-mode', {
        ...base,
        why: `a ReadWriteOnce volume attaches to one node, and ${apart}: the pods on the other nodes wait in ContainerCreating with a Multi-Attach error`,
        fix: 'Use ReadWriteMany (the default) with a StorageClass that supports it (NFS, CephFS, Lustre, EFS, Filestore).',
      })];
    }
    if (mode === PersistentVolumeAccessMode.READ_WRITE_ONCE) {
      return [warning('storage/access-mode', {
        ...base,
        why: `a ReadWriteOnce volume attaches to one node, and the job's ${pods} pods mount it, so pods on other nodes wait in ContainerCreating with a Multi-Attach error`,
        fix: 'Use ReadWriteMany (the default) with a StorageClass that supports it, or keep the job on one node.',
      })];
    }
    if (mode === PersistentVolumeAccessMode.READ_ONLY_MANY && !storage.readOnly) {
      return [warning('storage/access-mode', {
        ...base,
        why: 'the volume is mounted read-write but the claim only grants read access, so writes fail',
        fix: 'Set readOnly: true for a dataset, or use ReadWriteMany for checkpoints.',
      })];
    }
    return [];
  });
};

/** Kubernetes' limit for a group id (`IsValidGroupID`). */
const MAX_GROUP_ID = 2147483647;

/**
 * fsGroup is a group id the API server checks, and turning fsGroup off while setting its
 * group or change policy would drop what was written.
 */
const fsGroup: JobRule = (ctx: JobFacts): Finding[] => {
  const storage = ctx.props.storage ?? {};
  if (storage.setFsGroup === false && (storage.fsGroup !== undefined || storage.fsGroupChangePolicy !== undefined)) {
    const given = storage.fsGroup !== undefined ? 'fsGroup' : 'fsGroupChangePolicy';
    return [error('storage/fs-group', {
      path: ctx.path,
      field: `storage.${given}`,
      value: `${show(storage.fsGroup ?? storage.fsGroupChangePolicy)} with setFsGroup: false`,
      why: 'setFsGroup: false leaves fsGroup off the pods, so the value would be ignored',
      fix: `Remove storage.${given}, or remove setFsGroup: false.`,
    })];
  }
  const gid = storage.fsGroup;
  if (gid === undefined || (Number.isInteger(gid) && gid >= 0 && gid <= MAX_GROUP_ID)) return [];
  return [error('storage/fs-group', {
    path: ctx.path,
    field: 'storage.fsGroup',
    value: show(gid),
    why: `the API server rejects a pod whose fsGroup is not a group id from 0 to ${MAX_GROUP_ID}`,
    fix: `Set it to a group id, or remove it to use the image user's gid (${ctx.image.user.gid}).`,
  })];
};

/** Rules for persistent volumes and the checkpoint directory. */
export const STORAGE_RULES: JobRule[] = [volumeNames, mountPaths, checkpointLocation, sharedAccess, fsGroup];
