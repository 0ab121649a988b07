import { KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL } from '../scheduling';
import { JobRule } from './context';
import { JobFacts } from './facts';
import { error, Finding, show, warning } from './finding';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kueue's names travel as label values, which the API server validates. */
const kueueLabelValues: JobRule = (ctx: JobFacts): Finding[] => {
  const kueue = ctx.props.scheduling?.kueue;
  if (!kueue) return [];
  const values: Array<[string, string, string | undefined]> = [
    ['scheduling.kueue.queueName', KUEUE_QUEUE_LABEL, kueue.queueName],
    ['scheduling.kueue.priorityClass', KUEUE_PRIORITY_LABEL, kueue.priorityClass],
  ];
  return values.flatMap(([field, label, value]) => {
    if (value === undefined) return [];
    const object = field.endsWith('queueName') ? 'LocalQueue' : 'WorkloadPriorityClass';
    if (value === '') {
      return [error('kueue/label-value', {
        path: ctx.path,
        field,
        value: show(value),
        why: `it becomes the ${label} label, which the API server accepts empty, but an empty name matches no ${object}, so Kueue cannot ${object === 'LocalQueue' ? 'queue the job in one' : 'give the job that priority'}`,
        fix: `Use the name of the ${object} as it exists in the cluster (kubectl get ${object === 'LocalQueue' ? 'localqueues -n <namespace>' : 'workloadpriorityclasses'}), or remove it.`,
      })];
    }
    if (value.length > 63 || !LABEL_VALUE.test(value)) {
      return [error('kueue/label-value', {
        path: ctx.path,
        field,
        value: show(value),
        why: `it becomes the ${label} label, and the API server rejects label values longer than 63 characters or not letters, digits, '-', '_' and '.' between alphanumerics`,
        fix: `Use the name of the ${object} as it exists in the cluster (kubectl get ${object === 'LocalQueue' ? 'localqueues -n <namespace>' : 'workloadpriorityclasses'}).`,
      })];
    }
    if (DNS_1123_SUBDOMAIN.test(value)) return [];
    return [error('kueue/label-value', {
      path: ctx.path,
      field,
      value: show(value),
      why: object === 'LocalQueue'
        ? 'a LocalQueue name is a DNS subdomain (lowercase letters, digits, \'-\' and \'.\'), so no LocalQueue can match it: Kueue creates the Workload, marks it inadmissible because the LocalQueue does not exist, and the job stays suspended forever'
        : 'a WorkloadPriorityClass name is a DNS subdomain (lowercase letters, digits, \'-\' and \'.\'), so none can match it: Kueue fails to create the Workload for a priority class it cannot find, and the job stays suspended',
      fix: `Use the name of the ${object} as it exists in the cluster (kubectl get ${object === 'LocalQueue' ? 'localqueues -n <namespace>' : 'workloadpriorityclasses'}).`,
    })];
  });
};

/** Kueue resumes jobs itself; `suspend: false` is overridden by its webhook. */
const kueueSuspend: JobRule = (ctx: JobFacts): Finding[] => {
  if (!ctx.props.scheduling?.kueue || ctx.launch.suspend !== false) return [];
  return [warning('kueue/suspend', {
    path: ctx.path,
    field: 'suspend',
    value: 'false',
    why: 'Kueue\'s webhook suspends queued jobs on creation and resumes them on admission, so the value has no effect',
    fix: 'Remove suspend; the job starts suspended and Kueue resumes it.',
  })];
};

/** The pod's priorityClassName must name a PriorityClass object. */
const priorityClassName: JobRule = (ctx: JobFacts): Finding[] => {
  const name = ctx.props.scheduling?.priorityClassName;
  if (name === undefined || (name.length <= 253 && DNS_1123_SUBDOMAIN.test(name))) return [];
  return [error('scheduling/priority-class-name', {
    path: ctx.path,
    field: 'scheduling.priorityClassName',
    value: show(name),
    why: 'the API server rejects pods whose priorityClassName is not a DNS subdomain name, the form PriorityClass names take',
    fix: 'Use the name of a PriorityClass in the cluster (kubectl get priorityclasses).',
  })];
};

/** A PodGroup larger than the job never fills; one below 1 means nothing. */
const gangMinAvailable: JobRule = (ctx: JobFacts): Finding[] => {
  const gang = ctx.props.scheduling?.gangScheduling;
  if (!gang) return [];
  const pods = ctx.props.workers.replicas + 1;
  const minAvailable = ctx.launch.gangMinAvailable as number;
  if (Number.isInteger(minAvailable) && minAvailable >= 1 && minAvailable <= pods) return [];
  return [error('gang/min-available', {
    path: ctx.path,
    field: 'scheduling.gangScheduling.minAvailable',
    value: show(minAvailable),
    why: minAvailable > pods
      ? `the job has only ${pods} pods (${ctx.props.workers.replicas} workers and the launcher), so the PodGroup never reaches minMember and the gang scheduler never starts the job`
      : `the PodGroup needs a whole number of at least one pod; ${ctx.operator.name} passes the value through unchecked`,
    fix: `Remove minAvailable (it defaults to all ${pods} pods) or set it between 1 and ${pods}.`,
  })];
};

/** Rules for Kueue, priority and gang scheduling. */
export const QUEUEING_RULES: JobRule[] = [kueueLabelValues, kueueSuspend, priorityClassName, gangMinAvailable];
