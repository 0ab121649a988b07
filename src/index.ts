export * from './types';
export * from './image-user';
export * from './base-image';
export * from './image-packages';
export * from './image-source';
export * from './image';
export * from './image-build';
export * from './deepspeed-config';
export * from './mpirun';
export * from './replica';
export * from './worker-pool';
export * from './launcher';
export * from './job';
export * from './operator-labels';
export * from './compatibility';
export * from './interconnect';
export * from './network';
export * from './security';
export * from './scheduling';
export * from './storage';
export {
  ALL_RULES, IMAGE_RULES, BUILD_RULES, validateJob, validateImage, WARNINGS_AS_ERRORS_CONTEXT, Severity, Finding,
  JobContext, JobRule, ImageContext, ImageRule, BuildContext, BuildRule,
} from './validation';
export * from './rehearsal';
