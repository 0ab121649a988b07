import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { jobPodLabels } from './operator-labels';

/**
 * Security settings of a job beyond the non-root pod defaults that come from the image user.
 */
export interface JobSecurityOptions {
  /**
   * Create a NetworkPolicy that admits traffic to the job's pods only from the job's own pods,
   * on every TCP port: ssh, mpirun's callbacks, NCCL's bootstrap and socket transport and the
   * torch rendezvous all use ports chosen at run time. Egress stays open (datasets, registries).
   * Pods on the node's network (hostNetwork) are outside any NetworkPolicy.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Create a ServiceAccount named after the job for its pods.
   * @default false
   */
  readonly createServiceAccount?: boolean;
  /**
   * Name of an existing ServiceAccount for the pods (e.g. one bound to cloud storage
   * credentials); a ServiceAccount of any cdk8s-plus flavour gives it as `.name`.
   * @default - the job's own when `createServiceAccount` is set, else the namespace's `default`
   */
  readonly serviceAccountName?: string;
  /**
   * Mount the ServiceAccount's API token into the pods. Training needs no Kubernetes API
   * access, and a mounted token is a credential any rank can read.
   * @default false
   */
  readonly automountServiceAccountToken?: boolean;
}

/**
 * The NetworkPolicy that confines ingress to the job's own pods, selected by the labels the
 * MPI Operator puts on the launcher and the workers.
 * @internal
 */
export function createJobNetworkPolicy(scope: Construct, jobName: string, namespace?: string): kplus.NetworkPolicy {
  return createPeerNetworkPolicy(scope, jobName, namespace, jobPodLabels(jobName));
}

/**
 * A NetworkPolicy named `name` that admits ingress to the pods with `podLabels` only from pods
 * with the same labels, on every TCP port.
 * @internal
 */
export function createPeerNetworkPolicy(scope: Construct, name: string, namespace: string | undefined, podLabels: { [key: string]: string }): kplus.NetworkPolicy {
  const peers = kplus.Pods.select(scope, 'Peers', { labels: podLabels });
  return new kplus.NetworkPolicy(scope, 'NetworkPolicy', {
    metadata: { name, namespace },
    selector: peers,
    ingress: {
      default: kplus.NetworkPolicyTrafficDefault.DENY,
      // A protocol without ports is every port; NetworkPolicyPort.allTcp() renders the invalid port 0.
      rules: [{ peer: peers, ports: [kplus.NetworkPolicyPort.of({ protocol: kplus.NetworkProtocol.TCP })] }],
    },
  });
}

/**
 * The job's own ServiceAccount, with token automounting as requested.
 * @internal
 */
export function createJobServiceAccount(scope: Construct, jobName: string, namespace: string | undefined, automountToken: boolean): kplus.ServiceAccount {
  return new kplus.ServiceAccount(scope, 'ServiceAccount', {
    metadata: { name: jobName, namespace },
    automountToken,
  });
}
