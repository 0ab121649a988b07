import * as mpi from '../imports/kubeflow.org';

/**
 * Pod fields a variable can take its value from (the downward API).
 */
export enum EnvFieldPath {
  /** The pod's name (`metadata.name`). */
  POD_NAME = 'metadata.name',
  /** The pod's namespace (`metadata.namespace`). */
  POD_NAMESPACE = 'metadata.namespace',
  /** The pod's UID (`metadata.uid`). */
  POD_UID = 'metadata.uid',
  /** The name of the node the pod runs on (`spec.nodeName`). */
  NODE_NAME = 'spec.nodeName',
  /** The pod's ServiceAccount (`spec.serviceAccountName`). */
  SERVICE_ACCOUNT_NAME = 'spec.serviceAccountName',
  /** The node's IP address (`status.hostIP`). */
  HOST_IP = 'status.hostIP',
  /** The pod's IP address (`status.podIP`). */
  POD_IP = 'status.podIP',
}

/**
 * Options of a variable read from a key of a Secret or a ConfigMap.
 */
export interface EnvKeyOptions {
  /**
   * Start the container even if the Secret, ConfigMap or key is missing (the variable is then unset).
   * @default false - the kubelet refuses to start the container
   */
  readonly optional?: boolean;
}

/**
 * The value of an environment variable: a literal, a key of a Secret or ConfigMap, or a pod field.
 *
 * Secrets and ConfigMaps are referred to by name, so objects of any cdk8s-plus flavour (or plain
 * `kubectl`-made ones) work: pass `secret.name`.
 */
export class EnvValue {
  /** A literal value, written in plain text into the manifest. */
  public static fromValue(value: string): EnvValue {
    return new EnvValue({ value });
  }

  /**
   * The value of `key` in the Secret `secretName` (in the job's namespace): keeps credentials
   * such as an `HF_TOKEN` out of the manifest.
   */
  public static fromSecretKey(secretName: string, key: string, options: EnvKeyOptions = {}): EnvValue {
    return new EnvValue({ valueFrom: { secretKeyRef: { name: secretName, key, optional: options.optional } } });
  }

  /** The value of `key` in the ConfigMap `configMapName` (in the job's namespace). */
  public static fromConfigMapKey(configMapName: string, key: string, options: EnvKeyOptions = {}): EnvValue {
    return new EnvValue({ valueFrom: { configMapKeyRef: { name: configMapName, key, optional: options.optional } } });
  }

  /** A field of the pod, such as its namespace or the node's name. */
  public static fromFieldPath(fieldPath: EnvFieldPath): EnvValue {
    return new EnvValue({ valueFrom: { fieldRef: { fieldPath } } });
  }

  /** The literal value, if this is one. */
  public readonly value?: string;
  /** Name of the Secret the value comes from, if it comes from one. */
  public readonly secretName?: string;
  /** Name of the ConfigMap the value comes from, if it comes from one. */
  public readonly configMapName?: string;
  /** The Secret or ConfigMap key the value comes from, if it comes from one. */
  public readonly key?: string;

  private readonly valueFrom?: mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersEnvValueFrom;

  private constructor(source: { value?: string; valueFrom?: mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersEnvValueFrom }) {
    this.value = source.value;
    this.valueFrom = source.valueFrom;
    this.secretName = source.valueFrom?.secretKeyRef?.name;
    this.configMapName = source.valueFrom?.configMapKeyRef?.name;
    this.key = source.valueFrom?.secretKeyRef?.key ?? source.valueFrom?.configMapKeyRef?.key;
  }

  /**
   * The container env entry of variable `name`.
   * @internal
   */
  public _toKube(name: string): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecContainersEnv {
    return { name, value: this.value, valueFrom: this.valueFrom };
  }
}
