#!/usr/bin/env bash
# The main job on the embedded default: set up, build (release), and run the demo against a local directory store.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product velero-cas
# The demo cluster is served by kube-sim, a child process found beside velero-cas.
swift build -c release --product kube-sim
exec .build/release/velero-cas demo "$@"
