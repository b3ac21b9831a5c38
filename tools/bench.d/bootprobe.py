#!/usr/bin/env python3
"""tools/bench.d/bootprobe.py IP SECS [INTERVAL_MS]: the boot -> first ping probe of tools/bench.

Sends an ICMP echo request to IP every INTERVAL_MS milliseconds (default 1) from a raw socket (root; run it in
the bench's network namespace) until the first echo reply to one of them arrives, then prints the moment that
reply reached the host's network stack (its kernel receive time stamp, SO_TIMESTAMPNS, in Unix seconds with
nanoseconds) and exits 0; exits 1 after SECS without a reply. It prints "ready" on stdout once its socket is
open, before the first request: the bench starts the guest only then, so that Python's own start is not
part of the figure. iputils ping cannot serve here: while no reply has come it sends at most one request
every 10 ms whatever -i says, and its own wake-up after the reply adds to the figure.
"""
import os, select, socket, struct, sys, time

ECHO_REQUEST, ECHO_REPLY = 8, 0
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value; Python names it only from 3.13


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def request(ident, seq):
    payload = b"keel-bootprobe" + bytes(42)
    header = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq)
    return struct.pack("!BBHHH", ECHO_REQUEST, 0, checksum(header + payload), ident, seq) + payload


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, secs = sys.argv[1], float(sys.argv[2])
    interval = (float(sys.argv[3]) if len(sys.argv) > 3 else 1.0) / 1000.0
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
    ident = os.getpid() & 0xFFFF
    print("ready", flush=True)
    deadline = time.monotonic() + secs
    seq = 0
    next_send = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= deadline:
            return 1
        if now >= next_send:
            seq = (seq + 1) & 0xFFFF
            try:
                sock.sendto(request(ident, seq), (target, 0))
            except OSError:
                pass  # no route or a full queue before the guest is up: the next request tries again
            next_send += interval
            if next_send < now:
                next_send = now + interval
        ready, _, _ = select.select([sock], [], [], max(0.0, min(next_send, deadline) - time.monotonic()))
        if not ready:
            continue
        while True:
            try:
                data, ancillary, _, address = sock.recvmsg(2048, socket.CMSG_SPACE(16))
            except BlockingIOError:
                break
            if address[0] != target or len(data) < 28:
                continue
            ihl = (data[0] & 0x0F) * 4
            icmp_type, _, _, reply_ident, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if icmp_type != ECHO_REPLY or reply_ident != ident:
                continue
            stamp = time.time()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    stamp = seconds + nanoseconds / 1e9
            print("%.6f" % stamp, flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
