#!/usr/bin/env python3
"""Leader failover of `velero-cas server` replicas with the production leader-election defaults.

Starts kube-sim and two `velero-cas server --leader-elect=true` processes against it (15 s lease, 10 s renew
deadline, 2 s retry period unless given), then, for each round, stops the current leader and measures how long the
Lease takes to name the other one: after SIGKILL (the lease must run out: expect lease duration + up to 1.2 retry
periods) and after SIGTERM (the leader releases the lease: expect at most 1.2 retry periods). The stopped replica
is started again as the new standby before the next round.

    swift build --product velero-cas --product kube-sim
    python3 scripts/failover_bench.py --cli .build/debug/velero-cas --kube-sim .build/debug/kube-sim --rounds 2
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

LEASE = "/apis/coordination.k8s.io/v1/namespaces/velero/leases/velero-cas-leader"


def start_sim(kube_sim, workdir):
    kubeconfig = os.path.join(workdir, "kubeconfig")
    process = subprocess.Popen([kube_sim, "--port", "0", "--kubeconfig-out", kubeconfig],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()
    if "listening on" not in line:
        sys.exit(f"kube-sim did not start: {line}")
    url = line.strip().split()[-1]
    request = urllib.request.Request(url + "/api/v1/namespaces", method="POST",
                                     data=json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": "velero"}}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
    return process, url, kubeconfig


def holder(url):
    try:
        with urllib.request.urlopen(url + LEASE) as response:
            return json.load(response).get("spec", {}).get("holderIdentity", "")
    except Exception:
        return None


def start_server(cli, kubeconfig, workdir, name, args):
    log = open(os.path.join(workdir, f"{name}.log"), "a")
    return subprocess.Popen([cli, "server", "--kubeconfig", kubeconfig, "--install-crds", "--leader-elect=true",
                             "--metrics-address", "", "--store", os.path.join(workdir, "store")] + args,
                            stdout=log, stderr=log)


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    sys.exit("timed out")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--kube-sim", required=True)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each stop kind")
    parser.add_argument("--server-args", default="", help="extra server flags, e.g. '--leader-election-lease-duration 5s'")
    options = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="failover-")
    sim, url, kubeconfig = start_sim(options.kube_sim, workdir)
    extra = options.server_args.split()
    servers = {}
    try:
        for name in ("a", "b"):
            servers[name] = start_server(options.cli, kubeconfig, workdir, name, extra)
            if name == "a":
                wait_for(lambda: holder(url))
        results = []
        for kind, signum in [("SIGKILL", signal.SIGKILL), ("SIGTERM", signal.SIGTERM)] * options.rounds:
            current = wait_for(lambda: holder(url))
            leader = next(n for n, p in servers.items() if current.endswith(f"_{p.pid}"))
            time.sleep(3)  # let the standby observe a few renewals
            stopped = time.monotonic()
            servers[leader].send_signal(signum)
            wait_for(lambda: (h := holder(url)) and h != current and h != "")
            elapsed = time.monotonic() - stopped
            servers[leader].wait()
            results.append((kind, elapsed))
            print(f"{kind:8} leader stopped -> other replica holds the lease after {elapsed:6.2f} s", flush=True)
            servers[leader] = start_server(options.cli, kubeconfig, workdir, leader, extra)
        for kind in ("SIGKILL", "SIGTERM"):
            times = [t for k, t in results if k == kind]
            print(f"{kind}: min {min(times):.2f} s, max {max(times):.2f} s over {len(times)}")
    finally:
        for process in servers.values():
            process.kill()
        sim.kill()


if __name__ == "__main__":
    main()
