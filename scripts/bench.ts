// Synthesis speed, memory and footprint figures for docs/benchmarks.md. Run with `npm run bench`
// (compiles first; this file runs as lib/scripts/bench.js). Figures only: nothing here asserts.
//
// Each sweep size runs in its own child processes, so that heap growth from one size never shows
// up in another size's figures: one child times the sweep and the floor with their runs
// interleaved (warm-up rounds first, a full GC before every run, medians reported), so that load
// from other processes hits both alike; then each variant runs alone in a child of its own for
// its peak RSS. CPU time is printed next to wall time because a shared machine stretches wall
// time (see the load average).
import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'os';
import { join, resolve } from 'path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { cifar10ScaleSweep } from '../examples/sweep/main';

const ROOT = resolve(__dirname, '..', '..');
const SIZES = [1, 10, 100, 1000];
const SEED = 2024;
const MIB = 1024 * 1024;

/** Issue 7 targets on the 2-core development machine, with issue 12's sweep/floor targets per level. */
const TARGETS = {
  sweep1000Seconds: 1,
  sweep1000RssMiB: 512,
  overFloorAt1000Yaml: 1.5,
  overFloorAt1000Objects: 3,
  ratio1000To100: 11,
  endToEndOverFloor: 1.3,
};

/** Median figures of one way of synthesizing one sweep size. */
interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** The sweep and the floor, timed in one process with their runs interleaved. */
interface TimeResult {
  /** To YAML in memory, as `cdk8s synth` writes it: `app.synthYaml()`. */
  readonly yaml: { readonly sweep: Timing; readonly floor: Timing };
  /** To manifest objects, validation included: `chart.toJson()`, what `Testing.synth` returns. */
  readonly objects: { readonly sweep: Timing; readonly floor: Timing };
  readonly runs: number;
  readonly manifests: number;
}

/** One variant alone in a process: its peak RSS and the YAML it wrote. */
interface RssResult {
  readonly peakRssMiB: number;
  readonly yamlSha256: string;
}

interface Synthesizable {
  readonly app: App;
  readonly chart: Chart;
}

/** A sweep of `jobs` points of the 1,000-job CIFAR-10 sweep, in a new app. */
function sweepApp(jobs: number): Synthesizable {
  const app = new App();
  return { app, chart: cifar10ScaleSweep(app, { count: jobs, seed: SEED }) };
}

/** The floor: the very same objects as plain ApiObjects from precomputed JSON, in a new app. */
function floorApp(manifests: any[]): Synthesizable {
  const app = new App();
  const chart = new Chart(app, 'cifar10-sweep');
  manifests.forEach((manifest, i) => new ApiObject(chart, `object${i}`, manifest));
  return { app, chart };
}

function builders(jobs: number, manifestFile: string): { sweep: () => Synthesizable; floor: () => Synthesizable } {
  const manifests = JSON.parse(readFileSync(manifestFile, 'utf-8'));
  return { sweep: () => sweepApp(jobs), floor: () => floorApp(manifests) };
}

/** Timed runs scale down with size so that every size takes a few seconds. */
function runsFor(jobs: number): { warmup: number; timed: number } {
  return { warmup: Math.min(20, Math.max(3, Math.round(300 / jobs))), timed: Math.min(100, Math.max(9, Math.round(2000 / jobs))) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Warm-up rounds, then timed rounds; each round runs the sweep and then the floor, each after a
 * full GC (the child runs with --expose-gc). Medians of wall and CPU time per variant.
 */
function measurePair(jobs: number, build: { sweep: () => Synthesizable; floor: () => Synthesizable },
  finish: (s: Synthesizable) => unknown): { sweep: Timing; floor: Timing } {
  const { warmup, timed } = runsFor(jobs);
  const variants = [['sweep', build.sweep], ['floor', build.floor]] as const;
  const samples = { sweep: { wall: [] as number[], cpu: [] as number[] }, floor: { wall: [] as number[], cpu: [] as number[] } };
  for (let round = 0; round < warmup + timed; round++) {
    for (const [name, make] of variants) {
      (globalThis as any).gc();
      const startCpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      finish(make());
      const wall = Number(process.hrtime.bigint() - start) / 1e6;
      const cpu = process.cpuUsage(startCpu);
      if (round >= warmup) {
        samples[name].wall.push(wall);
        samples[name].cpu.push((cpu.user + cpu.system) / 1000);
      }
    }
  }
  const timing = (name: 'sweep' | 'floor') => ({ wallMs: median(samples[name].wall), cpuMs: median(samples[name].cpu) });
  return { sweep: timing('sweep'), floor: timing('floor') };
}

/** Child process `time`: both variants at one size, to objects and to YAML; JSON on stdout. */
function timeChild(jobs: number, manifestFile: string): TimeResult {
  const build = builders(jobs, manifestFile);
  return {
    objects: measurePair(jobs, build, s => s.chart.toJson()),
    yaml: measurePair(jobs, build, s => s.app.synthYaml()),
    runs: runsFor(jobs).timed,
    manifests: build.floor().chart.toJson().length,
  };
}

/** Child process `rss`: one variant alone, warmed up, then synthesized to YAML; its peak RSS and YAML hash. */
function rssChild(variant: 'sweep' | 'floor', jobs: number, manifestFile: string): RssResult {
  const make = builders(jobs, manifestFile)[variant];
  let yaml = '';
  for (let i = 0; i < 3; i++) yaml = make().app.synthYaml();
  // maxRSS is in KiB on Linux.
  return { peakRssMiB: process.resourceUsage().maxRSS / 1024, yamlSha256: createHash('sha256').update(yaml).digest('hex') };
}

function runChild<T>(args: string[]): T {
  const out = execFileSync(process.execPath, ['--expose-gc', __filename, 'child', ...args], { cwd: ROOT, encoding: 'utf-8', maxBuffer: 16 * MIB });
  return JSON.parse(out);
}

/** Median wall time in ms of each command over `runs` rounds (after one untimed round); rounds interleave the commands. */
function timeCommands(commands: Array<{ args: string[]; env?: NodeJS.ProcessEnv }>, runs: number): number[] {
  const run = ({ args, env }: { args: string[]; env?: NodeJS.ProcessEnv }) => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf-8' });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  commands.forEach(run);
  const samples = commands.map(() => [] as number[]);
  for (let round = 0; round < runs; round++) commands.forEach((command, i) => samples[i].push(run(command)));
  return samples.map(median);
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
    writeFileSync(manifestFile, JSON.stringify(Testing.synth(cifar10ScaleSweep(Testing.app(), { count: jobs, seed: SEED }))));
    const time = runChild<TimeResult>(['time', String(jobs), manifestFile]);
    const sweepRss = runChild<RssResult>(['rss', 'sweep', String(jobs), manifestFile]);
    const floorRss = runChild<RssResult>(['rss', 'floor', String(jobs), manifestFile]);
    if (sweepRss.yamlSha256 !== floorRss.yamlSha256) throw new Error(`the floor's YAML differs from the sweep's at ${jobs} jobs`);
    return { jobs, time, sweepRss, floorRss };
  });
  const at = (jobs: number) => results.find(r => r.jobs === jobs)!;
  const level = (title: string, pick: (r: TimeResult) => { sweep: Timing; floor: Timing }, overTarget: number): string[] => {
    const rows = results.map(({ jobs, time }) => {
      const { sweep, floor } = pick(time);
      return [
        String(jobs), String(time.manifests), String(time.runs),
        ms(sweep.wallMs), ms(sweep.wallMs / jobs), ms(sweep.cpuMs),
        ms(floor.wallMs), ms(floor.cpuMs),
        (sweep.wallMs / floor.wallMs).toFixed(2), (sweep.cpuMs / floor.cpuMs).toFixed(2),
      ];
    });
    const { sweep, floor } = pick(at(1000).time);
    const ratio = sweep.wallMs / pick(at(100).time).sweep.wallMs;
    const over = sweep.wallMs / floor.wallMs;
    return [
      title, '',
      table(['jobs', 'manifests', 'runs', 'sweep wall ms', 'wall ms/job', 'sweep CPU ms', 'floor wall ms', 'floor CPU ms', 'sweep/floor wall', 'sweep/floor CPU'], rows),
      '',
      `- 1,000 jobs in ${ms(sweep.wallMs)} ms wall, ${ms(sweep.cpuMs)} ms CPU (target under ${TARGETS.sweep1000Seconds * 1000} ms: ${verdict(sweep.wallMs < TARGETS.sweep1000Seconds * 1000)})`,
      `- 1,000/100 wall time ratio: ${ratio.toFixed(2)} (linear is 10; target at most ${TARGETS.ratio1000To100}: ${verdict(ratio <= TARGETS.ratio1000To100)})`,
      `- sweep/floor at 1,000 jobs: ${over.toFixed(2)} wall, ${(sweep.cpuMs / floor.cpuMs).toFixed(2)} CPU (target at most ${overTarget}: ${verdict(over <= overTarget)})`,
    ];
  };
  const rss1000 = at(1000).sweepRss.peakRssMiB;
  return [
    ...level('### 1. Per-job cost and 2. overhead against the floor, to YAML in memory (`app.synthYaml()`, as `cdk8s synth` writes it)', t => t.yaml, TARGETS.overFloorAt1000Yaml),
    '',
    ...level('### The same to manifest objects (`chart.toJson()`: validation and rendering, no YAML)', t => t.objects, TARGETS.overFloorAt1000Objects),
    '',
    '### Peak RSS per size (each variant alone in its own process: 3 syntheses to YAML)',
    '',
    table(['jobs', 'sweep MiB', 'floor MiB'], results.map(r => [String(r.jobs), r.sweepRss.peakRssMiB.toFixed(0), r.floorRss.peakRssMiB.toFixed(0)])),
    '',
    `- 1,000 jobs: ${rss1000.toFixed(0)} MiB (target under ${TARGETS.sweep1000RssMiB}: ${verdict(rss1000 < TARGETS.sweep1000RssMiB)})`,
  ];
}

function endToEnd(work: string): string[] {
  const cli = join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
  const env = { CDK8S_CHECK_UPGRADE: 'false', CDK8S_OUTDIR: join(work, 'out') };
  const runs = 9;
  const apps: Array<[string, string]> = [
    ['CIFAR-10 example (MPIJob, ConfigMap, NetworkPolicy, Dockerfile)', 'lib/examples/cifar10/main.js'],
    ['sweep example (6 MPIJobs, 6 ConfigMaps, 1 NetworkPolicy, Dockerfile)', 'lib/examples/sweep/main.js'],
    ['floor: cdk8s and one ConfigMap', 'lib/scripts/bench-floor-app.js'],
  ];
  const viaCli = timeCommands(apps.map(([, script]) => ({ args: [cli, 'synth', '--app', `node ${script}`, '--output', join(work, 'out')], env })), runs);
  const appOnly = timeCommands(apps.map(([, script]) => ({ args: [script], env })), runs);
  const floor = apps.length - 1;
  const over = viaCli[0] / viaCli[floor];
  return [
    `### 3. End to end (compiled JS, median of ${runs} interleaved runs after one untimed run)`, '',
    table(['app', '`cdk8s synth` ms', 'vs floor', '`node app.js` ms', 'vs floor'], apps.map(([label], i) => [
      label, ms(viaCli[i]), (viaCli[i] / viaCli[floor]).toFixed(2), ms(appOnly[i]), (appOnly[i] / appOnly[floor]).toFixed(2),
    ])),
    '',
    `- example \`cdk8s synth\` / floor: ${over.toFixed(2)} (target at most ${TARGETS.endToEndOverFloor}: ${verdict(over <= TARGETS.endToEndOverFloor)})`,
  ];
}

function footprint(): string[] {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf-8' }));
  // One fresh process per sample: the peers first, then the package on top of them.
  const code = 'const t0=process.hrtime.bigint();require("constructs");require("cdk8s");require("cdk8s-plus-27");'
    + `const t1=process.hrtime.bigint();require(${JSON.stringify(join(ROOT, 'lib', 'src', 'index.js'))});const t2=process.hrtime.bigint();`
    + 'process.stdout.write(JSON.stringify([Number(t1-t0)/1e6,Number(t2-t1)/1e6]))';
  const samples: number[][] = Array.from({ length: 9 }, () => JSON.parse(execFileSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf-8' })));
  const peersMs = median(samples.map(([peers]) => peers));
  const oursMs = median(samples.map(([, ours]) => ours));
  return [
    '### 4. Footprint', '',
    table(['measure', 'value'], [
      ['`npm pack` tarball', `${(pack.size / 1024).toFixed(1)} KiB`],
      ['unpacked', `${(pack.unpackedSize / 1024).toFixed(1)} KiB in ${pack.entryCount} files`],
      ['`require` of the peers (constructs, cdk8s, cdk8s-plus-27), median of 9 fresh processes', `${ms(peersMs)} ms`],
      ['`require` of cdk8s-deepspeed once the peers are loaded', `${ms(oursMs)} ms`],
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

if (require.main === module && process.argv[2] === 'child') {
  const [kind, ...args] = process.argv.slice(3);
  const result = kind === 'time'
    ? timeChild(Number(args[0]), args[1])
    : rssChild(args[0] as 'sweep' | 'floor', Number(args[1]), args[2]);
  process.stdout.write(JSON.stringify(result));
} else if (require.main === module) {
  main();
}
