import { IConstruct } from 'constructs';
import { Finding } from './finding';

/*
 * One mistake, one message: the jobs of a sweep are made from one base, so a mistake in the base
 * shows in every job, each under its own path. A finding every job of the group has (the same
 * message but for the job's path) is reported once by the group, at its own path, and by no job.
 */

/** Each construct's findings as its validation computes them (memoized there). */
const checks = new WeakMap<IConstruct, () => Finding[]>();
const groups = new WeakMap<IConstruct, FindingsGroup>();

/**
 * Records the check a construct's validation runs, so that its group can read its findings.
 * @internal
 */
export function _recordCheck(scope: IConstruct, check: () => Finding[]): void {
  checks.set(scope, check);
}

/**
 * The group a job belongs to, if any.
 * @internal
 */
export function _groupOf(scope: IConstruct): FindingsGroup | undefined {
  return groups.get(scope);
}

/** A finding's text without the job's path, with its severity: equal for the same mistake in two jobs. */
function keyOf(job: IConstruct, finding: Finding): string | undefined {
  const prefix = `${job.node.path}: `;
  return finding.message.startsWith(prefix) ? `${finding.severity}\u0000${finding.message.slice(prefix.length)}` : undefined;
}

/**
 * Jobs made from one base (a sweep's points), whose shared findings are reported once.
 * @internal
 */
export class FindingsGroup {
  private readonly jobs: IConstruct[] = [];
  /** The last computation: each job's findings it read, and the findings they all have, by key. */
  private computed?: { readonly inputs: Map<IConstruct, Finding[]>; readonly common: Map<string, Finding> };

  /**
   * @param owner the construct that reports the shared findings (the sweep)
   * @param field renders the text of a shared message without a path, e.g. with `baseJob.` before the prop
   */
  public constructor(private readonly owner: IConstruct, private readonly field: (text: string) => string) {}

  /** Adds a job to the group. */
  public add(job: IConstruct): void {
    this.jobs.push(job);
    groups.set(job, this);
  }

  /**
   * The findings every job has, addressed to the owner. The owner's validation calls it, which
   * cdk8s runs before its jobs' (parents first): a valid sweep reads one job's findings only.
   */
  public findings(): Finding[] {
    const inputs = new Map<IConstruct, Finding[]>();
    let common = new Map<string, Finding>();
    if (this.jobs.length >= 2) {
      for (const [i, job] of this.jobs.entries()) {
        const findings = checks.get(job)?.() ?? [];
        inputs.set(job, findings);
        const keys = new Map<string, Finding>();
        for (const finding of findings) {
          const key = keyOf(job, finding);
          if (key !== undefined && (i === 0 || common.has(key))) keys.set(key, finding);
        }
        common = keys;
        if (common.size === 0) break;
      }
    }
    this.computed = { inputs, common };
    return [...common.entries()].map(([key, finding]) => ({
      ...finding,
      message: `${this.owner.node.path}: ${this.field(key.slice(key.indexOf('\u0000') + 1))}`,
    }));
  }

  /**
   * Whether the group reports this finding of `job` instead of the job: only when the group's
   * last computation read these very findings of the job (else the job reports all its own).
   */
  public reports(job: IConstruct, findings: Finding[], finding: Finding): boolean {
    const computed = this.computed;
    if (computed === undefined || computed.common.size === 0 || computed.inputs.get(job) !== findings) return false;
    const key = keyOf(job, finding);
    return key !== undefined && computed.common.has(key);
  }
}
