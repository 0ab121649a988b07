import type { DeepSpeedMpiJob } from '../job';
import { Finding } from './finding';

/**
 * What a rule sees: the job construct and what it synthesizes.
 */
export interface JobContext {
  /** Construct path of the job, the prefix of every message. */
  readonly path: string;
  /** The job construct. */
  readonly job: DeepSpeedMpiJob;
  /** The MPIJob as it will be written, escape hatches included. */
  readonly manifest: any;
  /**
   * The DeepSpeed config as written to the ConfigMap.
   * @default - the job has no DeepSpeed config
   */
  readonly deepspeedConfig?: { [key: string]: any };
}

/** A validation rule: returns one finding per problem, none when the job is fine. */
export type JobRule = (ctx: JobContext) => Finding[];
