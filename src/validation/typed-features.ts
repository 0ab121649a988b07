import { cpuToQuantity, sizeToQuantity } from '../quantity';
import { JobFacts, PodFacts } from './facts';

/*
 * Values that typed feature props render into the manifest and that the features' own rules
 * (storage-rules, network-rules, queueing-rules, image-rules) already check under the props' names. The
 * manifest-wide Kubernetes and scheduling rules skip exactly these values, so each problem is
 * reported once, in the words the user wrote; escape-hatch values are still checked.
 */

/** Names of the volumes `storage.volumes` adds (checked by storage/volume-name and storage/mount-path). */
export function storageVolumeNames(ctx: JobFacts): Set<string> {
  return new Set((ctx.props.storage?.volumes ?? []).map(volume => volume.name));
}

/** The device count `network.interconnect` requests for a resource (checked by network/device-count). */
export function interconnectDeviceCount(ctx: JobFacts, resource: string): number | undefined {
  return ctx.props.network?.interconnect?.devices[resource];
}

/** The minAvailable `scheduling.gangScheduling` renders (checked by gang/min-available). */
export function gangMinAvailable(ctx: JobFacts): number | undefined {
  return ctx.launch.gangMinAvailable;
}

/** The sshd port of an image recipe, which validates itself (checked by image/ssh-port); undefined for a prebuilt image. */
export function recipeSshPort(ctx: JobFacts): number | undefined {
  return ctx.image.isRecipe ? ctx.image.sshPort : undefined;
}

/**
 * The prop a rendered resource amount of a pod's main container came from (`workers.cpuLimit`,
 * `launcher.gpus`), when the manifest still holds the value that prop renders; undefined for
 * defaults the user did not write and for values an escape hatch changed.
 */
export function resourceProp(ctx: JobFacts, pod: PodFacts, kind: 'requests' | 'limits', name: string, rendered: unknown): string | undefined {
  const own = pod.prop === 'launcher' ? ctx.props.launcher : ctx.props.workers;
  // A launcher that hosts ranks takes the workers' CPU and memory unless its own are set.
  const inherited = pod.prop === 'launcher' && ctx.launch.launcherHostsRanks ? ctx.props.workers : undefined;
  const pick = (props: any, prefix: string): [string, unknown] | undefined => {
    if (!props) return undefined;
    if (name === 'cpu' || name === 'memory') {
      const limitKey = `${name}Limit`;
      const key = kind === 'limits' && props[limitKey] !== undefined ? limitKey : name;
      if (props[key] === undefined) return undefined;
      return [`${prefix}.${key}`, name === 'cpu' ? cpuToQuantity(props[key]) : sizeToQuantity(props[key])];
    }
    if (name === ctx.launch.gpuResourceName) {
      const key = prefix === 'launcher' ? 'gpus' : 'gpusPerWorker';
      return props[key] === undefined ? undefined : [`${prefix}.${key}`, props[key]];
    }
    return undefined;
  };
  const found = pick(own, pod.prop) ?? (name === ctx.launch.gpuResourceName && pod.prop === 'launcher'
    ? (inherited && ctx.props.launcher?.gpus === undefined ? pick(inherited, 'workers') : undefined)
    : (inherited && (ctx.props.launcher as any)?.[name] === undefined && (ctx.props.launcher as any)?.[`${name}Limit`] === undefined ? pick(inherited, 'workers') : undefined));
  return found && Object.is(found[1], rendered) ? found[0] : undefined;
}
