#!/usr/bin/env bash
# Set up and run every test: unit and integration suites, S3 against a local moto server with signature checking on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
exec scripts/with-moto.sh swift test "$@"
