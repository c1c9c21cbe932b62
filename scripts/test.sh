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
status=0
scripts/with-moto.sh swift test "$@" 2>&1 | tee "$scratch/test.log" || status=$?
if [ "$status" -ne 0 ]; then
  # The log is long and readers often see only its end: the failures again, last.
  echo "--- failed tests and their issues"
  grep -E "✘|recorded an issue|Expectation failed|error:" "$scratch/test.log" | tail -n 80 || true
fi
exit "$status"
