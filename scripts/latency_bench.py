#!/usr/bin/env python3
"""Backup and restore against S3 (moto) behind a proxy that adds 0, 20 and 50 ms to every request.

Run under scripts/with-moto.sh (it provides the endpoint and keys), with release binaries:

    swift build -c release --product velero-cas --product kube-sim
    scripts/with-moto.sh python3 scripts/latency_bench.py --cli .build/release/velero-cas \\
        --kube-sim .build/release/kube-sim

For each latency it backs up a directory of volume-like data into a new store (`store backup-dir`), changes a
sixteenth of its files and backs it up again into the same store (incremental: the schedule's common case), restores
the first snapshot from that existing store (`store restore-dir`), then backs up a served cluster's resources (`backup create`) and restores them into an empty one
(`restore create`), all through the CLI, each into a fresh prefix of one bucket. It reports throughput, requests and
bytes in flight at peak (seen by the proxy), the data phase (first pack request to the last one's end) and its rate,
the serial round trips (the longest chain of requests each sent only
after the one before it was answered, and that chain up to the first pack request: the first upload of a backup, the
first read of a restore; and the milliseconds from the first request to that one), and each figure's ratio to the
0 ms run of the same invocation.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import latency_proxy  # noqa: E402


def generate(directory, megabytes, seed=7):
    """Volume-like data: files of 4 KiB to 4 MiB, half text-like (compressible), half random."""
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(500)]
    remaining = megabytes << 20
    index = 0
    while remaining > 0:
        size = min(remaining, rng.choice([4 << 10, 64 << 10, 512 << 10, 4 << 20]))
        if index % 2 == 0:
            text = bytearray()
            while len(text) < size:
                text += b" ".join(rng.choice(words) for _ in range(64)) + b"\n"
            data = bytes(text[:size])
        else:
            data = rng.randbytes(size)
        sub = os.path.join(directory, f"d{index % 8}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{index}"), "wb") as handle:
            handle.write(data)
        remaining -= size
        index += 1


def change(directory, seed):
    """Rewrites every eighth random file of `generate`'s data (a sixteenth of the files) with new random bytes of the
    same size: what an incremental backup finds changed."""
    rng = random.Random(seed)
    for sub in sorted(os.listdir(directory)):
        for name in sorted(os.listdir(os.path.join(directory, sub))):
            if int(name[1:]) % 16 == 1:
                path = os.path.join(directory, sub, name)
                size = os.path.getsize(path)
                with open(path, "wb") as handle:
                    handle.write(rng.randbytes(size))


def run(arguments, environment):
    started = time.monotonic()
    result = subprocess.run(arguments, env=environment, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return seconds, result.stdout


def start_kube_sim(binary, workdir, name, arguments=()):
    """Starts kube-sim on a free port with `arguments`; returns the process and the path of its kubeconfig."""
    kubeconfig = os.path.join(workdir, f"{name}.kubeconfig")
    process = subprocess.Popen([binary, "--port", "0", "--kubeconfig-out", kubeconfig, *arguments],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if "listening on" in line:
            return process, kubeconfig
    sys.exit(f"kube-sim {name} did not start")


def main():
    parser = argparse.ArgumentParser(description="velero-cas against S3 with injected latency")
    parser.add_argument("--cli", default=".build/release/velero-cas")
    parser.add_argument("--kube-sim", default=".build/release/kube-sim")
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--objects-per-namespace", type=int, default=50)
    parser.add_argument("--latencies", default="0,20,50")
    parser.add_argument("--volumes-only", action="store_true", help="skip the resource backup and restore")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "velero-cas-latency-bench"))
    parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
    options = parser.parse_args()

    endpoint = os.environ.get("VELERO_CAS_TEST_S3_ENDPOINT")
    if not endpoint:
        sys.exit("run under scripts/with-moto.sh (VELERO_CAS_TEST_S3_ENDPOINT is not set)")
    environment = dict(os.environ)
    environment["AWS_ACCESS_KEY_ID"] = os.environ["VELERO_CAS_TEST_S3_ACCESS_KEY"]
    environment["AWS_SECRET_ACCESS_KEY"] = os.environ["VELERO_CAS_TEST_S3_SECRET_KEY"]
    environment["AWS_REGION"] = "us-east-1"

    import boto3
    bucket = "latency-bench"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
                 aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=bucket)

    shutil.rmtree(options.workdir, ignore_errors=True)
    os.makedirs(options.workdir)
    data = os.path.join(options.workdir, "data")
    generate(data, options.megabytes)
    logical = sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(data) for name in names)
    source, source_config = (None, None) if options.volumes_only else start_kube_sim(
        options.kube_sim, options.workdir, "source",
        ["--generate-namespaces", str(options.namespaces), "--generate-objects", str(options.objects_per_namespace)])
    proxy, stats = latency_proxy.start(endpoint)
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"

    rows = []
    try:
        for latency in [float(value) for value in options.latencies.split(",")]:
            stats.latency = latency / 1000
            store = f"s3://{bucket}/lat{int(latency)}?endpoint={proxy_url}&addressing=path&region=us-east-1"
            cli = [options.cli]

            def measure(what, arguments, amount, unit):
                stats.reset()
                seconds, _ = run(cli + arguments + ["--store", store], environment)
                figures = stats.snapshot()
                log = list(stats.log)
                is_pack = lambda request: "/packs/" in request[3] and request[2] in ("PUT", "GET")  # noqa: E731
                first_pack = latency_proxy.serial_round_trips(log, until=is_pack)
                packs = [request[0] for request in log if is_pack(request)]
                to_first_pack = round((min(packs) - min(request[0] for request in log)) * 1000) if packs else None
                # The data phase: from the first pack request's start to the last one's end. Its rate is the
                # pipeline's throughput without the fixed chain of round trips before and after it (open, lock,
                # lookup; index, record, unlock), which the end-to-end rate includes.
                pack_ends = [request[1] for request in log if is_pack(request)]
                data_seconds = max(pack_ends) - min(packs) if packs else None
                rows.append({"latencyMs": latency, "step": what, "seconds": round(seconds, 3),
                             "rate": round(amount / seconds, 1), "unit": unit, "requests": figures["requests"],
                             "peakRequestsInFlight": figures["peakRequestsInFlight"],
                             "peakBytesInFlight": figures["peakBytesInFlight"],
                             "serialRoundTrips": latency_proxy.serial_round_trips(log),
                             "serialBeforeFirstPack": first_pack, "msToFirstPack": to_first_pack,
                             "dataPhaseSeconds": round(data_seconds, 3) if data_seconds else None,
                             "dataPhaseRate": round(amount / data_seconds, 1) if data_seconds else None})

            mib = logical / (1 << 20)
            measure("volume backup", ["store", "backup-dir", data, "--name", "vol"], mib, "MiB/s")
            change(data, seed=int(latency) + 1)
            measure("incremental backup", ["store", "backup-dir", data, "--name", "vol2"], mib, "MiB/s")
            target = os.path.join(options.workdir, f"restored-{int(latency)}")
            measure("volume restore", ["store", "restore-dir", "vol", target], mib, "MiB/s")
            shutil.rmtree(target, ignore_errors=True)
            if options.volumes_only:
                continue
            objects = options.namespaces * options.objects_per_namespace
            measure("resource backup", ["backup", "create", "res", "--kubeconfig", source_config,
                                        "--snapshot-volumes=false"], objects, "objects/s")
            empty, empty_config = start_kube_sim(options.kube_sim, options.workdir, f"target-{int(latency)}")
            try:
                measure("resource restore", ["restore", "create", "res-restore", "--from-backup", "res",
                                             "--kubeconfig", empty_config], objects, "objects/s")
            finally:
                empty.terminate()
                empty.wait()
    finally:
        if source:
            source.terminate()
            source.wait()
        proxy.shutdown()

    baseline = {row["step"]: row for row in rows if row["latencyMs"] == 0}
    for row in rows:
        zero = baseline.get(row["step"])
        row["ratioTo0ms"] = round(row["rate"] / zero["rate"], 2) if zero else None
        row["dataPhaseRatioTo0ms"] = (round(row["dataPhaseRate"] / zero["dataPhaseRate"], 2)
                                      if zero and zero["dataPhaseRate"] and row["dataPhaseRate"] else None)
    if options.output == "json":
        print(json.dumps({"logicalBytes": logical, "objects": options.namespaces * options.objects_per_namespace,
                          "rows": rows}, indent=2))
        return
    print(f"{logical / (1 << 20):.0f} MiB of volume data, {options.namespaces * options.objects_per_namespace} "
          f"objects; S3 = moto behind a latency proxy")
    print(f"{'latency':>7} {'step':<18} {'seconds':>8} {'rate':>14} {'vs 0 ms':>7} {'requests':>8} "
          f"{'peak in flight':>14} {'peak bytes':>11} {'serial':>6} {'to 1st pack':>11} {'ms to it':>8} "
          f"{'data phase':>10} {'data rate':>9} {'vs 0 ms':>7}")
    for row in rows:
        ratio = "" if row["ratioTo0ms"] is None else f"{row['ratioTo0ms']:.2f}"
        first = "-" if row["serialBeforeFirstPack"] is None else str(row["serialBeforeFirstPack"])
        print(f"{row['latencyMs']:>5.0f}ms {row['step']:<18} {row['seconds']:>8.2f} "
              f"{row['rate']:>8.1f} {row['unit']:<5} {ratio:>7} {row['requests']:>8} "
              f"{row['peakRequestsInFlight']:>14} {row['peakBytesInFlight'] / (1 << 20):>9.1f}Mi "
              f"{row['serialRoundTrips']:>6} {first:>11} {row['msToFirstPack'] or '-':>8} "
              f"{row['dataPhaseSeconds'] or '-':>9}s {row['dataPhaseRate'] or '-':>9} "
              f"{'' if row['dataPhaseRatioTo0ms'] is None else format(row['dataPhaseRatioTo0ms'], '.2f'):>7}")


if __name__ == "__main__":
    main()
