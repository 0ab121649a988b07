import type { DeepSpeedTrainingImage } from '../image';
import type { InClusterImageBuild } from '../image-build';
import { JobFacts } from './facts';
import { Finding } from './finding';

/** A job rule: reads the job's facts and returns one finding per problem, none when the job is fine. */
export type JobRule = (facts: JobFacts) => Finding[];

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
