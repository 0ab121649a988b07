import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { sizeToQuantity } from '../quantity';
import { TaintEffect, Toleration } from '../toleration';
import { JobRule } from './context';
import { JobFacts, podSpecPath, specOf } from './facts';
import { error, Finding, show } from './finding';
import { isDns1123Subdomain, isEnvVarName, isLabelValue, isQualifiedName } from './kubernetes-syntax';

/*
 * Checks of the props as the user wrote them, reported under the props' own paths
 * (`workers.gpusPerWorker`, `storage.volumes 'data' claimName`). The manifest-wide rules skip the
 * values these props render (see typed-features.ts), so each mistake is reported once.
 */

/** Extended resources whose count is GPUs of one node: no node offers more than this many. */
const WHOLE_GPU_RESOURCES = ['nvidia.com/gpu', 'amd.com/gpu'];
/** The most GPUs any node offers (NVIDIA HGX/DGX-2 class and a2-megagpu-16g have 16; most have 8). */
export const MAX_GPUS_PER_NODE = 16;

/** A count the user gave: a whole number of at least `min`, or the finding that says why it must be. */
function wholeCount(ctx: JobFacts, field: string, value: number | undefined, min: number, why: string, fix: string): Finding[] {
  if (value === undefined || (Number.isInteger(value) && value >= min)) return [];
  return [error('props/whole-numbers', { path: ctx.path, field, value: show(value), why, fix })];
}

const WHOLE_DEVICES = 'the Kubernetes API server accepts only whole numbers of an extended resource such as a GPU, 0 or more';

/** Counts of pods, GPUs, slots and retries are whole and not negative. */
const wholeNumbers: JobRule = (ctx: JobFacts): Finding[] => {
  const props = ctx.props;
  return [
    ...wholeCount(ctx, 'workers.replicas', props.workers.replicas, 0,
      `${ctx.operator.name} creates whole worker pods and requires a whole number of them (0 only with runLauncherAsWorker)`,
      'Set workers.replicas to a whole number of 1 or more.'),
    ...wholeCount(ctx, 'workers.gpusPerWorker', props.workers.gpusPerWorker, 0, WHOLE_DEVICES,
      'Set workers.gpusPerWorker to the whole number of GPUs each worker pod gets, or 0 for CPU workers.'),
    ...wholeCount(ctx, 'workers.slotsPerWorker', props.workers.slotsPerWorker, 0,
      `${ctx.operator.name} writes it into the hostfile as a whole number of ranks per pod and rejects other values`,
      'Set workers.slotsPerWorker to a whole number of 1 or more, or remove it to use the GPU count.'),
    ...wholeCount(ctx, 'launcher.gpus', props.launcher?.gpus, 0, WHOLE_DEVICES,
      'Set launcher.gpus to a whole number of GPUs, or remove it.'),
    ...wholeCount(ctx, 'backoffLimit', props.backoffLimit, 0,
      `${ctx.operator.name} copies it to the launcher Job, whose API server validation requires a whole number of retries, 0 or more`,
      'Set backoffLimit to a whole number of 0 or more, or remove it for the Kubernetes default of 6.'),
  ];
};

/** A prebuilt image's sshd port and user ids (an image recipe checks its own). */
const imageNumbers: JobRule = (ctx: JobFacts): Finding[] => {
  if (ctx.image.isRecipe) return [];
  const inRange = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max;
  const findings: Finding[] = [];
  if (!inRange(ctx.image.sshPort, 1, 65535)) {
    findings.push(error('props/whole-numbers', {
      path: ctx.path,
      field: 'image.sshPort',
      value: show(ctx.image.sshPort),
      why: 'it becomes the containerPort of every pod and the port mpirun\'s ssh dials, and the API server requires a port number from 1 to 65535',
      fix: 'Set image.sshPort to the port the image\'s sshd listens on (the MPI Operator base image uses 2222), or remove it for the default.',
    }));
  }
  for (const key of ['uid', 'gid'] as const) {
    const value = ctx.image.user[key];
    // The gid defaults to the uid: one message for one mistake.
    if (inRange(value, 0, 2147483647) || (key === 'gid' && Object.is(value, ctx.image.user.uid))) continue;
    findings.push(error('props/whole-numbers', {
      path: ctx.path,
      field: `image.user ${key}`,
      value: show(value),
      why: `it becomes the pods' ${key === 'uid' ? 'runAsUser' : 'runAsGroup'}, and the API server requires a whole number from 0 to 2147483647`,
      fix: `Set it to the ${key === 'uid' ? 'user' : 'group'} id of the image's user '${ctx.image.user.name}' (\`id ${ctx.image.user.name}\` in the image shows it), e.g. 1000.`,
    }));
  }
  return findings;
};

/** A GPU count no node can satisfy leaves the pods Pending forever. */
const gpusPerNode: JobRule = (ctx: JobFacts): Finding[] => {
  if (!WHOLE_GPU_RESOURCES.includes(ctx.launch.gpuResourceName)) return [];
  const counts: Array<[string, number | undefined]> = [
    ['workers.gpusPerWorker', ctx.props.workers.gpusPerWorker],
    ['launcher.gpus', ctx.props.launcher?.gpus],
  ];
  return counts.filter(([, count]) => count !== undefined && Number.isInteger(count) && count > MAX_GPUS_PER_NODE)
    .map(([field, count]) => error('props/gpus-per-node', {
      path: ctx.path,
      field,
      value: show(count),
      why: `a pod's GPUs come from one node and no node has more than ${MAX_GPUS_PER_NODE} ${ctx.launch.gpuResourceName} (most have 8), so the scheduler never places the pod and the job never starts`,
      fix: `Set ${field} to the GPUs of one node (e.g. 8) and add workers for more GPUs.`,
    }));
};

/** Durations the manifest holds in whole seconds: whole, and for the deadline at least 1. */
const durations: JobRule = (ctx: JobFacts): Finding[] => {
  const props = ctx.props;
  const given: Array<[string, Duration | undefined, number, string]> = [
    ['activeDeadline', props.activeDeadline, 1, `${ctx.operator.kind === 'MPIJob' ? 'the MPI Operator writes it as the launcher Job\'s activeDeadlineSeconds' : 'it becomes activeDeadlineSeconds'}, a whole number of seconds`],
    ['ttlAfterFinished', props.ttlAfterFinished, 0, 'it becomes ttlSecondsAfterFinished, a whole number of seconds'],
    ['scheduling.gangScheduling.scheduleTimeout', props.scheduling?.gangScheduling?.scheduleTimeout, 0, 'it becomes scheduleTimeoutSeconds, a whole number of seconds'],
    ...([['workers.tolerations', props.workers.tolerations ?? []], ['launcher.tolerations', props.launcher?.tolerations ?? []]] as Array<[string, Toleration[]]>)
      .flatMap(([prop, list]) => list.map((t, i): [string, Duration | undefined, number, string] =>
        [`${prop}[${i}] evictAfter`, t.evictAfter, 0, 'it becomes tolerationSeconds, a whole number of seconds'])),
  ];
  return given.flatMap(([field, duration, min, what]) => {
    if (duration === undefined) return [];
    const seconds = duration.toSeconds({ integral: false });
    if (Number.isInteger(seconds) && seconds >= min) return [];
    if (Number.isInteger(seconds) && field === 'activeDeadline') {
      return [error('props/durations', {
        path: ctx.path,
        field,
        value: `${seconds} s`,
        why: ctx.operator.kind === 'MPIJob'
          ? 'the MPI Operator copies it to the launcher Job, whose deadline of 0 seconds has passed the moment it starts, so Kubernetes fails the Job at once (DeadlineExceeded) before any rank runs'
          : `${ctx.operator.name} requires activeDeadlineSeconds of at least 1, and the API server rejects the ${ctx.operator.kind}`,
        fix: 'Set activeDeadline to the longest the training may run, e.g. Duration.hours(24), or remove it for no deadline.',
      })];
    }
    return [error('props/durations', {
      path: ctx.path,
      field,
      value: `${seconds} s`,
      why: `${what}, and the API server rejects ${seconds} (the schema's type is integer)`,
      fix: Number.isFinite(seconds) ? `Give ${field} in whole seconds, e.g. Duration.seconds(${Math.max(min, Math.ceil(seconds))}).` : `Give ${field} as a finite duration in whole seconds, e.g. Duration.hours(24), or remove it.`,
    })];
  });
};

/** Kibibytes of a Size, without rounding. */
export function sizeInKibibytes(size: Size): number {
  return size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
}

/** Sizes of volumes are above zero. */
const sizes: JobRule = (ctx: JobFacts): Finding[] => {
  const given: Array<[string, Size | undefined, string]> = [
    ['workers.sharedMemorySize', ctx.props.workers.sharedMemorySize, 'NCCL and the PyTorch data loader fail to allocate shared memory in an empty /dev/shm'],
    ...(ctx.props.storage?.volumes ?? []).map((storage): [string, Size | undefined, string] => [
      `storage.volumes '${storage.name}' size`, storage._claimSource.size,
      'the API server rejects a PersistentVolumeClaim whose storage request is not greater than zero'],
    ),
  ];
  const zeroSizes = given.filter(([, size]) => size !== undefined && !(sizeInKibibytes(size) > 0 && Number.isFinite(sizeInKibibytes(size))))
    .map(([field, size, why]) => {
      const finite = Number.isFinite(sizeInKibibytes(size!));
      return error('props/sizes', {
        path: ctx.path,
        field,
        value: show(sizeInKibibytes(size!) === 0 ? '0' : sizeToQuantity(size!)),
        why: finite ? why : 'it is no number of bytes, and the API server cannot parse it as a quantity',
        fix: finite ? `Set ${field} above zero, e.g. Size.gibibytes(16).` : `Set ${field} to a finite size, e.g. Size.gibibytes(16).`,
      });
    });
  // A memory limit of 0 (memoryLimit, or memory without one) is no limit at all to the kubelet.
  const zeroLimits = ([['workers', ctx.props.workers], ['launcher', ctx.props.launcher]] as Array<[string, { memory?: Size; memoryLimit?: Size } | undefined]>)
    .flatMap(([prop, given]) => {
      const key = given?.memoryLimit !== undefined ? 'memoryLimit' : 'memory';
      const limit = given?.[key];
      if (limit === undefined || sizeInKibibytes(limit) !== 0) return [];
      return [error('props/sizes', {
        path: ctx.path,
        field: `${prop}.${key}`,
        value: show('0'),
        why: 'the kubelet treats a memory limit of 0 as no limit, and the scheduler reserves no memory for a request of 0, so the pods run unbounded as if it were not set',
        fix: `Set ${prop}.${key} to the memory each pod may use, e.g. Size.gibibytes(64), or remove it.`,
      })];
    });
  return [...zeroSizes, ...zeroLimits];
};

/** Names that become Kubernetes object names or references, and keys and values that become labels. */
const names: JobRule = (ctx: JobFacts): Finding[] => {
  const findings: Finding[] = [];
  const subdomain = (field: string, value: string | undefined, what: string, fix: string) => {
    if (value === undefined || isDns1123Subdomain(value)) return;
    findings.push(error('props/names', {
      path: ctx.path,
      field,
      value: show(value),
      why: `${what} is a DNS subdomain name (at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit), so no such object can exist and the API server rejects the reference`,
      fix,
    }));
  };
  for (const storage of ctx.props.storage?.volumes ?? []) {
    const claim = storage._claimSource;
    subdomain(`storage.volumes '${storage.name}' claimName`, claim.existingName, 'a PersistentVolumeClaim name',
      'Use the name of the existing claim as kubectl get pvc shows it.');
    subdomain(`storage.volumes '${storage.name}' storageClassName`, claim.storageClassName, 'a StorageClass name',
      'Use a StorageClass of the cluster (kubectl get storageclass), or leave it out for the default class.');
  }
  ctx.image.forwardedImageEnv.forEach((name, index) => {
    if (isEnvVarName(name)) return;
    findings.push(error('props/names', {
      path: ctx.path,
      field: `image.forwardedImageEnv[${index}]`,
      value: show(name),
      why: `no environment variable of the image can have that name, so mpirun's ${ctx.launch.implementation === 'OpenMPI' ? '-x' : '-genvlist'} forwards nothing for it to the ranks`,
      fix: 'List the names of variables the image defines (ENV lines of its Dockerfile), e.g. \'LD_LIBRARY_PATH\'.',
    }));
  });
  const tolerations: Array<[string, Toleration[]]> = [
    ['workers.tolerations', ctx.props.workers.tolerations ?? []],
    ['launcher.tolerations', ctx.props.launcher?.tolerations ?? []],
  ];
  for (const [prop, list] of tolerations) {
    list.forEach((t, index) => {
      const field = `${prop}[${index}]`;
      if (t.evictAfter !== undefined && t.effect !== TaintEffect.NO_EXECUTE) {
        findings.push(error('props/names', {
          path: ctx.path,
          field: `${field} evictAfter`,
          value: `${t.evictAfter.toSeconds({ integral: false })} s with effect ${show(t.effect ?? 'every effect')}`,
          why: 'tolerationSeconds only limits how long a pod stays on a node after a NoExecute taint appears, and the API server rejects it with any other effect ("effect must be \'NoExecute\' when `tolerationSeconds` is set")',
          fix: 'Set effect: TaintEffect.NO_EXECUTE, or remove evictAfter.',
        }));
      } else if (t.value !== undefined && (t.key === undefined || t.key === '')) {
        findings.push(error('props/names', {
          path: ctx.path,
          field: `${field} key`,
          value: show(t.key ?? ''),
          why: `an Equal toleration matches a taint by key and value, and the API server rejects one without a key ("operator must be Exists when \`key\` is empty")`,
          fix: 'Give the taint key, e.g. Toleration.equal(\'dedicated\', \'ml\'), or use Toleration.all() to tolerate every taint.',
        }));
      } else if (t.key !== undefined && t.key !== '' && !isQualifiedName(t.key)) {
        findings.push(error('props/names', {
          path: ctx.path,
          field: `${field} key`,
          value: show(t.key),
          why: 'a taint key is a qualified name (an optional DNS subdomain prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit), and the API server rejects the pod',
          fix: 'Use the taint key as kubectl describe node shows it, e.g. \'nvidia.com/gpu\'.',
        }));
      } else if (typeof t.value === 'string' && !isLabelValue(t.value)) {
        findings.push(error('props/names', {
          path: ctx.path,
          field: `${field} value`,
          value: show(t.value),
          why: 'a taint value is at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit, and the API server rejects the pod',
          fix: 'Use the taint value as kubectl describe node shows it, e.g. \'present\'.',
        }));
      }
    });
  }
  return findings;
};

/** Node labels the pods select on: the props that write nodeSelector entries, in the words the user wrote. */
export function nodeSelectorProps(ctx: JobFacts): Array<[string, { [key: string]: string }]> {
  const scheduling = ctx.props.scheduling;
  const gpuProduct: { [key: string]: string } = scheduling?.gpuProduct !== undefined
    ? { [scheduling.gpuProductLabel ?? 'nvidia.com/gpu.product']: scheduling.gpuProduct } : {};
  return [
    ['workers.nodeSelector', ctx.props.workers.nodeSelector ?? {}],
    ['launcher.nodeSelector', ctx.props.launcher?.nodeSelector ?? {}],
    [scheduling?.gpuProductLabel !== undefined ? 'scheduling.gpuProductLabel' : 'scheduling.gpuProduct', gpuProduct],
  ];
}

/** nodeSelector keys and values are label keys and values; a node can never carry others. */
const nodeSelectors: JobRule = (ctx: JobFacts): Finding[] => [...gpuProductLabelAlone(ctx), ...nodeSelectorProps(ctx).flatMap(([prop, map]) =>
  Object.entries(map).flatMap(([key, value]) => {
    if (!isQualifiedName(key)) {
      return [error('props/names', {
        path: ctx.path,
        field: prop === 'scheduling.gpuProduct' ? 'scheduling.gpuProductLabel' : `${prop} key`,
        value: show(key),
        why: 'a node label key is a qualified name (an optional DNS subdomain prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit), and the API server rejects the pod',
        fix: 'Use the label key as kubectl get nodes --show-labels shows it, e.g. \'nvidia.com/gpu.product\'.',
      })];
    }
    if (typeof value !== 'string' || !isLabelValue(value)) {
      return [error('props/names', {
        path: ctx.path,
        field: prop === 'scheduling.gpuProduct' ? prop : `${prop}['${key}']`,
        value: show(value),
        why: 'a node label value is at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit, and the API server rejects the pod',
        fix: 'Use the label value as kubectl get nodes --show-labels shows it, e.g. \'NVIDIA-A100-SXM4-80GB\'.',
      })];
    }
    return [];
  }))];

/** gpuProductLabel names the label gpuProduct is matched against; alone it selects nothing. */
function gpuProductLabelAlone(ctx: JobFacts): Finding[] {
  const scheduling = ctx.props.scheduling;
  if (scheduling?.gpuProductLabel === undefined || scheduling.gpuProduct !== undefined) return [];
  return [error('props/names', {
    path: ctx.path,
    field: 'scheduling.gpuProductLabel',
    value: show(scheduling.gpuProductLabel),
    why: 'it is the node label scheduling.gpuProduct is matched against, and gpuProduct is not set, so no nodeSelector is written and the setting would be silently ignored',
    fix: 'Set scheduling.gpuProduct to the GPU model (e.g. \'NVIDIA-A100-SXM4-80GB\'), or remove gpuProductLabel.',
  })];
}

// The reference grammar of the container runtimes (distribution/reference): [host[:port]/]path[:tag][@digest].
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const HOST = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const IMAGE_REFERENCE = new RegExp(`^(?:${HOST}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`);

/** Whether a reference parses the way the kubelet's container runtime parses it. */
export function isImageReference(reference: string): boolean {
  if (reference.length > 255 + 128 + 80) return false;
  const slash = reference.indexOf('/');
  // A first component with '.', ':' or 'localhost' is a registry host, which may hold uppercase letters.
  if (slash > 0) {
    const first = reference.slice(0, slash);
    if (!(first.includes('.') || first.includes(':') || first === 'localhost') && first !== first.toLowerCase()) return false;
  }
  return IMAGE_REFERENCE.test(reference);
}

/** The tag of an image reference, `latest` when it has none, undefined when pinned by digest. */
function imageTag(reference: string): string | undefined {
  if (reference.includes('@')) return undefined;
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon < 0 ? 'latest' : lastSegment.slice(colon + 1);
}

/** The job's image must parse, and must not float (an image recipe checks its own reference). */
const jobImage: JobRule = (ctx: JobFacts): Finding[] => [
  ...imageFindings(ctx, 'image.imageRef', ctx.image.imageRef, ctx.image.isRecipe),
  // An image an escape hatch wrote into a pod, under its manifest path.
  ...ctx.pods.flatMap(pod => ['initContainers', 'containers'].flatMap(list =>
    ((specOf(pod)[list] ?? []) as any[]).flatMap((container, index) => typeof container?.image !== 'string' || container.image === ctx.image.imageRef ? []
      : imageFindings(ctx, `${podSpecPath(pod)}.${list}[${index}].image`, container.image, false)))),
];

function imageFindings(ctx: JobFacts, field: string, reference: string, isRecipe: boolean): Finding[] {
  // An image recipe checks its own reference (image/ref-pinned): one message, at the recipe.
  if (isRecipe) return [];
  if (!isImageReference(reference)) {
    return [error('job-image/reference', {
      path: ctx.path,
      field,
      value: show(reference),
      why: 'the container runtime parses it as [registry/]repository[:tag][@digest] with a lowercase repository and no spaces, and the kubelet fails every pod with InvalidImageName',
      fix: 'Write the reference as the registry shows it, e.g. \'registry.example.com/team/train:v1\'.',
    })];
  }
  if (isRecipe || imageTag(reference) !== 'latest') return [];
  return [error('job-image/pinned', {
    path: ctx.path,
    field,
    value: show(reference),
    why: `${/:latest$/.test(reference) ? 'the \'latest\' tag moves' : 'without a tag the runtime pulls \'latest\', which moves'}: the kubelet pulls it again for every pod it starts (imagePullPolicy defaults to Always for it), so the launcher and the workers of one job can run different builds of MPI, torch and DeepSpeed`,
    fix: 'Pin a tag of the build, e.g. \'registry.example.com/train:v1\', or a digest (@sha256:...).',
  })];
}

/** Paths the containers, sshd and the operator need to be absolute. */
const absolutePaths: JobRule = (ctx: JobFacts): Finding[] => {
  const paths: Array<[string, string | undefined, string]> = [
    ['image.user home', ctx.image.user.home,
      `${ctx.operator.name} mounts the SSH keys at the home's .ssh ('${ctx.image.user.sshDirectory}'), and the API server rejects relative mount paths, so no pod is ever created`],
    ['image.workingDirectory', ctx.image.workingDirectory,
      'the container runtime refuses to start a container whose working directory is relative, and mpirun\'s --wdir would resolve it differently on each pod'],
  ];
  return paths.filter(([, value]) => value !== undefined && !value.startsWith('/')).map(([field, value, why]) => error('props/absolute-paths', {
    path: ctx.path,
    field,
    value: show(value),
    why,
    fix: `Give ${field} as an absolute path, e.g. ${field === 'image.workingDirectory' ? '\'/workspace\'' : `'/home/${ctx.image.user.name}'`}.`,
  }));
};

/** The interpreter is one argv word: flags written into it make a file name no image has. */
const pythonPath: JobRule = (ctx: JobFacts): Finding[] => {
  const value = ctx.image.pythonPath;
  if (ctx.image.isRecipe || !/\s/.test(value.trim())) return [];
  const words = value.trim().split(/\s+/);
  return [error('props/absolute-paths', {
    path: ctx.path,
    field: 'image.pythonPath',
    value: show(value),
    why: 'no shell splits the launcher\'s command, so mpirun looks for an executable of that whole name on every rank\'s pod, finds none and starts no rank',
    fix: `Set image.pythonPath to the interpreter alone ('${words[0]}')${words.includes('-u') ? ', and set PYTHONUNBUFFERED=1 in env instead of -u' : ', and pass interpreter options through env (PYTHONUNBUFFERED, PYTHONOPTIMIZE, ...)'}.`,
  })];
};

/** The script must name something to run. */
const script: JobRule = (ctx: JobFacts): Finding[] => {
  const value = ctx.props.script;
  if (typeof value === 'string' && value.trim() !== '') {
    // The script is one argv word: no shell splits it.
    const words = value.trim().split(/\s+/);
    const commandLine = words.length > 1 && (/\.py$/.test(words[0]) || /^(python[0-9.]*|deepspeed|torchrun)$/.test(words[0].slice(words[0].lastIndexOf('/') + 1)));
    if (/\.(sh|bash)$/.test(value.trim()) && !commandLine) {
      return [error('props/script', {
        path: ctx.path,
        field: 'script',
        value: show(value),
        why: `every rank runs it with the Python interpreter (${ctx.image.pythonPath} ${value.trim()}), which stops at the first shell line with a SyntaxError or NameError`,
        fix: 'Set script to the Python training script, and put setup the shell script did in the image or in env.',
      })];
    }
    if (!commandLine && value === value.trim()) return [];
    return [error('props/script', {
      path: ctx.path,
      field: 'script',
      value: /[\n\r\t]/.test(value) ? JSON.stringify(value) : show(value),
      why: commandLine
        ? `no shell splits the launcher's command, so every rank's interpreter gets it as one file name, finds no file of that name and exits ("can't open file")`
        : 'every rank\'s interpreter gets it as one file name, blanks included, finds no file of that name and exits ("can\'t open file")',
      fix: commandLine
        ? `Set script to the file alone and pass the rest in args${/\.py$/.test(words[0]) ? `: script '${words[0]}', args [${words.slice(1).map(w => `'${w}'`).join(', ')}]` : ` (the job runs image.pythonPath on the script itself): script '${words[1]}'`}.`
        : `Remove the blanks: '${value.trim()}'.`,
    })];
  }
  return [error('props/script', {
    path: ctx.path,
    field: 'script',
    value: show(value),
    why: 'every rank runs the Python interpreter without a script file, and Python exits at once (an empty name is the working directory: "can\'t find \'__main__\' module"; blanks: "can\'t open file")',
    fix: 'Set script to the training script, absolute or relative to the image\'s working directory, e.g. \'/workspace/train.py\'.',
  })];
};

/** Rules over the props as written: whole numbers, sizes, names, image references and paths. */
export const PROP_RULES: JobRule[] = [wholeNumbers, imageNumbers, gpusPerNode, durations, sizes, names, nodeSelectors, jobImage, absolutePaths, pythonPath, script];
