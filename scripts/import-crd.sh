#!/usr/bin/env bash
# Regenerates imports/ from local copies of the pinned CRDs: the MPI Operator v0.8.0 MPIJob
# (imports/kubeflow.org.ts) and the Kubeflow Trainer v2.3.0 TrainJob and TrainingRuntime
# (imports/trainer.kubeflow.org.ts). The upstream sources are pinned in cdk8s.yaml; MPIJOB_CRD
# and TRAINER_CRD_DIR point at local copies (offline builds).
set -euo pipefail
mpijob_crd="${MPIJOB_CRD:-../shared/crds/mpijobs.kubeflow.org.v0.8.0.yaml}"
trainer_dir="${TRAINER_CRD_DIR:-../shared/crds/kubeflow-trainer-v2.3.0}"
trainer_files=(trainer.kubeflow.org_trainjobs.yaml trainer.kubeflow.org_trainingruntimes.yaml)

pinned() { sed -n "s/^ *- \(https:.*\/$1\)\$/\1/p" cdk8s.yaml; }
require() {
  if [ ! -f "$1" ]; then
    echo "CRD not found at $1: download $(pinned "$(basename "$1")") and set $2." >&2
    exit 1
  fi
}
require "$mpijob_crd" MPIJOB_CRD
for file in "${trainer_files[@]}"; do
  [ -n "$(pinned "$file")" ] || { echo "cdk8s.yaml pins no URL for $file" >&2; exit 1; }
  require "$trainer_dir/$file" TRAINER_CRD_DIR
done

# Both Trainer CRDs are in one API group, which cdk8s writes to one file: import them together.
work=$(mktemp -d)
combined="$work/trainer-crds.yaml"
# `cdk8s import FILE` appends FILE to cdk8s.yaml; keep cdk8s.yaml to the pinned upstream URLs.
cp cdk8s.yaml "$work/cdk8s.yaml"
trap 'cp "$work/cdk8s.yaml" cdk8s.yaml; rm -rf "$work"' EXIT
CDK8S_CHECK_UPGRADE=false npx cdk8s import "$mpijob_crd" --language typescript --output imports
for file in "${trainer_files[@]}"; do
  cat "$trainer_dir/$file"
  printf '\n---\n'
done > "$combined"
CDK8S_CHECK_UPGRADE=false npx cdk8s import "$combined" --language typescript --output imports

# Every generated converter drops undefined fields by spreading the partial result once per key,
# which is quadratic and dominated the render time of a job. Rewrite that expression to a
# linear helper with the same output (same keys, same order).
node - imports/kubeflow.org.ts imports/trainer.kubeflow.org.ts <<'JS'
const fs = require('fs');
const quadratic = 'Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {})';
const helper = `
/** Copies \`obj\` without its undefined fields, in one pass (rewritten by scripts/import-crd.sh). */
function omitUndefined(obj: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const key of Object.keys(obj)) {
    if (obj[key] !== undefined) out[key] = obj[key];
  }
  return out;
}
`;
const imports = "import { Construct } from 'constructs';\n";
for (const file of process.argv.slice(2)) {
  const source = fs.readFileSync(file, 'utf-8');
  if (!source.includes(quadratic) || !source.includes(imports)) throw new Error(`${file}: the generated code changed; update scripts/import-crd.sh`);
  fs.writeFileSync(file, source.split(quadratic).join('omitUndefined(result)').replace(imports, imports + helper));
}
JS
