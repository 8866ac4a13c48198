#!/usr/bin/env python3
"""NATS messages and bytes per chunk of each connection over the profiled job
of scripts/bench.sh: the difference of DIR/profiles/job-connz-{before,after}.json
(the NATS server's /connz), divided by CHUNKS (a 100,000-item digits job: 391).

usage: scripts/connz-delta.py BENCH_DIR [CHUNKS]
"""
import json
import sys


def main():
    d = sys.argv[1]
    chunks = float(sys.argv[2]) if len(sys.argv) > 2 else 391
    before = {c["cid"]: c for c in json.load(open(d + "/profiles/job-connz-before.json"))["connections"]}
    after = json.load(open(d + "/profiles/job-connz-after.json"))["connections"]
    keys = ("in_msgs", "out_msgs", "in_bytes", "out_bytes")
    print("%-30s %10s %10s %12s %12s" % ("connection", "in/chunk", "out/chunk", "in KB/chunk", "out KB/chunk"))
    total = [0, 0, 0, 0]
    for c in after:
        p = before.get(c["cid"], {})
        delta = [c.get(k, 0) - p.get(k, 0) for k in keys]
        if delta[0] + delta[1] == 0:
            continue
        total = [t + x for t, x in zip(total, delta)]
        name = c.get("name") or c.get("lang", "")
        print("%-30s %10.1f %10.1f %12.1f %12.1f" % (name[:30], delta[0] / chunks, delta[1] / chunks,
                                                    delta[2] / chunks / 1024, delta[3] / chunks / 1024))
    print("%-30s %10.1f %10.1f %12.1f %12.1f" % ("total", total[0] / chunks, total[1] / chunks,
                                                total[2] / chunks / 1024, total[3] / chunks / 1024))


if __name__ == "__main__":
    main()
