import { compareQuantities, isNegativeQuantity, isWholeQuantity, parseQuantity, Quantity, sizeToQuantity } from '../quantity';
import { JobRule } from './context';
import { JobFacts, PodFacts, podSpecPath, specOf } from './facts';
import { error, Finding, show } from './finding';
import {
  isDns1123Label, isDns1123Subdomain, isEnvVarName, isLabelValue, isPortName, isQualifiedName, MAX_ANNOTATIONS_BYTES,
} from './kubernetes-syntax';
import { KUEUE_PRIORITY_LABEL, KUEUE_QUEUE_LABEL } from '../scheduling';
import { nodeSelectorProps } from './prop-rules';
import { readsWholeJob } from './shared-findings';
import { interconnectDeviceCount, recipeSshPort, resourceProp, storageVolumeNames } from './typed-features';

/** A container of a pod template with the JSON path it sits at. */
interface PlacedContainer {
  readonly pod: PodFacts;
  readonly path: string;
  readonly container: any;
  /** Whether this is containers[0], where the operator adds its own volumes and mounts. */
  readonly isMain: boolean;
}

/** Renders a map key as a path segment: `.cpu`, or `['nvidia.com/gpu']` when it needs quoting. */
function keyPath(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `['${key}']`;
}

/** Every container (init containers too) of every replica present in the manifest. */
function allContainers(ctx: JobFacts): PlacedContainer[] {
  return ctx.pods.flatMap(pod => {
    const spec = pod.template?.spec;
    if (!spec) return [];
    return ['initContainers', 'containers'].flatMap(list => ((spec[list] ?? []) as any[]).map((container, index) => ({
      pod,
      path: `${podSpecPath(pod)}.${list}[${index}]`,
      container,
      isMain: list === 'containers' && index === 0,
    })));
  });
}

/** Returns the values that occur more than once. */
function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((value, i) => values.indexOf(value) !== i))];
}

const NAME_SYNTAX = 'a DNS-1123 label (at most 63 lowercase letters, digits and \'-\', starting and ending with a letter or digit)';

/** Container names are DNS-1123 labels, unique within the pod (init containers included). */
const containerNames: JobRule = (ctx: JobFacts): Finding[] => {
  const containers = allContainers(ctx);
  const invalid = containers.filter(c => typeof c.container.name !== 'string' || !isDns1123Label(c.container.name))
    .map(c => error('kubernetes/container-names', {
      path: ctx.path,
      field: `${c.path}.name`,
      value: show(c.container.name),
      why: `the Kubernetes API server requires ${NAME_SYNTAX}`,
      fix: 'Rename the container.',
    }));
  const repeated = ctx.pods.flatMap(pod =>
    duplicates(containers.filter(c => c.pod === pod).map(c => c.container.name).filter(n => typeof n === 'string'))
      .map(name => error('kubernetes/container-names', {
        path: ctx.path,
        field: `${podSpecPath(pod)}.containers[].name`,
        value: show(name),
        why: 'the Kubernetes API server requires container names to be unique within a pod',
        fix: 'Rename one of the containers.',
      })));
  return [...invalid, ...repeated];
};

/** Volume names are DNS-1123 labels, unique, and not taken by the volumes the operator adds. */
const volumeNames: JobRule = (ctx: JobFacts): Finding[] =>
  ctx.pods.flatMap(pod => {
    const storage = storageVolumeNames(ctx);
    const volumes: any[] = specOf(pod).volumes ?? [];
    const names = volumes.map(v => v.name).filter(name => !storage.has(name));
    const invalid = volumes.flatMap((volume, index) => storage.has(volume.name) || (typeof volume.name === 'string' && isDns1123Label(volume.name)) ? [] : [
      error('kubernetes/volume-names', {
        path: ctx.path,
        field: `${podSpecPath(pod)}.volumes[${index}].name`,
        value: show(volume.name),
        why: `the Kubernetes API server requires ${NAME_SYNTAX}`,
        fix: 'Rename the volume.',
      })]);
    const repeated = duplicates(names).map(name => error('kubernetes/volume-names', {
      path: ctx.path,
      field: `${podSpecPath(pod)}.volumes[].name`,
      value: show(name),
      why: 'the Kubernetes API server requires volume names to be unique within a pod',
      fix: 'Rename one of the volumes.',
    }));
    const reserved = names.filter(name => pod.operatorVolumes.includes(name)).map(name => error('kubernetes/volume-names', {
      path: ctx.path,
      field: `${podSpecPath(pod)}.volumes[].name`,
      value: show(name),
      why: `${ctx.operator.name} adds a volume of that name, so the Kubernetes API server would reject the pod for a duplicate volume name`,
      fix: 'Rename the volume.',
    }));
    return [...invalid, ...repeated, ...reserved];
  });

/** Every mount names a declared volume, and no two mounts (the operator's included) share a path. */
const volumeMounts: JobRule = (ctx: JobFacts): Finding[] =>
  allContainers(ctx).flatMap(placed => {
    const volumes: any[] = specOf(placed.pod).volumes ?? [];
    const own: string[] = volumes.map(v => v.name);
    const declared = new Set([...own, ...placed.pod.operatorVolumes]);
    const storage = storageVolumeNames(ctx);
    const mounts = ((placed.container.volumeMounts ?? []) as any[])
      .map((mount, index) => ({ mount, index }))
      .filter(({ mount }) => !storage.has(mount.name));
    const undeclared = mounts.flatMap(({ mount, index }) => declared.has(mount.name) ? [] : [
      error('kubernetes/volume-mounts', {
        path: ctx.path,
        field: `${placed.path}.volumeMounts[${index}].name`,
        value: show(mount.name),
        why: 'the Kubernetes API server rejects a mount of a volume the pod does not declare',
        fix: `Add a volume named ${show(mount.name)} to the pod${own.length > 0 ? `, or mount one of ${own.map(show).join(', ')}` : ''}.`,
      })]);
    const paths = mounts.map(({ mount }) => mount.mountPath);
    const repeated = duplicates(paths).map(mountPath => error('kubernetes/volume-mounts', {
      path: ctx.path,
      field: `${placed.path}.volumeMounts[].mountPath`,
      value: show(mountPath),
      why: 'the Kubernetes API server requires mount paths to be unique within a container',
      fix: 'Mount the volumes at different paths.',
    }));
    const taken = placed.isMain ? placed.pod.operatorMountPaths : [];
    const collisions = paths.filter(p => taken.includes(p)).map(mountPath => error('kubernetes/volume-mounts', {
      path: ctx.path,
      field: `${placed.path}.volumeMounts[].mountPath`,
      value: show(mountPath),
      why: `${ctx.operator.name} mounts its own volume there, so the Kubernetes API server would reject the pod for a duplicate mount path`,
      fix: 'Mount the volume at a different path.',
    }));
    return [...undeclared, ...repeated, ...collisions];
  });

/** Port names are IANA service names, unique within a container; port numbers are 1 to 65535. */
const ports: JobRule = (ctx: JobFacts): Finding[] =>
  allContainers(ctx).flatMap(placed => {
    const list: any[] = placed.container.ports ?? [];
    const invalid = list.flatMap((port, index) => {
      const findings: Finding[] = [];
      if (port.name !== undefined && (typeof port.name !== 'string' || !isPortName(port.name))) {
        findings.push(error('kubernetes/ports', {
          path: ctx.path,
          field: `${placed.path}.ports[${index}].name`,
          value: show(port.name),
          why: 'the Kubernetes API server requires an IANA service name (at most 15 lowercase letters, digits and single \'-\', with at least one letter)',
          fix: 'Rename the port, e.g. \'ssh\'.',
        }));
      }
      const inRange = Number.isInteger(port.containerPort) && port.containerPort >= 1 && port.containerPort <= 65535;
      // The image's sshPort is reported under its prop (props/whole-numbers, or image/ssh-port for a recipe).
      if (!inRange && port.containerPort !== recipeSshPort(ctx) && port.containerPort !== ctx.image.sshPort) {
        findings.push(error('kubernetes/ports', {
          path: ctx.path,
          field: `${placed.path}.ports[${index}].containerPort`,
          value: show(port.containerPort),
          why: 'the Kubernetes API server requires a port number from 1 to 65535',
          fix: 'Use a port number from 1 to 65535 (sshd uses the image\'s sshPort).',
        }));
      }
      return findings;
    });
    const repeated = duplicates(list.map(p => p.name).filter(n => typeof n === 'string')).map(name => error('kubernetes/ports', {
      path: ctx.path,
      field: `${placed.path}.ports[].name`,
      value: show(name),
      why: 'the Kubernetes API server requires port names to be unique within a container',
      fix: 'Rename one of the ports.',
    }));
    return [...invalid, ...repeated];
  });

/** Resources Kubernetes accepts without a domain prefix. */
function isStandardContainerResource(name: string): boolean {
  return ['cpu', 'memory', 'ephemeral-storage'].includes(name) || name.startsWith('hugepages-');
}

/** Extended resources (GPUs, RDMA, EFA): names with a domain outside kubernetes.io. */
function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

/** A quantity of the manifest: parsed, or the finding that says why the API server would not take it. */
interface CheckedQuantity {
  readonly quantity?: Quantity;
  readonly finding?: Finding;
}

/** Parses one quantity of the manifest, or reports why the API server would not. */
function checkQuantity(ctx: JobFacts, rule: string, field: string, value: unknown): CheckedQuantity {
  const quantity = parseQuantity(value);
  if (quantity === undefined) {
    return { finding: error(rule, {
      path: ctx.path,
      field,
      value: show(value),
      why: 'the Kubernetes API server cannot parse it as a quantity',
      fix: 'Write a quantity such as \'4\', \'500m\' or \'32Gi\'.',
    }) };
  }
  if (isNegativeQuantity(quantity)) {
    return { finding: error(rule, {
      path: ctx.path,
      field,
      value: show(value),
      why: 'the Kubernetes API server rejects negative quantities',
      fix: 'Use 0 or more.',
    }) };
  }
  return { quantity };
}

/** Checks one resource of a container: syntax, then the extended-resource and request <= limit rules. */
function checkResource(ctx: JobFacts, placed: PlacedContainer, name: string): Finding[] {
  const resources = placed.container.resources ?? {};
  const base = `${placed.path}.resources`;
  const requestField = `${base}.requests${keyPath(name)}`;
  const limitField = `${base}.limits${keyPath(name)}`;
  if (!isQualifiedName(name) || (!name.includes('/') && !isStandardContainerResource(name))) {
    // Name the prop that gave the resource name, when one did.
    const prop = name === ctx.props.workers.gpuResourceName ? 'workers.gpuResourceName'
      : interconnectDeviceCount(ctx, name) !== undefined ? 'network.interconnect rdmaResource' : undefined;
    return [error('kubernetes/resources', {
      path: ctx.path,
      field: prop ?? `${base} name`,
      value: show(name),
      why: 'the Kubernetes API server accepts only cpu, memory, ephemeral-storage, hugepages-<size> or a domain-prefixed name such as \'nvidia.com/gpu\'',
      fix: prop === 'workers.gpuResourceName' ? 'Use the resource name the GPU device plugin registers, e.g. \'nvidia.com/gpu\' or \'amd.com/gpu\' (kubectl describe node lists it under Allocatable).'
        : prop !== undefined ? 'Use the resource name the RDMA device plugin registers, e.g. \'rdma/hca_shared_devices_a\' (kubectl describe node lists it under Allocatable).'
          : 'Use the resource name the device plugin registers (workers.gpuResourceName for GPUs).',
    })];
  }
  const rawRequest = resources.requests?.[name];
  const rawLimit = resources.limits?.[name];
  const typedDevices = interconnectDeviceCount(ctx, name);
  if (typedDevices !== undefined && Object.is(rawRequest, typedDevices) && Object.is(rawLimit, typedDevices)) return [];
  // Name the props the amounts came from; GPU counts that are not whole are reported by props/whole-numbers.
  const requestProp = placed.isMain ? resourceProp(ctx, placed.pod, 'requests', name, rawRequest) : undefined;
  const limitProp = placed.isMain ? resourceProp(ctx, placed.pod, 'limits', name, rawLimit) : undefined;
  if (name === ctx.launch.gpuResourceName && requestProp !== undefined && requestProp === limitProp
    && !(Number.isInteger(rawRequest) && rawRequest >= 0)) return [];
  const request = rawRequest === undefined ? {} : checkQuantity(ctx, 'kubernetes/resources', requestProp ?? requestField, rawRequest);
  const limit = rawLimit === undefined ? {} : checkQuantity(ctx, 'kubernetes/resources', limitProp ?? limitField, rawLimit);
  const broken = [request.finding, limit.finding].filter((f): f is Finding => f !== undefined);
  if (broken.length > 0) return broken;
  const requestQuantity = request.quantity;
  const limitQuantity = limit.quantity;
  if (isExtendedResource(name)) {
    const fractional = ([[requestField, rawRequest, requestQuantity], [limitField, rawLimit, limitQuantity]] as const)
      .filter(([, , q]) => q !== undefined && !isWholeQuantity(q))
      .map(([field, raw]) => error('kubernetes/resources', {
        path: ctx.path,
        field,
        value: show(raw),
        why: 'the Kubernetes API server accepts only whole numbers of an extended resource such as a GPU',
        fix: 'Use a whole number.',
      }));
    if (fractional.length > 0) return fractional;
    if (limitQuantity === undefined) {
      return [error('kubernetes/resources', {
        path: ctx.path,
        field: limitField,
        value: `not set but the request is ${show(rawRequest)}`,
        why: 'the Kubernetes API server requires a limit for an extended resource such as a GPU',
        fix: `Set the limit to ${show(rawRequest)} as well.`,
      })];
    }
    if (requestQuantity !== undefined && compareQuantities(requestQuantity, limitQuantity) !== 0) {
      return [error('kubernetes/resources', {
        path: ctx.path,
        field: requestField,
        value: `${show(rawRequest)} but the limit is ${show(rawLimit)}`,
        why: 'the Kubernetes API server requires the request of an extended resource such as a GPU to equal its limit',
        fix: 'Set request and limit to the same number (gpusPerWorker sets both).',
      })];
    }
    return [];
  }
  if (requestQuantity !== undefined && limitQuantity !== undefined && compareQuantities(requestQuantity, limitQuantity) > 0) {
    if (requestProp !== undefined && limitProp !== undefined) {
      return [error('kubernetes/resources', {
        path: ctx.path,
        field: limitProp,
        value: `${show(rawLimit)} but ${requestProp} is ${show(rawRequest)}`,
        why: 'the Kubernetes API server rejects a request above its limit',
        fix: `Raise ${limitProp} to at least ${show(rawRequest)} or lower ${requestProp}.`,
      })];
    }
    return [error('kubernetes/resources', {
      path: ctx.path,
      field: requestField,
      value: `${show(rawRequest)} but the limit is ${show(rawLimit)}`,
      why: 'the Kubernetes API server rejects a request above its limit',
      fix: `Raise the limit to at least ${show(rawRequest)} or lower the request.`,
    })];
  }
  return [];
}

/** Resource names and quantities parse, extended resources are whole with request == limit, requests <= limits. */
const resources: JobRule = (ctx: JobFacts): Finding[] =>
  allContainers(ctx).flatMap(placed => {
    const names = new Set([
      ...Object.keys(placed.container.resources?.requests ?? {}),
      ...Object.keys(placed.container.resources?.limits ?? {}),
    ]);
    return [...names].flatMap(name => checkResource(ctx, placed, name));
  });

/** Quantities outside container resources: emptyDir size limits and the gang-scheduling minimum resources. */
const otherQuantities: JobRule = (ctx: JobFacts): Finding[] => {
  const fields: Array<[string, unknown]> = ctx.pods.flatMap(pod =>
    ((specOf(pod).volumes ?? []) as any[])
      .map((volume, index): [string, unknown] => [`${podSpecPath(pod)}.volumes[${index}].emptyDir.sizeLimit`, volume.emptyDir?.sizeLimit])
      // The /dev/shm size workers.sharedMemorySize renders is reported under the prop (props/sizes).
      .filter(([, value]) => value !== undefined && !(ctx.props.workers.sharedMemorySize !== undefined && value === sizeToQuantity(ctx.props.workers.sharedMemorySize))));
  const minResources = ctx.manifest.spec?.runPolicy?.schedulingPolicy?.minResources ?? {};
  for (const [name, value] of Object.entries(minResources)) {
    fields.push([`spec.runPolicy.schedulingPolicy.minResources${keyPath(name)}`, value]);
  }
  return fields.flatMap(([field, value]) => checkQuantity(ctx, 'kubernetes/quantities', field, value).finding ?? []);
};

const KEY_SYNTAX = 'a qualified name: an optional DNS subdomain prefix and \'/\', then at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit';
const VALUE_SYNTAX = 'at most 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending with a letter or digit (or empty)';

/**
 * Checks the keys (and, for label-like maps, the values) of one string map. `typed` is the map a
 * prop wrote and its name (`workers.podLabels`): entries it still holds are reported under it.
 */
function checkStringMap(ctx: JobFacts, field: string, map: { [key: string]: unknown } | undefined, checkValues: boolean,
  typed?: [string, { [key: string]: string } | undefined]): Finding[] {
  return Object.entries(map ?? {}).flatMap(([key, value]) => {
    const fromProp = typed?.[1] !== undefined && Object.prototype.hasOwnProperty.call(typed[1], key) && typed[1][key] === value;
    const name = fromProp ? typed![0] : field;
    if (!isQualifiedName(key)) {
      return [error('kubernetes/labels', {
        path: ctx.path,
        field: `${name} key`,
        value: show(key),
        why: `the Kubernetes API server requires ${KEY_SYNTAX}`,
        fix: 'Rename the key, e.g. \'example.com/team\'.',
      })];
    }
    if (typeof value !== 'string' || (checkValues && !isLabelValue(value))) {
      return [error('kubernetes/labels', {
        path: ctx.path,
        field: `${name}${keyPath(key)}`,
        value: show(value),
        why: checkValues ? `the Kubernetes API server requires ${VALUE_SYNTAX}` : 'the Kubernetes API server requires a string',
        fix: checkValues ? 'Shorten or rewrite the value.' : 'Quote the value.',
      })];
    }
    return [];
  });
}

/** Annotations of one object may not exceed 256 KiB in total. */
function checkAnnotationSize(ctx: JobFacts, field: string, annotations: { [key: string]: unknown } | undefined): Finding[] {
  const bytes = Object.entries(annotations ?? {})
    .reduce((sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(String(value)), 0);
  if (bytes <= MAX_ANNOTATIONS_BYTES) return [];
  return [error('kubernetes/labels', {
    path: ctx.path,
    field,
    value: `${bytes} bytes`,
    why: 'the Kubernetes API server limits the annotations of an object to 262144 bytes in total',
    fix: 'Move large values into a ConfigMap.',
  })];
}

/** A pod's nodeSelector without the entries the node-selecting props wrote (checked by props/names). */
function withoutTypedNodeLabels(ctx: JobFacts, map: { [key: string]: unknown } | undefined): { [key: string]: unknown } | undefined {
  if (!map) return map;
  const typed = nodeSelectorProps(ctx).map(([, m]) => m);
  return Object.fromEntries(Object.entries(map).filter(([key, value]) => !typed.some(m => m[key] === value)));
}

/** The job's labels without the Kueue labels scheduling.kueue writes (checked by queueing rules under its props). */
function withoutKueueLabels(ctx: JobFacts, labels: { [key: string]: unknown } | undefined): { [key: string]: unknown } | undefined {
  const kueue = ctx.props.scheduling?.kueue;
  if (!labels || !kueue) return labels;
  const typed: { [key: string]: unknown } = { [KUEUE_QUEUE_LABEL]: kueue.queueName, [KUEUE_PRIORITY_LABEL]: kueue.priorityClass };
  return Object.fromEntries(Object.entries(labels).filter(([key, value]) => !(key in typed && typed[key] === value)));
}

/** Label and annotation syntax on the MPIJob. */
const labels: JobRule = readsWholeJob((ctx: JobFacts): Finding[] => {
  const metadata = ctx.manifest.metadata ?? {};
  return [
    ...checkStringMap(ctx, 'metadata.labels', withoutKueueLabels(ctx, metadata.labels), true),
    ...checkStringMap(ctx, 'metadata.annotations', metadata.annotations, false),
    ...checkAnnotationSize(ctx, 'metadata.annotations', metadata.annotations),
  ];
});

/** Label, annotation and nodeSelector syntax on the pod templates. */
const podLabels: JobRule = (ctx: JobFacts): Finding[] => {
  const findings: Finding[] = [];
  for (const pod of ctx.pods) {
    const template = pod.template;
    if (!template) continue;
    const base = pod.path;
    // A launcher that hosts ranks does not inherit the workers' pod labels: each pod's own prop.
    const own = pod.prop === 'launcher' ? ctx.props.launcher : ctx.props.workers;
    findings.push(
      ...checkStringMap(ctx, `${base}.metadata.labels`, template.metadata?.labels, true, [`${pod.prop}.podLabels`, own?.podLabels]),
      ...checkStringMap(ctx, `${base}.metadata.annotations`, template.metadata?.annotations, false, [`${pod.prop}.podAnnotations`, own?.podAnnotations]),
      ...checkAnnotationSize(ctx, `${base}.metadata.annotations`, template.metadata?.annotations),
      ...checkStringMap(ctx, `${base}.spec.nodeSelector`, withoutTypedNodeLabels(ctx, template.spec?.nodeSelector), true),
    );
  }
  return findings;
};

/** Environment variable names; a name `env` gave is reported under it, once. */
const envNames: JobRule = (ctx: JobFacts): Finding[] =>
  allContainers(ctx).flatMap(placed => ((placed.container.env ?? []) as any[]).flatMap((variable, index) =>
    typeof variable.name === 'string' && isEnvVarName(variable.name) ? [] : [error('kubernetes/env-names', {
      path: ctx.path,
      field: typeof variable.name === 'string' && Object.prototype.hasOwnProperty.call(ctx.props.env ?? {}, variable.name)
        ? 'env key' : `${placed.path}.env[${index}].name`,
      value: show(variable.name),
      why: 'the Kubernetes API server requires letters, digits, \'_\', \'-\' or \'.\', not starting with a digit',
      fix: 'Rename the variable, e.g. \'NCCL_DEBUG\'.',
    })]));

/** The namespace is a DNS-1123 label. */
const namespace: JobRule = readsWholeJob((ctx: JobFacts): Finding[] => {
  const value = ctx.manifest.metadata?.namespace;
  if (value === undefined || (typeof value === 'string' && isDns1123Label(value))) return [];
  return [error('kubernetes/namespace', {
    path: ctx.path,
    field: 'metadata.namespace',
    value: show(value),
    why: `the Kubernetes API server requires ${NAME_SYNTAX}`,
    fix: 'Use an existing namespace\'s name.',
  })];
});

/** The toleration fields the API server checks, for tolerations an escape hatch or a method wrote (props/names checks the props'). */
const tolerations: JobRule = (ctx: JobFacts): Finding[] => {
  // Compared field by field: the rendered manifest need not keep the props' key order.
  const canonical = (t: any) => JSON.stringify(['key', 'operator', 'value', 'effect', 'tolerationSeconds'].map(k => t[k] ?? null));
  const typed = new Set([...(ctx.props.workers.tolerations ?? []), ...(ctx.props.launcher?.tolerations ?? [])]
    .map(t => canonical(t._toKube())));
  return ctx.pods.flatMap(pod => ((specOf(pod).tolerations ?? []) as any[]).flatMap((t, index) => {
    if (t === null || typeof t !== 'object' || typed.has(canonical(t))) return [];
    const field = `${podSpecPath(pod)}.tolerations[${index}]`;
    const problem = (suffix: string, value: unknown, why: string, fix: string) => [error('kubernetes/tolerations', {
      path: ctx.path, field: `${field}.${suffix}`, value: show(value), why: `the Kubernetes API server rejects the pod: ${why}`, fix,
    })];
    const key = t.key ?? '';
    const operator = t.operator ?? 'Equal';
    if (key !== '' && !isQualifiedName(key)) {
      return problem('key', key, `a taint key is ${KEY_SYNTAX}`, 'Use the taint key as kubectl describe node shows it, e.g. \'nvidia.com/gpu\'.');
    }
    if (!['Equal', 'Exists'].includes(operator)) {
      return problem('operator', t.operator, 'the operator is Equal or Exists', 'Set operator to \'Exists\' or \'Equal\'.');
    }
    if (key === '' && operator !== 'Exists') {
      return problem('key', key, 'operator must be Exists when `key` is empty', 'Give the taint key, or set operator to \'Exists\' to tolerate every taint.');
    }
    if (operator === 'Exists' && (t.value ?? '') !== '') {
      return problem('value', t.value, 'value must be empty when `operator` is \'Exists\'', 'Remove the value, or set operator to \'Equal\'.');
    }
    if (typeof (t.value ?? '') !== 'string' || !isLabelValue(t.value ?? '')) {
      return problem('value', t.value, `a taint value is ${VALUE_SYNTAX}`, 'Use the taint value as kubectl describe node shows it.');
    }
    if (t.effect !== undefined && !['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      return problem('effect', t.effect, 'the effect is NoSchedule, PreferNoSchedule or NoExecute', 'Set effect to one of these, or remove it to tolerate every effect.');
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      return problem('tolerationSeconds', t.tolerationSeconds, 'effect must be \'NoExecute\' when `tolerationSeconds` is set', 'Set effect to \'NoExecute\', or remove tolerationSeconds.');
    }
    if (t.tolerationSeconds !== undefined && !Number.isInteger(t.tolerationSeconds)) {
      return problem('tolerationSeconds', t.tolerationSeconds, 'tolerationSeconds is a whole number of seconds', 'Use whole seconds.');
    }
    return [];
  }));
};

/** Names of objects a pod refers to, as an escape hatch wrote them (the props' own are checked under their names). */
const podReferences: JobRule = (ctx: JobFacts): Finding[] => ctx.pods.flatMap(pod => {
  const spec = specOf(pod);
  const given: Array<[string, unknown, string | undefined, string]> = [
    ['serviceAccountName', spec.serviceAccountName, ctx.props.security?.serviceAccountName, 'ServiceAccount'],
    ['priorityClassName', spec.priorityClassName, ctx.props.scheduling?.priorityClassName, 'PriorityClass'],
  ];
  return given.flatMap(([key, value, typed, kind]) => value === undefined || value === typed || (typeof value === 'string' && isDns1123Subdomain(value)) ? []
    : [error('kubernetes/names', {
      path: ctx.path,
      field: `${podSpecPath(pod)}.${key}`,
      value: show(value),
      why: `the API server rejects pods whose ${key} is not a DNS subdomain name (lowercase letters, digits, '-' and '.'), the form ${kind} names take`,
      fix: `Remove the JSON patch, or give the name of a ${kind} as kubectl get ${kind.toLowerCase()}${kind.endsWith('s') ? 'es' : 's'} shows it.`,
    })]);
});

/** What the Kubernetes API server checks on the MPIJob and on the pods the operator creates from it. */
export const KUBERNETES_RULES: JobRule[] = [
  namespace, labels, podLabels, containerNames, volumeNames, volumeMounts, ports, envNames, resources, otherQuantities, tolerations, podReferences,
];
