#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { Duration } from 'cdk8s';
import { formatRehearsalReport, LaunchRehearsal, MpiJobManifest, RehearsalReport } from './rehearsal';

/** The CLI's help text. */
export const USAGE = `Usage: cdk8s-deepspeed rehearse [options] [manifest.yaml ...]

Runs the launch of every MPIJob in the manifests (default: the *.k8s.yaml files in cdk8s.yaml's
output folder, or in dist/, where cdk8s synth writes them) on this
machine with Open MPI's mpirun: the launcher command as synthesized, the operator's hostfile and
launcher environment, and a probe in place of the training program. Prints what each rank
received and checks it against the job. Progress goes to stderr, the summary to stdout.

Options:
  --job NAME         rehearse only the MPIJob named NAME
  --mpirun PATH      the Open MPI mpirun to run (default: mpirun on PATH)
  --timeout SECONDS  kill mpirun after this long (default: 60)
  --expect-missing NAME
                     a forwarded variable that only the cluster can fill in (a Secret key,
                     a pod field) may be missing here; repeatable. Without it such a variable
                     fails the rehearsal unless this shell sets it, whose value then stands in
  --keep             keep each work directory (hostfile, probe, rank records)
  --json             print the reports as JSON instead of text
  -h, --help         show this help
  --version          print the version

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
  const expectedMissing = values['expect-missing'] ?? [];
  const badName = expectedMissing.find(n => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  if (badName !== undefined) throw new UsageError(`--expect-missing takes a variable name, got '${badName}'`);
  const folder = synthOutputFolder(cwd);
  const files = positionals.length > 0 ? positionals.map(f => path.resolve(cwd, f)) : defaultManifests(cwd, folder);
  if (files.length === 0) throw new UsageError(`no manifests given and no *.k8s.yaml in ${folder}/: run \`cdk8s synth\` in your cdk8s app first, or name the files`);
  const jobs = files.flatMap(file => {
    if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
    return MpiJobManifest.fromFile(file).map(job => ({ file, job }));
  }).filter(({ job }) => values.job === undefined || job.name === values.job);
  if (jobs.length === 0) {
    throw new UsageError(values.job === undefined ? `no MPIJob in ${files.join(', ')}` : `no MPIJob named ${values.job} in ${files.join(', ')}`);
  }

  const reports: RehearsalReport[] = [];
  for (const { file, job } of jobs) {
    io.err(`rehearsing ${job.name} from ${path.relative(cwd, file) || file}`);
    const report = await LaunchRehearsal.run(job, {
      mpirun: values.mpirun,
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
  else io.out(`${passed} of ${reports.length} MPIJob rehearsal${reports.length === 1 ? '' : 's'} passed`);
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
