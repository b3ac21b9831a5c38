#!/usr/bin/env python3
"""Many TCP clients against the guest, for the connection-scale boot tests and the bench (run inside the
test's network namespace).

  hold  --count N --hold S [--port 7]   open N connections to the echo server as fast as the handshakes
                                         go, keep them all S seconds, then each sends a line and must get it
                                         back; prints one JSON line with the figures
  idle  --count N --hold S [--port 7]   open up to N idle connections (some may be refused), print how many
                                         are up on a line "idle up=U refused=R", keep them S seconds
  slow  --count N --hold S [--port 80]  N clients each send one header byte every 10 s while a real client
                                         asks for / once a second; prints JSON with the worst response time
"""
import argparse
import asyncio
import json
import resource
import sys
import time

GUEST = "198.18.0.2"


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def open_many(count, port, parallel, connect_timeout):
    """Opens up to count connections, at most parallel handshakes at a time; returns (streams, refused, failed)."""
    streams = []
    refused = 0
    failed = 0
    gate = asyncio.Semaphore(parallel)
    reasons = {}

    async def one():
        nonlocal refused, failed
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(GUEST, port), connect_timeout)
                streams.append((reader, writer))
            except (ConnectionRefusedError, ConnectionResetError):
                refused += 1  # a RST: at once, whether before or after the handshake
            except (OSError, asyncio.TimeoutError) as e:
                failed += 1
                reasons[type(e).__name__] = reasons.get(type(e).__name__, 0) + 1

    await asyncio.gather(*(one() for _ in range(count)))
    if reasons:
        print("connect failures: %s" % reasons, file=sys.stderr, flush=True)
    return streams, refused, failed


async def hold(args):
    start = time.monotonic()
    streams, refused, failed = await open_many(args.count, args.port, args.parallel, 30)
    opened = time.monotonic() - start
    await asyncio.sleep(args.hold)
    # Still up after the hold: nothing arrived (an echo server sends nothing unasked) and no EOF/RST.
    alive = sum(1 for r, _ in streams if not r.at_eof() and r.exception() is None)
    served = 0
    serve_start = time.monotonic()
    gate = asyncio.Semaphore(args.parallel)

    async def serve(i, reader, writer):
        nonlocal served
        async with gate:
            line = ("connection %d\n" % i).encode()
            try:
                writer.write(line)
                await writer.drain()
                got = await asyncio.wait_for(reader.readexactly(len(line)), 30)
                if got == line:
                    served += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                pass

    await asyncio.gather(*(serve(i, r, w) for i, (r, w) in enumerate(streams)))
    serve_seconds = time.monotonic() - serve_start
    for _, w in streams:
        w.close()
    print(json.dumps({"requested": args.count, "established": len(streams), "refused": refused, "failed": failed,
                      "open_seconds": round(opened, 2), "connections_per_second": round(len(streams) / opened, 1) if opened > 0 else 0,
                      "held_seconds": args.hold, "alive_after_hold": alive, "served": served,
                      "serve_seconds": round(serve_seconds, 2)}), flush=True)
    return 0 if served == args.count else 1


async def idle(args):
    streams, refused, failed = await open_many(args.count, args.port, args.parallel, 10)
    print("idle up=%d refused=%d failed=%d" % (len(streams), refused, failed), flush=True)
    await asyncio.sleep(args.hold)
    for _, w in streams:
        w.close()
    return 0


async def slow(args):
    streams, refused, failed = await open_many(args.count, args.port, args.parallel, 30)
    request = b"GET / HTTP/1.1\r\nHost: keel\r\n"
    stop = time.monotonic() + args.hold

    async def trickle(i, writer):
        # One byte of the header section every 10 s, starting at a spread-out moment.
        await asyncio.sleep((i % 100) / 10.0)
        n = 0
        while time.monotonic() < stop:
            try:
                writer.write(request[n % len(request):n % len(request) + 1])
                await writer.drain()
            except OSError:
                return
            n += 1
            await asyncio.sleep(10)

    trickles = [asyncio.ensure_future(trickle(i, w)) for i, (_, w) in enumerate(streams)]
    worst = 0.0
    served = 0
    asked = 0
    while time.monotonic() < stop:
        asked += 1
        t = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(GUEST, args.port), 5)
            writer.write(b"GET / HTTP/1.1\r\nHost: keel\r\nConnection: close\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readline(), 5)
            await asyncio.wait_for(reader.read(), 5)
            writer.close()
            if head.startswith(b"HTTP/1.1 200"):
                served += 1
        except (OSError, asyncio.TimeoutError):
            pass
        worst = max(worst, time.monotonic() - t)
        await asyncio.sleep(1)
    for task in trickles:
        task.cancel()
    for _, w in streams:
        w.close()
    print(json.dumps({"slow_clients": len(streams), "refused": refused, "failed": failed, "asked": asked,
                      "served": served, "worst_seconds": round(worst, 3)}), flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["hold", "idle", "slow"])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--hold", type=float, default=5)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=256, help="handshakes (or requests) in flight at once")
    args = parser.parse_args()
    if args.port == 0:
        args.port = 80 if args.mode == "slow" else 7
    limit = raise_fd_limit()
    if args.count + 64 > limit:
        print("fd limit %d is below %d connections" % (limit, args.count), file=sys.stderr)
        return 2
    return asyncio.run({"hold": hold, "idle": idle, "slow": slow}[args.mode](args))


if __name__ == "__main__":
    sys.exit(main())
