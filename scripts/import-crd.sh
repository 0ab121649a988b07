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

# Every generated converter builds an object literal of every field of its type and then drops
# the undefined ones by spreading the partial result once per key: quadratic, and the largest
# part of a job's render. Rewrite each converter to add only the defined fields, in the same
# order: the same output, one small object per converted object.
node - imports/kubeflow.org.ts imports/trainer.kubeflow.org.ts <<'JS'
const fs = require('fs');
const quadratic = 'return Object.entries(result).reduce((r, i) => (i[1] === undefined) ? r : ({ ...r, [i[0]]: i[1] }), {});';
const helper = `
/** A map without its undefined values, the others converted, in one pass (rewritten by scripts/import-crd.sh). */
function convertMap(map: Record<string, any>, convert: (value: any) => any): Record<string, any> {
  const out: Record<string, any> = {};
  for (const key of Object.keys(map)) {
    if (map[key] !== undefined) out[key] = convert(map[key]);
  }
  return out;
}
`;
const imports = "import { Construct } from 'constructs';\n";
const block = /  const result = \{\n((?:    '[^']+': .*,\n)*)  \};\n  \/\/ filter undefined values\n  return Object\.entries\(result\)\.reduce\(\(r, i\) => \(i\[1\] === undefined\) \? r : \(\{ \.\.\.r, \[i\[0\]\]: i\[1\] \}\), \{\}\);/g;
for (const file of process.argv.slice(2)) {
  const source = fs.readFileSync(file, 'utf-8');
  const converters = source.split(quadratic).length - 1;
  let rewritten = 0;
  const out = source.replace(block, (_all, fields) => {
    rewritten++;
    const lines = fields.split('\n').filter(line => line !== '').map((line, i) => {
      const [, key, value] = /^    '([^']+)': (.*),$/.exec(line);
      return `  const v${i} = ${value};\n  if (v${i} !== undefined) { result['${key}'] = v${i}; }\n`;
    });
    return `  const result: Record<string, any> = {};\n${lines.join('')}  return result;`;
  });
  if (converters === 0 || rewritten !== converters) throw new Error(`${file}: the generated code changed (${rewritten} of ${converters} converters matched); update scripts/import-crd.sh`);
  // Maps (labels, resource limits, replica specs) are spread once per key too: one pass instead.
  const maps = /Object\.entries\(([A-Za-z0-9_.]+)\)\.reduce\(\(r, i\) => \(i\[1\] === undefined\) \? r : \(\{ \.\.\.r, \[i\[0\]\]: (i\[1\]|i\[1\]\?\.value|toJson_[A-Za-z0-9_]+\(i\[1\]\)) \}\), \{\}\)/g;
  const withMaps = out.replace(maps, (_all, map, value) => `convertMap(${map}, v => ${value.replace('i[1]', 'v')})`);
  if (withMaps.includes('.reduce((r, i) =>')) throw new Error(`${file}: a map conversion changed; update scripts/import-crd.sh`);
  fs.writeFileSync(file, withMaps.replace(imports, imports + helper));
}
JS
