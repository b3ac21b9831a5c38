#!/usr/bin/env python3
"""A misbehaving TCP peer for the reliability boot tests, run inside the test's network namespace.

It owns a made-up address on the tap (198.18.0.77, answering ARP for it itself, so the host's own TCP stack
never sees or resets the guest's segments) and speaks TCP by hand through an AF_PACKET socket:

  fakepeer.py IFACE silent PORT SECONDS   handshake, send 100 bytes, then never ACK anything: prints one JSON
                                          line with the times (s after the first) the guest sent its data
  fakepeer.py IFACE synflood PORT COUNT   COUNT SYNs from different ports, never answered; prints a JSON line
                                          with how many SYN-ACKs came back within a second

and two well-behaved clients through the host's own TCP (from 198.18.0.1):

  fakepeer.py IFACE client PORT TIMEOUT   connect, send, read the echo: JSON with the outcome and seconds
  fakepeer.py IFACE idle PORT COUNT       COUNT idle connections held open, then one more client as above

Addresses are from 198.18.0.0/15 only; nothing leaves the namespace.
"""
import json
import random
import socket
import struct
import sys
import threading
import time

FAKE_IP = socket.inet_aton("198.18.0.77")
FAKE_MAC = bytes([0x02, 0x00, 0x00, 0x00, 0x00, 0x77])
GUEST_IP = socket.inet_aton("198.18.0.2")
BROADCAST = b"\xff" * 6


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class Peer:
    def __init__(self, iface):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind((iface, 0))
        self.guest_mac = None
        self.segments = []          # (time, sport, dport, seq, ack, flags, payload length)
        self.lock = threading.Lock()
        self.running = True
        threading.Thread(target=self.receive, daemon=True).start()

    def send_frame(self, dst_mac, ethertype, payload):
        self.sock.send(dst_mac + FAKE_MAC + struct.pack("!H", ethertype) + payload)

    def arp(self, op, target_mac, target_ip):
        body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + FAKE_MAC + FAKE_IP + target_mac + target_ip
        self.send_frame(BROADCAST if op == 1 else target_mac, 0x0806, body)

    def receive(self):
        while self.running:
            frame = self.sock.recv(65535)
            if len(frame) < 42:
                continue
            ethertype = struct.unpack("!H", frame[12:14])[0]
            if ethertype == 0x0806:
                op = struct.unpack("!H", frame[20:22])[0]
                sender_mac, sender_ip, target_ip = frame[22:28], frame[28:32], frame[38:42]
                if sender_ip == GUEST_IP:
                    self.guest_mac = sender_mac
                if op == 1 and target_ip == FAKE_IP:
                    self.arp(2, sender_mac, sender_ip)
                continue
            if ethertype != 0x0800 or frame[23] != 6 or frame[30:34] != FAKE_IP or frame[0:6] != FAKE_MAC:
                continue
            ihl = (frame[14] & 15) * 4
            total = struct.unpack("!H", frame[16:18])[0]
            t = 14 + ihl
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", frame[t:t + 14])
            length = total - ihl - (off >> 4) * 4
            with self.lock:
                self.segments.append((time.monotonic(), sport, dport, seq, ack, flags, length))

    def learn_guest(self):
        deadline = time.monotonic() + 10
        while self.guest_mac is None and time.monotonic() < deadline:
            self.arp(1, b"\0" * 6, GUEST_IP)
            time.sleep(0.2)
        if self.guest_mac is None:
            sys.exit("guest did not answer ARP")

    def tcp(self, sport, dport, seq, ack, flags, payload=b"", options=b""):
        offset = (20 + len(options)) // 4
        header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, 65535, 0, 0) + options
        pseudo = FAKE_IP + GUEST_IP + struct.pack("!BBH", 0, 6, len(header) + len(payload))
        csum = checksum(pseudo + header + payload)
        header = header[:16] + struct.pack("!H", csum) + header[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(header) + len(payload), random.randint(0, 65535), 0x4000,
                         64, 6, 0, FAKE_IP, GUEST_IP)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        self.send_frame(self.guest_mac, 0x0800, ip + header + payload)

    def wait_segment(self, sport, want, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for segment in self.segments:
                    if segment[2] == sport and want(segment):
                        return segment
            time.sleep(0.01)
        return None


MSS_OPTION = struct.pack("!BBH", 2, 4, 1460)


def silent(peer, port, seconds):
    sport = random.randint(20000, 60000)
    isn = random.randint(0, 2**32 - 1)
    peer.tcp(sport, port, isn, 0, 0x02, options=MSS_OPTION)
    synack = peer.wait_segment(sport, lambda s: s[5] & 0x12 == 0x12, 5)
    if synack is None:
        sys.exit("no SYN-ACK")
    guest_isn = synack[3]
    peer.tcp(sport, port, isn + 1, guest_isn + 1, 0x10)
    peer.tcp(sport, port, isn + 1, guest_isn + 1, 0x18, payload=b"k" * 100)
    first = peer.wait_segment(sport, lambda s: s[6] > 0, 5)
    if first is None:
        sys.exit("no echo")
    time.sleep(max(0.0, first[0] + seconds - time.monotonic()))
    with peer.lock:
        times = [round(s[0] - first[0], 3) for s in peer.segments if s[2] == sport and s[6] > 0]
    print(json.dumps({"data_segments": times}))


def synflood(peer, port, count):
    base = random.randint(20000, 50000)
    start = time.monotonic()
    for i in range(count):
        peer.tcp(base + i, port, random.randint(0, 2**32 - 1), 0, 0x02, options=MSS_OPTION)
    time.sleep(1)
    with peer.lock:
        answered = len({s[2] for s in peer.segments if s[5] & 0x12 == 0x12 and base <= s[2] < base + count})
    print(json.dumps({"sent": count, "synacks": answered, "seconds": round(time.monotonic() - start, 3)}))


def client(port, timeout):
    """One echo exchange: 'served', 'refused' (RST or refused), or 'hang' (nothing within the timeout)."""
    start = time.monotonic()
    outcome = "hang"
    try:
        with socket.create_connection(("198.18.0.2", port), timeout=timeout) as s:
            s.settimeout(max(0.1, timeout - (time.monotonic() - start)))
            s.sendall(b"ping")
            data = b""
            while len(data) < 4:
                chunk = s.recv(4 - len(data))
                if not chunk:
                    outcome = "refused"
                    break
                data += chunk
            if data == b"ping":
                outcome = "served"
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
        outcome = "refused"
    except (socket.timeout, TimeoutError):
        outcome = "hang"
    return {"outcome": outcome, "seconds": round(time.monotonic() - start, 3)}


def idle_then_one(port, count):
    held = []
    for _ in range(count):
        held.append(socket.create_connection(("198.18.0.2", port), timeout=10))
    result = client(port, 3)
    result["held"] = len(held)
    for s in held:
        s.close()
    return result


def main():
    iface, mode, port, amount = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if mode == "client":
        print(json.dumps(client(port, amount)))
        return
    if mode == "idle":
        print(json.dumps(idle_then_one(port, amount)))
        return
    peer = Peer(iface)
    peer.learn_guest()
    if mode == "silent":
        silent(peer, port, amount)
    elif mode == "synflood":
        synflood(peer, port, amount)
    else:
        sys.exit("unknown mode " + mode)
    peer.running = False


if __name__ == "__main__":
    main()
