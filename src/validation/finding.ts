/** How bad a finding is. */
export enum Severity {
  /** The operator, Kubernetes or DeepSpeed would reject the job: synth fails. */
  ERROR = 'error',
  /** Legal but almost certainly wrong: reported, and fails synth only in strict mode. */
  WARNING = 'warning',
}

/**
 * One problem found in a job.
 */
export interface Finding {
  /** How bad it is. */
  readonly severity: Severity;
  /** Stable identifier of the rule, e.g. `operator/launcher-gpus`. */
  readonly rule: string;
  /** The full message: path, field, value, why, fix. */
  readonly message: string;
}

/**
 * The parts of a message. Rendered as `<path>: <field> is <value>: <why>. <fix>`.
 */
export interface FindingText {
  /** Construct path of the job. */
  readonly path: string;
  /** The user-facing field, e.g. `workers.gpusPerWorker`. */
  readonly field: string;
  /** The offending value as it should read in the message; use `show()` for raw values. */
  readonly value: string;
  /** Why it fails, naming the component that would reject it. */
  readonly why: string;
  /** What to do instead. */
  readonly fix: string;
}

/** Renders a value for a message: strings verbatim in quotes, everything else as JSON. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'not set';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value);
}

/** Formats the message of a finding. */
export function formatFinding(text: FindingText): string {
  return `${text.path}: ${text.field} is ${text.value}: ${text.why}. ${text.fix}`;
}

/** Builds an error finding. */
export function error(rule: string, text: FindingText): Finding {
  return { severity: Severity.ERROR, rule, message: formatFinding(text) };
}

/** Builds a warning finding. */
export function warning(rule: string, text: FindingText): Finding {
  return { severity: Severity.WARNING, rule, message: formatFinding(text) };
}

/** `1 GPU`, `2 GPUs`: a count with its noun, for messages. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
