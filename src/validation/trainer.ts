import type { DeepSpeedTrainJob } from '../train-job';
import { DEEPSPEED_RULES } from './deepspeed-rules';
import { JobRule } from './context';
import { Finding } from './finding';
import { registerFindings, uniqueFindings } from './index';
import { runRulesShared } from './shared-findings';
import { KUBERNETES_RULES } from './kubernetes-rules';
import { LAUNCH_RULES } from './launch-rules';
import { imageFacts } from './mpijob-facts';
import { NETWORK_RULES } from './network-rules';
import { PROP_RULES } from './prop-rules';
import { QUEUEING_RULES } from './queueing-rules';
import { RUNTIME_RULES } from './runtime-rules';
import { SECURITY_RULES } from './security-rules';
import { STORAGE_RULES } from './storage-rules';
import { TRAINER_RULES, TrainJobContext } from './trainer-rules';
import { trainJobFacts } from './trainjob-facts';

/**
 * The rule families every operator shares (pods, launch, DeepSpeed config, security, network,
 * storage, queueing), run on a TrainJob's facts. The MPI Operator's own families (operator,
 * compatibility, scheduling through runPolicy) have Trainer counterparts in TRAINER_RULES.
 */
export const SHARED_RULES: JobRule[] = [
  ...PROP_RULES, ...KUBERNETES_RULES, ...LAUNCH_RULES, ...DEEPSPEED_RULES, ...SECURITY_RULES, ...NETWORK_RULES, ...QUEUEING_RULES,
  ...STORAGE_RULES, ...RUNTIME_RULES,
];

function trainJobContext(job: DeepSpeedTrainJob): TrainJobContext {
  const trainJob = job.apiObject.toJson();
  const runtime = job.trainingRuntime?.toJson();
  return { path: job.node.path, job, trainJob, runtime, facts: trainJobFacts(job, trainJob, runtime, imageFacts(job.image)) };
}

/** The Trainer's rules, then the shared ones; a message reported twice is reported once, as for an MPIJob. */
function runRules(ctx: TrainJobContext): Finding[] {
  return uniqueFindings([...TRAINER_RULES.map(rule => rule(ctx)), ...runRulesShared(SHARED_RULES, ctx.facts, ctx.job.node.root)]);
}

/** Runs every rule against a TrainJob (the Trainer's own, then the shared ones) and returns all findings. */
export function validateTrainJob(job: DeepSpeedTrainJob): Finding[] {
  return runRules(trainJobContext(job));
}

/**
 * Registers the TrainJob's validation (errors fail synth, warnings go to stderr).
 * @internal
 */
export function registerTrainJobValidation(job: DeepSpeedTrainJob): void {
  let last: { render: string; findings: Finding[] } | undefined;
  registerFindings(job, () => {
    const ctx = trainJobContext(job);
    const render = JSON.stringify([ctx.trainJob, ctx.runtime, job.deepspeedConfigJson]);
    if (last?.render !== render) last = { render, findings: runRules(ctx) };
    return last.findings;
  });
}
