import type { DeepSpeedTrainingImage } from '../image';
import type { InClusterImageBuild } from '../image-build';
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

/**
 * What an image rule sees: the image recipe construct.
 */
export interface ImageContext {
  /** Construct path of the image, the prefix of every message. */
  readonly path: string;
  /** The image recipe. */
  readonly image: DeepSpeedTrainingImage;
}

/** An image rule: returns one finding per problem, none when the recipe is fine. */
export type ImageRule = (ctx: ImageContext) => Finding[];

/**
 * What an in-cluster build rule sees: the build construct.
 */
export interface BuildContext {
  /** Construct path of the build, the prefix of every message. */
  readonly path: string;
  /** The in-cluster build. */
  readonly build: InClusterImageBuild;
}

/** An in-cluster build rule. */
export type BuildRule = (ctx: BuildContext) => Finding[];
