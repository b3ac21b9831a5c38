#!/usr/bin/env python3
"""tools/bench.d/ipv6_report.py: the IPv6 table of tools/bench (its ipv6 section, tools/bench.d/ipv6.sh).

  ipv6_report.py RESULTS OUTMD   prints the table and appends it to OUTMD (when there are IPv6 rows)

Keel and the Linux guest over IPv6 (configuration "ipv6") beside the same measures over IPv4 (configuration
"base", measured in the same runs with the same QEMU options), the per-run ratios, and the issue's goals.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Results, md_table, ratio_text, text_table  # noqa: E402

ROWS = [
    # metric, label, digits, scale
    ("ping_min", "ping RTT min (ms), 10 ms interval", 3, 1),
    ("ping_avg", "ping RTT avg (ms)", 3, 1),
    ("ping_max", "ping RTT max (ms)", 3, 1),
    ("tcp_h2g_1", "TCP host→guest, 1 stream (Mbit/s)", 0, 1),
    ("tcp_h2g_4", "TCP host→guest, 4 streams (Mbit/s)", 0, 1),
    ("tcp_g2h_1", "TCP guest→host (-R), 1 stream (Mbit/s)", 0, 1),
    ("tcp_g2h_4", "TCP guest→host (-R), 4 streams (Mbit/s)", 0, 1),
    ("udp1400_rx", "UDP 1400 B payload, received (kpps)", 1, 1e-3),
]

THROUGHPUT = ("tcp_h2g_1", "tcp_h2g_4", "tcp_g2h_1", "tcp_g2h_4", "udp1400_rx")
TCP = ("tcp_h2g_1", "tcp_h2g_4", "tcp_g2h_1", "tcp_g2h_4")


def cell(R, guest, config, metric, digits, scale):
    """The median (min–max) text, or the recorded reason when every run failed."""
    text, med = R.cell(guest, config, metric, digits, scale)
    if med is None and text.startswith("fail"):
        notes = R.notes(guest, config, metric)
        if notes:
            text = "fail: " + notes[0]
    return text


def goals(R):
    rows = []
    for metric in THROUGHPUT:
        ratios = R.paired(("keel", "ipv6"), ("keel", "base"), metric)
        rows.append(["Keel %s over IPv6 ≥ 0.9 × over IPv4" % metric, ratios, lambda r: r >= 0.9])
    for metric in TCP:
        ratios = R.paired(("keel", "ipv6"), ("linux", "ipv6"), metric)
        rows.append(["Keel %s over IPv6 ≥ 2 × Linux over IPv6" % metric, ratios, lambda r: r >= 2])
    out = []
    for goal, ratios, ok in rows:
        if not ratios:
            verdict = "not measured"
        else:
            n = sum(1 for r in ratios if ok(r))
            verdict = ("met" if ok(statistics.median(ratios)) else "missed") + " (%d of %d runs)" % (n, len(ratios))
        out.append([goal, ratio_text(ratios, 3), verdict])
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    R = Results(argv[1])
    if not R.has("keel", "ipv6") and not R.has("linux", "ipv6"):
        return 0
    rows = []
    for metric, label, digits, scale in ROWS:
        row = [label]
        for guest in ("keel", "linux"):
            row.append(cell(R, guest, "base", metric, digits, scale))
            row.append(cell(R, guest, "ipv6", metric, digits, scale))
            row.append(ratio_text(R.paired((guest, "ipv6"), (guest, "base"), metric)))
        row.append(ratio_text(R.paired(("keel", "ipv6"), ("linux", "ipv6"), metric)))
        rows.append(row)
    hdr = ["measure", "Keel IPv4", "Keel IPv6", "Keel IPv6/IPv4", "Linux IPv4", "Linux IPv6", "Linux IPv6/IPv4",
           "Keel/Linux over IPv6"]
    ghdr = ["goal", "ratio per run, median (min–max)", "median"]
    grows = goals(R)
    md = ["", "### IPv6 beside IPv4: Keel and Linux, same QEMU options, same run", ""] + md_table(hdr, rows)
    md += ["", "Values: median (min–max) over runs; ratios taken per run, then median (min–max). The IPv4 "
           "columns are the main table's rows. Over IPv6 the host is 2001:db8::1 on the tap; Keel is "
           "2001:db8::2/64 (`ip6=` on its command line), the Linux guest its EUI-64 link-local address. "
           "A row that says \"fail: …\" carries the reason recorded for it (e.g. a guest that does not "
           "yet take TCP over IPv6)."]
    md += ["", "Goals:", ""] + md_table(ghdr, grows)
    txt = ["", "IPv6 beside IPv4 (median (min–max) over runs)"] + text_table(hdr, rows)
    txt += ["", "IPv6 goals"] + text_table(ghdr, grows)
    with open(argv[2], "a") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(txt))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
