import { MpiOperatorVersion, operatorVersionAtLeast } from '../compatibility';
import { JobRule } from './context';
import { JobFacts } from './facts';
import { error, Finding, Severity, warning } from './finding';

/**
 * A field or value that only some MPI Operator releases understand.
 */
interface OperatorFeature {
  /** First release that has it. */
  readonly since: MpiOperatorVersion;
  /** The user-facing option that produces it. */
  readonly field: string;
  /** How the option reads in the message, or undefined when the job does not use the feature. */
  readonly used: (spec: any) => string | undefined;
  /** What an older operator does with it. */
  readonly olderBehaviour: string;
  readonly severity: Severity;
}

const FEATURES: OperatorFeature[] = [
  {
    since: MpiOperatorVersion.V0_5,
    field: 'launcherCreationPolicy',
    used: spec => (spec.launcherCreationPolicy !== undefined && spec.launcherCreationPolicy !== 'AtStartup' ? `'${spec.launcherCreationPolicy}'` : undefined),
    olderBehaviour: 'their CRD has no launcherCreationPolicy, so the API server prunes it and the launcher starts with the workers',
    severity: Severity.ERROR,
  },
  {
    since: MpiOperatorVersion.V0_5,
    field: 'runLauncherAsWorker',
    used: spec => (spec.runLauncherAsWorker === true ? 'true' : undefined),
    olderBehaviour: 'their CRD has no runLauncherAsWorker, so the API server prunes it: the launcher leaves the hostfile and its GPUs are hidden, and mpirun asks for more slots than the hostfile has',
    severity: Severity.ERROR,
  },
  {
    since: MpiOperatorVersion.V0_5,
    field: 'image.mpiImplementation',
    used: spec => (spec.mpiImplementation === 'MPICH' ? '\'MPICH\'' : undefined),
    olderBehaviour: 'their CRD allows only OpenMPI and Intel, so the API server rejects the MPIJob',
    severity: Severity.ERROR,
  },
  {
    since: MpiOperatorVersion.V0_6,
    field: 'scheduling.kueue.multiKueue',
    used: spec => (spec.runPolicy?.managedBy !== undefined ? 'true' : undefined),
    olderBehaviour: 'their CRD has no runPolicy.managedBy, so the API server prunes it and the manager cluster\'s operator runs the job itself while MultiKueue runs it on a worker cluster too',
    severity: Severity.ERROR,
  },
  {
    since: MpiOperatorVersion.V0_7,
    field: 'runLauncherAsWorker',
    used: spec => (spec.runLauncherAsWorker === true ? 'true' : undefined),
    olderBehaviour: 'their Service publishes the launcher\'s address only once the launcher pod is Ready, so mpirun may fail to resolve the launcher\'s own hostfile entry (fixed by kubeflow/mpi-operator#703)',
    severity: Severity.WARNING,
  },
];

/** Fields the target operator lacks are reported instead of silently pruned. */
const operatorSupportsFields: JobRule = (ctx: JobFacts): Finding[] => {
  const version = ctx.operator.version as MpiOperatorVersion;
  const spec = ctx.manifest.spec ?? {};
  return FEATURES.flatMap(feature => {
    const value = operatorVersionAtLeast(version, feature.since) ? undefined : feature.used(spec);
    if (value === undefined) return [];
    const text = {
      path: ctx.path,
      field: feature.field,
      value,
      why: `operatorVersion is ${version} and MPI Operator releases before ${feature.since} do not support it: ${feature.olderBehaviour}`,
      fix: `Upgrade the MPI Operator to ${feature.since} or later and set operatorVersion accordingly, or remove ${feature.field}.`,
    };
    return [feature.severity === Severity.ERROR ? error('compatibility/operator-version', text) : warning('compatibility/operator-version', text)];
  });
};

/** Rules that hold the job to what the installed MPI Operator supports. */
export const COMPATIBILITY_RULES: JobRule[] = [operatorSupportsFields];
