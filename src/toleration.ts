import { Duration } from 'cdk8s';
import * as mpi from '../imports/kubeflow.org';

/**
 * What a taint does to pods that do not tolerate it.
 */
export enum TaintEffect {
  /** New pods are not scheduled onto the node. */
  NO_SCHEDULE = 'NoSchedule',
  /** The scheduler tries to keep new pods off the node. */
  PREFER_NO_SCHEDULE = 'PreferNoSchedule',
  /** New pods are not scheduled, and running pods are evicted. */
  NO_EXECUTE = 'NoExecute',
}

/**
 * Options of a toleration.
 */
export interface TolerationOptions {
  /**
   * The taint effect tolerated.
   * @default - every effect
   */
  readonly effect?: TaintEffect;
  /**
   * With `TaintEffect.NO_EXECUTE`, how long the pod stays on the node after the taint appears
   * (`tolerationSeconds`).
   * @default - forever
   */
  readonly evictAfter?: Duration;
}

/**
 * A taint the pods tolerate, so they can run on tainted nodes such as GPU node pools.
 */
export class Toleration {
  /** Tolerates the taint `key=value` (operator `Equal`). */
  public static equal(key: string, value: string, options: TolerationOptions = {}): Toleration {
    return new Toleration({ key, operator: 'Equal', value }, options);
  }

  /** Tolerates every taint with this key, whatever its value (operator `Exists`). */
  public static exists(key: string, options: TolerationOptions = {}): Toleration {
    return new Toleration({ key, operator: 'Exists' }, options);
  }

  /** Tolerates every taint (operator `Exists` without a key). */
  public static all(options: TolerationOptions = {}): Toleration {
    return new Toleration({ operator: 'Exists' }, options);
  }

  /**
   * Tolerates the `nvidia.com/gpu` NoSchedule taint that GPU node pools carry (as
   * `nvidia.com/gpu=present` or with any other value).
   */
  public static nvidiaGpu(): Toleration {
    return Toleration.exists('nvidia.com/gpu', { effect: TaintEffect.NO_SCHEDULE });
  }

  /** The taint key, if the toleration names one. */
  public readonly key?: string;
  /** The taint value, for an `Equal` toleration. */
  public readonly value?: string;
  /** The effect tolerated, if only one. */
  public readonly effect?: TaintEffect;

  /**
   * How long a pod stays on a node after a NoExecute taint appears.
   * @default - no limit
   */
  public readonly evictAfter?: Duration;

  private readonly operator: string;

  private constructor(match: { key?: string; operator: string; value?: string }, options: TolerationOptions) {
    this.key = match.key;
    this.operator = match.operator;
    this.value = match.value;
    this.effect = options.effect;
    // evictAfter without effect NO_EXECUTE is reported by the job's validation (props/names),
    // which names the prop (`workers.tolerations[0] evictAfter`) and the job's path.
    this.evictAfter = options.evictAfter;
  }

  /**
   * The pod-template toleration.
   * @internal
   */
  public _toKube(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecTolerations {
    return {
      key: this.key,
      operator: this.operator,
      value: this.value,
      effect: this.effect,
      tolerationSeconds: this.evictAfter?.toSeconds({ integral: false }),
    };
  }
}

/**
 * A requirement on node labels (a match expression of required node affinity).
 */
export class NodeLabelQuery {
  /** The label `key` has this value. */
  public static equal(key: string, value: string): NodeLabelQuery {
    return new NodeLabelQuery(key, 'In', [value]);
  }

  /** The label `key` has one of these values. */
  public static inValues(key: string, values: string[]): NodeLabelQuery {
    return new NodeLabelQuery(key, 'In', values);
  }

  /** The label `key` is missing or has none of these values. */
  public static notInValues(key: string, values: string[]): NodeLabelQuery {
    return new NodeLabelQuery(key, 'NotIn', values);
  }

  /** The node has the label `key`. */
  public static exists(key: string): NodeLabelQuery {
    return new NodeLabelQuery(key, 'Exists', undefined);
  }

  /** The node lacks the label `key`. */
  public static doesNotExist(key: string): NodeLabelQuery {
    return new NodeLabelQuery(key, 'DoesNotExist', undefined);
  }

  /** The label `key` is an integer greater than `value`. */
  public static greaterThan(key: string, value: number): NodeLabelQuery {
    return new NodeLabelQuery(key, 'Gt', [`${value}`]);
  }

  /** The label `key` is an integer less than `value`. */
  public static lessThan(key: string, value: number): NodeLabelQuery {
    return new NodeLabelQuery(key, 'Lt', [`${value}`]);
  }

  /** The label key. */
  public readonly key: string;
  private readonly operator: string;
  /** The values compared, if the operator takes any. */
  public readonly values?: string[];

  private constructor(key: string, operator: string, values: string[] | undefined) {
    this.key = key;
    this.operator = operator;
    this.values = values ? [...values] : undefined;
  }

  /**
   * The node selector match expression.
   * @internal
   */
  public _toKube(): mpi.MpiJobSpecMpiReplicaSpecsTemplateSpecAffinityNodeAffinityRequiredDuringSchedulingIgnoredDuringExecutionNodeSelectorTermsMatchExpressions {
    return { key: this.key, operator: this.operator, values: this.values ? [...this.values] : undefined };
  }
}
