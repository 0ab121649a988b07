/*
 * The fields the MPIJob CRD (kubeflow.org/v2beta1, MPI Operator v0.8) declares at the levels this
 * library renders. The CRD's schema is structural, so the API server prunes any other field
 * without a word: an escape hatch that adds one would be silently lost.
 */

/** Fields of the MPIJob object. */
export const MPIJOB_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
/** Fields of `spec`. */
export const SPEC_FIELDS = [
  'launcherCreationPolicy', 'mpiImplementation', 'mpiReplicaSpecs', 'runLauncherAsWorker', 'runPolicy', 'slotsPerWorker', 'sshAuthMountPath',
];
/** Fields of `spec.runPolicy`. */
export const RUN_POLICY_FIELDS = [
  'activeDeadlineSeconds', 'backoffLimit', 'cleanPodPolicy', 'managedBy', 'schedulingPolicy', 'suspend', 'ttlSecondsAfterFinished',
];
/** Fields of `spec.runPolicy.schedulingPolicy`. */
export const SCHEDULING_POLICY_FIELDS = ['minAvailable', 'minResources', 'priorityClass', 'queue', 'scheduleTimeoutSeconds'];
/** Fields of a replica spec. */
export const REPLICA_FIELDS = ['replicas', 'restartPolicy', 'template'];
/** Fields of a pod template. */
export const TEMPLATE_FIELDS = ['metadata', 'spec'];
/** Fields of a pod spec. */
export const POD_SPEC_FIELDS = [
  'activeDeadlineSeconds', 'affinity', 'automountServiceAccountToken', 'containers', 'dnsConfig', 'dnsPolicy', 'enableServiceLinks',
  'ephemeralContainers', 'hostAliases', 'hostIPC', 'hostNetwork', 'hostPID', 'hostUsers', 'hostname', 'hostnameOverride',
  'imagePullSecrets', 'initContainers', 'nodeName', 'nodeSelector', 'os', 'overhead', 'preemptionPolicy', 'priority',
  'priorityClassName', 'readinessGates', 'resourceClaims', 'resources', 'restartPolicy', 'runtimeClassName', 'schedulerName',
  'schedulingGates', 'securityContext', 'serviceAccount', 'serviceAccountName', 'setHostnameAsFQDN', 'shareProcessNamespace',
  'subdomain', 'terminationGracePeriodSeconds', 'tolerations', 'topologySpreadConstraints', 'volumes', 'workloadRef',
];
/** Fields of a container. */
export const CONTAINER_FIELDS = [
  'args', 'command', 'env', 'envFrom', 'image', 'imagePullPolicy', 'lifecycle', 'livenessProbe', 'name', 'ports', 'readinessProbe',
  'resizePolicy', 'resources', 'restartPolicy', 'restartPolicyRules', 'securityContext', 'startupProbe', 'stdin', 'stdinOnce',
  'terminationMessagePath', 'terminationMessagePolicy', 'tty', 'volumeDevices', 'volumeMounts', 'workingDir',
];
