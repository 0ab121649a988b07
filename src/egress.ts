/**
 * Egress of a job's NetworkPolicy: what the job itself needs (DNS, its own pods) and the
 * destinations the user lists. NetworkPolicies add up, so in a namespace whose policies deny
 * egress by default these rules are what lets the launcher resolve and reach its workers.
 */

/** Network protocol of an egress port. */
export enum EgressProtocol {
  /** TCP. */
  TCP = 'TCP',
  /** UDP. */
  UDP = 'UDP',
}

/** A destination port (NetworkPolicy `ports` entry). */
export class EgressPort {
  /** A TCP port, e.g. 443 for HTTPS (the Hugging Face hub, S3, a registry). */
  public static tcp(port: number): EgressPort {
    return new EgressPort(EgressProtocol.TCP, port);
  }

  /** A UDP port. */
  public static udp(port: number): EgressPort {
    return new EgressPort(EgressProtocol.UDP, port);
  }

  private constructor(
    /** The protocol. */
    public readonly protocol: EgressProtocol,
    /** The port number. */
    public readonly port: number,
  ) {}
}

/** Options of an IP-block destination. */
export interface CidrDestinationOptions {
  /**
   * CIDRs inside the block that stay closed (e.g. the cluster's pod and service ranges).
   * @default - none
   */
  readonly exceptCidrs?: string[];
  /**
   * Ports allowed.
   * @default - every port and protocol
   */
  readonly ports?: EgressPort[];
}

/** Options of a pod destination. */
export interface PodDestinationOptions {
  /**
   * Labels of the destination pods.
   * @default - every pod of the selected namespaces
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Namespace of the destination pods, by name (`kubernetes.io/metadata.name`).
   * @default - the job's namespace, unless `namespaceLabels` is set
   */
  readonly namespaceName?: string;
  /**
   * Labels of the destination pods' namespaces.
   * @default - the job's namespace, unless `namespaceName` is set
   */
  readonly namespaceLabels?: { [key: string]: string };
  /**
   * Ports allowed.
   * @default - every port and protocol
   */
  readonly ports?: EgressPort[];
}

/**
 * A place the job's pods may connect to besides DNS and each other: a data store, an object
 * store, a package index, the Hugging Face hub, an experiment tracker. NetworkPolicies select by
 * address and pod labels only, never by host name: reach an external service by its CIDRs (or
 * `0.0.0.0/0` on port 443), or through an egress proxy selected by its pod labels.
 */
export class EgressDestination {
  /** Addresses in a CIDR block (`ipBlock`), e.g. `10.20.0.0/16` for a storage network. */
  public static cidr(cidr: string, options: CidrDestinationOptions = {}): EgressDestination {
    return new EgressDestination({ ipBlock: { cidr, except: options.exceptCidrs } }, options.ports, `cidr ${cidr}`);
  }

  /** Pods selected by labels, in the job's namespace or in other namespaces. */
  public static pods(options: PodDestinationOptions): EgressDestination {
    const namespaceLabels = options.namespaceName !== undefined
      ? { ...options.namespaceLabels, 'kubernetes.io/metadata.name': options.namespaceName }
      : options.namespaceLabels;
    const peer: { [key: string]: any } = { podSelector: options.podLabels ? { matchLabels: options.podLabels } : {} };
    if (namespaceLabels !== undefined) peer.namespaceSelector = { matchLabels: namespaceLabels };
    return new EgressDestination(peer, options.ports, `pods ${JSON.stringify(options.podLabels ?? {})}`);
  }

  private constructor(
    private readonly peer: { [key: string]: any },
    /**
     * Ports allowed.
     * @default - every port
     */
    public readonly ports: EgressPort[] | undefined,
    /** How messages name the destination. */
    public readonly description: string,
  ) {}

  /** The CIDRs the destination names (the block and its exceptions); empty for pods. */
  public get cidrs(): string[] {
    return this.peer.ipBlock ? [this.peer.ipBlock.cidr, ...(this.peer.ipBlock.except ?? [])] : [];
  }

  /**
   * The NetworkPolicy egress rule.
   * @internal
   */
  public _toRule(): any {
    // Drop undefined fields: the rule goes into the manifest as a JSON patch value.
    return JSON.parse(JSON.stringify({ to: [this.peer], ports: renderPorts(this.ports) }));
  }
}

/**
 * Egress rules of a job's NetworkPolicy.
 */
export interface JobEgressOptions {
  /**
   * Destinations beyond DNS and the job's own pods.
   * @default - none: the pods reach DNS and each other only
   */
  readonly destinations?: EgressDestination[];
  /**
   * Namespace of the cluster DNS pods.
   * @default 'kube-system'
   */
  readonly dnsNamespace?: string;
  /**
   * Labels of the cluster DNS pods; CoreDNS keeps kube-dns's label.
   * @default { 'k8s-app': 'kube-dns' }
   */
  readonly dnsPodLabels?: { [key: string]: string };
}

function renderPorts(ports: EgressPort[] | undefined): any[] | undefined {
  return ports && ports.length > 0 ? ports.map(p => ({ protocol: p.protocol, port: p.port })) : undefined;
}

/**
 * The egress rules: DNS to the cluster DNS pods (UDP and TCP 53: large answers and some
 * resolvers use TCP), every TCP port to the job's own pods (ssh, mpirun's callbacks, NCCL and
 * the rendezvous), then the listed destinations.
 * @internal
 */
export function renderEgressRules(peerLabels: { [key: string]: string }, options: JobEgressOptions): any[] {
  return [
    {
      to: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': options.dnsNamespace ?? 'kube-system' } },
        podSelector: { matchLabels: options.dnsPodLabels ?? { 'k8s-app': 'kube-dns' } },
      }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    },
    { to: [{ podSelector: { matchLabels: { ...peerLabels } } }], ports: [{ protocol: 'TCP' }] },
    ...(options.destinations ?? []).map(d => d._toRule()),
  ];
}
