import type { DeepSpeedMpiJob } from '../job';
import { JobContext, JobRule } from './context';
import { Finding, Severity } from './finding';
import { LAUNCH_RULES } from './launch-rules';
import { OPERATOR_RULES } from './operator-rules';

export * from './finding';
export * from './context';

/** Every rule a job is checked against, in report order. */
export const ALL_RULES: JobRule[] = [...OPERATOR_RULES, ...LAUNCH_RULES];

/**
 * Context key that turns warnings into errors (e.g. `app.node.setContext(WARNINGS_AS_ERRORS_CONTEXT, true)`).
 * The environment variable CDK8S_DEEPSPEED_WARNINGS_AS_ERRORS=1 does the same, for CI.
 */
export const WARNINGS_AS_ERRORS_CONTEXT = 'cdk8s-deepspeed:warningsAsErrors';

/** Runs every rule against a job and returns all findings, errors and warnings. */
export function validateJob(job: DeepSpeedMpiJob): Finding[] {
  const ctx: JobContext = {
    path: job.node.path,
    job,
    manifest: job.apiObject.toJson(),
    deepspeedConfig: job.deepspeedConfigJson,
  };
  return ALL_RULES.flatMap(rule => rule(ctx));
}

function warningsAreErrors(job: DeepSpeedMpiJob): boolean {
  const fromContext = job.node.tryGetContext(WARNINGS_AS_ERRORS_CONTEXT);
  if (fromContext !== undefined) return fromContext === true || fromContext === 'true';
  const fromEnv = process.env.CDK8S_DEEPSPEED_WARNINGS_AS_ERRORS;
  return fromEnv === '1' || fromEnv === 'true';
}

/**
 * Registers the job's validation with `node.addValidation`, so `app.synth()` reports every
 * error of every job at once and writes nothing. Warnings go to stderr once, prefixed with
 * `[cdk8s-deepspeed warning]`, or fail synth like errors in strict mode.
 * @internal
 */
export function registerJobValidation(job: DeepSpeedMpiJob): void {
  let warned = false;
  job.node.addValidation({
    validate: () => {
      const findings = validateJob(job);
      const strict = warningsAreErrors(job);
      const errors = findings.filter(f => f.severity === Severity.ERROR || strict).map(f => f.message);
      if (!strict && !warned) {
        warned = true;
        for (const f of findings.filter(x => x.severity === Severity.WARNING)) {
          process.stderr.write(`[cdk8s-deepspeed warning] ${f.message}\n`);
        }
      }
      return errors;
    },
  });
}
