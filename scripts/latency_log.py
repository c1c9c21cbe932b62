#!/usr/bin/env python3
"""Summarizes a latency proxy request log (LATENCY_PROXY_LOG): the gaps with nothing in flight, and how long each
count of requests was in flight.

    LATENCY_PROXY_LOG=/tmp/requests.log scripts/with-moto.sh python3 scripts/latency_bench.py --latencies 50
    python3 scripts/latency_log.py /tmp/requests.log
"""
import argparse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--gap-ms", type=float, default=20, help="report gaps with nothing in flight longer than this")
    options = parser.parse_args()
    requests = []
    with open(options.log) as log:
        for line in log:
            fields = line.split()
            if len(fields) >= 4:
                requests.append((float(fields[0]), float(fields[1])))
    if not requests:
        raise SystemExit(f"{options.log}: no requests")
    requests.sort()
    origin = requests[0][0]
    events = sorted([(start, 1) for start, _ in requests] + [(end, -1) for _, end in requests],
                    key=lambda event: (event[0], -event[1]))
    in_flight, last, gaps, time_by_count = 0, None, [], {}
    for instant, change in events:
        if last is not None:
            time_by_count[in_flight] = time_by_count.get(in_flight, 0) + instant - last
            if in_flight == 0 and instant - last > options.gap_ms / 1000:
                gaps.append((last - origin, instant - last))
        in_flight += change
        last = instant
    print(f"{len(requests)} requests over {last - origin:.3f} s")
    print("gaps with nothing in flight (at s, for s):", ", ".join(f"{at:.3f}+{span:.3f}" for at, span in gaps) or "none")
    print("seconds with n requests in flight:",
          ", ".join(f"{count}: {seconds:.3f}" for count, seconds in sorted(time_by_count.items())))


if __name__ == "__main__":
    main()
