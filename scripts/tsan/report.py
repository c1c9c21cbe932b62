#!/usr/bin/env python3
"""Sorts ThreadSanitizer reports from a `swift test --sanitize=thread` log into real suspects and Mutex handoffs.

Swift's `Mutex` on Linux hands a contended lock over in the kernel (a priority-inheritance futex), which TSan cannot
see, so two accesses made under the same `withLock` on two threads are reported as a race
(`mutex_false_positive.swift` shows it in 30 lines). A report counts as such a handoff when, for both accesses, one of
the project's frames sits lexically inside a `withLock { … }` closure. Everything else is listed as a suspect, and
the exit status is 1 if there is any.

    python3 scripts/tsan/report.py LOG
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A frame in the project's sources or tests (a test's own lock helper hands over like any other), path from the root.
FRAME = re.compile(r"#\d+ \S+ (/\S+?/((?:Sources|Tests)/\S+?)):(\d+):\d+")


def inside_with_lock(path, line_number):
    """Whether line `line_number` of `path` is inside a `withLock {` closure (walking out through braces)."""
    try:
        lines = (ROOT / path).read_text().splitlines()
    except OSError:
        return False
    if 0 < line_number <= len(lines) and "withLock" in lines[line_number - 1]:
        return True  # the closure's own first line (TSan names it for accesses the closure makes)
    depth = 0
    for index in range(line_number - 1, -1, -1):
        line = re.sub(r'"[^"]*"|//.*$', "", lines[index])
        segment = line if index < line_number - 1 else ""
        depth += segment.count("}") - segment.count("{")
        if index == line_number - 1:
            continue
        if depth < 0:
            if "withLock" in line:
                return True
            if re.search(r"\bfunc\b|\binit\b|\bdeinit\b", line):
                return False
            depth = 0
    return False


def accesses(report):
    """Per access (the racing one and the previous one): the project frames (path, line) in order."""
    result = []
    current = None
    for line in report.splitlines():
        if re.search(r"(access of|Read of|Write of|read of|write of)", line):
            current = []
            result.append(current)
        elif current is not None:
            match = FRAME.search(line)
            if match:
                current.append((match.group(2), int(match.group(3))))
            elif not line.strip():
                current = None
    return result[:2]


def main():
    text = Path(sys.argv[1]).read_text(errors="replace")
    reports = text.split("WARNING: ThreadSanitizer:")[1:]
    handoffs, suspects = {}, {}
    for report in reports:
        kind = report.splitlines()[0].split("(pid")[0].strip()
        pair = accesses(report)
        key = (kind,) + tuple(frames[0] if frames else ("?", 0) for frames in pair)
        locked = len(pair) == 2 and all(any(inside_with_lock(p, n) for p, n in frames) for frames in pair)
        bucket = handoffs if locked else suspects
        bucket[key] = bucket.get(key, 0) + 1
    print(f"{len(reports)} TSan reports: {sum(handoffs.values())} Mutex handoffs "
          f"({len(handoffs)} distinct), {sum(suspects.values())} suspects ({len(suspects)} distinct)")
    for title, bucket in (("suspects", suspects), ("Mutex handoffs", handoffs)):
        if bucket:
            print(f"{title}:")
            for key, count in sorted(bucket.items()):
                places = "  vs  ".join(f"{path}:{line}" for path, line in key[1:])
                print(f"  {count:>3}x {key[0]}: {places}")
    sys.exit(1 if suspects else 0)


if __name__ == "__main__":
    main()
