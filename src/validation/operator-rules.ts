import { JobContext, JobRule } from './context';
import { error, Finding, show } from './finding';

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The operator checks that `<name>-worker-<N-1>` is a DNS-1035 label of at most 63 characters
 * (the last worker's hostname).
 */
const jobName: JobRule = (ctx: JobContext): Finding[] => {
  const name: string = ctx.manifest.metadata?.name ?? '';
  const workers: number | undefined = ctx.manifest.spec?.mpiReplicaSpecs?.Worker?.replicas;
  const last = workers !== undefined && workers > 0 ? workers - 1 : 0;
  const hostname = `${name}-worker-${last}`;
  if (!DNS_1035_LABEL.test(name)) {
    return [error('operator/job-name', {
      path: ctx.path,
      field: 'metadata.name',
      value: show(name),
      why: 'the MPI Operator requires a DNS-1035 label (lowercase letters, digits and \'-\', starting with a letter)',
      fix: 'Set metadata.name to a name such as \'cifar10-train\'.',
    })];
  }
  if (hostname.length > 63) {
    const room = 63 - '-worker-'.length - String(last).length;
    return [error('operator/job-name', {
      path: ctx.path,
      field: 'metadata.name',
      value: `${show(name)} (${name.length} characters)`,
      why: `the MPI Operator rejects the job because the last worker's hostname '${hostname}' is ${hostname.length} characters, over the DNS limit of 63`,
      fix: `Shorten metadata.name to at most ${room} characters.`,
    })];
  }
  return [];
};

/** The MPI Operator's own validation rules (pkg/apis/kubeflow/validation). */
export const OPERATOR_RULES: JobRule[] = [jobName];
