#!/usr/bin/env bash
# The main job on the embedded default: set up, build (release), and run the demo against a local directory store.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product velero-cas
exec .build/release/velero-cas demo "$@"
