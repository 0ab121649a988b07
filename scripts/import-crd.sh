#!/usr/bin/env bash
# Regenerates imports/ from a local copy of the MPI Operator v0.8.0 MPIJob CRD.
# The upstream source is pinned in cdk8s.yaml; MPIJOB_CRD points at a local copy (offline builds).
set -euo pipefail
crd="${MPIJOB_CRD:-../shared/crds/mpijobs.kubeflow.org.v0.8.0.yaml}"
url=$(sed -n 's/^ *- \(https:.*kubeflow.org_mpijobs.yaml\)$/\1/p' cdk8s.yaml)
if [ ! -f "$crd" ]; then
  echo "MPIJob CRD not found at $crd: download $url and set MPIJOB_CRD to its path." >&2
  exit 1
fi
CDK8S_CHECK_UPGRADE=false npx cdk8s import "$crd" --language typescript --output imports

# Every generated converter drops undefined fields by spreading the partial result once per key,
# which is quadratic and dominated the render time of an MPIJob. Rewrite that expression to a
# linear helper with the same output (same keys, same order).
node - imports/kubeflow.org.ts <<'JS'
const fs = require('fs');
const file = process.argv[2];
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
const source = fs.readFileSync(file, 'utf-8');
const imports = "import { Construct } from 'constructs';\n";
if (!source.includes(quadratic) || !source.includes(imports)) throw new Error(`${file}: the generated code changed; update scripts/import-crd.sh`);
fs.writeFileSync(file, source.split(quadratic).join('omitUndefined(result)').replace(imports, imports + helper));
JS
