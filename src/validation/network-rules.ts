import { networkEnv } from '../network';
import { JobRule } from './context';
import { JobFacts } from './facts';
import { mainContainerOf, podOf } from './facts';
import { error, Finding, show, warning } from './finding';

/** The node's own sshd holds port 22 on the host network. */
const hostNetworkSshPort: JobRule = (ctx: JobFacts): Finding[] => {
  const interconnect = ctx.props.network?.interconnect;
  const port = ctx.image.sshPort;
  if (!interconnect?.hostNetwork || port !== 22) return [];
  return [error('network/host-network-ssh-port', {
    path: ctx.path,
    field: 'image.sshPort',
    value: show(port),
    why: 'with hostNetwork the worker\'s sshd shares the node\'s ports and the node\'s own sshd already listens on 22, so the worker\'s sshd cannot bind and never becomes ready',
    fix: 'Build the image with sshd on another port (the MPI Operator base image uses 2222) and declare it with sshPort.',
  })];
};

/** A job env variable silently replaces a value the network options chose. */
const envOverridesNetwork: JobRule = (ctx: JobFacts): Finding[] => {
  const rendered: any[] = mainContainerOf(podOf(ctx, 'Launcher'))?.env ?? [];
  return Object.entries(networkEnv((ctx.props.network ?? {}))).flatMap(([name, wanted]) => {
    const actual = rendered.find(e => e.name === name);
    if (!actual || actual.value === wanted) return [];
    return [warning('network/env-overrides-network', {
      path: ctx.path,
      field: `env.${name}`,
      value: actual.value === undefined ? 'taken from a reference' : show(actual.value),
      why: `it replaces the value ${show(wanted)} that the network options set for every rank`,
      fix: `Remove ${name} from env to keep the network setting, or change the network option instead.`,
    })];
  });
};

/** Device plugin resources are whole devices. */
const deviceCounts: JobRule = (ctx: JobFacts): Finding[] => {
  const interconnect = ctx.props.network?.interconnect;
  if (!interconnect) return [];
  return Object.entries(interconnect.devices)
    .filter(([, count]) => !Number.isInteger(count) || count < 1)
    .map(([resource, count]) => error('network/device-count', {
      path: ctx.path,
      field: `network.interconnect devices '${resource}'`,
      value: show(count),
      why: 'a device plugin resource is counted in whole devices and the interconnect needs at least one per pod that hosts ranks; the API server rejects other quantities or the fabric goes unused',
      fix: interconnect.kind === 'efa'
        ? 'Request a whole number of devices, at least 1 (the number of EFA interfaces of the instance type).'
        : interconnect.kind === 'infiniband'
          ? 'Request a whole number of devices, at least 1 (the RDMA devices the device plugin offers per node, often 1 for a shared HCA).'
          : 'Request a whole number of devices, at least 1.',
    }));
};

/**
 * NCCL matches interfaces and HCAs by name (a comma list, optionally after '^' or '='); a name with
 * blanks or '/' matches none, and NCCL reads NCCL_IB_GID_INDEX as an integer or falls back to its default.
 */
const ncclSelections: JobRule = (ctx: JobFacts): Finding[] => {
  const interconnect = ctx.props.network?.interconnect;
  if (!interconnect) return [];
  const env = interconnect.env;
  const findings: Finding[] = [];
  const lists: Array<[string, string, string, string]> = [
    ['NCCL_SOCKET_IFNAME', 'socketInterface', 'network interface', 'NCCL finds no interface to bootstrap on and every rank fails at init with "no socket interface found"'],
    ['NCCL_IB_HCA', 'hcas', 'HCA', 'NCCL matches no InfiniBand device and silently falls back to sockets (NET/Socket), off the fabric'],
  ];
  for (const [variable, option, what, effect] of lists) {
    const value = env[variable];
    if (value === undefined) continue;
    const names = value.replace(/^[\^=]+/, '').split(',');
    const bad = names.find(name => name.trim() === '' || /[\s/]/.test(name));
    if (bad === undefined) continue;
    findings.push(error('network/nccl-names', {
      path: ctx.path,
      field: `network.interconnect ${option}`,
      value: show(option === 'hcas' ? value.split(',') : value),
      why: `NCCL reads it as ${variable}, a comma-separated list of ${what} names, and ${show(bad)} can be no ${what}'s name (names have no blanks or '/'), so ${effect}`,
      fix: option === 'hcas' ? 'List the HCAs as ibv_devices shows them, e.g. [\'mlx5_0\', \'mlx5_1\'] (a port as \'mlx5_0:1\').' : 'Give the interface as ip link shows it on the pods, e.g. \'eth0\' (or a prefix such as \'ib\').',
    }));
  }
  const gid = env.NCCL_IB_GID_INDEX;
  if (gid !== undefined && !/^-?[0-9]+$/.test(gid)) {
    findings.push(error('network/nccl-names', {
      path: ctx.path,
      field: 'network.interconnect gidIndex',
      value: gid,
      why: 'NCCL reads NCCL_IB_GID_INDEX as an integer and ignores any other value for its default, so the setting would be silently lost',
      fix: 'Set gidIndex to the whole GID index of the RoCE v2 address (show_gids lists them), e.g. 3.',
    }));
  }
  return findings;
};

/** NCCL_DEBUG_SUBSYS only filters the output NCCL_DEBUG turns on; without it NCCL logs nothing. */
const ncclDebugSubsystems: JobRule = (ctx: JobFacts): Finding[] => {
  const network = ctx.props.network;
  const subsystems = network?.ncclDebugSubsystems ?? [];
  if (subsystems.length === 0 || network?.ncclDebug !== undefined || ctx.props.env?.NCCL_DEBUG !== undefined
    || ctx.image.forwardedImageEnv.includes('NCCL_DEBUG')) return [];
  return [error('network/nccl-debug', {
    path: ctx.path,
    field: 'network.ncclDebugSubsystems',
    value: show(subsystems),
    why: 'NCCL_DEBUG_SUBSYS only selects which subsystems NCCL_DEBUG logs, and no rank gets NCCL_DEBUG (network.ncclDebug is not set), so NCCL logs nothing and the setting has no effect',
    fix: 'Set network.ncclDebug too (e.g. NcclDebugLevel.INFO), or remove ncclDebugSubsystems.',
  })];
};

/** Kubernetes rejects pods with huge pages but no CPU or memory. */
const hugePagesNeedCpuOrMemory: JobRule = (ctx: JobFacts): Finding[] =>
  ctx.pods.flatMap(pod => {
    const resources = mainContainerOf(pod)?.resources ?? {};
    const names = new Set([...Object.keys(resources.requests ?? {}), ...Object.keys(resources.limits ?? {})]);
    const hugePages = [...names].filter(n => n.startsWith('hugepages-'));
    if (hugePages.length === 0 || names.has('cpu') || names.has('memory')) return [];
    return [error('network/huge-pages-need-cpu-or-memory', {
      path: ctx.path,
      field: `${pod.prop}.memory`,
      value: 'not set',
      why: `the pods request ${hugePages.join(', ')} and the API server rejects pods with huge pages but no CPU or memory request ("HugePages require cpu or memory")`,
      fix: `Set ${pod.prop}.memory (and cpu) for the pods that host ranks.`,
    })];
  });

/**
 * IPC_LOCK never reaches a non-root process: Kubernetes sets no ambient capabilities, so it is
 * dropped at exec (kubernetes/kubernetes#56374), and ranks started by sshd have none either.
 */
const ipcLockNonRoot: JobRule = (ctx: JobFacts): Finding[] => {
  const interconnect = ctx.props.network?.interconnect;
  const user = ctx.image.user;
  if (interconnect?.ipcLock !== true || user.isRoot || !interconnect.capabilitiesFor(false).includes('IPC_LOCK')) return [];
  return [warning('network/ipc-lock', {
    path: ctx.path,
    field: 'network.interconnect ipcLock',
    value: 'true',
    why: `the image runs as ${user.name} (uid ${user.uid}), and a non-root process never holds an added capability: Kubernetes sets no ambient capabilities, so IPC_LOCK is dropped at exec (kubernetes/kubernetes#56374), and the ranks sshd starts have none either. It only takes the pods out of the baseline and restricted Pod Security Standards; pinned memory is governed by the node's locked-memory limit (RLIMIT_MEMLOCK)`,
    fix: 'Remove ipcLock, and make sure the nodes\' container runtime sets an unlimited memlock limit (containerd: LimitMEMLOCK=infinity).',
  })];
};

/** Rules for the interconnect and NCCL settings. */
export const NETWORK_RULES: JobRule[] = [hostNetworkSshPort, envOverridesNetwork, deviceCounts, ncclSelections, ncclDebugSubsystems, hugePagesNeedCpuOrMemory, ipcLockNonRoot];
