import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { JobEgressOptions, renderEgressRules } from './egress';

/**
 * Security settings of a job beyond the non-root pod defaults that come from the image user.
 */
export interface JobSecurityOptions {
  /**
   * Create a NetworkPolicy that admits traffic to the job's pods only from the job's own pods,
   * on every TCP port: ssh, mpirun's callbacks, NCCL's bootstrap and socket transport and the
   * torch rendezvous all use ports chosen at run time. Egress stays as the namespace's policies
   * leave it unless `egress` is set. Pods on the node's network (hostNetwork) are outside any
   * NetworkPolicy.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Egress rules on the job's NetworkPolicy: DNS (the cluster DNS pods, UDP and TCP 53), the
   * job's own pods, and the listed destinations. Needed in namespaces that deny egress by
   * default, where the launcher could otherwise neither resolve nor reach its workers; in other
   * namespaces it confines the pods' egress to these destinations.
   * @default - no egress rules: the policy restricts ingress only
   */
  readonly egress?: JobEgressOptions;
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
 * A NetworkPolicy named `name` that admits ingress to the pods with `podLabels` only from pods
 * with the same labels, on every TCP port, and with `egress` also confines their egress to DNS,
 * each other and the listed destinations. Written as the API has it (a plain ApiObject): the
 * egress rules need peers and ports cdk8s-plus cannot express.
 * @internal
 */
export function createPeerNetworkPolicy(scope: Construct, name: string, namespace: string | undefined, podLabels: { [key: string]: string },
  egress?: JobEgressOptions): ApiObject {
  const peers = { podSelector: { matchLabels: { ...podLabels } } };
  return new ApiObject(scope, 'NetworkPolicy', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: {
      podSelector: { matchLabels: { ...podLabels } },
      policyTypes: egress ? ['Ingress', 'Egress'] : ['Ingress'],
      // A protocol without ports is every port (a port of 0 would be invalid).
      ingress: [{ from: [peers], ports: [{ protocol: 'TCP' }] }],
      egress: egress ? renderEgressRules(podLabels, egress) : undefined,
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
