#!/usr/bin/env python3
"""Print the machine's idle share, in percent of all its CPUs, every 100 ms
for SECONDS (from /proc/stat): run beside a job to see when the cores wait
(docs/benchmarks.md, issue 23 round 7: a job's upload phase against its
steady state).

    scripts/cpu-idle.py 20
"""
import sys
import time


def read():
    v = list(map(int, open('/proc/stat').readline().split()[1:]))
    return sum(v), v[3] + v[4]  # all ticks; idle and iowait


def main():
    end = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 10)
    total, idle = read()
    out = []
    while time.time() < end:
        time.sleep(0.1)
        t, i = read()
        out.append(100 * (i - idle) / max(1, t - total))
        total, idle = t, i
    print(' '.join('%d' % x for x in out))


if __name__ == '__main__':
    main()
