import type { DeepSpeedTrainJob } from '../train-job';
import { Finding } from './finding';
import { registerFindings } from './index';
import { TRAINER_RULES, TrainJobContext } from './trainer-rules';

function trainJobContext(job: DeepSpeedTrainJob): TrainJobContext {
  return { path: job.node.path, job, trainJob: job.apiObject.toJson(), runtime: job.trainingRuntime?.toJson() };
}

/** Runs every Trainer rule against a TrainJob and returns all findings, errors and warnings. */
export function validateTrainJob(job: DeepSpeedTrainJob): Finding[] {
  const ctx = trainJobContext(job);
  return TRAINER_RULES.flatMap(rule => rule(ctx));
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
    if (last?.render !== render) last = { render, findings: TRAINER_RULES.flatMap(rule => rule(ctx)) };
    return last.findings;
  });
}
