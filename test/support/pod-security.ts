/**
 * The Kubernetes Pod Security Standards, `baseline` and `restricted` levels, as a checker over a
 * pod template (written from the policy definitions at kubernetes.io/docs/concepts/security/pod-security-standards).
 * It is the test oracle for the job's pod templates, independent of the library's own rules.
 */

/** Capabilities baseline allows a container to add. */
const BASELINE_ADDABLE = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
/** Sysctls baseline allows. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SECCOMP_ALLOWED = new Set(['RuntimeDefault', 'Localhost']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

/** A broken control: its name in the standard and where. */
export interface Violation {
  readonly control: string;
  readonly where: string;
}

function allContainers(spec: any): Array<[string, any]> {
  return ['containers', 'initContainers', 'ephemeralContainers']
    .flatMap(kind => (spec[kind] ?? []).map((c: any) => [`${kind}[${c.name}]`, c] as [string, any]));
}

/** Every `baseline` control the template breaks. */
export function baselineViolations(template: any): Violation[] {
  const spec = template.spec ?? {};
  const podContext = spec.securityContext ?? {};
  const containers = allContainers(spec);
  const found: Violation[] = [];
  const flag = (control: string, where: string) => found.push({ control, where });

  // HostProcess
  if (podContext.windowsOptions?.hostProcess) flag('HostProcess', 'spec.securityContext');
  for (const [where, c] of containers) if (c.securityContext?.windowsOptions?.hostProcess) flag('HostProcess', where);
  // Host Namespaces
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[field]) flag('Host Namespaces', `spec.${field}`);
  // Privileged Containers
  for (const [where, c] of containers) if (c.securityContext?.privileged) flag('Privileged Containers', where);
  // Capabilities (baseline)
  for (const [where, c] of containers) {
    for (const cap of c.securityContext?.capabilities?.add ?? []) if (!BASELINE_ADDABLE.has(cap)) flag('Capabilities', `${where} adds ${cap}`);
  }
  // HostPath Volumes
  for (const v of spec.volumes ?? []) if (v.hostPath) flag('HostPath Volumes', `volume ${v.name}`);
  // Host Ports
  for (const [where, c] of containers) for (const p of c.ports ?? []) if (p.hostPort) flag('Host Ports', where);
  // AppArmor
  const appArmorOk = (type: string | undefined) => type === undefined || type === 'RuntimeDefault' || type === 'Localhost';
  if (!appArmorOk(podContext.appArmorProfile?.type)) flag('AppArmor', 'spec.securityContext');
  for (const [where, c] of containers) if (!appArmorOk(c.securityContext?.appArmorProfile?.type)) flag('AppArmor', where);
  for (const [key, value] of Object.entries<string>(template.metadata?.annotations ?? {})) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== 'runtime/default' && !value.startsWith('localhost/')) flag('AppArmor', `annotation ${key}`);
  }
  // SELinux
  const seLinuxOk = (o: any) => o === undefined || (SELINUX_TYPES.has(o.type ?? '') && !o.user && !o.role);
  if (!seLinuxOk(podContext.seLinuxOptions)) flag('SELinux', 'spec.securityContext');
  for (const [where, c] of containers) if (!seLinuxOk(c.securityContext?.seLinuxOptions)) flag('SELinux', where);
  // /proc Mount Type
  for (const [where, c] of containers) {
    const procMount = c.securityContext?.procMount;
    if (procMount !== undefined && procMount !== 'Default') flag('/proc Mount Type', where);
  }
  // Seccomp (baseline: not Unconfined)
  if (podContext.seccompProfile?.type === 'Unconfined') flag('Seccomp', 'spec.securityContext');
  for (const [where, c] of containers) if (c.securityContext?.seccompProfile?.type === 'Unconfined') flag('Seccomp', where);
  // Sysctls
  for (const s of podContext.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) flag('Sysctls', s.name);
  return found;
}

/** Every `restricted` control the template breaks, the baseline ones included. */
export function restrictedViolations(template: any): Violation[] {
  const spec = template.spec ?? {};
  const podContext = spec.securityContext ?? {};
  const containers = allContainers(spec);
  const found: Violation[] = [...baselineViolations(template)];
  const flag = (control: string, where: string) => found.push({ control, where });

  // Volume Types
  for (const v of spec.volumes ?? []) {
    for (const type of Object.keys(v).filter(k => k !== 'name')) if (!RESTRICTED_VOLUMES.has(type)) flag('Volume Types', `volume ${v.name} is ${type}`);
  }
  // Privilege Escalation
  for (const [where, c] of containers) if (c.securityContext?.allowPrivilegeEscalation !== false) flag('Privilege Escalation', where);
  // Running as Non-root: pod-level true (not overridden to false), or true on every container
  for (const [where, c] of containers) {
    const own = c.securityContext?.runAsNonRoot;
    if (own === false || (own !== true && podContext.runAsNonRoot !== true)) flag('Running as Non-root', where);
  }
  // Running as Non-root user
  if (podContext.runAsUser === 0) flag('Running as Non-root user', 'spec.securityContext');
  for (const [where, c] of containers) if (c.securityContext?.runAsUser === 0) flag('Running as Non-root user', where);
  // Seccomp (restricted): an allowed profile at pod level, or on every container
  const podSeccomp = podContext.seccompProfile?.type;
  if (podSeccomp !== undefined && !SECCOMP_ALLOWED.has(podSeccomp)) flag('Seccomp', 'spec.securityContext');
  for (const [where, c] of containers) {
    const own = c.securityContext?.seccompProfile?.type;
    if (own !== undefined ? !SECCOMP_ALLOWED.has(own) : !SECCOMP_ALLOWED.has(podSeccomp)) flag('Seccomp', where);
  }
  // Capabilities (restricted): drop ALL, add at most NET_BIND_SERVICE
  for (const [where, c] of containers) {
    const caps = c.securityContext?.capabilities ?? {};
    if (!(caps.drop ?? []).includes('ALL')) flag('Capabilities', `${where} does not drop ALL`);
    for (const cap of caps.add ?? []) if (cap !== 'NET_BIND_SERVICE') flag('Capabilities', `${where} adds ${cap}`);
  }
  // A capability both levels forbid is one breach.
  return found.filter((v, i) => found.findIndex(w => w.control === v.control && w.where === v.where) === i);
}

/**
 * The template as the MPI Operator turns it into a pod: it adds the SSH key Secret and, on the
 * launcher, the hostfile ConfigMap, mounted into the first container.
 */
export function asOperatorCreatesIt(template: any, role: 'launcher' | 'worker', sshAuthMountPath: string): any {
  const spec = template.spec;
  const volumes = [...spec.volumes ?? [], { name: 'ssh-auth', secret: { secretName: 'job-ssh' } }];
  const mounts = [{ name: 'ssh-auth', mountPath: sshAuthMountPath }];
  if (role === 'launcher') {
    volumes.push({ name: 'mpi-job-config', configMap: { name: 'job-config' } });
    mounts.push({ name: 'mpi-job-config', mountPath: '/etc/mpi' });
  }
  const [first, ...rest] = spec.containers;
  return {
    ...template,
    spec: {
      ...spec,
      volumes,
      containers: [{ ...first, volumeMounts: [...first.volumeMounts ?? [], ...mounts] }, ...rest],
    },
  };
}
