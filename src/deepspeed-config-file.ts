import { DeepSpeedConfig } from './deepspeed-config';
import {
  DEEPSPEED_CONFIG_DIR, DEEPSPEED_CONFIG_FILE_NAME, deepMerge, renderDeepSpeedConfig, renderDeepSpeedConfigFile,
} from './deepspeed-config-render';

/**
 * The `ds_config.json` a job mounts: where it lives on the pods, and the renderers from the typed
 * `DeepSpeedConfig` to DeepSpeed's own keys and file text.
 */
export class DeepSpeedConfigFile {
  /** Directory where the DeepSpeed config ConfigMap is mounted on the launcher and the workers. */
  public static readonly MOUNT_DIRECTORY: string = DEEPSPEED_CONFIG_DIR;
  /** File name of the DeepSpeed config inside `MOUNT_DIRECTORY`. */
  public static readonly FILE_NAME: string = DEEPSPEED_CONFIG_FILE_NAME;
  /** The absolute path the job passes as `--deepspeed_config`. */
  public static readonly PATH: string = `${DEEPSPEED_CONFIG_DIR}/${DEEPSPEED_CONFIG_FILE_NAME}`;

  /** The config as DeepSpeed reads it: its snake_case keys, `raw` merged last, unset values left out. */
  public static render(config: DeepSpeedConfig): { [key: string]: any } {
    return renderDeepSpeedConfig(config);
  }

  /** The file text of a rendered config, as the ConfigMap holds it. */
  public static toText(config: { [key: string]: any }): string {
    return renderDeepSpeedConfigFile(config);
  }

  /**
   * Merges `changes` into a copy of `target` recursively: objects merge key by key, anything else in
   * `changes` (arrays included) replaces the value in `target`.
   */
  public static deepMerge(target: { [key: string]: any }, changes: { [key: string]: any }): { [key: string]: any } {
    return deepMerge(target, changes);
  }

  private constructor() {}
}
