import type { DeepSpeedTrainingImage } from './image';
import type { DeepSpeedMpiJob } from './job';
import type { DeepSpeedTrainJob } from './train-job';
import { Finding, validateImage, validateJob, WARNINGS_AS_ERRORS_CONTEXT } from './validation';
import { validateTrainJob } from './validation/trainer';

/**
 * The synth-time checks, run on demand. Every job and image also runs them itself when the app
 * synthesizes (`node.addValidation`); these return the findings instead of failing synth.
 */
export class Validation {
  /**
   * Context key that turns warnings into errors (e.g.
   * `app.node.setContext(Validation.WARNINGS_AS_ERRORS_CONTEXT, true)`). The environment variable
   * CDK8S_DEEPSPEED_WARNINGS_AS_ERRORS=1 does the same, for CI.
   */
  public static readonly WARNINGS_AS_ERRORS_CONTEXT: string = WARNINGS_AS_ERRORS_CONTEXT;

  /** Runs every rule against a job and returns all findings, errors and warnings. */
  public static validateJob(job: DeepSpeedMpiJob): Finding[] {
    return validateJob(job);
  }

  /** Runs every rule that applies to a Trainer v2 TrainJob and returns all findings. */
  public static validateTrainJob(job: DeepSpeedTrainJob): Finding[] {
    return validateTrainJob(job);
  }

  /** Runs the recipe rules against an image and returns all findings. */
  public static validateImage(image: DeepSpeedTrainingImage): Finding[] {
    return validateImage(image);
  }

  private constructor() {}
}
