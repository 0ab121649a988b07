/**
 * The two programs a rehearsal writes into its work directory: the probe that stands in for
 * the training program, and the ssh stand-in that Open MPI uses to reach the emulated hosts.
 */

/** Variable the ssh stand-in sets to the hostname of the pod it "logged into"; the probe removes it before recording. */
export const POD_VARIABLE = 'CDK8S_DEEPSPEED_REHEARSAL_POD';

/** Prefix of the line the probe prints once it has recorded its rank. */
export const PROBE_LINE_PREFIX = '[rehearsal-probe]';

/** What the probe records for one rank (`rank-<N>.json`). */
export interface ProbeRecord {
  /** OMPI_COMM_WORLD_RANK. */
  readonly rank: number;
  /** OMPI_COMM_WORLD_SIZE. */
  readonly worldSize: number;
  /** OMPI_COMM_WORLD_LOCAL_RANK. */
  readonly localRank: number;
  /** OMPI_COMM_WORLD_LOCAL_SIZE. */
  readonly localSize: number;
  /** Hostname of the pod the rank runs in. */
  readonly pod: string;
  /** What the training program would get as sys.argv: the script, then its arguments. */
  readonly argv: string[];
  /** Working directory, as a path inside the pod. */
  readonly cwd: string;
  /** The rank's whole environment. */
  readonly env: { [name: string]: string };
}

/**
 * Node program run in place of the Python interpreter. It writes its record to
 * `<ranksDirectory>/rank-<N>.json` and prints one progress line. Ranks that mpirun starts
 * itself (on the launcher) carry no POD_VARIABLE, so they report `localPod`; without one (real
 * OpenSSH, where each pod has its own UTS namespace) every rank reports its hostname.
 */
export function probeSource(ranksDirectory: string, localPod?: string): string {
  return `'use strict';
// cdk8s-deepspeed rehearsal probe: stands in for the training program and records what this rank received.
const fs = require('fs');
const path = require('path');
const env = Object.assign({}, process.env);
const pod = env[${JSON.stringify(POD_VARIABLE)}] || ${localPod === undefined ? "require('os').hostname()" : JSON.stringify(localPod)};
delete env[${JSON.stringify(POD_VARIABLE)}];
const int = name => (env[name] === undefined ? null : Number(env[name]));
const record = {
  rank: int('OMPI_COMM_WORLD_RANK'),
  worldSize: int('OMPI_COMM_WORLD_SIZE'),
  localRank: int('OMPI_COMM_WORLD_LOCAL_RANK'),
  localSize: int('OMPI_COMM_WORLD_LOCAL_SIZE'),
  pod,
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  env,
};
const name = record.rank === null ? 'rank-pid' + process.pid : 'rank-' + record.rank;
fs.writeFileSync(path.join(${JSON.stringify(ranksDirectory)}, name + '.json'), JSON.stringify(record));
process.stdout.write(${JSON.stringify(PROBE_LINE_PREFIX)} + ' rank ' + record.rank + ' of ' + record.worldSize + ' on ' + pod + '\\n');
`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * POSIX sh program given to Open MPI as `plm_rsh_agent` in place of ssh. It takes ssh's
 * arguments, logs `<host> <port>` to `logFile`, and runs the remote command on this machine
 * the way sshd would: through `sh -c`, with a fresh login-like environment (so only what
 * mpirun forwards reaches the ranks) plus POD_VARIABLE naming the pod (the host's first label)
 * and TMPDIR set to the pod's own `<podTmpRoot>/<pod>`, as each pod has its own /tmp.
 */
export function sshStandInSource(logFile: string, remotePath: string, podTmpRoot: string): string {
  return `#!/bin/sh
# cdk8s-deepspeed rehearsal: ssh stand-in that runs the remote command on this machine.
port=22
while [ $# -gt 0 ]; do
  case "$1" in
    -p) port=$2; shift 2 ;;
    -p*) port=\${1#-p}; shift ;;
    -o) case "$2" in [Pp]ort=*) port=\${2#*=} ;; esac; shift 2 ;;
    -[BbcDEeFIiJLlmOQRSWw]) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
host=$1
shift
pod=\${host%%.*}
printf '%s %s\\n' "$host" "$port" >> ${shellQuote(logFile)}
mkdir -p ${shellQuote(podTmpRoot)}/"$pod"
exec env -i PATH=${shellQuote(remotePath)} HOME="$HOME" USER="$USER" LOGNAME="$LOGNAME" SHELL=/bin/sh \\
  TMPDIR=${shellQuote(podTmpRoot)}/"$pod" ${POD_VARIABLE}="$pod" /bin/sh -c "$*"
`;
}
