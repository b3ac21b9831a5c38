#!/usr/bin/env python3
"""tools/capture-seeds.d/convert.py: fuzz seeds from a capture (tools/capture-seeds).

  convert.py CORPUS TAG PCAP --to MAC        frames sent to MAC (the system under test; broadcast and
                                             multicast too) by anyone else
  convert.py CORPUS TAG PCAP --from MAC      frames sent by MAC (a peer whose replies become seeds)
  convert.py CORPUS TAG --requests DIR       raw HTTP requests (files in DIR) as http-request seeds

Every kind of input (the first seen of each) becomes CORPUS/TARGET/capture-TAG-KIND for each target that takes
it, in that target's input format (docs/fuzzing.md, "The targets"). IPv4 frames are readdressed to the fuzz
stack (02:00:00:00:00:02, 198.18.0.2, from 198.18.0.1) with their checksums made right; DHCP and DNS payloads,
TCP options and ICMPv6 messages are kept as they were. Seeds of TAG written before are replaced.
"""
import os, struct, sys

FUZZ_MAC = bytes.fromhex("020000000002")
PEER_MAC = bytes.fromhex("020000000001")
FUZZ_IP = bytes([198, 18, 0, 2])
PEER_IP = bytes([198, 18, 0, 1])


def read_pcap(path):
    data = open(path, "rb").read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append((sec + frac / (1e9 if nano else 1e6), data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return frames


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def readdress(frame):
    """An IPv4 frame sent to the fuzz stack from its peer: unicast addresses replaced, checksums recomputed."""
    f = bytearray(frame)
    if f[0] & 1 == 0:
        f[0:6] = FUZZ_MAC
    f[6:12] = PEER_MAC
    ip = 14
    ihl = (f[ip] & 15) * 4
    f[ip + 12:ip + 16] = PEER_IP
    if f[ip + 16] < 224 and f[ip + 16:ip + 20] != b"\xff\xff\xff\xff":
        f[ip + 16:ip + 20] = FUZZ_IP
    f[ip + 10:ip + 12] = b"\0\0"
    f[ip + 10:ip + 12] = struct.pack("!H", checksum(bytes(f[ip:ip + ihl])))
    total = struct.unpack("!H", f[ip + 2:ip + 4])[0]
    proto, l4 = f[ip + 9], ip + ihl
    fragment = struct.unpack("!H", f[ip + 6:ip + 8])[0] & 0x3FFF
    where = {6: 16, 17: 6}.get(proto)
    if where is not None and fragment == 0 and ip + total <= len(f):
        seg = f[l4:ip + total]
        if proto == 17 and seg[6:8] == b"\0\0":
            return bytes(f)
        seg[where:where + 2] = b"\0\0"
        pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, proto, len(seg))
        c = checksum(pseudo + bytes(seg))
        seg[where:where + 2] = struct.pack("!H", c if c or proto != 17 else 0xFFFF)
        f[l4:ip + total] = seg
    return bytes(f)


def record(prefix, data):
    """A record of the sequence targets: PREFIX (their control byte, if any), a 16-bit length, the data."""
    return prefix + struct.pack("!H", len(data)) + data


class Seeds:
    def __init__(self, corpus, tag):
        self.corpus, self.tag, self.by_target = corpus, tag, {}

    def add(self, target, kind, data, limit=16):
        s = self.by_target.setdefault(target, {})
        if kind not in s and len(s) < limit and data:
            s[kind] = data

    def write(self):
        total = 0
        prefix = "capture-%s-" % self.tag
        for target, s in sorted(self.by_target.items()):
            d = os.path.join(self.corpus, target)
            os.makedirs(d, exist_ok=True)
            for old in os.listdir(d):
                if old.startswith(prefix):
                    os.remove(os.path.join(d, old))
            for kind, data in s.items():
                with open(os.path.join(d, prefix + kind), "wb") as out:
                    out.write(data)
                total += 1
            print("capture-seeds: %-16s %2d %s seeds" % (target, len(s), self.tag))
        return total


def dns_question(msg):
    """The first label of the question's name and its type."""
    at, first = 12, None
    while at < len(msg) and msg[at] != 0:
        if msg[at] & 0xC0:
            at += 1
            break
        first = first or msg[at + 1:at + 1 + msg[at]].decode(errors="replace")
        at += 1 + msg[at]
    at += 1
    return first or "root", struct.unpack("!H", msg[at:at + 2])[0] if at + 2 <= len(msg) else 0


def icmpv6_control(packet):
    dst, hop = packet[24:40], packet[7]
    if dst == bytes.fromhex("ff020000000000000000000000000001"):
        c = 1
    elif dst[:13] == bytes.fromhex("ff02" + "00" * 9 + "01ff"):
        c = 2
    elif dst == bytes.fromhex("ff020000000000000000000000000002"):
        c = 3
    elif dst[0] == 0xFF:
        c = 1
    else:
        c = 0
    return c | (4 if hop == 1 else 0)


def icmpv6_message(packet):
    """The ICMPv6 message of an IPv6 packet, behind a hop-by-hop header (MLD) if there is one; None if not ICMPv6."""
    nh, at = packet[6], 40
    while nh in (0, 60, 43) and at + 8 <= len(packet):
        nh, at = packet[at], at + (packet[at + 1] + 1) * 8
    return packet[at:40 + struct.unpack("!H", packet[4:6])[0]] if nh == 58 else None


ICMPV6 = {128: "echo-request", 129: "echo-reply", 130: "mld-query", 131: "mld-report", 133: "rs", 134: "ra",
          135: "ns", 136: "na", 137: "redirect", 143: "mldv2-report", 1: "unreachable", 2: "too-big", 3: "time-exceeded"}


def convert(frames, seeds):
    sequence, nd, dhcp_replies, fragments, ipv4_fragments, last = [], [], [], [], [], None
    for when, f in frames:
        if len(f) < 14:
            continue
        etype = f[12:14]
        if etype == b"\x86\xdd" and len(f) >= 54:
            packet = f[14:]
            if packet[6] == 44 and len(packet) >= 48:
                # A fragment (RFC 8200 4.5): the reassembly target's record is a control byte (bit 0: more
                # fragments), the offset in 8-byte units and the fragment's data.
                word = struct.unpack("!H", packet[42:44])[0]
                data = packet[48:40 + struct.unpack("!H", packet[4:6])[0]]
                fragments.append(bytes([word & 1]) + struct.pack("!H", word >> 3) + struct.pack("!H", len(data)) + data)
                seeds.add("ipv6", "fragment-%s" % ("first" if word >> 3 == 0 else "next"), b"\x01" + packet)
                continue
            message = icmpv6_message(packet)
            if message is None or not message:
                seeds.add("ipv6", {6: "tcp", 17: "udp"}.get(packet[6], "nh%d" % packet[6]), b"\x01" + packet)
                continue
            name = ICMPV6.get(message[0], "type%d" % message[0])
            control = icmpv6_control(packet)
            seeds.add("icmpv6", name, bytes([control]) + message)
            seeds.add("ipv6", name, b"\x01" + packet)
            steps = 0 if last is None else min(31, int((when - last) * 10))
            last = when
            if len(nd) < 40:
                nd.append(record(bytes([control | steps << 3]), message))
            continue
        if etype == b"\x08\x06":
            arp = bytearray(f[14:42])
            if arp[6:8] == b"\x00\x02":
                arp[18:24] = FUZZ_MAC
            arp[8:14] = PEER_MAC
            arp[14:18] = PEER_IP
            arp[24:28] = FUZZ_IP
            frame = (FUZZ_MAC if arp[6:8] == b"\x00\x02" else b"\xff" * 6) + PEER_MAC + b"\x08\x06" + bytes(arp)
            op = "reply" if arp[6:8] == b"\x00\x02" else "request"
            seeds.add("arp", op, bytes(arp))
            seeds.add("frame", "arp-" + op, frame)
            sequence.append(frame)
            continue
        if etype != b"\x08\x00" or len(f) < 34:
            continue
        frame = readdress(f)
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        proto, l4 = ip[9], ip[ihl:]
        name = {1: "icmp", 6: "tcp", 17: "udp"}.get(proto, "ip%d" % proto)
        word = struct.unpack("!H", ip[6:8])[0]
        if word & 0x3FFF:
            # A fragment: the reassembly target's record is a control byte (bit 0: more fragments; bit 2: ICMP),
            # the offset in 8-byte units and the payload.
            if proto in (1, 17) and len(ipv4_fragments) < 8:
                ipv4_fragments.append(bytes([(word >> 13) & 1 | (4 if proto == 1 else 0)]) + struct.pack("!H", word & 0x1FFF)
                                      + struct.pack("!H", len(l4)) + l4)
            name = "%s-fragment-%s" % (name, "first" if word & 0x1FFF == 0 else "next")
            seeds.add("ipv4", name, ip)
            seeds.add("frame", name, frame)
            sequence.append(frame)
            continue
        if proto == 6 and len(l4) >= 20:
            flags, doff = l4[13], (l4[12] >> 4) * 4
            name = "tcp-%s%s%s%s%s" % ("S" if flags & 2 else "", "A" if flags & 16 else "", "F" if flags & 1 else "",
                                       "R" if flags & 4 else "", "-data" if len(l4) > doff else "")
            seeds.add("tcp-segment", name, l4)
            if doff > 20:
                seeds.add("tcp-options", name, bytes([1 if flags & 2 else 0]) + l4[20:doff])
        elif proto == 17 and len(l4) >= 8:
            sport = struct.unpack("!H", l4[:2])[0]
            payload = l4[8:]
            if sport == 67:
                kind = {2: "offer", 5: "ack", 6: "nak"}.get(payload[payload.find(b"\x35\x01") + 2] if b"\x35\x01" in payload else 0, "reply")
                name = "dhcp-" + kind
                seeds.add("dhcp-message", kind, payload)
                dhcp_replies.append(payload)
            elif sport == 53:
                label, number = dns_question(payload)
                qtype = {1: "a", 28: "aaaa", 5: "cname"}.get(number, "q%d" % number)
                chain = "-cname" if b"\x00\x05\x00\x01" in payload[12:] else ""
                name = "dns-%s%s-%s" % (qtype, chain, label)
                seeds.add("dns-message", name[4:], payload)
                if qtype == "a":
                    seeds.add("dns-client", name[4:], record(b"", payload))
                elif qtype == "aaaa":
                    seeds.add("dns-client-aaaa", name[4:], record(b"", payload))
            else:
                name = "udp-%d" % sport
            seeds.add("udp", name, l4)
        elif proto == 1 and l4:
            name = {0: "echo-reply", 8: "echo-request", 3: "unreachable", 11: "time-exceeded"}.get(l4[0], "icmp%d" % l4[0])
            seeds.add("icmp", name, l4)
        seeds.add("ipv4", name, ip)
        seeds.add("frame", name, frame)
        sequence.append(frame)
    if sequence:
        seeds.add("frames", "session", b"".join(record(b"\x00", s) for s in sequence[:40]))
    if nd:
        seeds.add("nd", "session", b"".join(nd))
    if fragments:
        seeds.add("ipv6-reassembly", "echo-fragments", b"".join(fragments[:8]))
    if ipv4_fragments:
        seeds.add("reassembly", "fragments", b"".join(ipv4_fragments))
    if dhcp_replies:
        seeds.add("dhcp-client", "replies", b"".join(record(b"", r) for r in dhcp_replies[:4]))


def main(argv):
    corpus, tag = argv[0], argv[1]
    seeds = Seeds(corpus, tag)
    if argv[2] == "--requests":
        d = argv[3]
        for name in sorted(os.listdir(d)):
            seeds.add("http-request", name, open(os.path.join(d, name), "rb").read())
    else:
        pcap, how, mac = argv[2], argv[3], bytes.fromhex(argv[4].replace(":", ""))
        frames = read_pcap(pcap)
        if how == "--to":
            picked = [(t, f) for t, f in frames if f[6:12] != mac and (f[:6] == mac or f[0] & 1)]
        else:
            picked = [(t, f) for t, f in frames if f[6:12] == mac]
        print("capture-seeds: %s: %d frames, %d picked" % (tag, len(frames), len(picked)))
        convert(picked, seeds)
    print("capture-seeds: %s: %d seeds written" % (tag, seeds.write()))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
