#!/usr/bin/env python3
"""tools/bench.d/tcprr.py: request/response latency, as netperf's TCP_RR: one TCP connection (TCP_NODELAY), one
byte sent, the one byte of the echo awaited, again and again for SECS seconds; each round trip timed on its own.

  tcprr.py HOST PORT SECS [--raw FILE]

Prints "count p50 p99 p99.9" (round trips, then milliseconds), or "fail: why". --raw writes every round trip (µs).
"""
import os, socket, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sections import percentile  # noqa: E402


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    host, port, secs = argv[1], int(argv[2]), float(argv[3])
    raw = argv[argv.index("--raw") + 1] if "--raw" in argv else None
    try:
        s = socket.create_connection((host, port), timeout=5)
    except OSError as e:
        print("fail: connect: %s" % e)
        return 0
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(2)
    rtts = []
    clock = time.perf_counter_ns
    end = clock() + int(secs * 1e9)
    byte = b"x"
    try:
        while True:
            t0 = clock()
            if t0 >= end:
                break
            s.sendall(byte)
            if not s.recv(1):
                print("fail: the server closed the connection after %d round trips" % len(rtts))
                return 0
            rtts.append(clock() - t0)
    except OSError as e:
        print("fail: %s after %d round trips" % (e, len(rtts)))
        return 0
    finally:
        s.close()
    if not rtts:
        print("fail: no round trip")
        return 0
    if raw:
        with open(raw, "w") as f:
            f.write("\n".join("%.1f" % (v / 1e3) for v in rtts) + "\n")
    rtts.sort()
    ms = [percentile(rtts, q) / 1e6 for q in (50, 99, 99.9)]
    print("%d %.3f %.3f %.3f" % (len(rtts), ms[0], ms[1], ms[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
