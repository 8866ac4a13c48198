#!/usr/bin/env python3
"""Where a worker container's start went: container start -> healthy.

    docker-worker-start.py CONTAINER HEALTHY_AT

HEALTHY_AT is when the container was first seen healthy (RFC 3339, from
scripts/docker-test.sh's watcher; "" when never). Prints one line:

    TOTAL PHASES

TOTAL is seconds from the container's start to HEALTHY_AT ("none" when never
healthy); PHASES splits it by the worker's own log lines ("starting": the
process and TensorFlow library loaded; "models loaded"; "worker started": NATS
connected and work pulled), the rest being the wait for a passing health check.
"""
import datetime as dt
import json
import subprocess
import sys


def ts(s):
    s = s.strip().replace("Z", "+00:00").replace(" +0000 UTC", "+00:00")
    head, _, frac = s.partition(".")
    if frac:
        digits = "".join(ch for ch in frac if ch.isdigit())
        s = head + "." + digits[:6] + frac[len(digits):]
    return dt.datetime.fromisoformat(s)


def log_times(container, since):
    out = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
    out = out.stdout + out.stderr
    seen = {}
    for line in out.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "message" in rec and "time" in rec:
            at = ts(rec["time"])
            if at >= since:  # this run's lines only, after a restart
                seen.setdefault(rec["message"], at)
    return seen


def main():
    container, healthy_at = sys.argv[1], sys.argv[2]
    info = json.loads(subprocess.run(["docker", "inspect", container], capture_output=True,
                                     text=True, check=True).stdout)[0]
    start = ts(info["State"]["StartedAt"])
    seen = log_times(container, start)
    phases, last = [], start
    for label, msg in (("process", "starting"), ("models", "models loaded"), ("nats", "worker started")):
        if msg in seen:
            phases.append("%s %.1f" % (label, (seen[msg] - last).total_seconds()))
            last = seen[msg]
    if not healthy_at:
        print("none", ", ".join(phases))
        return
    end = ts(healthy_at)
    phases.append("check %.1f" % (end - last).total_seconds())
    print("%.1f" % (end - start).total_seconds(), ", ".join(phases))


if __name__ == "__main__":
    main()
