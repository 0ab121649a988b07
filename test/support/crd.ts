import { readFileSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

/** The upstream MPIJob CRDs saved next to the worktrees (../shared/crds). */
const CRD_DIR = path.resolve(__dirname, '../../../shared/crds');

/** The v2beta1 OpenAPI schema of the MPIJob CRD of an MPI Operator release (`v0.4.0`, `v0.8.0`). */
export function mpiJobSchema(release: string): any {
  const crd = parse(readFileSync(path.join(CRD_DIR, `mpijobs.kubeflow.org.${release}.yaml`), 'utf8'));
  return crd.spec.versions.find((v: any) => v.name === 'v2beta1').schema.openAPIV3Schema;
}

/**
 * What the API server would do with an object under a structural schema: the paths it prunes
 * (fields the schema does not declare) and the values its enums reject.
 */
export function schemaDrift(value: any, schema: any, at = ''): { pruned: string[]; rejected: string[] } {
  const pruned: string[] = [];
  const rejected: string[] = [];
  const visit = (v: any, s: any, p: string) => {
    if (!s || s['x-kubernetes-preserve-unknown-fields']) return;
    if (s.enum && !s.enum.includes(v)) rejected.push(`${p}=${JSON.stringify(v)}`);
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, s.items, `${p}[${i}]`));
    } else if (v && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        const childSchema = s.properties?.[key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        if (childSchema === undefined && s.additionalProperties !== true) pruned.push(`${p}.${key}`);
        else visit(child, childSchema, `${p}.${key}`);
      }
    }
  };
  visit(value, schema, at);
  return { pruned, rejected };
}

/** schemaDrift of an MPIJob's spec under a release's CRD (metadata follows ObjectMeta, not the CRD schema). */
export function specDrift(mpiJob: any, release: string): { pruned: string[]; rejected: string[] } {
  return schemaDrift(mpiJob.spec, mpiJobSchema(release).properties.spec, '.spec');
}
