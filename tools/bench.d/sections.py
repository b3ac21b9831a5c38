#!/usr/bin/env python3
"""tools/bench.d/sections.py: parsing and reporting for the bench's HTTP and latency sections (no network use).

  sections.py wrk FILE           -> "req_per_s p50_ms p99_ms" (2xx/3xx responses only) [TAB note], or "fail: why"
  sections.py ab FILE CSV        -> "req_per_s p50_ms p99_ms" [TAB note], or "fail: why"
  sections.py ping-pct FILE      -> "p50 p99 p99.9 loss%" of the replies' RTTs (ms), or "fail: why"
  sections.py report RESULTS     -> markdown of the HTTP and latency tables on stdout (nothing if neither ran)
"""
import math, os, re, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Results, md_table  # noqa: E402

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def percentile(sorted_vals, q):
    """Nearest-rank percentile (q in 0..100) of a sorted, non-empty list."""
    k = max(0, min(len(sorted_vals) - 1, math.ceil(round(q * len(sorted_vals) / 100, 9)) - 1))
    return sorted_vals[k]


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def ms(value, unit):
    return float(value) * UNIT_MS[unit]


def wrk(path):
    text = read(path)
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m),", text)
    if not m:
        err = text.strip().splitlines()[-1:] or ["no output"]
        print("fail: wrk: %s" % err[0][:160])
        return 0
    total, dur = int(m.group(1)), ms(m.group(2), m.group(3)) / 1e3
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    bad = int(bad.group(1)) if bad else 0
    pct = dict((p, ms(v, u)) for p, v, u in re.findall(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M))
    if "50" not in pct or "99" not in pct or dur <= 0:
        print("fail: wrk: no latency distribution (run with --latency)")
        return 0
    ok = total - bad
    if ok <= 0:
        print("fail: wrk: no successful response (%d non-2xx of %d)" % (bad, total))
        return 0
    notes = []
    if bad:
        notes.append("%d of %d responses not 2xx/3xx" % (bad, total))
    se = re.search(r"Socket errors: (.*)", text)
    if se:
        notes.append("socket errors: " + se.group(1).strip())
    print("%.1f %.3f %.3f\t%s" % (ok / dur, pct["50"], pct["99"], "; ".join(notes)))
    return 0


def ab(path, csv):
    text = read(path)
    rps = re.search(r"Requests per second:\s+([\d.]+)", text)
    done = re.search(r"Complete requests:\s+(\d+)", text)
    if not rps or not done:
        err = [l for l in text.strip().splitlines() if l.strip()][-1:] or ["no output"]
        print("fail: ab: %s" % err[0][:160])
        return 0
    # ab -e CSV: "percentage,milliseconds" for 0..100 %, with fractions of a millisecond (its text table rounds).
    pct = {}
    for line in read(csv).splitlines():
        p = line.split(",")
        if len(p) == 2 and p[0].isdigit():
            pct[int(p[0])] = float(p[1])
    if 50 not in pct or 99 not in pct:
        print("fail: ab: no percentile table in %s" % csv)
        return 0
    notes = []
    failed = re.search(r"Failed requests:\s+(\d+)", text)
    if failed and int(failed.group(1)):
        notes.append("%s failed requests" % failed.group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", text)
    rate = float(rps.group(1))
    if non2xx and int(non2xx.group(1)):
        n = int(non2xx.group(1))
        notes.append("%d of %s responses not 2xx" % (n, done.group(1)))
        rate *= max(0, int(done.group(1)) - n) / int(done.group(1))
    print("%.1f %.3f %.3f\t%s" % (rate, pct[50], pct[99], "; ".join(notes)))
    return 0


def ping_pct(path):
    text = read(path)
    rtts = sorted(float(v) for v in re.findall(r"time=([\d.]+) ms", text))
    if not rtts:
        print("fail: no ping reply")
        return 0
    loss = re.search(r"(\d+(?:\.\d+)?)% packet loss", text)
    print("%.3f %.3f %.3f %s" % (percentile(rtts, 50), percentile(rtts, 99), percentile(rtts, 99.9),
                                 loss.group(1) if loss else "?"))
    return 0


# ---------------------------------------------------------------- report

def cell(R, guest, config, metric):
    """(text, median or None) of a measure: median (min–max) over runs, digits by size (ms to a µs, req/s whole)."""
    _, med = R.cell(guest, config, metric, 3)
    digits = 3 if med is None or med < 10 else 1 if med < 100 else 0
    return R.cell(guest, config, metric, digits)


def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "—"


# HTTP cells: tool, connections, label
HTTP_CELLS = [("wrk", 1, "wrk, keep-alive, 1 connection"), ("wrk", 16, "wrk, keep-alive, 16 connections"),
              ("wrk", 64, "wrk, keep-alive, 64 connections"), ("wrk", 256, "wrk, keep-alive, 256 connections"),
              ("ab", 1, "ab, no keep-alive, 1 connection"), ("ab", 64, "ab, no keep-alive, 64 connections")]

# Latency scenarios: config, label, whether a bulk stream runs
LAT_CASES = [("idle", "idle", False),
             ("full_h2g", "bulk host→guest at the guest's full rate", True),
             ("full_g2h", "bulk guest→host at the guest's full rate", True),
             ("cap_h2g", "bulk host→guest at an equal capped rate", True),
             ("cap_g2h", "bulk guest→host at an equal capped rate", True)]
LAT_METRICS = [("ping_p50", "ping p50 (ms)"), ("ping_p99", "ping p99 (ms)"), ("ping_p999", "ping p99.9 (ms)"),
               ("rr_p50", "TCP_RR p50 (ms)"), ("rr_p99", "TCP_RR p99 (ms)"), ("rr_p999", "TCP_RR p99.9 (ms)")]


def notes_of(R, config, metrics):
    out = []
    for r in R.rows:
        if r[1] == config and r[2] in metrics and len(r) > 5 and r[5]:
            out.append("%s %s run %s: %s" % (r[0], r[2], r[3], r[5]))
    return out


def pair(p50, p99):
    """"p50 / p99", or — when neither was measured (the client failed)."""
    return "—" if p50 == "not run" and p99 == "not run" else "%s / %s" % (p50, p99)


def http_report(R):
    if not any(r[1] == "http" for r in R.rows):
        return []
    rows, notes = [], []
    for tool, c, label in HTTP_CELLS:
        base = "%s_c%d" % (tool, c)
        kt, km = cell(R, "keel", "http", base + "_rps")
        lt, lm = cell(R, "linux", "http", base + "_rps")
        k50, _ = cell(R, "keel", "http", base + "_p50")
        k99t, k99 = cell(R, "keel", "http", base + "_p99")
        l50, _ = cell(R, "linux", "http", base + "_p50")
        l99t, l99 = cell(R, "linux", "http", base + "_p99")
        rows.append([label, kt, lt, ratio(km, lm), pair(k50, k99t), pair(l50, l99t), ratio(k99, l99)])
        notes += notes_of(R, "http", (base + "_rps",))
    hdr = ["client, connections", "Keel req/s", "Linux (nginx) req/s", "Keel/Linux", "Keel p50 / p99 (ms)",
           "Linux p50 / p99 (ms)", "Keel p99 / Linux p99"]
    md = ["", "### HTTP: Keel's server and nginx in the Linux guest, same QEMU options, same run", ""]
    md += md_table(hdr, rows)
    md += ["", "GET /bytes/612 (612 bytes of body on both). wrk: `wrk --latency -t min(2,C) -c C -d T`, "
           "requests/s counts 2xx/3xx responses only; ab: `ab -t T -n 10000000 -c C -r -e`, no keep-alive "
           "(HTTP/1.0, one connection per request). Latency percentiles are the clients' own (wrk: each "
           "request on a kept-alive connection; ab: connect to last byte) and include the non-2xx responses "
           "named in the notes (neither client separates them); — where the client failed. Goal (issue): "
           "Keel ≥ 5× Linux's requests/s and ≤ 0.5× its p99 in every cell."]
    if notes:
        md += ["", "Notes:", ""] + ["- " + n for n in notes]
    return md + http_baseline_report(R) + connections_report(R)


def http_baseline_report(R):
    """The previous binary (--baseline) beside this one, cell by cell, paired per run."""
    if not any(r[1] == "http_baseline" for r in R.rows):
        return []
    rows = []
    for tool, c, label in HTTP_CELLS:
        base = "%s_c%d" % (tool, c)
        bt, bm = cell(R, "keel", "http_baseline", base + "_rps")
        kt, km = cell(R, "keel", "http", base + "_rps")
        b99t, b99 = cell(R, "keel", "http_baseline", base + "_p99")
        k99t, k99 = cell(R, "keel", "http", base + "_p99")
        paired = R.paired(("keel", "http"), ("keel", "http_baseline"), base + "_rps")
        rows.append([label, bt, kt, "%.2f" % statistics.median(paired) if paired else ratio(km, bm), b99t, k99t])
    md = ["", "### HTTP A/B: the previous binary and this one, same runs (`--baseline`)", ""]
    md += md_table(["client, connections", "previous req/s", "this req/s", "this/previous (paired)",
                    "previous p99 (ms)", "this p99 (ms)"], rows)
    return md


def connections_report(R):
    """tools/bench.d/connections.sh: connections held, then served, and memory per connection."""
    if not any(r[1] == "conns" for r in R.rows):
        return []
    def one(metric):
        vals = R.values("keel", "conns", metric)
        return vals[0] if vals else "—"
    rows = [["connections asked for / established", "%s / %s" % (one("requested"), one("established"))],
            ["opened per second (as fast as the handshakes go)", one("connections_per_second")],
            ["alive after the hold (%s s)" % one("hold_s"), one("alive_after_hold")],
            ["served afterwards (a line echoed on each)", one("served")],
            ["socket table at -m 256M (sockets)", one("sockets")],
            ["memory set aside per socket (bytes, NetConfig.BytesPerSocket)", one("socket_bytes")],
            ["memory taken per held connection beyond that (bytes)", one("bytes_per_conn")]]
    md = ["", "### Connection scale: Keel at -m 256M, echo connections held then served (tools/bench.d/connections.sh)", ""]
    md += md_table(["measure", "Keel"], rows)
    notes = [n for n in notes_of(R, "conns", ("established",))]
    if notes:
        md += ["", "Notes:", ""] + ["- " + n for n in notes]
    return md


def latency_report(R):
    if not any(r[1].startswith(("idle", "full_", "cap_")) and r[2].startswith(("ping_p", "rr_p")) for r in R.rows):
        return []
    # Keel variants (tools/bench --latency-variants, --baseline): one more column each, in the order first recorded.
    variants = []
    for r in R.rows:
        if r[0].startswith("keel:") and r[0] not in variants and r[2].startswith(("ping_p", "rr_p", "bulk")):
            variants.append(r[0])
    rows = []
    for cfg, label, bulk in LAT_CASES:
        measures = LAT_METRICS + [("rr_rate", "TCP_RR round trips/s")] + ([("bulk_mbps", "bulk stream (Mbit/s)")] if bulk else [])
        first = True
        for metric, mlabel in measures:
            kt, km = cell(R, "keel", cfg, metric)
            lt, lm = cell(R, "linux", cfg, metric)
            rows.append([label if first else "", mlabel, kt] + [cell(R, v, cfg, metric)[0] for v in variants]
                        + [lt, ratio(km, lm)])
            first = False
    md = ["", "### Latency under load: ping and TCP request/response, Keel and Linux, same run", ""]
    md += md_table(["load", "measure", "Keel"] + ["Keel " + v[5:] for v in variants] + ["Linux", "Keel/Linux"], rows)
    if variants:
        md += ["", "Keel variants, each measured right after Keel in the same runs: " + ", ".join(
            "`%s` (%s)" % (v[5:], "the --baseline kernel" if v == "keel:baseline" else
                           "the measured kernel with " + v[5:].replace("+", " ")) for v in variants) + "."]
    caps = sorted(set("%s run %s: %s" % ("host→guest" if r[1] == "cap_h2g" else "guest→host", r[3], r[5])
                      for r in R.rows if r[1].startswith("cap_") and r[2] == "bulk_mbps" and len(r) > 5 and r[5]))
    md += ["", "Ping: `ping -i 0.01` from the host, per-reply RTTs, nearest-rank percentiles. TCP_RR: "
           "tools/bench.d/tcprr.py, one TCP connection (TCP_NODELAY) to the guest's echo server (Keel: its echo "
           "application, port 7; Linux: busybox `nc -ll -p 7 -e cat`), 1 byte out, 1 byte back, each round trip "
           "timed. Bulk: one iperf3 TCP stream running through both measurements; its rate is iperf3's "
           "receiver figure over the whole stream. The capped rate is the same for both guests in a run "
           "(`iperf3 -b`): half the lower of the two guests' full rates in that direction, measured in the same "
           "run, unless `--latency-cap` sets it. Goal (issue): at full rate Keel p50 ≤ Linux's and p99 ≤ 0.5× "
           "Linux's; at the capped rate p50 and p99 ≤ 0.5× Linux's."]
    if caps:
        md += ["", "Capped rates: " + "; ".join(caps) + "."]
    notes = [n for cfg, _, _ in LAT_CASES for n in notes_of(R, cfg, ("ping_p50", "rr_p50"))]
    if notes:
        md += ["", "Notes:", ""] + ["- " + n for n in notes]
    return md


def report(results):
    R = Results(results)
    md = http_report(R) + latency_report(R)
    if md:
        print("\n".join(md))
    return 0


COMMANDS = {"wrk": wrk, "ab": ab, "ping-pct": ping_pct, "report": report}


def main(argv):
    command = COMMANDS.get(argv[1]) if len(argv) > 1 else None
    if command is None:
        print(__doc__)
        return 2
    try:
        return command(*argv[2:])
    except (OSError, ValueError, KeyError) as e:
        print("fail: %s" % e)
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
