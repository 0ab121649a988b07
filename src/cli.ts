#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { Duration } from 'cdk8s';
import { formatRehearsalReport, ILaunchManifest, LaunchRehearsal, MpiJobManifest, RehearsalMode, RehearsalReport, TrainJobManifest } from './rehearsal';
import { readManifestFile } from './rehearsal/manifest';

/** The CLI's help text. */
export const USAGE = `Usage: cdk8s-deepspeed rehearse [options] [manifest.yaml ...]

Runs the launch of every MPIJob and TrainJob in the manifests (default: the *.k8s.yaml files in
cdk8s.yaml's output folder, or in dist/, where cdk8s synth writes them; a TrainJob's runtime may
be in any of the files) on this machine with Open MPI's mpirun: the
launcher command as synthesized, the operator's hostfile and
launcher environment, and a probe in place of the training program. Prints what each rank
received and checks it against the job. Progress goes to stderr, the summary to stdout.

Options:
  --job NAME              rehearse only the MPIJob or TrainJob named NAME
  --ssh MODE              stand-in (default: an ssh stand-in, no root or sshd needed) or openssh
                          (real sshd per worker pod as the image user, the operator's key files,
                          host names and the launcher's wait step; needs root on Linux)
  --sshd-config FILE      openssh: the image's sshd_config (default: the image recipe's)
  --ssh-config FILE       openssh: the image's /etc/ssh/ssh_config (default: the image recipe's)
  --late-worker POD=SECS  openssh: start that worker's sshd SECS seconds late (repeatable)
  --absent-worker POD     openssh: never start that worker's sshd (repeatable)
  --expect-missing NAME   a forwarded variable that only the cluster can fill in (a Secret key,
                          a pod field) may be missing here (repeatable); without it such a
                          variable fails the rehearsal unless this shell sets it, whose value
                          then stands in
  --mpirun PATH           the Open MPI mpirun to run (default: mpirun on PATH)
  --timeout SECONDS       stop the launcher after this long (default: 60)
  --keep                  keep each work directory (hostfile, probe, rank records, pods)
  --json                  print the reports as JSON instead of text
  -h, --help              show this help
  --version               print the version

Exit status: 0 every rehearsal passed, 1 one failed, 2 usage or setup error.`;

/** Where the CLI writes. */
export interface CliOutput {
  /** Summary lines. */
  out(text: string): void;
  /** Progress and errors. */
  err(text: string): void;
}

class UsageError extends Error {}

/** Where `cdk8s synth` writes in this app: cdk8s.yaml's `output`, or cdk8s's default `dist`. */
function synthOutputFolder(cwd: string): string {
  const config = path.join(cwd, 'cdk8s.yaml');
  if (fs.existsSync(config)) {
    const output = /^output:\s*["']?([^"'#\s]+)["']?\s*(#.*)?$/m.exec(fs.readFileSync(config, 'utf8'))?.[1];
    if (output) return output;
  }
  return 'dist';
}

function defaultManifests(cwd: string, folder: string): string[] {
  const dir = path.resolve(cwd, folder);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter(f => f.endsWith('.k8s.yaml')).sort().map(f => path.join(dir, f));
}

/** The version in the package.json next to the compiled (lib/src) or source (src) CLI. */
function packageVersion(): string {
  for (const dir of [path.join(__dirname, '..', '..'), path.join(__dirname, '..')]) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (pkg.name === 'cdk8s-deepspeed') return pkg.version;
    }
  }
  return 'unknown';
}

async function rehearseCommand(args: string[], cwd: string, io: CliOutput, env: { [name: string]: string }): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'job': { type: 'string' },
      'ssh': { type: 'string' },
      'sshd-config': { type: 'string' },
      'ssh-config': { type: 'string' },
      'late-worker': { type: 'string', multiple: true },
      'absent-worker': { type: 'string', multiple: true },
      'mpirun': { type: 'string' },
      'timeout': { type: 'string' },
      'keep': { type: 'boolean' },
      'json': { type: 'boolean' },
      'expect-missing': { type: 'string', multiple: true },
      'help': { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError(`--timeout must be a positive number of seconds, got ${values.timeout}`);
  const modes: Record<string, RehearsalMode> = { 'stand-in': RehearsalMode.STAND_IN, 'openssh': RehearsalMode.OPENSSH };
  const mode = values.ssh === undefined ? RehearsalMode.STAND_IN : modes[values.ssh];
  if (mode === undefined) throw new UsageError(`--ssh must be stand-in or openssh, got ${values.ssh}`);
  const openSshOnly = ['sshd-config', 'ssh-config', 'late-worker', 'absent-worker'].filter(name => (values as any)[name] !== undefined);
  if (mode !== RehearsalMode.OPENSSH && openSshOnly.length > 0) throw new UsageError(`--${openSshOnly[0]} needs --ssh openssh`);
  const workerStartDelays: { [pod: string]: Duration } = {};
  for (const entry of values['late-worker'] ?? []) {
    const [pod, secs] = entry.split('=');
    if (!pod || !(Number(secs) >= 0)) throw new UsageError(`--late-worker takes POD=SECONDS, got ${entry}`);
    workerStartDelays[pod] = Duration.millis(Number(secs) * 1000);
  }
  const readConfig = (file: string | undefined) => {
    if (file === undefined) return undefined;
    const resolved = path.resolve(cwd, file);
    if (!fs.existsSync(resolved)) throw new UsageError(`${resolved}: no such file`);
    return fs.readFileSync(resolved, 'utf8');
  };
  const sshdConfig = readConfig(values['sshd-config']);
  const sshClientConfig = readConfig(values['ssh-config']);
  const expectedMissing = values['expect-missing'] ?? [];
  const badName = expectedMissing.find(n => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  if (badName !== undefined) throw new UsageError(`--expect-missing takes a variable name, got '${badName}'`);
  const folder = synthOutputFolder(cwd);
  const files = positionals.length > 0 ? positionals.map(f => path.resolve(cwd, f)) : defaultManifests(cwd, folder);
  if (files.length === 0) throw new UsageError(`no manifests given and no *.k8s.yaml in ${folder}/: run \`cdk8s synth\` in your cdk8s app first, or name the files`);
  for (const file of files) {
    if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
  }
  // A TrainJob's runtime may come from any of the files (e.g. the platform's ClusterTrainingRuntime).
  const runtimes = files.flatMap(file => readManifestFile(file)).filter(doc => doc?.apiVersion === 'trainer.kubeflow.org/v1alpha1' && doc.kind !== 'TrainJob');
  const jobs = files.flatMap(file => {
    let trainJobs: ILaunchManifest[];
    try {
      trainJobs = TrainJobManifest.fromManifests(readManifestFile(file), runtimes);
    } catch (e) {
      throw new UsageError(`${(e as Error).message}: pass the runtime's manifest as another file`);
    }
    const found: ILaunchManifest[] = [...MpiJobManifest.fromFile(file), ...trainJobs];
    return found.map(job => ({ file, job }));
  }).filter(({ job }) => values.job === undefined || job.name === values.job);
  if (jobs.length === 0) {
    throw new UsageError(values.job === undefined ? `no MPIJob or TrainJob in ${files.join(', ')}` : `no MPIJob or TrainJob named ${values.job} in ${files.join(', ')}`);
  }

  const reports: RehearsalReport[] = [];
  for (const { file, job } of jobs) {
    io.err(`rehearsing ${job.name} from ${path.relative(cwd, file) || file}`);
    const report = await LaunchRehearsal.run(job, {
      mpirun: values.mpirun,
      mode,
      sshdConfig,
      sshClientConfig,
      workerStartDelays,
      workersThatNeverStart: values['absent-worker'],
      timeout: timeout === undefined ? undefined : Duration.millis(timeout * 1000),
      keepWorkDirectory: values.keep,
      progress: { report: line => io.err(line) },
      environment: env,
      expectedMissingEnv: expectedMissing,
    });
    reports.push(report);
    if (!values.json) io.out(`${formatRehearsalReport(report)}\n`);
  }
  const passed = reports.filter(r => r.passed).length;
  if (values.json) io.out(JSON.stringify(reports, null, 2));
  else io.out(`${passed} of ${reports.length} job rehearsal${reports.length === 1 ? '' : 's'} passed`);
  return passed === reports.length ? 0 : 1;
}

/**
 * Runs the CLI with `args` (without node and the script) and returns the exit status. `env` is
 * where stand-ins for values only the cluster has come from (see `--expect-missing`).
 */
export async function main(args: string[], cwd: string = process.cwd(), io?: CliOutput, env: { [name: string]: string | undefined } = process.env): Promise<number> {
  const output = io ?? { out: t => process.stdout.write(`${t}\n`), err: t => process.stderr.write(`${t}\n`) };
  const definedEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  try {
    const [command, ...rest] = args;
    if (command === 'rehearse') return await rehearseCommand(rest, cwd, output, definedEnv);
    if (command === '--version') {
      output.out(packageVersion());
      return 0;
    }
    if (command === undefined || command === '-h' || command === '--help') {
      output.out(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command '${command}'`);
  } catch (e) {
    const message = e instanceof UsageError || (e as any)?.code?.startsWith?.('ERR_PARSE_ARGS')
      ? `${(e as Error).message}\n\n${USAGE}`
      : (e as Error).message;
    output.err(`cdk8s-deepspeed: ${message}`);
    return 2;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(status => {
    process.exitCode = status;
  });
}
