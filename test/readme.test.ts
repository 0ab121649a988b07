// The README is the first thing a user runs: its commands, code and YAML must be the real thing.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { excerptMismatches, yamlExcerpts } from './support/examples';
import { expectWarnings } from './support/warnings';

const ROOT = path.resolve(__dirname, '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const SRC = path.join(ROOT, 'src', 'index.ts');

/** The fenced blocks of a markdown text whose info string is exactly `lang`. */
function blocks(markdown: string, lang: string): string[] {
  const found: string[] = [];
  const pattern = /^```(\S*)\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(markdown); match; match = pattern.exec(markdown)) {
    if (match[1] === lang) found.push(match[2]);
  }
  return found;
}

/** A README program importing the library from the source tree instead of npm. */
function fromSource(code: string): string {
  return code.replace(/from 'cdk8s-deepspeed'/g, `from '${SRC.replace(/\.ts$/, '')}'`);
}

/** Runs a README program with jest's require and returns what `app.synth()` wrote. */
function runProgram(code: string): any[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  const js = ts.transpileModule(fromSource(code), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const previous = process.env.CDK8S_OUTDIR;
  process.env.CDK8S_OUTDIR = outdir;
  try {
    new Function('require', 'exports', js)(require, {});
    return fs.readdirSync(outdir).filter(f => f.endsWith('.k8s.yaml'))
      .flatMap(f => parseAllDocuments(fs.readFileSync(path.join(outdir, f), 'utf8')).map(d => d.toJS()));
  } finally {
    if (previous === undefined) delete process.env.CDK8S_OUTDIR; else process.env.CDK8S_OUTDIR = previous;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const [quickStart, ...otherPrograms] = blocks(README, 'ts');

test('the first code block holds the two commands, and .ci/run runs the second', () => {
  const first = README.match(/^```\w*\n([\s\S]*?)^```$/m)![1].trim().split('\n');
  expect(first).toEqual(['npm ci && npx projen synth', 'scripts/install-test-deps.sh && npm ci && npx projen test']);
  expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toContain("awk '/^```/{n++; next} n==1{print}' README.md | sed -n 2p");
});

test('every TypeScript block type-checks against the public API', () => {
  const dir = fs.mkdtempSync(path.join(ROOT, 'node_modules', '.readme-check-'));
  try {
    const files = [quickStart, ...otherPrograms].map((code, i) => {
      const file = path.join(dir, `block-${i}.ts`);
      fs.writeFileSync(file, fromSource(code));
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
    });
    // Only the README's own files: the library's sources are type-checked by the test task's tsc step.
    const problems = files.flatMap(file => ts.getPreEmitDiagnostics(program, program.getSourceFile(file))).map(d =>
      `${path.basename(d.file?.fileName ?? '')}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the quick start synthesizes the YAML the README shows', () => {
  const manifests = runProgram(quickStart);
  expect(manifests.map(m => m.kind).sort()).toEqual(['ConfigMap', 'MPIJob', 'NetworkPolicy']);
  const excerpts = yamlExcerpts(README);
  expect(excerpts.length).toBeGreaterThan(0);
  const mismatches = excerpts.flatMap(e => e.documents.flatMap(doc => {
    const actual = manifests.find(m => m.kind === doc.kind && m.metadata?.name === doc.metadata?.name);
    return actual ? excerptMismatches(actual, doc).map(p => `line ${e.line} ${doc.kind}${p}`) : [`line ${e.line}: no ${doc.kind} ${doc.metadata?.name}`];
  }));
  expect(mismatches).toEqual([]);
});

test('the validation error the README shows is the real one', () => {
  const shown = README.match(/^Validation failed with the following errors:\n {2}(.*)$/m)![1];
  const broken = quickStart.replace('trainMicroBatchSizePerGpu: 8,', 'trainBatchSize: 12, trainMicroBatchSizePerGpu: 8,');
  expect(broken).not.toBe(quickStart);
  expect(() => runProgram(broken)).toThrow(shown);
});

test('the Secret-backed token and GPU tolerations example synthesizes what the README says', () => {
  const program = otherPrograms.find(code => code.includes('EnvValue.fromSecretKey'))!;
  const mpiJob = runProgram(program).find(m => m.kind === 'MPIJob');
  const launcher = mpiJob.spec.mpiReplicaSpecs.Launcher.template.spec.containers[0];
  expect(launcher.env).toContainEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } });
  expect(launcher.command.join(' ')).toContain('-x HF_TOKEN');
  const worker = mpiJob.spec.mpiReplicaSpecs.Worker.template.spec;
  expect(worker.tolerations).toEqual([
    { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'pool', operator: 'Equal', value: 'a100', effect: 'NoSchedule' },
  ]);
  expect(worker.volumes).toContainEqual({ name: 'pvc-datasets', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } });
});

test('the production options example synthesizes', () => {
  const production = otherPrograms.find(code => code.includes('Interconnect.infiniband'))!;
  const manifests = runProgram(production);
  expect(manifests.map(m => m.kind).sort()).toEqual(['MPIJob', 'NetworkPolicy', 'PersistentVolumeClaim', 'ServiceAccount']);
  expectWarnings('llm/train: Worker container capabilities.add is ["IPC_LOCK"]');
});
