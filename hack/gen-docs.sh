#!/usr/bin/env bash
# Rewrites the generated field tables of docs/crds.md from crds/ (the prose around them is kept).
# A test (crd_docs.check) fails when they differ, so run this after changing a CRD.
set -euo pipefail
cd "$(dirname "$0")/.."
./hack/build.sh debug crd-docs >/dev/null
build/bin/crd-docs docs/crds.md crds/*.yaml
