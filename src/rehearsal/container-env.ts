import { ILaunchManifest } from './manifest';

/** Where a variable of the rehearsed launcher comes from. */
export enum EnvSource {
  /** The launcher container's `env` in the manifest. */
  MANIFEST = 'manifest',
  /** Injected by the MPI Operator into the launcher. */
  OPERATOR = 'operator',
  /** Expected from the image (forwarded with -x but set nowhere in the manifest); this machine's value or a marker stands in. */
  IMAGE = 'image',
  /** Added for the local run only. */
  LOCAL_RUN = 'local run',
  /** Taken from the environment the rehearsal runs in, in place of a value only the cluster has (a Secret key, the image's variable). */
  REHEARSAL_ENVIRONMENT = 'rehearsal environment',
}

/** A variable of the rehearsed launcher environment. */
export interface LauncherEnvVar {
  /** Variable name. */
  readonly name: string;
  /** Value the rehearsal uses. */
  readonly value: string;
  /** Where it comes from. */
  readonly source: EnvSource;
  /**
   * What the real value is when the rehearsal cannot know it (a Secret key, a pod field, the
   * image's variable): `value` is then a marker or a stand-in.
   * @default - the value is the real one
   */
  readonly unknownValue?: string;
}

/**
 * Kubernetes' `$(VAR)` expansion, as the kubelet applies it to command, args and env values:
 * `$(NAME)` becomes the value of a defined variable, `$$` stays a literal `$`, anything else is kept.
 */
export function expandKubernetesReferences(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name?: string) => {
    if (match === '$$') return '$';
    const value = vars.get(name!);
    return value === undefined ? match : value;
  });
}

/** What a `valueFrom` resolves to in a rehearsal: ConfigMap keys in the manifests and the namespace, or what the cluster would read. */
function valueFromSource(valueFrom: any, job: ILaunchManifest): { value: string } | { unknown: string } {
  const configMapKey = valueFrom.configMapKeyRef;
  if (configMapKey) {
    const value = job.configMap(configMapKey.name)?.data?.[configMapKey.key];
    return value !== undefined ? { value } : { unknown: `key ${configMapKey.key} of ConfigMap ${configMapKey.name}` };
  }
  const field = valueFrom.fieldRef?.fieldPath;
  if (field === 'metadata.namespace') return { value: job.jobNamespace };
  if (field) return { unknown: `pod field ${field}` };
  if (valueFrom.secretKeyRef) return { unknown: `key ${valueFrom.secretKeyRef.key} of Secret ${valueFrom.secretKeyRef.name}` };
  if (valueFrom.resourceFieldRef) return { unknown: `resource ${valueFrom.resourceFieldRef.resource}` };
  return { unknown: 'valueFrom' };
}

/**
 * The launcher container's environment as Kubernetes builds it: the manifest's `env` in
 * order (each value expanded against the variables before it), then the operator's
 * variables, a later variable replacing an earlier one of the same name.
 */
export function launcherContainerEnv(job: ILaunchManifest): LauncherEnvVar[] {
  const vars = new Map<string, LauncherEnvVar>();
  const values = () => new Map([...vars.values()].map(v => [v.name, v.value]));
  for (const entry of job.launcher.container.env ?? []) {
    vars.delete(entry.name);
    const from = entry.valueFrom ? valueFromSource(entry.valueFrom, job) : { value: expandKubernetesReferences(entry.value ?? '', values()) };
    vars.set(entry.name, 'value' in from
      ? { name: entry.name, value: from.value, source: EnvSource.MANIFEST }
      : { name: entry.name, value: `<${from.unknown}>`, source: EnvSource.MANIFEST, unknownValue: from.unknown });
  }
  for (const entry of job.launcherOperatorEnv) {
    vars.delete(entry.name);
    vars.set(entry.name, { name: entry.name, value: entry.value, source: EnvSource.OPERATOR });
  }
  return [...vars.values()];
}

/** The launcher's argv as the container receives it: `command` then `args`, with `$(VAR)` expanded. */
export function launcherArgv(job: ILaunchManifest): string[] {
  const container = job.launcher.container;
  const vars = new Map(launcherContainerEnv(job).map(v => [v.name, v.value]));
  return [...(container.command ?? []), ...(container.args ?? [])].map((arg: string) => expandKubernetesReferences(String(arg), vars));
}
