// Findings shared between the jobs of a sweep (src/validation/shared-findings.ts): a job takes
// another's findings only when their views are equal, and the findings name the job's own path
// and ConfigMap. Every test of the suite also checks shared findings against an unshared run
// (test/support/setup.ts); these tests show the sharing happens and where it must not.
import { Chart, JsonPatch, Testing } from 'cdk8s';
import { Cpu, DeepSpeedMpiJob, DeepSpeedMpiJobProps, DeepSpeedSweep, OptimizerType, SweepAxis } from '../src';
import { ALL_RULES, error, JobFacts, validateJob } from '../src/validation';
import { _checkSharedFindings, _sharedFindingsCount, readsOnlyConfig, readsWholeJob } from '../src/validation/shared-findings';
import { jobProps, synthError } from './support/synth';
import { takeWarnings } from './support/warnings';

const base: DeepSpeedMpiJobProps = jobProps({
  deepspeedConfig: { trainMicroBatchSizePerGpu: 8, optimizer: { kind: OptimizerType.ADAM, lr: 0.001 } },
});

/** A sweep of three learning rates: three jobs, three ConfigMaps, one spec view. */
function sweepApp(baseJob: DeepSpeedMpiJobProps = base): { app: ReturnType<typeof Testing.app>; sweep: DeepSpeedSweep } {
  const app = Testing.app();
  const sweep = new DeepSpeedSweep(new Chart(app, 'test'), 'sweep', {
    name: 'lr', baseJob, axes: [SweepAxis.learningRate([1e-3, 2e-3, 3e-3])],
  });
  return { app, sweep };
}

/** The synth error lines, without cdk8s's first line. */
function errorLines(app: ReturnType<typeof Testing.app>): string[] {
  return (synthError(app) ?? '').split('\n').slice(1).map(line => line.trim());
}

/** A chart with one job. */
function chartWith(props: DeepSpeedMpiJobProps): Chart {
  const chart = new Chart(Testing.app(), 'test');
  new DeepSpeedMpiJob(chart, 'train', props);
  return chart;
}

/** Adds a rule to the MPIJob rules for one test. */
function withRule(rule: (facts: JobFacts) => any[], test: () => void): void {
  ALL_RULES.push(rule);
  try {
    test();
  } finally {
    ALL_RULES.splice(ALL_RULES.indexOf(rule), 1);
  }
}

describe('findings shared between the jobs of a sweep', () => {
  test('equal jobs share the spec findings, each addressed to its own construct path', () => {
    const { sweep } = sweepApp({ ...base, mpirun: { extraArgs: ['-np', '4'] } });
    const before = _sharedFindingsCount();
    // Validated one by one (not through the sweep), each job reports its own finding.
    const lines = sweep.jobs.map(job => job.node.validate());
    expect(_sharedFindingsCount().spec - before.spec).toBe(2);
    const rest = "mpirun.extraArgs[0] is '-np': it sets the process count";
    sweep.jobs.forEach((job, i) => {
      expect(lines[i]).toHaveLength(1);
      expect(lines[i][0].startsWith(rest)).toBe(true);
      expect(validateJob(job as DeepSpeedMpiJob).map(f => f.message)).toEqual([`${job.node.path}: ${lines[i][0]}`]);
    });
  });

  test('a mistake in the base is reported once, by the sweep, naming the base prop', () => {
    const { app } = sweepApp({ ...base, mpirun: { extraArgs: ['-np', '4'] } });
    const lines = errorLines(app);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[test\/sweep\] baseJob\.mpirun\.extraArgs\[0\] is '-np': it sets the process count, which the job computes from the hostfile/);
 
    // An axis that changes another field of the same prop (workers.replicas) leaves the base's.
    const workers = Testing.app();
    new DeepSpeedSweep(new Chart(workers, 'test'), 'sweep', {
      name: 'w', baseJob: { ...base, workers: { replicas: 2, gpusPerWorker: 0.5 } }, axes: [SweepAxis.workers([1, 2])],
    });
    expect(errorLines(workers)).toEqual([expect.stringMatching(/^\[test\/sweep\] baseJob\.workers\.gpusPerWorker is 0\.5: /)]);
  });

  test('a warning every job has is printed once, by the sweep', () => {
    const { app } = sweepApp({ ...base, workers: { replicas: 2, gpusPerWorker: 2, slotsPerWorker: 1 } });
    expect(errorLines(app)).toEqual([]);
    const warnings = takeWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^test\/sweep: baseJob\.workers\./);
  });

  test('a mistake some points have is reported by each of them; one every point has through an axis is reported once without baseJob', () => {
    const app = Testing.app();
    const sweep = new DeepSpeedSweep(new Chart(app, 'test'), 'sweep', {
      name: 'w', baseJob: base, axes: [SweepAxis.workers([2, 3]), SweepAxis.learningRate([1e-3, 2e-3])],
    });
    (sweep.jobs[0] as DeepSpeedMpiJob).apiObject.addJsonPatch(JsonPatch.add('/spec/runPolicy/backofLimit', 3));
    (sweep.jobs[1] as DeepSpeedMpiJob).apiObject.addJsonPatch(JsonPatch.add('/spec/runPolicy/backofLimit', 3));
    const lines = errorLines(app);
    expect(lines).toHaveLength(2);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^\\[${sweep.jobs[i].node.path}\\] spec\\.runPolicy\\.backofLimit is 3: `)));

    const single = Testing.app();
    new DeepSpeedSweep(new Chart(single, 'test'), 'sweep', {
      name: 'w', baseJob: { ...base, workers: { replicas: 2, gpusPerWorker: 1 } },
      axes: [SweepAxis.workers([2]), SweepAxis.learningRate([1e-3, 2e-3])],
    }).jobs.forEach(job => (job as DeepSpeedMpiJob).apiObject.addJsonPatch(JsonPatch.add('/spec/runPolicy/backofLimit', 3)));
    expect(errorLines(single)).toEqual([expect.stringMatching(/^\[test\/sweep\] spec\.runPolicy\.backofLimit is 3: /)]);
  });

  test('a shared finding that names the job\'s ConfigMap names each job\'s own', () => {
    const namesConfigMap = (facts: JobFacts) => {
      const volume = facts.pods[1].template.spec.volumes.find((v: any) => v.name === 'deepspeed-config');
      return [error('test/config-map', { path: facts.path, field: 'configMap', value: `'${volume.configMap.name}'`, why: 'test', fix: 'None.' })];
    };
    withRule(namesConfigMap, () => {
      const { app, sweep } = sweepApp();
      const before = _sharedFindingsCount();
      const lines = errorLines(app);
      expect(_sharedFindingsCount().spec - before.spec).toBe(2);
      const configMaps = sweep.jobs.map(job => job.configMap!.name);
      expect(new Set(configMaps).size).toBe(3);
      expect(lines).toEqual(sweep.jobs.map((job, i) => `[${job.node.path}] configMap is '${configMaps[i]}': test. None.`));
    });
  });

  test('a patch on one job is that job\'s alone', () => {
    const { app, sweep } = sweepApp();
    (sweep.jobs[1] as DeepSpeedMpiJob).apiObject.addJsonPatch(JsonPatch.add('/spec/runPolicy/backofLimit', 3));
    const lines = errorLines(app);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\[${sweep.jobs[1].node.path}\\] spec\\.runPolicy\\.backofLimit is 3: `));
  });

  test('a spec rule runs once per distinct view, a whole-job rule once per job, a config rule once per config', () => {
    const runs = { spec: 0, job: 0, config: 0 };
    const specRule = () => { runs.spec++; return []; };
    const jobRule = readsWholeJob(() => { runs.job++; return []; });
    const configRule = readsOnlyConfig(() => { runs.config++; return []; });
    _checkSharedFindings(false); // the check would run every rule once more
    try {
      withRule(specRule, () => withRule(jobRule, () => withRule(configRule, () => {
        const app = Testing.app();
        const chart = new Chart(app, 'test');
        // Two sweeps of two configs each: four jobs, two spec views, two configs.
        for (const replicas of [2, 3]) {
          new DeepSpeedSweep(chart, `sweep${replicas}`, {
            name: `w${replicas}`, baseJob: { ...base, workers: { replicas, gpusPerWorker: 1 } }, axes: [SweepAxis.learningRate([1e-3, 2e-3])],
          });
        }
        expect(synthError(app)).toBeUndefined();
      })));
    } finally {
      _checkSharedFindings(true);
    }
    expect(runs).toEqual({ spec: 2, job: 4, config: 2 });
  });

  test('jobs equal but for a value object of their own share nothing (values classes compare by identity)', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    const before = _sharedFindingsCount();
    new DeepSpeedMpiJob(chart, 'a', jobProps({ workers: { replicas: 2, gpusPerWorker: 1, cpu: Cpu.millis(500) } }));
    new DeepSpeedMpiJob(chart, 'b', jobProps({ workers: { replicas: 2, gpusPerWorker: 1, cpu: Cpu.millis(500) } }));
    expect(synthError(app)).toBeUndefined();
    expect(_sharedFindingsCount().spec - before.spec).toBe(0);
  });

  test('a rule that reads what its scope hides fails loudly', () => {
    const readsMetadata = (facts: JobFacts) => (facts.manifest.metadata ? [] : []);
    withRule(readsMetadata, () => {
      expect(() => Testing.synth(chartWith(base)))
        .toThrow('cdk8s-deepspeed internal error: a rule of the spec scope read metadata; mark it readsWholeJob');
    });
    const readsPods = readsOnlyConfig((facts: JobFacts) => (facts.pods.length > 0 ? [] : []));
    withRule(readsPods, () => {
      expect(() => Testing.synth(chartWith(base)))
        .toThrow('cdk8s-deepspeed internal error: a rule of the config scope read pods; mark it readsWholeJob');
    });
  });
});
