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
}

/** A variable of the rehearsed launcher environment. */
export interface LauncherEnvVar {
  /** Variable name. */
  readonly name: string;
  /** Value the rehearsal uses. */
  readonly value: string;
  /** Where it comes from. */
  readonly source: EnvSource;
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

/** What a `valueFrom` resolves to in a rehearsal: ConfigMap keys and pod fields when known, a marker otherwise. */
function valueFromSource(valueFrom: any, job: ILaunchManifest): string {
  const configMapKey = valueFrom.configMapKeyRef;
  if (configMapKey) {
    const value = job.configMap(configMapKey.name)?.data?.[configMapKey.key];
    return value ?? `<key ${configMapKey.key} of ConfigMap ${configMapKey.name}>`;
  }
  const field = valueFrom.fieldRef?.fieldPath;
  if (field === 'metadata.namespace') return job.namespace;
  if (field) return `<pod field ${field}>`;
  if (valueFrom.secretKeyRef) return `<key ${valueFrom.secretKeyRef.key} of Secret ${valueFrom.secretKeyRef.name}>`;
  if (valueFrom.resourceFieldRef) return `<resource ${valueFrom.resourceFieldRef.resource}>`;
  return '<valueFrom>';
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
    const value = entry.valueFrom ? valueFromSource(entry.valueFrom, job) : expandKubernetesReferences(entry.value ?? '', values());
    vars.delete(entry.name);
    vars.set(entry.name, { name: entry.name, value, source: EnvSource.MANIFEST });
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
