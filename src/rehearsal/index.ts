// The launch rehearsal's public API; the parsing and check helpers stay internal to src/rehearsal.
export { ILaunchManifest, MpiJobManifest, ReplicaManifest, OperatorEnvVar } from './manifest';
export { TrainJobManifest } from './trainjob-manifest';
export { EnvSource, LauncherEnvVar } from './container-env';
export { ProbeRecord } from './scripts';
export { CheckStatus, RehearsalCheck } from './checks';
export { LaunchRehearsal, LaunchRehearsalOptions, IRehearsalProgress, RehearsalMode, RehearsalReport } from './rehearsal';
export { WorkerPodReport } from './worker-pod-report';
export { SshAuthFile } from './ssh-auth-mount';
export { formatRehearsalReport } from './report';
