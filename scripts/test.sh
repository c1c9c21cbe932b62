#!/usr/bin/env bash
# Set up and run every test: unit and integration suites, S3 against a local moto server with signature checking on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
# The CLI keeps storage locations and generated store passwords beside VELERO_CAS_CONFIG: the tests' go to a scratch
# directory, not the user's ~/.config.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export VELERO_CAS_CONFIG="$scratch/locations.yaml"
scripts/with-moto.sh swift test "$@"
