import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { describeSchemaErrors } from './schema-errors';
import { cachedPerWorker } from './worker-cache';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where the MPI Operator v0.8.0 CRD is read from unless MPIJOB_CRD says otherwise (relative to the repo root). */
export const DEFAULT_MPIJOB_CRD = '../shared/crds/mpijobs.kubeflow.org.v0.8.0.yaml';

/** The CRD file the suite validates against: env MPIJOB_CRD, or DEFAULT_MPIJOB_CRD, resolved from the repo root. */
export function mpiJobCrdPath(): string {
  return path.resolve(REPO_ROOT, process.env.MPIJOB_CRD || DEFAULT_MPIJOB_CRD);
}

/** The upstream CRD URL pinned in cdk8s.yaml (the same file `cdk8s import` reads). */
export function pinnedCrdUrl(): string {
  const cdk8sYaml = fs.readFileSync(path.join(REPO_ROOT, 'cdk8s.yaml'), 'utf8');
  const url = /^\s*-\s*(https:\/\/\S+kubeflow\.org_mpijobs\.yaml)\s*$/m.exec(cdk8sYaml)?.[1];
  if (!url) throw new Error('cdk8s.yaml pins no kubeflow.org_mpijobs.yaml URL under imports');
  return url;
}

/** The v2beta1 openAPIV3Schema of the MPIJob CRD at `crdPath`; one clear line when the file is missing. */
export function loadMpiJobCrdSchema(crdPath: string = mpiJobCrdPath()): any {
  if (!fs.existsSync(crdPath)) {
    throw new Error(`MPIJob CRD not found at ${crdPath}: download ${pinnedCrdUrl()} and set MPIJOB_CRD to its path.`);
  }
  const crd = parseAllDocuments(fs.readFileSync(crdPath, 'utf8'))
    .map(doc => doc.toJS())
    .find(doc => doc?.kind === 'CustomResourceDefinition' && doc.metadata?.name === 'mpijobs.kubeflow.org');
  const schema = crd?.spec?.versions?.find((v: any) => v.name === 'v2beta1')?.schema?.openAPIV3Schema;
  if (!schema) throw new Error(`${crdPath} holds no v2beta1 schema of the CRD mpijobs.kubeflow.org`);
  return schema;
}

/**
 * Rewrites a CRD's structural schema into a JSON Schema that rejects what the API server's
 * strict field validation rejects:
 * - an object with `properties` (or with neither properties nor additionalProperties) gets
 *   `additionalProperties: false`, because the API server would prune its unknown fields;
 * - `x-kubernetes-preserve-unknown-fields: true` keeps an object open;
 * - `x-kubernetes-embedded-resource: true` also admits apiVersion, kind and metadata;
 * - `x-kubernetes-int-or-string: true` without an explicit `anyOf` becomes integer-or-string;
 * - the root `metadata` stays open: the API server validates it as ObjectMeta, not from this schema.
 * The input is not modified.
 */
export function strictStructuralSchema(schema: any): any {
  const walk = (node: any, isRoot: boolean): any => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    const out: any = { ...node };
    if (out['x-kubernetes-int-or-string'] === true && out.anyOf === undefined && out.type === undefined) {
      out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    }
    if (out.properties) {
      out.properties = Object.fromEntries(Object.entries(out.properties)
        .map(([name, sub]) => [name, isRoot && name === 'metadata' ? sub : walk(sub, false)]));
    }
    if (out['x-kubernetes-embedded-resource'] === true) {
      out.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...out.properties };
    }
    if (out.items) out.items = walk(out.items, false);
    if (typeof out.additionalProperties === 'object') out.additionalProperties = walk(out.additionalProperties, false);
    for (const keyword of ['anyOf', 'allOf', 'oneOf']) {
      if (Array.isArray(out[keyword])) out[keyword] = out[keyword].map((sub: any) => walk(sub, false));
    }
    if (out.type === 'object' && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
      out.additionalProperties = false;
    }
    return out;
  };
  return walk(schema, true);
}

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function listKey(item: any, keys: string[]): string {
  return JSON.stringify(keys.map(k => item?.[k]));
}

/** An ajv instance that knows the Kubernetes OpenAPI formats and x-kubernetes-* keywords. */
export function kubernetesAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
  addFormats(ajv, ['date-time', 'byte']);
  for (const [format, [min, max]] of Object.entries(INT_RANGES)) {
    ajv.addFormat(format, { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= min && n <= max });
  }
  // x-kubernetes-validations (CEL) are checked by trainerCelErrors for the create-time rules.
  for (const annotation of ['x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-map-type', 'x-kubernetes-validations']) {
    ajv.addKeyword(annotation);
  }
  // Lists the API server keeps unique: a set by value, a map by its key fields.
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    type: 'array',
    schemaType: 'string',
    errors: true,
    validate: function uniqueList(listType: string, items: any[], parentSchema: any): boolean {
      const self = uniqueList as any;
      const keys: string[] | undefined = parentSchema?.['x-kubernetes-list-map-keys'];
      if (listType !== 'set' && !(listType === 'map' && keys)) return true;
      const seen = new Set<string>();
      for (const item of items) {
        const key = listType === 'set' ? JSON.stringify(item) : listKey(item, keys!);
        if (seen.has(key)) {
          self.errors = [{ keyword: 'x-kubernetes-list-type', message: `has a duplicate ${listType === 'set' ? 'value' : `entry for ${keys!.join('+')}`} ${key}`, params: {} }];
          return false;
        }
        seen.add(key);
      }
      return true;
    },
  });
  ajv.addKeyword({ keyword: 'x-kubernetes-list-map-keys', type: 'array', schemaType: 'array' });
  return ajv;
}

/** Compiles a CRD openAPIV3Schema into a function that returns one readable line per violation. */
export function crdValidator(openAPIV3Schema: any): (obj: any) => string[] {
  const validate: ValidateFunction = kubernetesAjv().compile(strictStructuralSchema(openAPIV3Schema));
  return (obj: any) => validate(obj) ? [] : describeSchemaErrors(validate.errors, obj);
}

let mpiJobValidator: ValidateFunction | undefined;

/** Every way `obj` violates the MPIJob v0.8.0 CRD schema under strict field validation; empty when valid. */
export function mpiJobSchemaErrors(obj: any): string[] {
  // Parsing and compiling the CRD takes about a second: once per jest worker, not per test file.
  const crdPath = mpiJobCrdPath();
  mpiJobValidator ??= cachedPerWorker(`mpijob-crd-validator:${crdPath}:${fs.statSync(crdPath, { throwIfNoEntry: false })?.mtimeMs}`,
    () => kubernetesAjv().compile(strictStructuralSchema(loadMpiJobCrdSchema(crdPath))));
  const validate = mpiJobValidator;
  return validate(obj) ? [] : describeSchemaErrors(validate.errors, obj);
}

/** Fails with every violation, one per line, unless `obj` is a valid MPIJob. */
export function expectValidMpiJob(obj: any): void {
  const errors = mpiJobSchemaErrors(obj);
  if (errors.length > 0) {
    throw new Error(`MPIJob ${obj?.metadata?.name} violates the MPIJob CRD schema:\n  ${errors.join('\n  ')}`);
  }
}

/** Where the Kubeflow Trainer v2.3.0 CRDs are read from unless TRAINER_CRD_DIR says otherwise (relative to the repo root). */
export const DEFAULT_TRAINER_CRD_DIR = '../shared/crds/kubeflow-trainer-v2.3.0';

/** The Trainer CRD files the suite validates against, by kind. */
const TRAINER_CRD_FILES: Record<string, string> = {
  TrainJob: 'trainer.kubeflow.org_trainjobs.yaml',
  TrainingRuntime: 'trainer.kubeflow.org_trainingruntimes.yaml',
};

/** The upstream URL of a Trainer CRD file pinned in cdk8s.yaml. */
export function pinnedTrainerCrdUrl(file: string): string {
  const cdk8sYaml = fs.readFileSync(path.join(REPO_ROOT, 'cdk8s.yaml'), 'utf8');
  const url = cdk8sYaml.split('\n').map(line => /^\s*-\s*(https:\/\/\S+)\s*$/.exec(line)?.[1]).find(u => u?.endsWith(`/${file}`));
  if (!url) throw new Error(`cdk8s.yaml pins no ${file} URL under imports`);
  return url;
}

/** The v1alpha1 openAPIV3Schema of a Trainer CRD (`TrainJob`, `TrainingRuntime`); one clear line when the file is missing. */
export function loadTrainerCrdSchema(kind: string): any {
  const file = TRAINER_CRD_FILES[kind];
  const crdPath = path.resolve(REPO_ROOT, process.env.TRAINER_CRD_DIR || DEFAULT_TRAINER_CRD_DIR, file);
  if (!fs.existsSync(crdPath)) {
    throw new Error(`${kind} CRD not found at ${crdPath}: download ${pinnedTrainerCrdUrl(file)} and set TRAINER_CRD_DIR to its directory.`);
  }
  const crd = parseAllDocuments(fs.readFileSync(crdPath, 'utf8')).map(doc => doc.toJS()).find(doc => doc?.kind === 'CustomResourceDefinition');
  const schema = crd?.spec?.versions?.find((v: any) => v.name === 'v1alpha1')?.schema?.openAPIV3Schema;
  if (!schema) throw new Error(`${crdPath} holds no v1alpha1 schema`);
  return schema;
}

/**
 * The CEL rules (x-kubernetes-validations) of the v2.3.0 TrainJob and TrainingRuntime CRDs that
 * apply when an object is created, written out: ajv does not run CEL, and `self == oldSelf`
 * immutability rules need an old object.
 */
export function trainerCelErrors(obj: any): string[] {
  const errors: string[] = [];
  const name: string = obj?.metadata?.name ?? '';
  if (obj?.kind === 'TrainJob') {
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name)) errors.push(`metadata.name: '${name}' must match ^[a-z]([-a-z0-9]*[a-z0-9])?$ (RFC 1035)`);
    if (name.length > 63) errors.push(`metadata.name: '${name}' is longer than 63 characters`);
    const managedBy = obj.spec?.managedBy;
    if (managedBy !== undefined && !['trainer.kubeflow.org/trainjob-controller', 'kueue.x-k8s.io/multikueue'].includes(managedBy)) {
      errors.push(`spec.managedBy: '${managedBy}' is not one of the two allowed controllers`);
    }
  }
  if (obj?.kind === 'TrainingRuntime') {
    const policy = obj.spec?.mlPolicy ?? {};
    if (['torch', 'mpi', 'jax', 'xgboost', 'flux'].filter(k => policy[k] !== undefined).length > 1) errors.push('spec.mlPolicy: Only one of the policy can be configured');
    const jobset = obj.spec?.template?.spec ?? {};
    if (jobset.startupPolicy?.startupPolicyOrder === 'InOrder' && (jobset.replicatedJobs ?? []).some((j: any) => j.dependsOn !== undefined)) {
      errors.push('spec.template.spec: StartupPolicy and DependsOn APIs are mutually exclusive');
    }
  }
  return errors;
}

const trainerValidators = new Map<string, (obj: any) => string[]>();

/** Every way `obj` violates its v2.3.0 Trainer CRD (`TrainJob`, `TrainingRuntime`) under strict field validation, CEL create rules included. */
export function trainerSchemaErrors(obj: any): string[] {
  const kind: string = obj?.kind;
  if (!TRAINER_CRD_FILES[kind]) return [`(root): no Trainer CRD for kind ${kind}`];
  let validate = trainerValidators.get(kind);
  if (!validate) {
    validate = crdValidator(loadTrainerCrdSchema(kind));
    trainerValidators.set(kind, validate);
  }
  return [...validate(obj), ...trainerCelErrors(obj)];
}

/** Fails with every violation, one per line, unless `obj` is a valid TrainJob or TrainingRuntime. */
export function expectValidTrainerObject(obj: any): void {
  const errors = trainerSchemaErrors(obj);
  if (errors.length > 0) {
    throw new Error(`${obj?.kind} ${obj?.metadata?.name} violates the Trainer v2.3.0 CRD schema:\n  ${errors.join('\n  ')}`);
  }
}
