import type { DeepSpeedTrainJob } from '../train-job';
import { Finding } from './finding';

/** What a Trainer rule sees: the TrainJob construct, the TrainJob and the generated runtime as written. */
export interface TrainJobContext {
  /** Construct path of the job, the prefix of every message. */
  readonly path: string;
  /** The job construct. */
  readonly job: DeepSpeedTrainJob;
  /** The TrainJob as it will be written, escape hatches included. */
  readonly trainJob: any;
  /**
   * The generated TrainingRuntime as it will be written.
   * @default - the job references a runtime it does not generate
   */
  readonly runtime?: any;
}

/** A Trainer rule: returns one finding per problem. */
export type TrainJobRule = (ctx: TrainJobContext) => Finding[];

/** Every Trainer-specific rule, in report order. */
export const TRAINER_RULES: TrainJobRule[] = [];
