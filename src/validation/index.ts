import { IConstruct } from 'constructs';
import type { DeepSpeedTrainingImage } from '../image';
import type { InClusterImageBuild } from '../image-build';
import { BUILD_RULES } from './build-rules';
import type { DeepSpeedMpiJob } from '../job';
import { BuildContext, ImageContext, JobRule } from './context';
import { JobFacts } from './facts';
import { imageFacts, mpiJobFacts } from './mpijob-facts';
import { Finding, Severity } from './finding';
import { _groupOf, _recordCheck } from './findings-group';
import { COMPATIBILITY_RULES } from './compatibility-rules';
import { DEEPSPEED_RULES } from './deepspeed-rules';
import { IMAGE_RULES } from './image-rules';
import { KUBERNETES_RULES } from './kubernetes-rules';
import { LAUNCH_RULES } from './launch-rules';
import { NETWORK_RULES } from './network-rules';
import { OPERATOR_RULES } from './operator-rules';
import { PROP_RULES } from './prop-rules';
import { QUEUEING_RULES } from './queueing-rules';
import { RUNTIME_RULES } from './runtime-rules';
import { SCHEDULING_RULES } from './scheduling-rules';
import { SECURITY_RULES } from './security-rules';
import { runRulesShared } from './shared-findings';
import { STORAGE_RULES } from './storage-rules';

export * from './finding';
export * from './context';
export * from './facts';
export { IMAGE_RULES } from './image-rules';
export { BUILD_RULES } from './build-rules';

/** Every rule a job is checked against, in report order. */
export const ALL_RULES: JobRule[] = [
  ...PROP_RULES, ...OPERATOR_RULES, ...KUBERNETES_RULES, ...LAUNCH_RULES, ...DEEPSPEED_RULES, ...SCHEDULING_RULES,
  ...COMPATIBILITY_RULES, ...SECURITY_RULES, ...NETWORK_RULES, ...QUEUEING_RULES, ...STORAGE_RULES, ...RUNTIME_RULES,
];

/**
 * Context key that turns warnings into errors (e.g. `app.node.setContext(WARNINGS_AS_ERRORS_CONTEXT, true)`).
 * The environment variable CDK8S_DEEPSPEED_WARNINGS_AS_ERRORS=1 does the same, for CI.
 */
export const WARNINGS_AS_ERRORS_CONTEXT = 'cdk8s-deepspeed:warningsAsErrors';

/** Runs every rule against a job and returns all findings, errors and warnings. */
export function validateJob(job: DeepSpeedMpiJob): Finding[] {
  return runJobRules(jobFacts(job), job.node.root);
}

/** The facts of an MPIJob as it will be written now, escape hatches included. */
function jobFacts(job: DeepSpeedMpiJob, manifest: any = job.apiObject.toJson()): JobFacts {
  return mpiJobFacts(job, manifest, imageFacts(job.image));
}

/**
 * Runs every job rule against a job's facts, whichever operator's job built them; jobs of the
 * same app (`owner`) share what they can (see shared-findings.ts).
 */
export function runJobRules(facts: JobFacts, owner: object): Finding[] {
  // One mistake, one message: a value two pods share (a launcher that hosts ranks inherits the
  // workers' settings) is reported once.
  return uniqueFindings(runRulesShared(ALL_RULES, facts, owner));
}

/**
 * The findings of every rule in order, each message once.
 * @internal
 */
export function uniqueFindings(perRule: Finding[][]): Finding[] {
  const findings: Finding[] = [];
  for (const list of perRule) {
    for (const finding of list) {
      if (!findings.some(f => f.message === finding.message)) findings.push(finding);
    }
  }
  return findings;
}

function warningsAreErrors(scope: IConstruct): boolean {
  const fromContext = scope.node.tryGetContext(WARNINGS_AS_ERRORS_CONTEXT);
  if (fromContext !== undefined) return fromContext === true || fromContext === 'true';
  const fromEnv = process.env.CDK8S_DEEPSPEED_WARNINGS_AS_ERRORS;
  return fromEnv === '1' || fromEnv === 'true';
}

/**
 * Registers `check` with `node.addValidation`, so `app.synth()` reports every error of every
 * construct at once and writes nothing. Warnings go to stderr once, prefixed with
 * `[cdk8s-deepspeed warning]`, or fail synth like errors in strict mode.
 */
export function registerFindings(scope: IConstruct, check: () => Finding[]): void {
  let warned = false;
  _recordCheck(scope, check);
  scope.node.addValidation({
    validate: () => {
      const all = check();
      // A sweep reports once what every one of its jobs has.
      const group = _groupOf(scope);
      const findings = group ? all.filter(f => !group.reports(scope, all, f)) : all;
      const strict = warningsAreErrors(scope);
      // cdk8s prints each error as `[<construct path>] <message>`: the path is not repeated.
      const prefix = `${scope.node.path}: `;
      const errors = findings.filter(f => f.severity === Severity.ERROR || strict)
        .map(f => (f.message.startsWith(prefix) ? f.message.slice(prefix.length) : f.message));
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

/**
 * Registers the job's validation (see `registerFindings`).
 * @internal
 */
export function registerJobValidation(job: DeepSpeedMpiJob): void {
  // cdk8s validates the whole app once per synthesis and again for every chart it synthesizes
  // (app.synthYaml, Testing.synth). Rules read only the rendered manifest and config and props
  // fixed at construction, so an unchanged render reuses the findings of the last pass: the same
  // spec object while nothing changed (see TypedSpecRenderer), else the same text.
  let last: { manifest: any; metadata: string; findings: Finding[] } | undefined;
  registerFindings(job, () => {
    const manifest = job._manifestForValidation();
    const metadata = JSON.stringify(manifest.metadata);
    if (last && last.manifest.spec === manifest.spec && last.metadata === metadata) return last.findings;
    const same = last !== undefined && JSON.stringify(last.manifest) === JSON.stringify(manifest);
    last = { manifest, metadata, findings: same ? last!.findings : runJobRules(jobFacts(job, manifest), job.node.root) };
    return last.findings;
  });
}

/** Runs every image rule against an image recipe and returns all findings. */
export function validateImage(image: DeepSpeedTrainingImage): Finding[] {
  const ctx: ImageContext = { path: image.node.path, image };
  return IMAGE_RULES.flatMap(rule => rule(ctx));
}

/**
 * Registers the image recipe's validation (see `registerFindings`).
 * @internal
 */
export function registerImageValidation(image: DeepSpeedTrainingImage): void {
  registerFindings(image, () => validateImage(image));
}

/**
 * Registers the in-cluster build's validation (see `registerFindings`).
 * @internal
 */
export function registerBuildValidation(build: InClusterImageBuild): void {
  registerFindings(build, () => {
    const ctx: BuildContext = { path: build.node.path, build };
    return BUILD_RULES.flatMap(rule => rule(ctx));
  });
}
