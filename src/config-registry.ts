import { createHash } from 'crypto';
import { ApiObject, Names } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { _isSharedRender, DEEPSPEED_CONFIG_FILE_NAME, renderDeepSpeedConfigFile } from './deepspeed-config-render';

/** Hex digits of the content hash in a shared ConfigMap's name. */
const CONTENT_HASH_LENGTH = 10;

/**
 * Properties of a DeepSpeed config registry.
 */
export interface DeepSpeedConfigRegistryProps {
  /**
   * Prefix of the ConfigMap names; each name ends with a hash of the config file, so it is
   * stable for the same content and differs for different content.
   * @default - derived from the construct path
   */
  readonly namePrefix?: string;
}

/**
 * Shares DeepSpeed config ConfigMaps between jobs: one ConfigMap per distinct config file
 * and namespace, however many jobs use it. Pass it to jobs as `configRegistry`.
 */
export class DeepSpeedConfigRegistry extends Construct {
  /** Prefix of the ConfigMap names. */
  public readonly namePrefix: string;

  private readonly byContent = new Map<string, ApiObject>();
  /** The same for the configs a sweep's jobs share by identity (see _isSharedRender), by namespace. */
  private readonly byIdentity = new WeakMap<object, Map<string, ApiObject>>();

  public constructor(scope: Construct, id: string, props: DeepSpeedConfigRegistryProps = {}) {
    super(scope, id);
    this.namePrefix = props.namePrefix ?? Names.toDnsLabel(this, { includeHash: false });
  }

  /**
   * The ConfigMap that holds this rendered config (DeepSpeed's key names) in this namespace,
   * created on first use.
   *
   * @param config the config as DeepSpeed reads it, e.g. `DeepSpeedConfigFile.render(...)`
   * @param jobNamespace namespace of the jobs that mount it
   */
  public configMapFor(config: { [key: string]: any }, jobNamespace?: string): ApiObject {
    const shared = _isSharedRender(config);
    const sameObject = shared ? this.byIdentity.get(config)?.get(jobNamespace ?? '') : undefined;
    if (sameObject) return sameObject;
    // The file text is a function of the compact JSON, which is cheaper to build for every job.
    const key = `${jobNamespace ?? ''}\n${JSON.stringify(config)}`;
    const existing = this.byContent.get(key) ?? this.newConfigMap(key, config, jobNamespace);
    if (shared) {
      let byNamespace = this.byIdentity.get(config);
      if (!byNamespace) this.byIdentity.set(config, byNamespace = new Map());
      byNamespace.set(jobNamespace ?? '', existing);
    }
    return existing;
  }

  private newConfigMap(key: string, config: { [key: string]: any }, jobNamespace?: string): ApiObject {
    const text = renderDeepSpeedConfigFile(config);
    const hash = createHash('sha256').update(text).digest('hex').slice(0, CONTENT_HASH_LENGTH);
    const configMap = newDeepSpeedConfigMap(this, jobNamespace ? `${jobNamespace}-${hash}` : hash, `${this.namePrefix}-${hash}`, text, jobNamespace);
    this.byContent.set(key, configMap);
    return configMap;
  }

  /** The ConfigMaps created so far, in order of first use. */
  public get configMaps(): ApiObject[] {
    return [...this.byContent.values()];
  }
}

/**
 * A ConfigMap holding `ds_config.json`.
 * @internal
 */
export function newDeepSpeedConfigMap(scope: Construct, id: string, name: string, text: string, namespace?: string): ApiObject {
  // The cdk8s-plus object is internal: the public API hands out its flavour-free ApiObject.
  return ApiObject.of(new kplus.ConfigMap(scope, id, {
    metadata: { name, namespace },
    data: { [DEEPSPEED_CONFIG_FILE_NAME]: text },
  }));
}
