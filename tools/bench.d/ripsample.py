#!/usr/bin/env python3
"""tools/bench.d/ripsample.py MONITOR_SOCK N INTERVAL: sample the guest's RIP N times.

Connects to a QEMU HMP monitor on a unix socket (-monitor unix:PATH,server,nowait), sends
'info registers' N times INTERVAL seconds apart and prints one RIP (hex) per line. Each sample
stops the vCPU briefly (TCG: at the next translation-block boundary), so this is a coarse,
statistical profile of where the guest spends its time. No network involved.
"""
import re, socket, sys, time


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, n, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)

    def until_prompt():
        buf = b""
        while not buf.endswith(b"(qemu) "):
            d = s.recv(65536)
            if not d:
                raise EOFError
            buf += d
        return buf

    until_prompt()
    rx = re.compile(rb"RIP=([0-9a-f]+)")
    got = 0
    for _ in range(n):
        s.sendall(b"info registers\n")
        try:
            out = until_prompt()
        except (EOFError, socket.timeout):
            break
        m = rx.search(out)
        if m:
            print(m.group(1).decode())
            got += 1
        time.sleep(interval)
    return 0 if got else 1


if __name__ == "__main__":
    sys.exit(main())
