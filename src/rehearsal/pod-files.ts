import * as path from 'path';
import { ILaunchManifest, ReplicaManifest } from './manifest';

/** A file a pod gets from a ConfigMap volume. */
export interface ConfigMapFile {
  /** The mount it comes through. */
  readonly mountPath: string;
  /** The ConfigMap's name. */
  readonly configMapName: string;
  /** The key inside the ConfigMap. */
  readonly key: string;
  /** The file's content, when the ConfigMap is in the manifests and has the key. */
  readonly content?: string;
  /** Why the file would be missing, when it would be. */
  readonly problem?: string;
}

/**
 * Finds which ConfigMap key a pod sees at `filePath`: the mount whose path is the longest
 * prefix of the file, its volume, and the key the volume projects there. Returns undefined
 * when no ConfigMap volume is mounted over the path; `problem` says why the key is missing.
 */
export function configMapFileAt(job: ILaunchManifest, replica: ReplicaManifest, filePath: string): ConfigMapFile | undefined {
  const file = path.posix.normalize(filePath);
  const mounts: any[] = (replica.container.volumeMounts ?? [])
    .filter((m: any) => file === m.mountPath || file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`))
    .sort((a: any, b: any) => b.mountPath.length - a.mountPath.length);
  const mount = mounts[0];
  if (!mount) return undefined;
  const volume = (replica.podSpec.volumes ?? []).find((v: any) => v.name === mount.name);
  if (!volume?.configMap) return undefined;
  const configMapName: string = volume.configMap.name;
  const relative = mount.subPath !== undefined
    ? (file === mount.mountPath ? mount.subPath : undefined)
    : path.posix.relative(mount.mountPath, file);
  const items: any[] | undefined = volume.configMap.items;
  const key = items ? items.find(item => item.path === relative)?.key : relative;
  const base = { mountPath: mount.mountPath, configMapName, key: key ?? relative ?? '' };
  if (key === undefined) {
    return { ...base, problem: `volume ${volume.name} projects no item at ${relative ?? file}` };
  }
  const configMap = job.configMap(configMapName);
  if (!configMap) {
    return { ...base, problem: `ConfigMap ${configMapName} is not in the manifests` };
  }
  const content = configMap.data?.[key];
  if (content === undefined) {
    return { ...base, problem: `ConfigMap ${configMapName} has no key ${key} (keys: ${Object.keys(configMap.data ?? {}).join(', ') || 'none'})` };
  }
  return { ...base, content };
}
