// Synthesis speed, memory and footprint figures for docs/benchmarks.md. Run with `npm run bench`
// (compiles first; this file runs as lib/scripts/bench.js). Figures only: nothing here asserts.
//
// Each sweep size runs in its own child processes (the sweep, then the floor) so that heap growth
// from one size never shows up in another size's peak RSS. Inside a child: warm-up runs first, then
// timed runs with a full GC before each; medians of wall and CPU time are reported. CPU time is
// printed next to wall time because a shared machine stretches wall time (see the load average).
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'os';
import { join, resolve } from 'path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { buildCifar10Sweep } from '../examples/cifar10-sweep/main';

const ROOT = resolve(__dirname, '..', '..');
const SIZES = [1, 10, 100, 1000];
const SEED = 2024;
const MIB = 1024 * 1024;

/** Issue 7 targets on the 2-core development machine. */
const TARGETS = {
  sweep1000Seconds: 1,
  sweep1000RssMiB: 512,
  overFloorAt1000: 1.5,
  ratio1000To100: 11,
  endToEndOverFloor: 1.3,
};

/** Median figures of one way of synthesizing one sweep size. */
interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

interface ChildResult {
  /** To YAML in memory, as `cdk8s synth` writes it: `app.synthYaml()`. */
  readonly yaml: Timing;
  /** To manifest objects, validation included: `chart.toJson()`, what `Testing.synth` returns. */
  readonly objects: Timing;
  readonly runs: number;
  readonly manifests: number;
  readonly peakRssMiB: number;
  readonly yamlSha256: string;
}

/** A sweep of `jobs` points of the 1,000-job CIFAR-10 sweep, in a new app. */
function sweepApp(jobs: number): { app: App; chart: Chart } {
  const app = new App();
  return { app, chart: buildCifar10Sweep(app, { count: jobs, seed: SEED }) };
}

/** The floor: the very same objects as plain ApiObjects from precomputed JSON, in a new app. */
function floorApp(manifests: any[]): { app: App; chart: Chart } {
  const app = new App();
  const chart = new Chart(app, 'cifar10-sweep');
  manifests.forEach((manifest, i) => new ApiObject(chart, `object${i}`, manifest));
  return { app, chart };
}

/** Timed runs scale down with size so that every size takes a few seconds. */
function runsFor(jobs: number): { warmup: number; timed: number } {
  return { warmup: Math.min(20, Math.max(2, Math.round(200 / jobs))), timed: Math.min(100, Math.max(7, Math.round(2000 / jobs))) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Warm-up runs, then timed runs each after a full GC (the child runs with --expose-gc); medians of wall and CPU time. */
function measure<T>(jobs: number, run: () => T): { timing: Timing; last: T } {
  const { warmup, timed } = runsFor(jobs);
  let last = run();
  for (let i = 1; i < warmup; i++) last = run();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < timed; i++) {
    (globalThis as any).gc();
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    last = run();
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const usedCpu = process.cpuUsage(startCpu);
    cpu.push((usedCpu.user + usedCpu.system) / 1000);
  }
  return { timing: { wallMs: median(wall), cpuMs: median(cpu) }, last };
}

/** Child process: measure one variant at one size, to objects and to YAML, and report JSON on stdout. */
function child(variant: string, jobs: number, manifestFile: string): void {
  const manifests = variant === 'floor' ? JSON.parse(readFileSync(manifestFile, 'utf-8')) : undefined;
  const build = variant === 'floor' ? () => floorApp(manifests) : () => sweepApp(jobs);
  const objects = measure(jobs, () => build().chart.toJson());
  const yaml = measure(jobs, () => build().app.synthYaml());
  const result: ChildResult = {
    yaml: yaml.timing,
    objects: objects.timing,
    runs: runsFor(jobs).timed,
    manifests: objects.last.length,
    // maxRSS is in KiB on Linux.
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    yamlSha256: createHash('sha256').update(yaml.last).digest('hex'),
  };
  process.stdout.write(JSON.stringify(result));
}

function runChild(variant: string, jobs: number, manifestFile: string): ChildResult {
  const out = execFileSync(process.execPath, ['--expose-gc', __filename, 'child', variant, String(jobs), manifestFile], {
    cwd: ROOT, encoding: 'utf-8', maxBuffer: 16 * MIB,
  });
  return JSON.parse(out);
}

/** Median wall time in ms of running a command `runs` times after one untimed run. */
function timeCommand(command: string, args: string[], runs: number, env: NodeJS.ProcessEnv = {}): number {
  const run = () => {
    const start = process.hrtime.bigint();
    const result = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf-8' });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  run();
  return median(Array.from({ length: runs }, run));
}

function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

const ms = (value: number) => value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2);
const verdict = (ok: boolean) => ok ? 'met' : 'MISSED';

function perJobCost(work: string): string[] {
  const results = SIZES.map(jobs => {
    // The floor's input: exactly what the sweep synthesizes, computed here, outside the measured processes.
    const manifestFile = join(work, `manifests-${jobs}.json`);
    writeFileSync(manifestFile, JSON.stringify(Testing.synth(buildCifar10Sweep(Testing.app(), { count: jobs, seed: SEED }))));
    const ours = runChild('sweep', jobs, manifestFile);
    const floor = runChild('floor', jobs, manifestFile);
    if (ours.yamlSha256 !== floor.yamlSha256) throw new Error(`the floor's YAML differs from the sweep's at ${jobs} jobs`);
    return { jobs, ours, floor };
  });
  const level = (title: string, pick: (r: ChildResult) => Timing): string[] => {
    const rows = results.map(({ jobs, ours, floor }) => [
      String(jobs), String(ours.manifests), String(ours.runs),
      ms(pick(ours).wallMs), ms(pick(ours).wallMs / jobs), ms(pick(ours).cpuMs),
      ms(pick(floor).wallMs), ms(pick(floor).cpuMs),
      (pick(ours).wallMs / pick(floor).wallMs).toFixed(2), (pick(ours).cpuMs / pick(floor).cpuMs).toFixed(2),
    ]);
    const at = (jobs: number) => results.find(r => r.jobs === jobs)!;
    const wall1000 = pick(at(1000).ours).wallMs;
    const ratio = wall1000 / pick(at(100).ours).wallMs;
    const over = wall1000 / pick(at(1000).floor).wallMs;
    const overCpu = pick(at(1000).ours).cpuMs / pick(at(1000).floor).cpuMs;
    return [
      title, '',
      table(['jobs', 'manifests', 'runs', 'sweep wall ms', 'wall ms/job', 'sweep CPU ms', 'floor wall ms', 'floor CPU ms', 'sweep/floor wall', 'sweep/floor CPU'], rows),
      '',
      `- 1,000 jobs in ${ms(wall1000)} ms wall (target under ${TARGETS.sweep1000Seconds * 1000} ms: ${verdict(wall1000 < TARGETS.sweep1000Seconds * 1000)})`,
      `- 1,000/100 wall time ratio: ${ratio.toFixed(2)} (linear is 10; target at most ${TARGETS.ratio1000To100}: ${verdict(ratio <= TARGETS.ratio1000To100)})`,
      `- sweep/floor at 1,000 jobs: ${over.toFixed(2)} wall, ${overCpu.toFixed(2)} CPU (target at most ${TARGETS.overFloorAt1000}: ${verdict(over <= TARGETS.overFloorAt1000)})`,
    ];
  };
  const rss = results.map(({ jobs, ours, floor }) => [String(jobs), ours.peakRssMiB.toFixed(0), floor.peakRssMiB.toFixed(0)]);
  const rss1000 = results.find(r => r.jobs === 1000)!.ours.peakRssMiB;
  return [
    ...level('### 1. Per-job cost and 2. overhead against the floor, to YAML in memory (`app.synthYaml()`, as `cdk8s synth` writes it)', r => r.yaml),
    '',
    ...level('### The same to manifest objects (`chart.toJson()`: validation and rendering, no YAML)', r => r.objects),
    '',
    '### Peak RSS per size (one process per size and variant, both levels measured)',
    '',
    table(['jobs', 'sweep MiB', 'floor MiB'], rss),
    '',
    `- 1,000 jobs: ${rss1000.toFixed(0)} MiB (target under ${TARGETS.sweep1000RssMiB}: ${verdict(rss1000 < TARGETS.sweep1000RssMiB)})`,
  ];
}

function endToEnd(work: string): string[] {
  const cli = join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
  const env = { CDK8S_CHECK_UPGRADE: 'false' };
  const runs = 7;
  const apps: Array<[string, string]> = [
    ['CIFAR-10 example (1 MPIJob + 1 ConfigMap)', 'lib/examples/cifar10/main.js'],
    ['CIFAR-10 sweep example (20 MPIJobs + ConfigMaps)', 'lib/examples/cifar10-sweep/main.js'],
    ['floor: cdk8s and one ConfigMap', 'lib/scripts/bench-floor-app.js'],
  ];
  const rows = apps.map(([label, script]) => {
    const viaCli = timeCommand(process.execPath, [cli, 'synth', '--app', `node ${script}`, '--output', join(work, 'out')], runs, env);
    const appOnly = timeCommand(process.execPath, [script], runs, { ...env, CDK8S_OUTDIR: join(work, 'out') });
    return { label, viaCli, appOnly };
  });
  const floor = rows[rows.length - 1];
  const example = rows[0];
  const over = example.viaCli / floor.viaCli;
  return [
    `### 3. End to end (compiled JS, median of ${runs} runs after one untimed run)`, '',
    table(['app', '`cdk8s synth` ms', 'vs floor', '`node app.js` ms', 'vs floor'], rows.map(r => [
      r.label, ms(r.viaCli), (r.viaCli / floor.viaCli).toFixed(2), ms(r.appOnly), (r.appOnly / floor.appOnly).toFixed(2),
    ])),
    '',
    `- example \`cdk8s synth\` / floor: ${over.toFixed(2)} (target at most ${TARGETS.endToEndOverFloor}: ${verdict(over <= TARGETS.endToEndOverFloor)})`,
  ];
}

function footprint(): string[] {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf-8' }));
  const requireMs = (modules: string[]) => median(Array.from({ length: 7 }, () => {
    const code = `const s=process.hrtime.bigint();${modules.map(m => `require(${JSON.stringify(m)});`).join('')}`
      + 'process.stdout.write(String(Number(process.hrtime.bigint()-s)/1e6))';
    return Number(execFileSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf-8' }));
  }));
  const peers = ['constructs', 'cdk8s', 'cdk8s-plus-27'];
  const peersMs = requireMs(peers);
  const oursMs = requireMs([...peers, join(ROOT, 'lib', 'src', 'index.js')]);
  return [
    '### 4. Footprint', '',
    table(['measure', 'value'], [
      ['`npm pack` tarball', `${(pack.size / 1024).toFixed(1)} KiB`],
      ['unpacked', `${(pack.unpackedSize / 1024).toFixed(1)} KiB in ${pack.entryCount} files`],
      ['`require` of the peers (constructs, cdk8s, cdk8s-plus-27)', `${ms(peersMs)} ms`],
      ['`require` of the peers and cdk8s-deepspeed', `${ms(oursMs)} ms (cdk8s-deepspeed itself: ${ms(oursMs - peersMs)} ms)`],
    ]),
  ];
}

function machine(): string {
  const cpuModel = readFileSync('/proc/cpuinfo', 'utf-8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return `Machine: \`nproc\` ${execFileSync('nproc', { encoding: 'utf-8' }).trim()}, ${cpuModel}; `
    + `${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM (${(freemem() / 1024 ** 3).toFixed(1)} GiB free); Node.js ${process.version}; ${new Date().toISOString()}`;
}

/** Other processes on the machine stretch wall times; the load average says how much there was. */
function load(): string {
  return loadavg().map(l => l.toFixed(2)).join(' ');
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'cdk8s-deepspeed-bench-'));
  try {
    const header = [machine(), `Load average (1, 5, 15 min) at start: ${load()}`];
    const sections = [perJobCost(work), endToEnd(work), footprint()];
    header.push(`Load average at end: ${load()}`);
    process.stdout.write([header, ...sections].map(s => s.join('\n')).join('\n\n') + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  child(process.argv[3], Number(process.argv[4]), process.argv[5]);
} else {
  main();
}
