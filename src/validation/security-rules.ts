import { JobRule } from './context';
import { JobFacts, podSpecPath, specOf } from './facts';
import { error, Finding, show, warning } from './finding';
import { isDns1123Label, isDns1123Subdomain } from './kubernetes-syntax';

/** Capabilities the `baseline` Pod Security Standard lets a container add. */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
/** Volume types the `restricted` Pod Security Standard allows. */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);
/** Variable names that usually hold credentials. */
const CREDENTIAL_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)/i;

/** The rendered pod templates by role, Worker only when present. */
function replicas(ctx: JobFacts): Array<[string, any]> {
  return ctx.pods.map(pod => [pod.role, { template: pod.template }]);
}

/** Root pods cannot meet `restricted`; the image user makes root an explicit choice, reported here. */
const rootUser: JobRule = (ctx: JobFacts): Finding[] => {
  const user = ctx.image.user;
  if (!user.isRoot) return [];
  return [warning('security/root-user', {
    path: ctx.path,
    field: 'image.user',
    value: 'ImageUser.root()',
    why: 'sshd and every rank run as uid 0 with the container\'s default capabilities, which PodSecurity admission rejects in namespaces that enforce the restricted Pod Security Standard',
    fix: 'Build the image with a non-root user (the MPI Operator base image has mpiuser, uid 1000) and declare it with ImageUser.nonRoot().',
  })];
};

/** Added capabilities beyond NET_BIND_SERVICE leave `restricted`; beyond the baseline list they leave `baseline` too. */
const addedCapabilities: JobRule = (ctx: JobFacts): Finding[] => replicas(ctx).flatMap(([role, replica]) => {
  const added: string[] = replica.template?.spec?.containers?.[0]?.securityContext?.capabilities?.add ?? [];
  const beyondRestricted = added.filter(c => c !== 'NET_BIND_SERVICE');
  if (beyondRestricted.length === 0) return [];
  const beyondBaseline = beyondRestricted.filter(c => !BASELINE_CAPABILITIES.has(c));
  const levels = beyondBaseline.length > 0 ? 'the baseline and restricted Pod Security Standards' : 'the restricted Pod Security Standard';
  return [warning('security/added-capabilities', {
    path: ctx.path,
    field: `${role} container capabilities.add`,
    value: show(added),
    why: `${beyondRestricted.join(', ')} ${beyondRestricted.length === 1 ? 'is' : 'are'} outside ${levels}, so PodSecurity admission rejects the pods in namespaces that enforce ${beyondBaseline.length > 0 ? 'either level' : 'it'}`,
    fix: 'Run the job in a namespace whose pod-security.kubernetes.io/enforce level allows it, or drop the capability (Interconnect.infiniband({ ipcLock: false }) when the node\'s memlock limit, RLIMIT_MEMLOCK, is unlimited).',
  })];
});

/** Host namespaces leave `baseline`, and NetworkPolicies stop applying. */
const hostNetwork: JobRule = (ctx: JobFacts): Finding[] => replicas(ctx)
  .filter(([, replica]) => replica.template?.spec?.hostNetwork === true)
  .map(([role]) => warning('security/host-network', {
    path: ctx.path,
    field: `${role} hostNetwork`,
    value: 'true',
    why: 'host namespaces are outside the baseline and restricted Pod Security Standards, so PodSecurity admission rejects the pods in namespaces that enforce either, and NetworkPolicies do not apply to pods on the node\'s network',
    fix: 'Run the job in a namespace labelled pod-security.kubernetes.io/enforce: privileged, or reach the fabric through a secondary network (Multus, SR-IOV) and drop hostNetwork.',
  }));

/** A privileged container leaves `baseline` (only an escape hatch can set it). */
const privilegedContainers: JobRule = (ctx: JobFacts): Finding[] => ctx.pods.flatMap(pod =>
  (['initContainers', 'containers'] as const).flatMap(list => ((specOf(pod)[list] ?? []) as any[]).flatMap((container, index) =>
    container?.securityContext?.privileged !== true ? [] : [warning('security/privileged', {
      path: ctx.path,
      field: `${podSpecPath(pod)}.${list}[${index}].securityContext.privileged`,
      value: 'true',
      why: 'a privileged container has every capability and the node\'s devices, which is outside the baseline and restricted Pod Security Standards, so PodSecurity admission rejects the pods in namespaces that enforce either',
      fix: 'Remove the JSON patch: the interconnect presets add the devices (device plugin resources) and the one capability (IPC_LOCK) the fabrics need.',
    })])));

/** Sharing the node's IPC or PID namespace leaves `baseline` (escape hatches can set them). */
const hostNamespaces: JobRule = (ctx: JobFacts): Finding[] => ctx.pods.flatMap(pod =>
  (['hostIPC', 'hostPID'] as const).filter(key => specOf(pod)[key] === true).map(key => warning('security/host-namespaces', {
    path: ctx.path,
    field: `${podSpecPath(pod)}.${key}`,
    value: 'true',
    why: `the pods share the node's ${key === 'hostIPC' ? 'IPC' : 'process'} namespace${key === 'hostIPC' ? ' (and its /dev/shm with every other pod on the node)' : ''}, which is outside the baseline and restricted Pod Security Standards, so PodSecurity admission rejects the pods in namespaces that enforce either`,
    fix: key === 'hostIPC'
      ? 'Remove the JSON patch: the job mounts a memory-backed /dev/shm sized by workers.sharedMemorySize, which is what NCCL needs.'
      : 'Remove the JSON patch, or run the job in a namespace labelled pod-security.kubernetes.io/enforce: privileged.',
  })));

/** hostPath and other volume types outside the `restricted` list. */
const volumeTypes: JobRule = (ctx: JobFacts): Finding[] => replicas(ctx).flatMap(([role, replica]) =>
  (replica.template?.spec?.volumes ?? []).flatMap((volume: any) => {
    const types = Object.keys(volume).filter(k => k !== 'name' && !RESTRICTED_VOLUME_TYPES.has(k));
    return types.map(type => warning('security/volume-types', {
      path: ctx.path,
      field: `${role} volume '${volume.name}'`,
      value: `a ${type} volume`,
      why: `the restricted Pod Security Standard allows only ${[...RESTRICTED_VOLUME_TYPES].join(', ')} volumes${type === 'hostPath' ? ' (hostPath is outside baseline too)' : ''}, so PodSecurity admission rejects the pods where it is enforced`,
      fix: 'Use a PersistentVolumeClaim (TrainingStorage) or a CSI volume instead, or run the job in a namespace whose enforced level allows it.',
    }));
  }));

/** Two ways of naming the ServiceAccount, and a name no ServiceAccount can have. */
const serviceAccountChoice: JobRule = (ctx: JobFacts): Finding[] => {
  const security = (ctx.props.security ?? {});
  const name = security.serviceAccountName;
  if (name !== undefined && !isDns1123Subdomain(name)) {
    return [error('security/service-account', {
      path: ctx.path,
      field: 'security.serviceAccountName',
      value: show(name),
      why: 'it becomes the pods\' serviceAccountName, and the API server rejects pods whose serviceAccountName is not a DNS subdomain name (lowercase letters, digits, \'-\' and \'.\'), the form ServiceAccount names take',
      fix: 'Use the name of a ServiceAccount in the job\'s namespace (kubectl get serviceaccounts), or set createServiceAccount: true for one of the job\'s own.',
    })];
  }
  if (!(security.createServiceAccount && security.serviceAccountName)) return [];
  return [error('security/service-account', {
    path: ctx.path,
    field: 'security.serviceAccountName',
    value: show(security.serviceAccountName),
    why: 'createServiceAccount is also set, and the pods can run as only one ServiceAccount',
    fix: 'Remove createServiceAccount to use the existing ServiceAccount, or remove serviceAccountName to use the job\'s own.',
  })];
};

/** Credentials in plain env values end up in the manifest, and in git. */
const literalCredentials: JobRule = (ctx: JobFacts): Finding[] => replicas(ctx).flatMap(([role, replica]) =>
  (replica.template?.spec?.containers?.[0]?.env ?? [])
    .filter((e: any) => CREDENTIAL_NAME.test(e.name) && typeof e.value === 'string' && e.value !== '')
    .map((e: any) => warning('security/literal-credential', {
      path: ctx.path,
      field: `${role} env ${e.name}`,
      value: 'a literal value',
      why: `the value is written in plain text into the synthesized ${ctx.operator.kind} manifest, where anyone who can read the manifest or the ${ctx.operator.kind} can read it`,
      fix: `Keep it in a Secret and pass EnvValue.fromSecretKey(secretName, key) for ${e.name}.`,
    })));

/** Pod security, identity and credential hygiene. */
/** An IPv4 or IPv6 CIDR as the API server accepts it in an ipBlock. */
function isCidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split('/');
  if (rest.length > 0 || prefix === undefined || !/^[0-9]{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (/^[0-9.]+$/.test(address)) {
    const octets = address.split('.');
    return octets.length === 4 && octets.every(o => /^[0-9]{1,3}$/.test(o) && Number(o) <= 255) && bits <= 32;
  }
  return /^[0-9a-fA-F:]+$/.test(address) && address.includes(':') && (address.match(/::/g) ?? []).length <= 1 && bits <= 128;
}

/** An IPv4 CIDR as its first address and prefix length, or undefined for IPv6. */
function ipv4Block(cidr: string): { start: number; bits: number } | undefined {
  const [address, prefix] = cidr.split('/');
  if (!/^[0-9.]+$/.test(address)) return undefined;
  const value = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const bits = Number(prefix);
  const size = 2 ** (32 - bits);
  return { start: value - (value % size), bits };
}

/** Whether IPv4 block `inner` lies strictly inside `outer` (the API server's rule for `except`). */
function strictlyInside(inner: string, outer: string): boolean | undefined {
  const a = ipv4Block(inner);
  const b = ipv4Block(outer);
  if (!a || !b) return undefined;
  return a.bits > b.bits && a.start - (a.start % 2 ** (32 - b.bits)) === b.start;
}

/**
 * Egress rules live on the job's NetworkPolicy, so they need it; their CIDRs and ports must be
 * what the API server accepts.
 */
const egressRules: JobRule = (ctx: JobFacts): Finding[] => {
  const security = ctx.props.security ?? {};
  const egress = security.egress;
  if (!egress) return [];
  if (security.networkPolicy === false) {
    return [error('security/egress', {
      path: ctx.path,
      field: 'security.egress',
      value: 'set with networkPolicy: false',
      why: 'the egress rules are part of the job\'s NetworkPolicy, which networkPolicy: false leaves out, so they would be ignored',
      fix: 'Remove networkPolicy: false, or remove security.egress.',
    })];
  }
  const namespaceWhy = 'a namespace name is a DNS label (at most 63 lowercase letters, digits and \'-\', starting and ending with a letter or digit), so the rule\'s kubernetes.io/metadata.name selector matches no namespace';
  if (egress.dnsNamespace !== undefined && !isDns1123Label(egress.dnsNamespace)) {
    return [error('security/egress', {
      path: ctx.path,
      field: 'security.egress.dnsNamespace',
      value: show(egress.dnsNamespace),
      why: `${namespaceWhy}, the NetworkPolicy lets the pods reach no DNS server, and every name lookup fails, the workers' hostnames that mpirun dials included`,
      fix: 'Use the namespace of the cluster DNS pods (kubectl get pods -A -l k8s-app=kube-dns), or remove it for \'kube-system\'.',
    })];
  }
  return (egress.destinations ?? []).flatMap((destination, index) => {
    const field = `security.egress.destinations[${index}]`;
    const namespaceName = destination._toRule().to?.[0]?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
    if (typeof namespaceName === 'string' && !isDns1123Label(namespaceName)) {
      return [error('security/egress', {
        path: ctx.path,
        field: `${field} namespaceName`,
        value: show(namespaceName),
        why: `${namespaceWhy}, and the NetworkPolicy lets the pods reach none of the destination's pods`,
        fix: 'Use the namespace\'s name as kubectl get namespaces shows it.',
      })];
    }
    const badCidr = destination.cidrs.find(cidr => !isCidr(cidr));
    if (badCidr !== undefined) {
      return [error('security/egress', {
        path: ctx.path,
        field,
        value: show(badCidr),
        why: 'the API server rejects an ipBlock whose cidr or except entry is not an IPv4 or IPv6 CIDR (address/prefix)',
        fix: 'Write the block as address/prefix, e.g. \'10.20.0.0/16\' or \'0.0.0.0/0\'.',
      })];
    }
    const [block, ...except] = destination.cidrs;
    const outside = except.find(e => strictlyInside(e, block) === false);
    if (outside !== undefined) {
      return [error('security/egress', {
        path: ctx.path,
        field: `${field} exceptCidrs`,
        value: show(outside),
        why: `the API server rejects an ipBlock whose except entry is not a strict subset of its cidr ${show(block)}`,
        fix: `List in exceptCidrs only blocks inside ${block}, or widen the destination's CIDR.`,
      })];
    }
    const badPort = (destination.ports ?? []).find(p => !Number.isInteger(p.port) || p.port < 1 || p.port > 65535);
    if (badPort === undefined) return [];
    return [error('security/egress', {
      path: ctx.path,
      field: `${field} ports`,
      value: show(badPort.port),
      why: 'the API server rejects a NetworkPolicy port outside 1-65535',
      fix: 'Use a port from 1 to 65535, or leave ports out to allow every port.',
    })];
  });
};

export const SECURITY_RULES: JobRule[] = [rootUser, addedCapabilities, hostNetwork, hostNamespaces, privilegedContainers, volumeTypes, serviceAccountChoice, literalCredentials, egressRules];
