import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { DeepSpeedMpiJob, DeepSpeedTrainingImage } from '../../src';
import { restoreWarnings, takeWarnings } from './warnings';

/** The repository's examples/ directory. */
export const EXAMPLES_DIR = path.resolve(__dirname, '../../examples');

/** Every example, as scripts/synth-examples.sh finds them: the directories under examples/ with a main.ts. */
export function exampleNames(): string[] {
  return fs.readdirSync(EXAMPLES_DIR)
    .filter(name => fs.existsSync(path.join(EXAMPLES_DIR, name, 'main.ts')))
    .sort();
}

/** What one example synthesizes in memory, chart by chart. */
export interface SynthesizedExample {
  readonly app: App;
  /** Manifests per chart id. */
  readonly charts: { [chartId: string]: any[] };
  /** Every manifest of every chart. */
  readonly manifests: any[];
  readonly jobs: DeepSpeedMpiJob[];
  readonly images: DeepSpeedTrainingImage[];
  /** The warnings the synthesis printed (taken from the test's warning capture). */
  readonly warnings: string[];
}

/**
 * Builds an example the way its main.ts does, without writing files: every function it exports
 * whose name starts with `build` is called on one app, then each chart is synthesized.
 */
export function synthExample(name: string): SynthesizedExample {
  const module = require(path.join(EXAMPLES_DIR, name, 'main'));
  const app = Testing.app();
  const builders = Object.entries(module).filter(([key, value]) => /^build[A-Z]/.test(key) && typeof value === 'function');
  if (builders.length === 0) throw new Error(`examples/${name}/main.ts exports no build function`);
  for (const [, build] of builders) (build as (app: App) => Chart)(app);
  const before = takeWarnings();
  const charts = Object.fromEntries(app.charts.map(chart => [chart.node.id, Testing.synth(chart)]));
  const warnings = takeWarnings();
  // Warnings written before this call stay for the caller to assert.
  restoreWarnings(before);
  const constructs = app.node.findAll();
  return {
    warnings,
    app,
    charts,
    manifests: Object.values(charts).flat(),
    jobs: constructs.filter((c): c is DeepSpeedMpiJob => c instanceof DeepSpeedMpiJob),
    images: constructs.filter((c): c is DeepSpeedTrainingImage => c instanceof DeepSpeedTrainingImage),
  };
}

/** One manifest by kind and name. */
export function manifest(manifests: any[], kind: string, name: string): any {
  const found = manifests.filter(m => m.kind === kind && m.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0];
}

/** The parsed DeepSpeed config of an MPIJob's ConfigMap. */
export function deepspeedConfigOf(manifests: any[], jobName: string): any {
  return JSON.parse(manifest(manifests, 'ConfigMap', `${jobName}-deepspeed`).data['ds_config.json']);
}

/** A fenced ```yaml block of a markdown file, parsed into its documents. */
export interface YamlExcerpt {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly documents: any[];
}

/**
 * The ```yaml blocks of a markdown text. Blocks with more words in the info string
 * (```yaml cluster-setup) are not synthesized output and are left out.
 */
export function yamlExcerpts(markdown: string): YamlExcerpt[] {
  const excerpts: YamlExcerpt[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```yaml') continue;
    const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
    if (end < 0) throw new Error(`unclosed yaml block at line ${i + 1}`);
    const documents = parseAllDocuments(lines.slice(i + 1, end).join('\n')).map(doc => {
      if (doc.errors.length > 0) throw new Error(`yaml block at line ${i + 1}: ${doc.errors[0].message}`);
      return doc.toJS();
    }).filter(doc => doc !== null);
    excerpts.push({ line: i + 1, documents });
    i = end;
  }
  return excerpts;
}

/**
 * The paths where `excerpt` says something `actual` does not: objects must hold every key of
 * the excerpt, arrays every excerpt element in the same order (other elements may sit between),
 * scalars must be equal; strings holding JSON objects are compared as those objects.
 */
export function excerptMismatches(actual: any, excerpt: any, at = ''): string[] {
  if (Array.isArray(excerpt)) {
    if (!Array.isArray(actual)) return [`${at}: expected a list, found ${JSON.stringify(actual)}`];
    let next = 0;
    for (const [i, element] of excerpt.entries()) {
      const found = actual.findIndex((candidate, j) => j >= next && excerptMismatches(candidate, element).length === 0);
      if (found < 0) return [`${at}[${i}]: ${JSON.stringify(element)} is not in ${JSON.stringify(actual.slice(next))}`];
      next = found + 1;
    }
    return [];
  }
  if (excerpt !== null && typeof excerpt === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${at}: expected an object, found ${JSON.stringify(actual)}`];
    }
    return Object.entries(excerpt).flatMap(([key, value]) =>
      key in actual ? excerptMismatches(actual[key], value, `${at}.${key}`) : [`${at}.${key}: missing`]);
  }
  if (actual === excerpt) return [];
  // A JSON document held in a string (a ConfigMap's ds_config.json) is compared key by key.
  const [actualJson, excerptJson] = [parsedJsonObject(actual), parsedJsonObject(excerpt)];
  if (actualJson && excerptJson) return excerptMismatches(actualJson, excerptJson, `${at}(json)`);
  return [`${at}: ${JSON.stringify(excerpt)} in the excerpt, ${JSON.stringify(actual)} synthesized`];
}

/** The object a string holds as JSON, or undefined. */
function parsedJsonObject(value: any): object | undefined {
  if (typeof value !== 'string' || !value.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/**
 * Why an excerpt document matches no manifest, or undefined when it matches one. A document
 * starts at a manifest's root and names its kind and metadata.name, so it is compared with
 * exactly that manifest.
 */
export function excerptProblem(document: any, manifests: any[]): string | undefined {
  const kind = document?.kind;
  const name = document?.metadata?.name;
  if (typeof kind !== 'string' || typeof name !== 'string') {
    return `an excerpt must start at a manifest's root with kind and metadata.name: ${JSON.stringify(document).slice(0, 80)}`;
  }
  // Charts of one example may hold objects of the same kind and name (one job for two operators): any may match.
  const targets = manifests.filter(m => m.kind === kind && m.metadata?.name === name);
  if (targets.length === 0) return `no ${kind} named ${name} is synthesized`;
  const mismatches = targets.map(target => excerptMismatches(target, document));
  return mismatches.some(m => m.length === 0) ? undefined : `${kind} ${name}: ${mismatches[0].join('; ')}`;
}

/** The `dist/examples/...` paths a markdown text names, e.g. in `kubectl apply -f`. */
export function referencedOutputPaths(markdown: string): string[] {
  return [...new Set([...markdown.matchAll(/dist\/examples\/[\w./-]*\w/g)].map(m => m[0]))];
}
