#!/usr/bin/env bash
# Synthesizes every example (each directory under examples/ that has a main.ts) with the cdk8s CLI
# into <output root>/<name>/, running the compiled <lib root>/<name>/main.js.
# Usage: scripts/synth-examples.sh [output root, default dist/examples] [lib root, default lib/examples]
# The synth:examples task compiles first; run `npx projen compile` before calling this directly.
set -euo pipefail
cd "$(dirname "$0")/.."
out_root="${1:-dist/examples}"
lib_root="${2:-lib/examples}"
export CDK8S_CHECK_UPGRADE=false
for main in examples/*/main.ts; do
  name="$(basename "$(dirname "$main")")"
  # cdk8s synth empties its output folder first, so each example gets a folder of its own.
  node_modules/.bin/cdk8s synth --app "node $lib_root/$name/main.js" --output "$out_root/$name"
done
