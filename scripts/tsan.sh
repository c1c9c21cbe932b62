#!/usr/bin/env bash
# ThreadSanitizer run of the concurrency-heavy suites, on demand (a TSan build of everything takes minutes on 2 cores,
# so CI does not run it). Builds into its own scratch directory under the shared build lock, runs the suites, and sorts
# the reports: Swift's Mutex hands a contended lock over in the kernel, which TSan cannot see, so accesses under one
# Mutex on two threads are reported as races (scripts/tsan/mutex_false_positive.swift); scripts/tsan/report.py sets
# those apart and fails on anything else. StoreLockTests are left out: their 1 s lock staleness is shorter than a TSan
# build takes for some steps, so they fail on time, not on a race.
#
#   scripts/tsan.sh                      # the default suites
#   scripts/tsan.sh 'RepositoryConcurrencyTests|StreamBackpressureTests'
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${TSAN_SCRATCH_PATH:-/tmp/tsan-build}
suites=${1:-'SystemIOTests|HTTPTransportTests|RepositoryConcurrencyTests|ConcurrentBackupAccountingTests|FailureStopsWorkTests|BlobWriterTests|TreeRoundTripTests|ThrottlingTests|ExecPluginTests|ClientAgainstSimTests|CollectionEndToEndTests|VolumeFanOutTests'}
flock /tmp/swift-build.lock swift build --build-tests --sanitize=thread --scratch-path "$scratch" 2>&1 |
  grep -E "error|warning:|Build complete" || true
log=$(mktemp /tmp/velero-cas-tsan-XXXXXX.log)
status=0
swift test --skip-build --sanitize=thread --scratch-path "$scratch" --filter "$suites" >"$log" 2>&1 || status=$?
grep -E "Test run with|^✘" "$log" | tail -20 || true
echo "log: $log"
python3 scripts/tsan/report.py "$log" || status=1
exit "$status"
