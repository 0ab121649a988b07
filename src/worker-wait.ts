import { OPERATOR_HOSTFILE } from './mpirun';

/**
 * The launcher's wait for its workers: a small Python program, run with the image's own
 * interpreter before mpirun, that waits until every host of the operator's hostfile resolves
 * and accepts TCP connections on the ssh port, then `exec`s mpirun (which keeps the pid and
 * the exit code).
 *
 * Why: worker names enter the headless Service's DNS only once a worker is Ready (unless the
 * launcher runs as a worker), and ssh fails at once on a name that does not resolve. With
 * `AtStartup`, and under Kueue with `WaitForWorkersReady` too (kubeflow/mpi-operator#615), the
 * launcher starts together with the workers, so without the wait every cold image pull on a
 * worker costs a launcher retry of the Job's `backoffLimit`.
 *
 * Python because it is the one program every DeepSpeed image has; the program uses only the
 * standard library (`os`, `socket`, `sys`, `time`) of Python 3.6 and later, and no shell, nc,
 * getent or nslookup.
 */

/** First line of the wait program; readers of a launcher argv recognise the wait step by it. */
export const WORKER_WAIT_MARKER = '# cdk8s-deepspeed: wait until every hostfile host accepts ssh connections, then exec mpirun';

/** Prefix of every line the wait program prints. */
export const WORKER_WAIT_LOG_PREFIX = 'wait-for-workers:';

/** Exit code of the wait program when a host never came up within the deadline. */
export const WORKER_WAIT_TIMEOUT_EXIT_CODE = 1;

/** Exit code of the wait program for a usage error (bad options, unreadable hostfile). */
export const WORKER_WAIT_USAGE_EXIT_CODE = 2;

/** Exit code of the wait program when the command after `--` cannot be executed. */
export const WORKER_WAIT_EXEC_EXIT_CODE = 127;

/**
 * The wait program, given to the interpreter with `-c`. Options (all required, in any order):
 * `--hostfile PATH --port PORT --timeout SECONDS`, then `--` and the command to exec.
 *
 * Hostfile lines are Open MPI's `host slots=N` or Hydra's (Intel MPI, MPICH) `host:N`; blank
 * lines and `#` comments are skipped. The pod's own host (the launcher's line when it runs as a
 * worker, where mpirun starts ranks itself and no sshd listens) is not waited for.
 */
export const WORKER_WAIT_PROGRAM = `${WORKER_WAIT_MARKER}
import os, socket, sys, time
PREFIX = ${JSON.stringify(WORKER_WAIT_LOG_PREFIX)}

def say(text):
    print(PREFIX + ' ' + text, flush=True)

def fail(text, code):
    sys.stdout.flush()
    sys.stderr.write(PREFIX + ' ' + text + '\\n')
    sys.stderr.flush()
    sys.exit(code)

def options(argv):
    if '--' not in argv:
        fail('usage: --hostfile PATH --port PORT --timeout SECONDS -- COMMAND [ARG...]', ${WORKER_WAIT_USAGE_EXIT_CODE})
    split = argv.index('--')
    given, command = argv[:split], argv[split + 1:]
    values = {}
    while given:
        name = given.pop(0)
        if name not in ('--hostfile', '--port', '--timeout') or not given:
            fail('unknown option or missing value: ' + repr(name), ${WORKER_WAIT_USAGE_EXIT_CODE})
        values[name] = given.pop(0)
    missing = [n for n in ('--hostfile', '--port', '--timeout') if n not in values]
    if missing:
        fail('missing option ' + ', '.join(missing), ${WORKER_WAIT_USAGE_EXIT_CODE})
    try:
        port, timeout = int(values['--port']), float(values['--timeout'])
    except ValueError:
        fail('--port must be an integer and --timeout a number of seconds', ${WORKER_WAIT_USAGE_EXIT_CODE})
    if not 0 < port < 65536 or timeout < 0:
        fail('--port must be 1-65535 and --timeout 0 or more seconds', ${WORKER_WAIT_USAGE_EXIT_CODE})
    if not command:
        fail('no command after --', ${WORKER_WAIT_USAGE_EXIT_CODE})
    return values['--hostfile'], port, timeout, command

def hosts_of(hostfile):
    try:
        with open(hostfile) as f:
            lines = f.read().splitlines()
    except OSError as e:
        fail('cannot read the hostfile ' + hostfile + ': ' + (e.strerror or str(e)), ${WORKER_WAIT_USAGE_EXIT_CODE})
    hosts = []
    for line in lines:
        words = line.split('#', 1)[0].split()
        if words:
            host = words[0].split(':', 1)[0]
            if host and host not in hosts:
                hosts.append(host)
    return hosts

def this_pod(host):
    own = socket.gethostname().split('.', 1)[0]
    return host.split('.', 1)[0] == own

def why_not(host, port, budget):
    try:
        addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as e:
        return 'does not resolve (' + str(e.strerror or e) + ')'
    reasons = []
    for family, kind, proto, _, address in addresses:
        s = socket.socket(family, kind, proto)
        s.settimeout(budget)
        try:
            s.connect(address)
            return None
        except OSError as e:
            reasons.append(str(address[0]) + ': ' + str(e.strerror or e))
        finally:
            s.close()
    return 'resolves, but port ' + str(port) + ' does not accept connections (' + '; '.join(reasons) + ')'

def main(argv):
    hostfile, port, timeout, command = options(argv)
    hosts = hosts_of(hostfile)
    start = time.monotonic()
    pending = []
    for host in hosts:
        if this_pod(host):
            say(host + ' is this pod: not waited for')
        else:
            pending.append(host)
    say('waiting up to %d s for %d host(s) of %s to accept connections on port %d' % (timeout, len(pending), hostfile, port))
    reasons = {}
    while pending:
        for host in list(pending):
            reason = why_not(host, port, 3.0)
            if reason is None:
                pending.remove(host)
                say('%s accepts connections on port %d after %.1f s' % (host, port, time.monotonic() - start))
            else:
                reasons[host] = reason
        elapsed = time.monotonic() - start
        if pending and elapsed >= timeout:
            fail('%d of %d host(s) did not come up within %d s: %s. Check that these worker pods are Running and Ready'
                 ' (kubectl describe pod): a pod still pulling its image, pending for resources or with an sshd that does not'
                 ' start keeps its name out of DNS and its port closed' % (
                     len(pending), len(hosts), timeout, ', '.join(h + ' ' + reasons[h] for h in pending)), ${WORKER_WAIT_TIMEOUT_EXIT_CODE})
        if pending:
            time.sleep(min(2.0, max(timeout - elapsed, 0.1)))
    say('all hosts up after %.1f s: running %s' % (time.monotonic() - start, command[0]))
    sys.stdout.flush()
    try:
        os.execvp(command[0], command)
    except OSError as e:
        fail('cannot run ' + command[0] + ': ' + str(e.strerror or e), ${WORKER_WAIT_EXEC_EXIT_CODE})

main(sys.argv[1:])
`;

/**
 * The launcher container's argv with the wait step:
 * `[python, '-c', program, '--hostfile', '/etc/mpi/hostfile', '--port', port, '--timeout', seconds, '--', ...command]`.
 * @internal
 */
export function workerWaitCommand(pythonPath: string, sshPort: number, timeoutSeconds: number, command: string[]): string[] {
  return [
    pythonPath, '-c', WORKER_WAIT_PROGRAM,
    '--hostfile', OPERATOR_HOSTFILE,
    '--port', String(sshPort),
    '--timeout', String(timeoutSeconds),
    '--', ...command,
  ];
}

/** The wait step of a launcher argv, read back. */
export interface WorkerWaitStep {
  /** The interpreter that runs the wait program. */
  readonly interpreter: string;
  /** The program's source (the word after `-c`). */
  readonly program: string;
  /**
   * Value of `--hostfile`.
   * @default - not given
   */
  readonly hostfile?: string;
  /**
   * Value of `--port`.
   * @default - not given
   */
  readonly port?: string;
  /**
   * Value of `--timeout`.
   * @default - not given
   */
  readonly timeout?: string;
  /** The command after `--`, which the wait step execs (mpirun and its arguments). */
  readonly command: string[];
}

/**
 * Splits a launcher argv into its wait step and the command the wait step execs. Undefined
 * when the argv does not start with the wait step (`<python> -c <program starting with the
 * marker> ... --`).
 */
export function parseWorkerWaitStep(argv: string[]): WorkerWaitStep | undefined {
  if (argv.length < 3 || argv[1] !== '-c' || typeof argv[2] !== 'string' || !argv[2].startsWith(WORKER_WAIT_MARKER)) return undefined;
  const split = argv.indexOf('--', 3);
  if (split < 0) return undefined;
  const options = argv.slice(3, split);
  const value = (name: string) => {
    const at = options.indexOf(name);
    return at >= 0 && at % 2 === 0 ? options[at + 1] : undefined;
  };
  return {
    interpreter: argv[0],
    program: argv[2],
    hostfile: value('--hostfile'),
    port: value('--port'),
    timeout: value('--timeout'),
    command: argv.slice(split + 1),
  };
}
