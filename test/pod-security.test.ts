import { Size } from 'cdk8s';
import {
  DeepSpeedMpiJobProps, DeepSpeedTrainingImage, ImageUser, Interconnect, TrainingStorage, Validation, Volume,
} from '../src';
import { asOperatorCreatesIt, baselineViolations, restrictedViolations } from './support/pod-security';
import { synthJob } from './support/synth';
import { expectWarnings } from './support/warnings';

const image = DeepSpeedTrainingImage.fromImage('registry.example.com/train:1');
const base: DeepSpeedMpiJobProps = {
  image,
  workers: { replicas: 2, gpusPerWorker: 4, memory: Size.gibibytes(64) },
  script: '/opt/train.py',
};

/** Restricted violations of both pod templates, as the operator creates the pods. */
function violations(props: DeepSpeedMpiJobProps, check = restrictedViolations): string[] {
  const { launcher, worker, mpiJob } = synthJob(props);
  const sshPath = mpiJob.spec.sshAuthMountPath;
  return [
    ...check(asOperatorCreatesIt(launcher.template, 'launcher', sshPath)).map(v => `launcher: ${v.control}`),
    ...(worker ? check(asOperatorCreatesIt(worker.template, 'worker', sshPath)).map(v => `worker: ${v.control}`) : []),
  ];
}

describe('the Pod Security Standards checker (test oracle)', () => {
  const compliant = {
    metadata: {},
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'c', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      volumes: [{ name: 'v', emptyDir: {} }],
    },
  };
  const withContainerContext = (context: any) => ({
    ...compliant,
    spec: { ...compliant.spec, containers: [{ name: 'c', securityContext: { ...compliant.spec.containers[0].securityContext, ...context } }] },
  });
  const withPod = (fields: any) => ({ ...compliant, spec: { ...compliant.spec, ...fields } });
  const withPodContext = (context: any) => withPod({ securityContext: { ...compliant.spec.securityContext, ...context } });

  test('passes a compliant template', () => {
    expect(restrictedViolations(compliant)).toEqual([]);
  });

  test.each([
    ['HostProcess', withPodContext({ windowsOptions: { hostProcess: true } })],
    ['Host Namespaces', withPod({ hostNetwork: true })],
    ['Host Namespaces', withPod({ hostPID: true })],
    ['Host Namespaces', withPod({ hostIPC: true })],
    ['Privileged Containers', withContainerContext({ privileged: true })],
    ['Capabilities', withContainerContext({ capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } })],
    ['HostPath Volumes', withPod({ volumes: [{ name: 'h', hostPath: { path: '/dev/shm' } }] })],
    ['Host Ports', withPod({ containers: [{ ...compliant.spec.containers[0], ports: [{ containerPort: 2222, hostPort: 2222 }] }] })],
    ['AppArmor', withContainerContext({ appArmorProfile: { type: 'Unconfined' } })],
    ['AppArmor', { ...compliant, metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/c': 'unconfined' } } }],
    ['SELinux', withPodContext({ seLinuxOptions: { type: 'spc_t' } })],
    ['SELinux', withContainerContext({ seLinuxOptions: { user: 'system_u' } })],
    ['/proc Mount Type', withContainerContext({ procMount: 'Unmasked' })],
    ['Seccomp', withPodContext({ seccompProfile: { type: 'Unconfined' } })],
    ['Sysctls', withPodContext({ sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] })],
  ])('baseline control %s catches a breach', (control, template) => {
    expect(baselineViolations(template).map(v => v.control)).toContain(control);
    expect(restrictedViolations(template).map(v => v.control)).toContain(control);
  });

  test.each([
    ['Volume Types', withPod({ volumes: [{ name: 'n', nfs: { server: 'nfs', path: '/' } }] })],
    ['Privilege Escalation', withContainerContext({ allowPrivilegeEscalation: true })],
    ['Privilege Escalation', withPod({ containers: [{ name: 'c', securityContext: { capabilities: { drop: ['ALL'] } } }] })],
    ['Running as Non-root', withPodContext({ runAsNonRoot: undefined })],
    ['Running as Non-root', withContainerContext({ runAsNonRoot: false })],
    ['Running as Non-root user', withPodContext({ runAsUser: 0 })],
    ['Running as Non-root user', withContainerContext({ runAsUser: 0 })],
    ['Seccomp', withPodContext({ seccompProfile: undefined })],
    ['Capabilities', withContainerContext({ capabilities: { drop: ['NET_RAW'] } })],
    ['Capabilities', withContainerContext({ capabilities: { drop: ['ALL'], add: ['CHOWN'] } })],
  ])('restricted control %s catches a breach that baseline allows', (control, template) => {
    expect(baselineViolations(template).map(v => v.control)).not.toContain(control);
    expect(restrictedViolations(template).map(v => v.control)).toContain(control);
  });
});

describe('the restricted profile on the synthesized pod templates', () => {
  test('the default job meets every restricted control on the launcher and the workers', () => {
    expect(violations(base)).toEqual([]);
  });

  test('the production options that do not need privileges keep it restricted', () => {
    expect(violations({
      ...base,
      runLauncherAsWorker: true,
      network: { interconnect: Interconnect.efa({ devicesPerPod: 4 }) },
      storage: {
        volumes: [
          TrainingStorage.existingClaim('dataset', { claimName: 'imagenet', mountPath: '/data', readOnly: true }),
          TrainingStorage.newClaim('checkpoints', { size: Size.tebibytes(1), mountPath: '/checkpoints' }),
        ],
        checkpoint: { directory: '/checkpoints/run-1' },
      },
      scheduling: {
        kueue: { queueName: 'team-a' },
        priorityClassName: 'training',
        gangScheduling: {},
        spreadWorkers: true,
        gpuProduct: 'NVIDIA-H100-80GB-HBM3',
      },
      security: { createServiceAccount: true },
    })).toEqual([]);
    // The storage above gives every pod fsGroup (the image's gid), which restricted allows.
    const withStorage = synthJob({ ...base, storage: { volumes: [TrainingStorage.existingClaim('dataset', { claimName: 'imagenet', mountPath: '/data' })] } });
    expect(withStorage.worker.template.spec.securityContext).toMatchObject({ fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' });
    expect(restrictedViolations(asOperatorCreatesIt(withStorage.worker.template, 'worker', withStorage.mpiJob.spec.sshAuthMountPath))).toEqual([]);
    expect(violations({ ...base, network: { interconnect: Interconnect.tcp() } })).toEqual([]);
    expect(violations({ ...base, network: { interconnect: Interconnect.infiniband({ ipcLock: false }) } })).toEqual([]);
  });

  test('root mode breaks restricted and is reported as a warning', () => {
    const props = { ...base, image: DeepSpeedTrainingImage.fromImage('registry.example.com/train:1', { user: ImageUser.root() }) };
    expect(new Set(violations(props))).toEqual(new Set([
      'launcher: Privilege Escalation', 'launcher: Running as Non-root', 'launcher: Running as Non-root user', 'launcher: Capabilities',
      'worker: Privilege Escalation', 'worker: Running as Non-root', 'worker: Running as Non-root user', 'worker: Capabilities',
    ]));
    expect(violations(props, baselineViolations)).toEqual([]);
    const findings = Validation.validateJob(synthJob(props).job).filter(f => f.rule === 'security/root-user');
    expect(findings.map(f => [f.severity, f.message])).toEqual([['warning',
      'test/train: image.user is ImageUser.root(): sshd and every rank run as uid 0 with the container\'s default capabilities, '
      + 'which PodSecurity admission rejects in namespaces that enforce the restricted Pod Security Standard. '
      + 'Build the image with a non-root user (the MPI Operator base image has mpiuser, uid 1000) and declare it with ImageUser.nonRoot().']]);
    // violations() synthesizes twice, then synthJob once: each synth prints the warning.
    expectWarnings(...Array(3).fill('test/train: image.user is ImageUser.root()'));
  });

  test('the InfiniBand preset adds no IPC_LOCK for a non-root image, so the pods stay restricted', () => {
    expect(violations({ ...base, network: { interconnect: Interconnect.infiniband() } })).toEqual([]);
  });

  test('IPC_LOCK asked for leaves baseline and restricted on the rank pods only, with a warning', () => {
    const props = { ...base, network: { interconnect: Interconnect.infiniband({ ipcLock: true }) } };
    expect(violations(props)).toEqual(['worker: Capabilities']);
    expect(violations(props, baselineViolations)).toEqual(['worker: Capabilities']);
    const findings = Validation.validateJob(synthJob(props).job).filter(f => f.rule === 'security/added-capabilities');
    expect(findings.map(f => [f.severity, f.message])).toEqual([['warning',
      'test/train: Worker container capabilities.add is ["IPC_LOCK"]: IPC_LOCK is outside the baseline and restricted Pod Security Standards, '
      + 'so PodSecurity admission rejects the pods in namespaces that enforce either level. Run the job in a namespace whose '
      + 'pod-security.kubernetes.io/enforce level allows it, or drop the capability (Interconnect.infiniband({ ipcLock: false }) '
      + 'when the node\'s memlock limit, RLIMIT_MEMLOCK, is unlimited).']]);
    // Each of the 3 syntheses: the Pod Security warning and the one that says IPC_LOCK does nothing for a non-root image.
    expectWarnings(...Array(3).fill(['test/train: Worker container capabilities.add is ["IPC_LOCK"]', 'test/train: network.interconnect ipcLock is true']).flat());
  });

  test('hostNetwork leaves baseline, with a warning per replica that uses it', () => {
    const props = { ...base, runLauncherAsWorker: true, network: { interconnect: Interconnect.tcp({ hostNetwork: true }) } };
    expect(violations(props)).toEqual(['launcher: Host Namespaces', 'worker: Host Namespaces']);
    const findings = Validation.validateJob(synthJob(props).job).filter(f => f.rule === 'security/host-network');
    expect(findings.map(f => f.message.split(':')[1])).toEqual([' Launcher hostNetwork is true', ' Worker hostNetwork is true']);
    expectWarnings(...Array(2).fill(['test/train: Launcher hostNetwork is true', 'test/train: Worker hostNetwork is true']).flat());
  });

  test('a hostPath volume added by hand is reported', () => {
    const { job } = synthJob(base);
    job.addVolume('/dev/infiniband', Volume.fromHostPath('ib', { path: '/dev/infiniband' }));
    const findings = Validation.validateJob(job).filter(f => f.rule === 'security/volume-types');
    expect(findings.map(f => f.message.split(':')[1])).toEqual([
      ' Launcher volume \'ib\' is a hostPath volume', ' Worker volume \'ib\' is a hostPath volume',
    ]);
  });
});
