#!/usr/bin/env python3
"""tools/bench.d/bootprobe.py IP SECS [INTERVAL_MS]: the boot -> first ping probe of tools/bench.

IP is an IPv4 or an IPv6 address (an IPv6 link-local one with its %interface). Sends an ICMP (or ICMPv6) echo request to IP every INTERVAL_MS milliseconds (default 1) from an ICMP datagram socket (Linux's
"ping socket": the kernel fills in the identifier and checksum and hands the socket only its own replies; run it
as root in the bench's network namespace, whose net.ipv4.ping_group_range it opens to root's group, a setting of
that namespace alone) until the first echo reply to one of them arrives, then prints the moment that
reply reached the host's network stack (its kernel receive time stamp, SO_TIMESTAMPNS, in Unix seconds with
nanoseconds) and exits 0; exits 1 after SECS without a reply. It prints "ready" on stdout once its socket is
open, before the first request: the bench starts the guest only then, so that Python's own start is not
part of the figure. iputils ping cannot serve here: while no reply has come it sends at most one request
every 10 ms whatever -i says, and its own wake-up after the reply adds to the figure.
"""
import ipaddress, select, socket, struct, sys, time

ECHO_REQUEST, ECHO_REPLY = 8, 0
ECHO_REQUEST6, ECHO_REPLY6 = 128, 129  # RFC 4443 4.1, 4.2
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value; Python names it only from 3.13


def request(kind, seq):
    # Checksum and identifier are the kernel's to fill in; the type and sequence number are ours.
    return struct.pack("!BBHHH", kind, 0, 0, 0, seq) + b"keel-bootprobe" + bytes(42)


def same_host(a, b):
    return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b.split("%")[0])


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, secs = sys.argv[1], float(sys.argv[2])
    interval = (float(sys.argv[3]) if len(sys.argv) > 3 else 1.0) / 1000.0
    with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
        f.write("0 0")
    v6 = ipaddress.ip_address(target.split("%")[0]).version == 6
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_ICMPV6)
        kind, reply_kind = ECHO_REQUEST6, ECHO_REPLY6
        # A link-local address needs its scope id in the socket address: getaddrinfo turns "%interface" into it.
        destination = socket.getaddrinfo(target, 0, socket.AF_INET6, socket.SOCK_DGRAM)[0][4]
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
        kind, reply_kind = ECHO_REQUEST, ECHO_REPLY
        destination = (target, 0)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setblocking(False)
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
                sock.sendto(request(kind, seq), destination)
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
            if not same_host(address[0], target) or len(data) < 8 or data[0] != reply_kind:
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
