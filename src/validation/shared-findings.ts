import { JobRule } from './context';
import { JobFacts, PodFacts } from './facts';
import { _isSharedRender } from '../deepspeed-config-render';
import { Finding } from './finding';

/*
 * Findings shared between the jobs of a sweep. Most rules read neither the job's metadata (its
 * name, labels, annotations) nor its DeepSpeed config, and the jobs of a sweep differ mostly in
 * exactly those: a sweep of 1,000 jobs over learning rates, ZeRO stages and batch sizes has a
 * handful of distinct pod templates and launches once its ConfigMap names are set aside. Such a
 * rule runs once per distinct view of the facts and its findings are re-addressed to each job.
 *
 * Safe by construction: a rule sees only its view, in which what it may not read is absent and
 * throws when read (so a rule in the wrong scope fails every test that runs it), and a job takes
 * the findings of an earlier job only when their whole views are equal: plain data by value,
 * anything else (constructs, value classes) by identity. The one difference allowed is the name of
 * the job's own generated ConfigMap, which no rule checks and which the findings get back, like
 * the construct path. Views are compared rather than written out as keys: the strings they share
 * (the launcher's program, the image) are the same objects in every job, so comparing them is
 * one pointer comparison where a key would copy and hash them for every job.
 */

/** What a rule reads of the job facts, which decides which jobs can share its findings. */
export enum RuleScope {
  /**
   * Only the DeepSpeed config, as written (`deepspeedConfig`) and as typed (`props.deepspeedConfig`):
   * shared by the jobs with the same config.
   */
  CONFIG = 'config',
  /**
   * Everything but the metadata and the DeepSpeed config: the props (without `metadata` and
   * `deepspeedConfig`), the image, the launch, the pods and the manifest (without `metadata`).
   * Shared by the jobs whose facts are equal but for those.
   */
  SPEC = 'spec',
  /** The whole job: runs for every job. */
  JOB = 'job',
}

const scopes = new WeakMap<JobRule, RuleScope>();

/** Marks a rule that reads nothing but the DeepSpeed config. */
export function readsOnlyConfig(rule: JobRule): JobRule {
  scopes.set(rule, RuleScope.CONFIG);
  return rule;
}

/** Marks a rule that reads the job's metadata or its DeepSpeed config together with other facts. */
export function readsWholeJob(rule: JobRule): JobRule {
  scopes.set(rule, RuleScope.JOB);
  return rule;
}

/** A rule's scope; unmarked rules read the spec. */
export function scopeOf(rule: JobRule): RuleScope {
  return scopes.get(rule) ?? RuleScope.SPEC;
}

/** Stands for the construct path in shared findings. */
const SHARED_PATH = '\u0000job\u0000';
/** Jobs kept per bucket of similar jobs before the oldest gives way: bounds the comparisons a job makes. */
const MAX_PER_BUCKET = 8;
/** Buckets kept per memo before it starts over: bounds memory for apps with many distinct jobs. */
const MAX_BUCKETS = 10_000;

/** The findings of one scope's rules for one view, aligned with the rule list (undefined: other scope). */
interface SharedEntry {
  /** The job they were computed for (spec scope: the view later jobs are compared with). */
  readonly facts?: JobFacts;
  readonly findings: Array<Finding[] | undefined>;
}

/** The memo of one rule list. */
interface Memo {
  /** The rule list as it was when the memo was made. */
  readonly rules: readonly JobRule[];
  /** The scope of each rule of the list. */
  readonly scopes: RuleScope[];
  /** Config-scope entries by the config's JSON text (a config is small and rarely shared by identity). */
  readonly config: Map<string, SharedEntry>;
  /** Config-scope entries of the configs a sweep's jobs share by identity (see _isSharedRender). */
  readonly configByIdentity: WeakMap<object, SharedEntry>;
  /** Spec-scope entries by a few numbers equal views share (see bucketOf). */
  readonly spec: Map<string, SharedEntry[]>;
}

/** Memos by the app they serve (so they go with it) and by rule list. */
const memos = new WeakMap<object, Map<readonly JobRule[], Memo>>();

let checkSharing = false;
/** How often a job took findings computed for another job (for tests). */
const counts = { spec: 0, config: 0 };

/**
 * How often jobs took spec- and config-scope findings computed for an earlier job.
 * @internal
 */
export function _sharedFindingsCount(): { spec: number; config: number } {
  return { ...counts };
}

/**
 * Runs every rule of `rules` for the job and checks the shared findings against an unshared run,
 * throwing on any difference. For tests only.
 * @internal
 */
export function _checkSharedFindings(enabled: boolean): void {
  checkSharing = enabled;
}

/** The one string two views may differ in: `from` in one where `to` is in the other. */
interface Rename {
  readonly from?: string;
  readonly to?: string;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Whether two values are the same for a rule: plain objects (see sameFields), arrays and
 * primitives by value (NaN equals NaN), anything else only if it is the same object.
 */
function same(a: unknown, b: unknown, rename: Rename): boolean {
  // The old name where the other job also has it is not the rename: findings would name the wrong one.
  if (a === b) return typeof a !== 'string' || a !== rename.from || rename.from === rename.to;
  if (typeof a === 'string') return a === rename.from && b === rename.to;
  if (typeof a === 'number') return typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i], rename)) return false;
    return true;
  }
  if (Array.isArray(b) || !isPlainObject(a) || !isPlainObject(b)) return false;
  return sameFields(a, b, rename, NO_FIELDS);
}

const NO_FIELDS: readonly string[] = [];

/**
 * Whether two plain objects have the same fields, `skipped` aside. Their order is not compared
 * (walking them with for-in allocates nothing; Object.keys allocated a third of a sweep's
 * comparisons): the render sorts every manifest object's keys, and props written by the same
 * code come in the same order.
 */
function sameFields(a: any, b: any, rename: Rename, skipped: readonly string[]): boolean {
  let fields = 0;
  for (const key in a) {
    fields++;
    if (!(key in b)) return false;
    if ((skipped.length === 0 || !skipped.includes(key)) && !same(a[key], b[key], rename)) return false;
  }
  for (const _key in b) fields--;
  return fields === 0;
}

/** Manifest paths of pod templates, split: a handful, asked for by every comparison. */
const pathKeys = new Map<string, string[]>();

/** The object at a manifest path such as `spec.mpiReplicaSpecs.Worker.template`, if it is one. */
function at(manifest: any, path: string): unknown {
  let node = manifest;
  let keys = pathKeys.get(path);
  if (keys === undefined) {
    if (pathKeys.size >= 100) pathKeys.clear();
    pathKeys.set(path, keys = path.split('.'));
  }
  for (const key of keys) {
    if (node === null || typeof node !== 'object') return undefined;
    node = node[key];
  }
  return node;
}

/** Whether a pod's template is the manifest's own object at the pod's path, so comparing the manifests compared it. */
function inManifest(facts: JobFacts, pod: PodFacts): boolean {
  return facts.manifest !== undefined && at(facts.manifest, pod.path) === pod.template;
}

const POD_TEMPLATE = ['template'];
const SPEC_HIDDEN_PROPS = ['metadata', 'deepspeedConfig'];
const MANIFEST_METADATA = ['metadata'];

/** Whether two jobs have the same spec view (see RuleScope.SPEC), their own ConfigMap names aside. */
function sameSpecView(a: JobFacts, b: JobFacts): boolean {
  if ((a.configMapName === undefined) !== (b.configMapName === undefined) || a.pods.length !== b.pods.length) return false;
  const rename: Rename = { from: a.configMapName, to: b.configMapName };
  if (!same(a.image, b.image, rename) || !same(a.launch, b.launch, rename) || !same(a.operator, b.operator, rename)) return false;
  if (!(a.manifest === undefined ? b.manifest === undefined : b.manifest !== undefined && sameFields(a.manifest, b.manifest, rename, MANIFEST_METADATA))) return false;
  for (let i = 0; i < a.pods.length; i++) {
    const podA = a.pods[i];
    const podB = b.pods[i];
    if (!sameFields(podA, podB, rename, POD_TEMPLATE)) return false;
    const compared = inManifest(a, podA) && inManifest(b, podB) && podA.path === podB.path;
    if (!compared && !same(podA.template, podB.template, rename)) return false;
  }
  return sameFields(a.props, b.props, rename, SPEC_HIDDEN_PROPS);
}

/** A few numbers equal spec views share, so that a job is compared only with jobs likely to match. */
function bucketOf(facts: JobFacts): string {
  const launch = facts.launch;
  return `${launch.workers}/${launch.slotsPerWorker}/${launch.argv.length}/${facts.pods.length}/${facts.image.imageRef}`;
}

/** Copies `object` without `hidden`, which throw when read: a rule that reads them is in the wrong scope. */
function without<T extends object>(object: T, hidden: string[], what: string): T {
  const copy: any = { ...object };
  for (const key of hidden) {
    delete copy[key];
    Object.defineProperty(copy, key, {
      enumerable: false,
      get: () => {
        throw new Error(`cdk8s-deepspeed internal error: a rule of the ${what} scope read ${key}; mark it readsWholeJob`);
      },
    });
  }
  return copy;
}

/** What a rule of the spec scope sees. */
function specView(facts: JobFacts): JobFacts {
  return without({
    ...facts,
    path: SHARED_PATH,
    props: without(facts.props, ['metadata', 'deepspeedConfig'], 'spec'),
    manifest: without(facts.manifest ?? {}, ['metadata'], 'spec'),
  }, ['deepspeedConfig'], 'spec');
}

/** What a rule of the config scope sees: the path and the config. */
function configView(facts: JobFacts): JobFacts {
  const typed = facts.props.deepspeedConfig;
  const props = new Proxy({}, {
    get: (_target, key) => {
      if (key === 'deepspeedConfig') return typed;
      throw new Error(`cdk8s-deepspeed internal error: a rule of the config scope read props.${String(key)}; mark it readsWholeJob`);
    },
  });
  return without({ path: SHARED_PATH, deepspeedConfig: facts.deepspeedConfig, props } as JobFacts,
    ['image', 'launch', 'pods', 'operator', 'manifest'], 'config');
}

function memoOf(rules: readonly JobRule[], owner: object): Memo {
  let byRules = memos.get(owner);
  if (!byRules) {
    byRules = new Map();
    memos.set(owner, byRules);
  }
  let memo = byRules.get(rules);
  // A list changed since its memo was made (tests add rules) starts a new memo.
  if (!memo || memo.rules.length !== rules.length || memo.rules.some((rule, i) => rule !== rules[i])) {
    memo = { rules: [...rules], scopes: rules.map(scopeOf), config: new Map(), configByIdentity: new WeakMap(), spec: new Map() };
    byRules.set(rules, memo);
  }
  return memo;
}

/** Runs the rules of one scope on a view; other scopes' slots stay undefined. */
function runScope(rules: readonly JobRule[], scopes: RuleScope[], scope: RuleScope, view: JobFacts, facts?: JobFacts): SharedEntry {
  return { facts, findings: rules.map((rule, index) => (scopes[index] === scope ? rule(view) : undefined)) };
}

/** The config-scope findings of the job's config, computed on the first job with it. */
function configEntry(memo: Memo, facts: JobFacts): SharedEntry {
  const shared = _isSharedRender(facts.deepspeedConfig);
  const sameObject = shared ? memo.configByIdentity.get(facts.deepspeedConfig!) : undefined;
  if (sameObject !== undefined) {
    counts.config++;
    return sameObject;
  }
  const entry = configEntryByText(memo, facts);
  if (shared) memo.configByIdentity.set(facts.deepspeedConfig!, entry);
  return entry;
}

function configEntryByText(memo: Memo, facts: JobFacts): SharedEntry {
  // A shared render is the render of one typed config; otherwise the typed config is part of the key.
  const key = `${configKey(facts.deepspeedConfig)}\n${configKey(facts.props.deepspeedConfig)}`;
  let entry = memo.config.get(key);
  if (entry !== undefined) counts.config++;
  if (entry === undefined) {
    if (memo.config.size >= MAX_BUCKETS) memo.config.clear();
    entry = runScope(memo.rules, memo.scopes, RuleScope.CONFIG, configView(facts));
    memo.config.set(key, entry);
  }
  return entry;
}

/** The spec-scope findings of the first earlier job with the same spec view, else computed for this one. */
function specEntry(memo: Memo, facts: JobFacts): SharedEntry {
  const bucket = bucketOf(facts);
  let entries = memo.spec.get(bucket);
  if (entries === undefined) {
    if (memo.spec.size >= MAX_BUCKETS) memo.spec.clear();
    entries = [];
    memo.spec.set(bucket, entries);
  }
  const found = entries.find(entry => sameSpecView(entry.facts!, facts));
  if (found) {
    counts.spec++;
    return found;
  }
  const entry = runScope(memo.rules, memo.scopes, RuleScope.SPEC, specView(facts), facts);
  if (entries.length >= MAX_PER_BUCKET) entries.shift();
  entries.push(entry);
  return entry;
}

/**
 * The config's text: JSON, unless it holds what JSON writes as null (NaN, Infinity, undefined
 * items) or cannot write (BigInt): then a text that keeps those apart.
 */
function configKey(config: unknown): string {
  try {
    const text = JSON.stringify(config);
    if (!/[:[,]null/.test(text)) return text;
  } catch {
    // a BigInt
  }
  return JSON.stringify(config, (_key, value) => (typeof value === 'number' && !Number.isFinite(value)) || value === undefined || typeof value === 'bigint'
    ? `\u0000${String(value)}` : value);
}

/** Shared findings, addressed to this job: its path, and its ConfigMap name for `from`, the one they were computed with. */
function readdressed(findings: Finding[], facts: JobFacts, from?: string): Finding[] {
  if (findings.length === 0) return findings;
  const to = facts.configMapName;
  return findings.map(f => {
    let message = f.message.split(SHARED_PATH).join(facts.path);
    if (from !== undefined && to !== undefined && from !== to) message = message.split(from).join(to);
    return { ...f, message };
  });
}

/** Every rule's findings for the job without sharing, in rule order. */
function unshared(rules: readonly JobRule[], facts: JobFacts): Finding[][] {
  return rules.map(rule => rule(facts));
}

/**
 * Every rule's findings for the job, in rule order: the spec and config scopes' from the memo of
 * jobs with the same view, the job scope's computed. `owner` (the app) holds the memo.
 */
export function runRulesShared(rules: readonly JobRule[], facts: JobFacts, owner: object): Finding[][] {
  const memo = memoOf(rules, owner);
  let spec: SharedEntry | undefined;
  let config: SharedEntry | undefined;
  const results = rules.map((rule, index) => {
    switch (memo.scopes[index]) {
      case RuleScope.JOB:
        return rule(facts);
      case RuleScope.CONFIG:
        if (facts.deepspeedConfig === undefined) return [];
        config ??= configEntry(memo, facts);
        return readdressed(config.findings[index]!, facts);
      default:
        spec ??= specEntry(memo, facts);
        return readdressed(spec.findings[index]!, facts, spec.facts!.configMapName);
    }
  });
  if (checkSharing) {
    const expected = JSON.stringify(unshared(rules, facts));
    const actual = JSON.stringify(results);
    if (expected !== actual) throw new Error(`cdk8s-deepspeed internal error: shared findings differ for ${facts.path}:\n${actual}\nexpected\n${expected}`);
  }
  return results;
}
