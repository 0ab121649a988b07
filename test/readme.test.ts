// The README is the first thing a user runs: its commands, code and YAML must be the real thing.
import { execFileSync } from 'child_process';
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

test('the validation error the README shows is the real one, thrown from the line of cdk8s it shows', () => {
  const shown = README.match(/^Error: Validation failed with the following errors:\n {2}(.*)$/m)![1];
  const broken = quickStart.replace('trainMicroBatchSizePerGpu: 8,', 'trainBatchSize: 12, trainMicroBatchSizePerGpu: 8,');
  expect(broken).not.toBe(quickStart);
  expect(() => runProgram(broken)).toThrow(`Validation failed with the following errors:\n  ${shown}`);
  // Node quotes the throwing line of cdk8s's app.js; the whole terminal output is compared with a real
  // `cdk8s synth` of the README's app in test/apps/flavours.apps.ts (npx projen test:apps).
  const [, file, line, source] = /^…\/node_modules\/(cdk8s\/lib\/app\.js):(\d+)\n(.*)$/m.exec(README)!;
  const appJs = fs.readFileSync(require.resolve(file), 'utf8').split('\n');
  expect(appJs[Number(line) - 1]).toBe(source);
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
  expectWarnings();
});

/** Every name the public TypeScript API offers: exported symbols, static members, enum members, props and parameters. */
function publicApiNames(): { exported: Set<string>; members: Set<string> } {
  const program = ts.createProgram([SRC], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const exported = new Set<string>();
  const members = new Set<string>();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(SRC)!)!;
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    exported.add(symbol.name);
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    for (const decl of target.declarations ?? []) {
      ts.forEachChild(decl, function visit(node: ts.Node) {
        if ((ts.isPropertySignature(node) || ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node)
          || ts.isEnumMember(node) || ts.isParameter(node) || ts.isGetAccessorDeclaration(node)) && node.name) {
          members.add(node.name.getText());
        }
        ts.forEachChild(node, visit);
      });
    }
  }
  return { exported, members };
}

/** The cdk8s_deepspeed names a Python program uses (imports, attributes, keywords, struct dict keys). */
function pythonNames(code: string): { imports: string[]; attributes: string[]; keys: string[] } {
  const script = [
    'import ast, json, re, sys',
    'tree = ast.parse(sys.stdin.read())',
    'compile(ast.unparse(tree), "readme", "exec")',
    'imports = [a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "cdk8s_deepspeed" for a in n.names]',
    'attributes = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in imports]',
    'keys = [k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg]',
    'keys += [k.value for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys',
    '         if isinstance(k, ast.Constant) and isinstance(k.value, str) and re.fullmatch("[a-z][a-z0-9_]*", k.value)]',
    'print(json.dumps({"imports": imports, "attributes": attributes, "keys": keys}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script], { input: code, encoding: 'utf8' }));
}

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

test('the Python quick start compiles, uses only names of the public API, and sets what the TypeScript one sets', () => {
  const [python] = blocks(README, 'python');
  expect(python).toBeDefined();
  const { exported, members } = publicApiNames();
  const used = pythonNames(python);
  expect(used.imports.filter(name => !exported.has(name))).toEqual([]);
  // jsii's Python names: methods and props in snake_case, enum members as they are.
  expect(used.attributes.filter(name => !members.has(camel(name)) && !members.has(name))).toEqual([]);
  expect(used.keys.filter(name => !members.has(camel(name)))).toEqual([]);
  // Same job: every prop the TypeScript quick start writes, the Python one writes too.
  const tsProps = [...quickStart.matchAll(/\b([a-z][A-Za-z0-9]*): /g)].map(m => m[1]);
  const pythonProps = new Set(used.keys.map(camel));
  expect(tsProps.filter(prop => !pythonProps.has(prop))).toEqual([]);
  expect(new Set(used.imports)).toEqual(new Set([...quickStart.matchAll(/import \{([^}]*)\} from 'cdk8s-deepspeed'/g)]
    .flatMap(m => m[1].split(',').map(n => n.trim()).filter(Boolean))));
});
