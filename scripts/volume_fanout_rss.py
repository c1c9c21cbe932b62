#!/usr/bin/env python3
"""Peak RSS of `velero-cas backup create` and `restore create` with 2 and with 200 small hostPath volumes.

    swift build -c release --product velero-cas --product kube-sim
    python3 scripts/volume_fanout_rss.py --cli .build/release/velero-cas --kube-sim .build/release/kube-sim

Each volume holds a few small files; a served cluster (kube-sim, fixtures) has one PersistentVolume per volume with
a hostPath under /nodes/n1, mapped here with --volume-path-map. Peak RSS comes from /usr/bin/time (%M). With the
volume fan-out bounded (--parallel-volumes, default 2), 200 volumes should cost about what 2 do.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency_bench import start_kube_sim  # noqa: E402


def peak_rss(arguments):
    """Runs the command under /usr/bin/time; returns its peak RSS in MiB."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + arguments, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return int(result.stderr.strip().splitlines()[-1]) / 1024


def measure(options, volumes, parallel):
    workdir = os.path.join(options.workdir, f"v{volumes}-p{parallel}")
    shutil.rmtree(workdir, ignore_errors=True)
    fixtures = os.path.join(workdir, "fixtures")
    os.makedirs(fixtures)
    for index in range(volumes):
        directory = os.path.join(workdir, "node", f"v{index}")
        os.makedirs(directory)
        for file in range(options.files_per_volume):
            with open(os.path.join(directory, f"f{file}"), "wb") as handle:
                handle.write(os.urandom(options.file_kib << 10))
        with open(os.path.join(fixtures, f"pv-{index}.json"), "w") as handle:
            json.dump({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pv-{index}"},
                       "spec": {"hostPath": {"path": f"/nodes/n1/v{index}"}, "capacity": {"storage": "1Gi"}}},
                      handle)
    source, source_config = start_kube_sim(options.kube_sim, workdir, "source", ["--fixtures", fixtures])
    target, target_config = start_kube_sim(options.kube_sim, workdir, "target")
    store = ["--store", os.path.join(workdir, "store")]
    # 0: the binary's own default, without the flag (for comparing with a build that has no bound)
    width = ["--parallel-volumes", str(parallel)] if parallel else []
    try:
        backup = peak_rss([options.cli, "backup", "create", "b", "--kubeconfig", source_config,
                           "--volume-path-map", f"/nodes/n1={workdir}/node"] + width + store)
        described = subprocess.run([options.cli, "backup", "describe", "b", "-o", "json"] + store,
                                   capture_output=True, text=True, check=True).stdout
        record = json.loads(described)
        record = record[0] if isinstance(record, list) else record
        backed_up = [volume for volume in record.get("volumes", []) if volume.get("snapshot")]
        if len(backed_up) != volumes:
            sys.exit(f"only {len(backed_up)} of {volumes} volumes were backed up: {described[:2000]}")
        restore = peak_rss([options.cli, "restore", "create", "r", "--from-backup", "b", "--kubeconfig", target_config,
                            "--volume-path-map", f"/nodes/n1={workdir}/restored"] + width + store)
    finally:
        for process in (source, target):
            process.terminate()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return backup, restore


def main():
    parser = argparse.ArgumentParser(description="peak RSS against the number of volumes")
    parser.add_argument("--cli", default=".build/release/velero-cas")
    parser.add_argument("--kube-sim", default=".build/release/kube-sim")
    parser.add_argument("--files-per-volume", type=int, default=4)
    parser.add_argument("--file-kib", type=int, default=256)
    parser.add_argument("--runs", default="2:2,200:2,200:8,200:32",
                        help="volumes:width,… (width 0: no --parallel-volumes flag, the binary's default)")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "velero-cas-fanout-rss"))
    options = parser.parse_args()
    os.makedirs(options.workdir, exist_ok=True)
    print(f"{options.files_per_volume} files of {options.file_kib} KiB per volume")
    print(f"{'volumes':>7} {'--parallel-volumes':>18} {'backup peak RSS':>16} {'restore peak RSS':>17}")
    for run in options.runs.split(","):
        volumes, parallel = (int(part) for part in run.split(":"))
        backup, restore = measure(options, volumes, parallel)
        print(f"{volumes:>7} {parallel:>18} {backup:>13.0f}MiB {restore:>14.0f}MiB", flush=True)


if __name__ == "__main__":
    main()
