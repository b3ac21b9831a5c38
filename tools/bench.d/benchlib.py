#!/usr/bin/env python3
"""tools/bench.d/benchlib.py: parsing and reporting helpers for tools/bench (no network use).

  benchlib.py iperf-tcp FILE            -> Mbit/s received (end.sum_received), or "fail: why"
  benchlib.py iperf-udp FILE LEN        -> datagrams/s received by the server, or "fail: why"
  benchlib.py ping FILE                 -> "min avg max" in ms, or "fail: why"
  benchlib.py hook FILE                 -> frames counted by the Keel hook (console output)
  benchlib.py counters FILE             -> "name value" lines from Keel 'stats'/'uptime' output
  benchlib.py linux-rx LOG              -> eth0 rx packets from the last "STATS eth0:" line
  benchlib.py threads PID               -> "tid name ticks" per thread of a process (utime+stime)
  benchlib.py why CNT_BEFORE CNT_AFTER THR_BEFORE THR_AFTER SECS -> receive-path figures
  benchlib.py stamp-lines LOG SECS REGEX -> "-<TAB>watching" at once, then "ms<TAB>line" for every
                                        line LOG gains (ms: Unix time, as date +%s%3N), until a line
                                        matches REGEX or SECS pass
  benchlib.py report RESULTS META OUTMD -> prints the tables, writes the markdown file
"""
import json, os, re, statistics, sys, time


def fail(msg):
    print("fail: " + msg)
    return 0


def load_json(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        return None, "no output (%s)" % e.strerror
    if not text.strip():
        return None, "no output"
    try:
        return json.loads(text), None
    except ValueError:
        # iperf3 killed by timeout: partial JSON
        return None, "no complete result (timed out?)"


def iperf_tcp(path):
    j, err = load_json(path)
    if j is None:
        return fail(err)
    if j.get("error"):
        return fail(j["error"].replace("\n", " "))
    e = j.get("end", {})
    r = e.get("sum_received", {})
    bps = r.get("bits_per_second", 0)
    if not bps:
        return fail("no data received")
    print("%.1f" % (bps / 1e6))
    return 0


def iperf_udp(path, length):
    j, err = load_json(path)
    if j is None:
        return fail(err)
    if j.get("error"):
        return fail(j["error"].replace("\n", " "))
    e = j.get("end", {})
    r = e.get("sum_received") or e.get("sum") or {}
    secs = r.get("seconds") or 0
    nbytes = r.get("bytes") or 0
    if not secs or not nbytes:
        return fail("nothing received")
    print("%.0f" % (nbytes / int(length) / secs))
    return 0


def ping(path):
    try:
        text = open(path).read()
    except OSError:
        return fail("no output")
    m = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/", text)
    if not m:
        return fail("no rtt line")
    loss = re.search(r"(\d+(?:\.\d+)?)% packet loss", text)
    print("%s %s %s %s" % (m.group(1), m.group(2), m.group(3), loss.group(1) if loss else "?"))
    return 0


def hook(path):
    text = open(path, errors="replace").read()
    m = re.findall(r"hook: frames (\d+)", text)
    if not m:
        return fail("no hook line")
    print(m[-1])
    return 0


def counters(path):
    text = open(path, errors="replace").read()
    for m in re.finditer(r"^\s*([a-z0-9_]+): (\d+)\s*$", text, re.M):
        print(m.group(1), m.group(2))
    m = re.search(r"interrupts (\d+), work runs (\d+), timer expirations (\d+)", text)
    if m:
        print("uptime_interrupts", m.group(1))
        print("uptime_work_runs", m.group(2))
    return 0


def linux_rx(path):
    text = open(path, errors="replace").read()
    m = re.findall(r"STATS\s+eth0:\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", text)
    if not m:
        return fail("no STATS line")
    print(m[-1][1], len(m))
    return 0


def threads(pid):
    base = "/proc/%s/task" % pid
    try:
        tids = os.listdir(base)
    except OSError:
        return 1
    for t in tids:
        try:
            name = open("%s/%s/comm" % (base, t)).read().strip().replace(" ", "_")
            st = open("%s/%s/stat" % (base, t)).read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])
        print(t, name, ticks)
    return 0


def stamp_lines(path, secs, regex):
    """Time-stamp a growing console log line by line (polled every 5 ms, so up to 5 ms late). The first
    output line says the watcher runs (Python's start takes seconds on a loaded host: start the guest
    only after it)."""
    print("-\twatching", flush=True)
    deadline = time.time() + float(secs)
    stop = re.compile(regex)
    pos, buf = 0, b""
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                f.seek(pos)
                data = f.read()
        except OSError:
            data = b""
        now = time.time()
        pos += len(data)
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            text = line.decode("ascii", "replace").rstrip("\r")
            print("%.0f\t%s" % (now * 1000, text), flush=True)
            if stop.search(text):
                return 0
        time.sleep(0.005)
    return 1


def read_kv(path):
    d = {}
    try:
        for line in open(path):
            p = line.split()
            if len(p) == 2:
                d[p[0]] = int(p[1])
    except OSError:
        pass
    return d


def read_threads(path):
    d = {}
    try:
        for line in open(path):
            p = line.split()
            if len(p) == 3:
                d[p[0]] = (p[1], int(p[2]))
    except OSError:
        pass
    return d


def why(cb, ca, tb, ta, secs):
    """Receive-path figures over one test from counter and thread snapshots."""
    secs = float(secs)
    b, a = read_kv(cb), read_kv(ca)
    if b and a:
        dv = lambda k: a.get(k, 0) - b.get(k, 0)
        pk = dv("rx_queue_0_packets") + dv("rx_queue_0_xdp_packets")
        if pk > 0:
            irq, polls, kicks = dv("rx_queue_0_interrupts"), dv("rx_queue_0_polls"), dv("rx_queue_0_kicks")
            if irq > 0:
                print("pkts_per_irq %.2f" % (pk / irq))
            if polls > 0:
                print("pkts_per_poll %.2f" % (pk / polls))
            print("kicks_per_kpkt %.2f" % (kicks * 1000.0 / pk))
            print("slow_per_kpkt %.2f" % (dv("page_pool_alloc_slow") * 1000.0 / pk))
    tb_, ta_ = read_threads(tb), read_threads(ta)
    if tb_ and ta_ and secs > 0:
        hz = os.sysconf("SC_CLK_TCK")
        use = {"vcpu": 0, "main": 0, "other": 0}
        for tid, (name, ticks) in ta_.items():
            d = ticks - tb_.get(tid, (name, 0))[1]
            kind = "vcpu" if ("TCG" in name or name.startswith("CPU")) else \
                "main" if name.startswith("qemu-system") else "other"
            use[kind] += d
        for k, v in use.items():
            print("%s_pct %.1f" % (k, v * 100.0 / hz / secs))
    return 0


# ---------------------------------------------------------------- report

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v, digits):
    if v is None:
        return "—"
    if digits == 0:
        return "%.0f" % v
    return ("%." + str(digits) + "f") % v


class Results:
    def __init__(self, path):
        # guest config metric run value [note...]
        self.rows = []
        with open(path) as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) < 5 or line.startswith("#"):
                    continue
                self.rows.append(p)

    def values(self, guest, config, metric):
        return [r[4] for r in self.rows if r[0] == guest and r[1] == config and r[2] == metric]

    def cell(self, guest, config, metric, digits, scale=1.0):
        """(text, median or None) for a measure: median (min–max), n runs, 'fail' when all failed."""
        vals = self.values(guest, config, metric)
        if not vals:
            return "not run", None
        nums = [num(v) * scale for v in vals if num(v) is not None]
        nfail = len(vals) - len(nums)
        if not nums:
            return "fail (%d/%d)" % (nfail, len(vals)), None
        med = statistics.median(nums)
        if len(nums) == 1:
            text = fmt(med, digits)
        else:
            text = "%s (%s–%s)" % (fmt(med, digits), fmt(min(nums), digits), fmt(max(nums), digits))
        if nfail:
            text += ", %d/%d fail" % (nfail, len(vals))
        return text, med

    def add_per_cpu(self, metric):
        """Adds per_cpu_METRIC for each guest, config and run that has METRIC and the CPU shares of QEMU's
        vCPU and main threads over that test: the rate per CPU-second QEMU got (Mbit/s per host CPU), which
        leaves out how much CPU a busy host happened to give QEMU during the test."""
        have = {}
        for r in self.rows:
            if r[2] in (metric, "why_%s_vcpu_pct" % metric, "why_%s_main_pct" % metric) and num(r[4]) is not None:
                have.setdefault((r[0], r[1], r[3]), {})[r[2]] = num(r[4])
        for (g, c, run), v in sorted(have.items()):
            cpu = v.get("why_%s_vcpu_pct" % metric, 0) + v.get("why_%s_main_pct" % metric, 0)
            if metric in v and cpu > 0:
                self.rows.append([g, c, "per_cpu_" + metric, run, "%.1f" % (v[metric] * 100 / cpu)])

    def has(self, guest, config):
        return any(r[0] == guest and r[1] == config for r in self.rows)

    def paired(self, a, b, metric):
        """a/b per run for a metric, a and b being (guest, config): both measured in the same run, so a
        drift of the host's load between runs cancels; runs where either failed are left out."""
        out = []
        for run in sorted(set(r[3] for r in self.rows if r[2] == metric)):
            va = [num(r[4]) for r in self.rows if (r[0], r[1]) == a and r[2] == metric and r[3] == run]
            vb = [num(r[4]) for r in self.rows if (r[0], r[1]) == b and r[2] == metric and r[3] == run]
            if va and vb and va[0] is not None and vb[0]:
                out.append(va[0] / vb[0])
        return out

    def notes(self, guest, config, metric):
        return [r[5] for r in self.rows if r[0] == guest and r[1] == config and r[2] == metric
                and len(r) > 5 and r[5]]


MAIN = [
    # metric, label, digits, scale, lower_is_better
    ("boot_ms", "boot → first ping reply (ms)", 0, 1, True),
    ("ping_min", "ping RTT min (ms), 10 ms interval", 3, 1, True),
    ("ping_avg", "ping RTT avg (ms)", 3, 1, True),
    ("ping_max", "ping RTT max (ms)", 3, 1, True),
    ("tcp_h2g_1", "TCP host→guest, 1 stream (Mbit/s)", 0, 1, False),
    ("tcp_h2g_4", "TCP host→guest, 4 streams (Mbit/s)", 0, 1, False),
    ("tcp_g2h_1", "TCP guest→host (-R), 1 stream (Mbit/s)", 0, 1, False),
    ("tcp_g2h_4", "TCP guest→host (-R), 4 streams (Mbit/s)", 0, 1, False),
    ("udp18_rx", "UDP 18 B payload, received (kpps)", 1, 1e-3, False),
    ("udp1400_rx", "UDP 1400 B payload, received (kpps)", 1, 1e-3, False),
    ("flood_offered", "framegen flood 60 B frames offered into the tap (kpps)", 0, 1e-3, False),
    ("flood_qemu", "  of which QEMU read from the tap (kpps)", 0, 1e-3, False),
    ("raw_rx", "raw receive rate, 60 B frames (kpps) ¹", 0, 1e-3, False),
]

ABL = [("base", "all seeds (baseline)"),
       ("mrg_off", "mergeable rx buffers off (`--mrg-rxbuf off`)"),
       ("page_bufs", "mergeable rx buffers of one page at most, as in Linux (`rxbufpages=1`)"),
       ("prealloc", "packet prealloc at post time (`prealloc=on`)"),
       ("recycle_off", "page pool recycling off (`recycle=off`)"),
       ("napi_off", "no NAPI: packets handled in the IRQ handler (`napi=off`)"),
       ("offload_off", "no checksum offload, no TSO/large receive (`offload=off`)"),
       ("packed", "packed virtqueues instead of split (`packed=on` on virtio-net-pci)")]
ABL_METRICS = [("raw_rx", "raw hook rx (kpps)", 0, 1e-3),
               ("udp1400_rx", "UDP 1400 B rx (kpps)", 1, 1e-3),
               ("tcp_h2g_1", "TCP host→guest (Mbit/s)", 0, 1),
               ("tcp_g2h_1", "TCP guest→host (Mbit/s)", 0, 1)]


MACHINES = [
    # metric, label, digits, guests it applies to
    ("boot_ms", "boot → first ping reply (ms)", 0, ("keel", "linux")),
    ("qemu_start_ms", "  QEMU start alone: -S, quit at once (ms) ²", 0, ("keel", "linux")),
    ("guest_boot_ms", "  boot → first ping − QEMU start (ms)", 0, ("keel", "linux")),
    ("first_line_ms", "  first console line: QEMU start + firmware (ms)", 0, ("keel",)),
    ("ready_ms", "  ready line on the console (ms)", 0, ("keel", "linux")),
    ("ping_avg", "ping RTT avg (ms), 10 ms interval", 3, ("keel", "linux")),
    ("tcp_h2g_1", "TCP host→guest, 1 stream (Mbit/s)", 0, ("keel", "linux")),
    ("tcp_g2h_1", "TCP guest→host (-R), 1 stream (Mbit/s)", 0, ("keel", "linux")),
    ("per_cpu_tcp_h2g_1", "  TCP host→guest per QEMU CPU (Mbit/s ÷ CPU share of vCPU + main thread) ³", 0,
     ("keel", "linux")),
    ("per_cpu_tcp_g2h_1", "  TCP guest→host per QEMU CPU ³", 0, ("keel", "linux")),
]
# goal, measure, (guest, config) over (guest, config), the test a ratio r must pass
MACHINE_GOALS = [
    ("Keel boot → first ping, microvm ≤ 0.5 × q35", "boot_ms", ("keel", "microvm"), ("keel", "q35"),
     lambda r: r <= 0.5),
    ("Keel boot → first ping on microvm ≤ 0.05 × Linux's", "boot_ms", ("keel", "microvm"),
     ("linux", "microvm"), lambda r: r <= 0.05),
    ("(not a goal: the same without QEMU's start, boot → first ping − QEMU start, ≤ 0.05 × Linux's)",
     "guest_boot_ms", ("keel", "microvm"), ("linux", "microvm"), lambda r: r <= 0.05),
    ("Keel TCP host→guest over mmio ≥ 0.9 × over PCI", "tcp_h2g_1", ("keel", "microvm"), ("keel", "q35"),
     lambda r: r >= 0.9),
    ("Keel TCP guest→host over mmio ≥ 0.9 × over PCI", "tcp_g2h_1", ("keel", "microvm"), ("keel", "q35"),
     lambda r: r >= 0.9),
    ("(not a goal: TCP host→guest per QEMU CPU ³, mmio ≥ 0.9 × PCI)", "per_cpu_tcp_h2g_1", ("keel", "microvm"),
     ("keel", "q35"), lambda r: r >= 0.9),
    ("(not a goal: TCP guest→host per QEMU CPU ³, mmio ≥ 0.9 × PCI)", "per_cpu_tcp_g2h_1", ("keel", "microvm"),
     ("keel", "q35"), lambda r: r >= 0.9),
]


def ratio_text(ratios, digits=2):
    """median (min–max) of per-run ratios, or — when there are none."""
    if not ratios:
        return "—"
    med = statistics.median(ratios)
    if len(ratios) == 1:
        return fmt(med, digits)
    return "%s (%s–%s)" % (fmt(med, digits), fmt(min(ratios), digits), fmt(max(ratios), digits))


def machines_section(R):
    """Microvm beside q35: the table, the goal check; (markdown lines, text lines)."""
    for metric in ("tcp_h2g_1", "tcp_g2h_1"):
        R.add_per_cpu(metric)
    rows = []
    for metric, label, d, guests in MACHINES:
        row = [label]
        for g in ("keel", "linux"):
            if g not in guests:
                row += ["—", "—", "—"]
                continue
            row.append(R.cell(g, "q35", metric, d)[0])
            row.append(R.cell(g, "microvm", metric, d)[0])
            row.append(ratio_text(R.paired((g, "microvm"), (g, "q35"), metric)))
        row.append(ratio_text(R.paired(("keel", "microvm"), ("linux", "microvm"), metric), 3))
        rows.append(row)
    hdr = ["measure", "Keel q35", "Keel microvm", "Keel microvm/q35", "Linux q35", "Linux microvm",
           "Linux microvm/q35", "Keel/Linux on microvm"]
    md = ["", "### Microvm beside q35: virtio-mmio and virtio-pci, Keel and Linux, same QEMU options, same run", ""]
    md += md_table(hdr, rows)
    md += ["", "Values: median (min–max) over runs. Ratios are taken per run (the two figures a few seconds "
           "or minutes apart, under the same host load), then median (min–max) over runs. q35: "
           "virtio-net-pci, SeaBIOS; microvm: virtio-net-device on virtio-mmio version 2, found in the ACPI "
           "DSDT, qboot. Console lines are time-stamped as they reach the serial log (polled every 5 ms); "
           "the first line is what QEMU's start and the firmware take before the guest's first word. "
           "² QEMU with the same options and files (kernel, initrd) started with -S and sent `quit` on "
           "its monitor at once, just before the boot, timed the same way (from the launch in the "
           "namespace): the process start, the machine and the kernel loaded, no guest instruction run. "
           "³ The rate divided by the CPU time QEMU's vCPU and main threads got over the test "
           "(/proc/PID/task/*/stat, in host CPUs): on a busy host QEMU gets only a share of a CPU, and this "
           "leaves out how large that share happened to be. "
           "The Linux guest gets tsc_early_khz= (the host's TSC rate) on both machines: on microvm it "
           "does not boot without it (tools/linux-guest/tsc-khz)."]
    grows = []
    for goal, metric, a, b, ok in MACHINE_GOALS:
        ratios = R.paired(a, b, metric)
        if not ratios:
            verdict = "not measured"
        else:
            n = sum(1 for r in ratios if ok(r))
            verdict = "met" if ok(statistics.median(ratios)) else "missed"
            verdict += " (%d of %d runs)" % (n, len(ratios))
        grows.append([goal, ratio_text(ratios, 3), verdict])
    ghdr = ["goal", "ratio per run, median (min–max)", "median"]
    md += ["", "Goals:", ""] + md_table(ghdr, grows)
    txt = ["", "Microvm beside q35"] + text_table(hdr, rows) + ["", "Goals"] + text_table(ghdr, grows)
    return md, txt


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return out


def text_table(header, rows):
    w = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = ["  ".join(h.ljust(w[i]) for i, h in enumerate(header)),
           "  ".join("-" * w[i] for i in range(len(header)))]
    for r in rows:
        out.append("  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)))
    return out


def report(results_path, meta_path, out_md):
    R = Results(results_path)
    meta = {}
    if os.path.exists(meta_path):
        for line in open(meta_path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    md = []
    txt = []

    # 1. Keel vs Linux
    if R.has("keel", "base") or R.has("linux", "base"):
        rows = []
        for metric, label, d, scale, lower in MAIN:
            kt, km = R.cell("keel", "base", metric, d, scale)
            lt, lm = R.cell("linux", "base", metric, d, scale)
            ratio = "—"
            if km is not None and lm and metric != "flood_offered":
                ratio = "%.2f" % (km / lm)
                if lower:
                    ratio += " (lower is better)"
            rows.append([label, kt, lt, ratio])
        hdr = ["measure", "Keel median (min–max)", "Linux median (min–max)", "Keel/Linux"]
        md += ["### Keel and Linux, same QEMU options, same run", ""] + md_table(hdr, rows)
        md += ["", "¹ Keel: frames counted by the driver's raw receive hook (`hook=drop`, dropped before "
               "any packet is built), read with the `hook` shell command before and after the flood. "
               "Linux has no such hook in this guest (no XDP program loader in the initramfs): its figure "
               "is eth0's rx_packets (/proc/net/dev) over the same flood, frames going through the whole "
               "driver and into the IPv4/UDP stack, where they are dropped (no socket on port 9). "
               "Rate = counted frames / flood duration."]
        txt += ["Keel and Linux (median (min–max) over runs)"] + text_table(hdr, rows)

    # 1b. A/B of two binaries (--baseline): the previous kernel and this one, same runs
    if R.has("keel", "baseline"):
        rows = []
        for metric, label, d, scale, lower in MAIN:
            if metric in ("flood_offered", "flood_qemu"):
                continue
            nt, nm = R.cell("keel", "base", metric, d, scale)
            bt, bm = R.cell("keel", "baseline", metric, d, scale)
            change = "—"
            ratios = R.paired(("keel", "base"), ("keel", "baseline"), metric)
            if ratios:
                change = "%+.1f %%" % ((statistics.median(ratios) - 1) * 100)
            verdict = "—"
            nv = [num(v) for v in R.values("keel", "base", metric) if num(v) is not None]
            bv = [num(v) for v in R.values("keel", "baseline", metric) if num(v) is not None]
            if nv and bv:
                worse = (min(nv) > max(bv)) if lower else (max(nv) < min(bv))
                better = (max(nv) < min(bv)) if lower else (min(nv) > max(bv))
                verdict = "worse beyond the spread" if worse else "better beyond the spread" if better else "within the spread"
            rows.append([label, bt, nt, change, verdict])
        hdr = ["measure", "previous binary median (min–max)", "this binary median (min–max)",
               "change (paired, median)", "verdict"]
        md += ["", "### A/B: the previous binary and this one, same runs (`--baseline`)", ""] + md_table(hdr, rows)
        md += ["", "The two binaries alternate which goes first from run to run. \"Worse beyond the spread\": "
               "every run of this binary is worse than every run of the previous one."]
        txt += ["", "A/B (previous binary vs this one)"] + text_table(hdr, rows)

    # 2. Ablations
    if any(R.has("keel", cfg) for cfg, _ in ABL[1:]):
        rows = []
        for cfg, label in ABL:
            row = [label]
            for metric, _, d, scale in ABL_METRICS:
                t, m = R.cell("keel", cfg, metric, d, scale)
                if cfg != "base" and m is not None:
                    # paired: the ablation against the baseline of the same run, median over runs
                    ratios = R.paired(("keel", cfg), ("keel", "base"), metric)
                    if ratios:
                        t += " [%+.0f %%]" % ((statistics.median(ratios) - 1) * 100)
                row.append(t)
            rows.append(row)
        hdr = ["Keel configuration (one seed undone)"] + [l for _, l, _, _ in ABL_METRICS]
        md += ["", "### Ablations: each seed undone on its own (same binary, command-line switches)", ""]
        md += md_table(hdr, rows)
        md += ["", "[±x %]: the ablation against the baseline measured in the same run (a minute apart), "
               "median over the runs; a negative figure is what the seed gains. Only effects larger than "
               "the min–max spread of both rows are meaningful on this shared 2-CPU host."]
        txt += ["", "Ablations (Keel)"] + text_table(hdr, rows)

    # 3. Receive path counters
    crow = []
    for cfg, label in ABL:
        for test in ("raw_rx", "udp1400_rx", "tcp_h2g_1"):
            vals = {}
            for k in ("pkts_per_irq", "pkts_per_poll", "kicks_per_kpkt", "vcpu_pct", "main_pct", "other_pct",
                      "slow_per_kpkt"):
                t, m = R.cell("keel", cfg, "why_%s_%s" % (test, k), 2)
                vals[k] = m
            if all(v is None for v in vals.values()):
                continue
            crow.append([label if test == "raw_rx" else "", test,
                         fmt(vals["pkts_per_irq"], 1), fmt(vals["pkts_per_poll"], 1),
                         fmt(vals["kicks_per_kpkt"], 1), fmt(vals["slow_per_kpkt"], 1),
                         fmt(vals["vcpu_pct"], 0), fmt(vals["main_pct"], 0), fmt(vals["other_pct"], 0)])
    for test in ("raw_rx", "udp1400_rx", "tcp_h2g_1"):
        vals = {}
        for k in ("vcpu_pct", "main_pct", "other_pct"):
            _, vals[k] = R.cell("linux", "base", "why_%s_%s" % (test, k), 2)
        if any(v is not None for v in vals.values()):
            crow.append(["Linux" if test == "raw_rx" else "", test, "", "", "", "",
                         fmt(vals["vcpu_pct"], 0), fmt(vals["main_pct"], 0), fmt(vals["other_pct"], 0)])
    if crow:
        hdr = ["configuration", "test", "rx pkts/interrupt", "rx pkts/poll", "rx kicks/1000 pkts",
               "page allocs (slow)/1000 pkts", "QEMU vCPU thread %", "QEMU main thread %", "QEMU other threads %"]
        md += ["", "### Receive path counters during the tests (medians over runs)", ""] + md_table(hdr, crow)
        md += ["", "From the guest's `stats` before and after each test (rx packets = rx_queue_0_packets + "
               "rx_queue_0_xdp_packets; interrupts = rx_queue_0_interrupts; polls = rx_queue_0_polls; "
               "kicks = rx_queue_0_kicks; slow allocs = page_pool_alloc_slow), and the CPU time of QEMU's "
               "threads (/proc/PID/task/*/stat) over the test, in % of one host CPU."]
        txt += ["", "Receive path counters"] + text_table(hdr, crow)

    # 4. Microvm beside q35
    if R.has("keel", "microvm") or R.has("linux", "microvm"):
        m, t = machines_section(R)
        md += m
        txt += t

    # 5. Memory
    mem = [r for r in R.rows if r[0] == "keel" and r[1] == "mem"]
    if mem:
        rows = [[r[2].replace("mem_", ""), r[4], r[5] if len(r) > 5 else ""] for r in mem]
        passing = [r[0] for r in rows if r[1] == "pass"]
        md += ["", "### Smallest memory (`-m`) at which Keel passes (boots, pings, iperf3 1 s)", ""]
        md += md_table(["-m", "result", "detail"], rows)
        md += ["", "Smallest passing: **%s**" % (passing[-1] if passing else "none")]
        txt += ["", "Memory search (smallest passing: %s)" % (passing[-1] if passing else "none")]
        txt += text_table(["-m", "result", "detail"], rows)

    # 6. Receive watchdog rescues: each one is a lost interrupt the safety net recovered.
    resc = [r for r in R.rows if r[0] == "keel" and r[2] == "rx_watchdog_rescues"]
    if resc:
        total = sum(int(r[4]) for r in resc if r[4].isdigit())
        unknown = sum(1 for r in resc if not r[4].isdigit())
        line = "rx_watchdog_rescues: %d over %d Keel guests%s (must be 0: a rescue is a bug report)" % (
            total, len(resc), ", %d not read" % unknown if unknown else "")
        md += ["", "### Receive watchdog", "", line]
        txt += ["", line]
        if total:
            R.rows.append(["keel", "all", "rx_watchdog_rescues", "0", "fail", "%d rescues" % total])

    # failures
    fails = [r for r in R.rows if len(r) > 5 and r[4] == "fail"]
    if fails:
        md += ["", "### Failures", ""]
        seen = set()
        for r in fails:
            key = (r[0], r[1], r[2], r[5])
            if key in seen:
                continue
            seen.add(key)
            n = sum(1 for x in fails if (x[0], x[1], x[2], x[5]) == key)
            md.append("- %s %s %s: %s (%d×)" % (r[0], r[1], r[2], r[5], n))
        txt += ["", "Failures:"] + [l[2:] for l in md if l.startswith("- ")]

    head = ["## Run %s" % meta.get("date", "?"), ""]
    for k, label in (("machine", "Machine"), ("cpu", "CPU"), ("qemu", "QEMU"), ("host_kernel", "Host kernel"),
                     ("iperf3", "Host iperf3"), ("keel_rev", "Keel"), ("baseline", "Previous binary (A/B)"),
                     ("linux", "Linux guest"),
                     ("settings", "Settings"), ("load", "Host load average (start → end)"),
                     ("elapsed", "Bench wall time")):
        if k in meta:
            head.append("- %s: %s" % (label, meta[k]))
    head.append("")
    md = head + md
    with open(out_md, "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(txt))
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "iperf-tcp":
            return iperf_tcp(*args)
        if cmd == "iperf-udp":
            return iperf_udp(*args)
        if cmd == "ping":
            return ping(*args)
        if cmd == "hook":
            return hook(*args)
        if cmd == "counters":
            return counters(*args)
        if cmd == "linux-rx":
            return linux_rx(*args)
        if cmd == "threads":
            return threads(*args)
        if cmd == "why":
            return why(*args)
        if cmd == "stamp-lines":
            return stamp_lines(*args)
        if cmd == "report":
            return report(*args)
    except (OSError, ValueError) as e:
        return fail(str(e))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
