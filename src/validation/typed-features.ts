import { JobFacts } from './facts';

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
