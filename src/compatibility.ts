/**
 * The MPI Operator release the job is written for. Its MPIJob CRD decides which fields the API
 * server keeps: fields an older CRD lacks are pruned without an error, so the job would silently
 * run differently. The job reports them at synth instead.
 */
export enum MpiOperatorVersion {
  /** v0.4.x: first generated v2beta1 CRD; `schedulingPolicy` and `suspend` are honoured. */
  V0_4 = 'v0.4',
  /** v0.5.x: adds `launcherCreationPolicy`, `runLauncherAsWorker` and MPICH. */
  V0_5 = 'v0.5',
  /** v0.6.x: adds `runPolicy.managedBy` (MultiKueue). */
  V0_6 = 'v0.6',
  /** v0.7.x: publishes not-ready addresses when the launcher runs as a worker. */
  V0_7 = 'v0.7',
  /** v0.8.x, the CRD the library's types are generated from. */
  V0_8 = 'v0.8',
}

const ORDER: MpiOperatorVersion[] = [
  MpiOperatorVersion.V0_4, MpiOperatorVersion.V0_5, MpiOperatorVersion.V0_6, MpiOperatorVersion.V0_7, MpiOperatorVersion.V0_8,
];

/**
 * Whether `version` is `minimum` or newer.
 * @internal
 */
export function operatorVersionAtLeast(version: MpiOperatorVersion, minimum: MpiOperatorVersion): boolean {
  return ORDER.indexOf(version) >= ORDER.indexOf(minimum);
}
