// The public API, name by name: what jsii compiles for Python, Java, .NET and Go and what TypeScript users import.
// Helpers of the modules below (free functions, module constants) stay internal; their public forms are static
// members (DeepSpeedConfigFile, Validation, MpiOperator, Kueue, LaunchRehearsal.formatReport, ...).
export { CleanPodPolicy, LauncherCreationPolicy, MpiImplementation, ReplicaRestartPolicy } from './types';
export { Cpu } from './cpu';
export { EnvFieldPath, EnvKeyOptions, EnvValue } from './env-value';
export { NodeLabelQuery, TaintEffect, Toleration, TolerationOptions } from './toleration';
export {
  ClaimVolumeOptions, EmptyDirMedium, EmptyDirVolumeOptions, HostPathVolumeOptions, HostPathVolumeType,
  KeyVolumeOptions, MountOptions, MountPropagation, Volume,
} from './volume';
export { ImageUser, NonRootUserOptions } from './image-user';
export {
  BaseImage, CudaImageFlavor, CustomBaseImageOptions, NvidiaCudaBaseImageOptions, PytorchBaseImageOptions,
  TorchBuild,
} from './base-image';
export { DeepSpeedOp, IntelMpiOptions, MpiInstallation, TorchPackages } from './image-packages';
export { BakedData, BuildContextSourceOptions, GitSourceOptions, SourceCode, UrlDataOptions } from './image-source';
export {
  DeepSpeedTrainingImage, DeepSpeedTrainingImageProps, IDeepSpeedTrainingImage, TrainingImageOptions,
} from './image';
export { BuildArchitecture, InClusterImageBuild, InClusterImageBuildProps } from './image-build';
export {
  ActivationCheckpointingConfig, Bf16Config, CheckpointConfig, CheckpointTagValidation, DeepSpeedConfig,
  DeepSpeedDataType, DeepSpeedOptimizerConfig, DeepSpeedSchedulerConfig, FlopsProfilerConfig, Fp16Config,
  MonitorConfig, OffloadDevice, OffloadOptimizerConfig, OffloadParamConfig, OptimizerType, SchedulerType,
  WandbConfig, WarmupType, ZeroOptimizationConfig, ZeroStage,
} from './deepspeed-config';
export { DeepSpeedConfigFile } from './deepspeed-config-file';
export { MpirunOptions } from './mpirun';
export { HugePageSize, MpiReplica, MpiReplicaOptions, MpiReplicaProps, PodIdentity } from './replica';
export { MpiWorkerPool, MpiWorkerPoolOptions, MpiWorkerPoolProps } from './worker-pool';
export { MpiLauncher, MpiLauncherOptions, MpiLauncherProps } from './launcher';
export { DeepSpeedConfigRegistry, DeepSpeedConfigRegistryProps } from './config-registry';
export { IDeepSpeedJob } from './deepspeed-job';
export { DeepSpeedJobProps, DeepSpeedMpiJob, DeepSpeedMpiJobProps } from './job';
export { MpiJobRole, MpiOperator } from './operator-labels';
export { MpiOperatorVersion } from './compatibility';
export {
  EfaInterconnectOptions, InfinibandInterconnectOptions, Interconnect, InterconnectKind, InterconnectOptions,
  TcpInterconnectOptions,
} from './interconnect';
export { JobNetworkOptions, NcclAsyncErrorHandling, NcclDebugLevel, NcclDebugSubsystem } from './network';
export { JobSecurityOptions } from './security';
export {
  CidrDestinationOptions, EgressDestination, EgressPort, EgressProtocol, JobEgressOptions, PodDestinationOptions,
} from './egress';
export { GangSchedulingOptions, JobSchedulingOptions, KueueOptions } from './scheduling';
export { Kueue } from './kueue';
export {
  CheckpointOptions, ExistingClaimOptions, FsGroupChangePolicy, JobStorageOptions, NewClaimOptions,
  PersistentVolumeAccessMode, StorageMountOptions, TrainingStorage,
} from './storage';
export { Finding, Severity } from './validation';
export { Validation } from './job-validation';
export {
  CheckStatus, EnvSource, ILaunchManifest, IRehearsalProgress, LauncherEnvVar, LaunchRehearsal,
  LaunchRehearsalOptions, MpiJobManifest, OperatorEnvVar, ProbeRecord, RehearsalCheck, RehearsalMode,
  RehearsalReport, ReplicaManifest, SshAuthFile, TrainJobManifest, WorkerPodReport,
} from './rehearsal';
export { DeepSpeedSweep, DeepSpeedSweepProps, ISweepAxisSetter, SweepAxis, SweepPoint, SweepSample } from './sweep';
export { SweepParallelism } from './sweep-queue';
export { GeneratedTrainingRuntimeOptions, TrainerRuntime, TrainingRuntimeKind } from './trainer-runtime';
export { TrainerReplicatedJob } from './trainer-labels';
export { DeepSpeedTrainJob, DeepSpeedTrainJobProps } from './train-job';
