import { ErrorObject } from 'ajv';
import { PodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { mpiJobSchemaErrors, trainerSchemaErrors } from './crd-schema';
import { describeSchemaErrors } from './schema-errors';

/**
 * Core object validation with kubernetes-models 4.4.2, whose schemas are Kubernetes 1.27.1,
 * the minor version cdk8s-plus-27 targets. kubernetes-models checks types, enums and formats
 * (quantities, int-or-string) but, unlike the MPIJob CRD check, not unknown fields.
 */

interface ValidatingModel {
  validate(): void;
}

function modelErrors(model: ValidatingModel, data: any): string[] {
  try {
    model.validate();
    return [];
  } catch (e) {
    const errors: ErrorObject[] | undefined = (e as any).errors;
    if (!errors) throw e;
    return describeSchemaErrors(errors, data);
  }
}

/**
 * The kubernetes-models class for an apiVersion and kind. Its module path is the apiVersion
 * followed by the kind (`v1/ConfigMap`, `batch/v1/Job`, `networking.k8s.io/v1/NetworkPolicy`).
 */
function modelClass(apiVersion: string, kind: string): (new (data: any) => ValidatingModel) | undefined {
  try {
    return require(`kubernetes-models/${apiVersion}/${kind}`)[kind];
  } catch {
    return undefined;
  }
}

/** Every way a core Kubernetes object violates its 1.27 schema; empty when valid. */
export function coreObjectSchemaErrors(obj: any): string[] {
  const Model = modelClass(obj?.apiVersion, obj?.kind);
  if (!Model) return [`(root): kubernetes-models has no model for ${obj?.apiVersion} ${obj?.kind}`];
  return modelErrors(new Model(obj), obj);
}

/** Every way a pod template (`{ metadata, spec }`) violates the 1.27 PodTemplateSpec schema. */
export function podTemplateSchemaErrors(template: any): string[] {
  return modelErrors(new PodTemplateSpec(template), template);
}

/**
 * Every schema violation in a list of synthesized manifests, each line prefixed with the
 * object it belongs to: MPIJobs against the CRD (strict) and their launcher and worker pod
 * templates against Kubernetes 1.27; TrainJobs and TrainingRuntimes against the Trainer v2.3.0
 * CRDs (strict) and a runtime's pod templates against Kubernetes 1.27; everything else against its Kubernetes 1.27 model.
 */
export function manifestSchemaErrors(manifests: any[]): string[] {
  return manifests.flatMap(obj => {
    const name = `${obj?.kind} ${obj?.metadata?.name}`;
    if (obj?.apiVersion === 'kubeflow.org/v2beta1' && obj?.kind === 'MPIJob') {
      const templates = Object.entries(obj.spec?.mpiReplicaSpecs ?? {}).flatMap(([role, replica]: [string, any]) =>
        podTemplateSchemaErrors(replica?.template).map(e => `${name}: ${role} pod template: ${e}`));
      return [...mpiJobSchemaErrors(obj).map(e => `${name}: ${e}`), ...templates];
    }
    if (obj?.apiVersion === 'trainer.kubeflow.org/v1alpha1') {
      // Generated runtimes hold whole pod templates; a TrainJob's runtime patches partial ones
      // (no image or command), which still follow the PodTemplateSpec schema field by field.
      const jobs: any[] = obj.kind === 'TrainingRuntime'
        ? obj.spec?.template?.spec?.replicatedJobs ?? []
        : (obj.spec?.runtimePatches ?? []).flatMap((patch: any) => patch?.trainingRuntimeSpec?.template?.spec?.replicatedJobs ?? []);
      const templates = jobs.flatMap((job: any) => job?.template?.spec?.template === undefined ? [] :
        podTemplateSchemaErrors(job.template.spec.template).map(e => `${name}: ${job?.name} pod template${obj.kind === 'TrainJob' ? ' patch' : ''}: ${e}`));
      return [...trainerSchemaErrors(obj).map(e => `${name}: ${e}`), ...templates];
    }
    return coreObjectSchemaErrors(obj).map(e => `${name}: ${e}`);
  });
}

/** Fails with every schema violation in the manifests, one per line. */
export function expectValidManifests(manifests: any[]): void {
  const errors = manifestSchemaErrors(manifests);
  if (errors.length > 0) {
    throw new Error(`synthesized manifests violate their schemas:\n  ${errors.join('\n  ')}`);
  }
}
