export * from './manifest';
export * from './container-env';
export * from './mpirun-cli';
export * from './pod-files';
export * from './scripts';
export * from './checks';
export * from './rehearsal';
export * from './report';
