import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { formatQuantity } from './quantity';

/** The Kueue API version of the queue objects a sweep creates. */
export const KUEUE_API_VERSION = 'kueue.x-k8s.io/v1beta1';

/**
 * How many jobs of a sweep run at once, enforced by Kueue: the sweep gets a ClusterQueue whose
 * quota holds `maxJobs` of its largest job, and a LocalQueue that every job is submitted to.
 */
export interface SweepParallelism {
  /** How many of the sweep's largest jobs may run at the same time. */
  readonly maxJobs: number;
  /**
   * Kueue ResourceFlavor the quota is given in.
   * @default 'default-flavor'
   */
  readonly resourceFlavor?: string;
  /**
   * Kueue cohort of the ClusterQueue, to borrow idle quota from (or lend to) other queues.
   * @default - no cohort: the sweep never uses more than its own quota
   */
  readonly cohort?: string;
}

/**
 * The ClusterQueue and LocalQueue of a sweep. The ClusterQueue admits only workloads from the
 * sweep's namespace; its quota covers every resource the jobs request, since Kueue never admits
 * a workload that asks for a resource its queue does not cover.
 * @internal
 */
export function createSweepQueues(scope: Construct, name: string, namespace: string | undefined,
  quota: Map<string, number>, parallelism: SweepParallelism): { clusterQueue: ApiObject; localQueue: ApiObject } {
  const resources = [...quota.keys()].sort();
  const clusterQueue = new ApiObject(scope, 'ClusterQueue', {
    apiVersion: KUEUE_API_VERSION,
    kind: 'ClusterQueue',
    metadata: { name },
    spec: {
      cohort: parallelism.cohort,
      namespaceSelector: namespace ? { matchLabels: { 'kubernetes.io/metadata.name': namespace } } : {},
      resourceGroups: [{
        coveredResources: resources,
        flavors: [{
          name: parallelism.resourceFlavor ?? 'default-flavor',
          resources: resources.map(resource => ({ name: resource, nominalQuota: formatQuantity(resource, quota.get(resource)!) })),
        }],
      }],
    },
  });
  const localQueue = new ApiObject(scope, 'LocalQueue', {
    apiVersion: KUEUE_API_VERSION,
    kind: 'LocalQueue',
    metadata: { name, namespace },
    spec: { clusterQueue: name },
  });
  return { clusterQueue, localQueue };
}
