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
