#!/usr/bin/env python3
"""tools/bench.d/charts.py: the bench's main tables drawn as SVG charts (plain SVG written here, no plotting package).

  charts.py RESULTS OUTDIR [--lossy LOSSY_TSV] [--label TEXT]

Reads RESULTS (tools/bench's results.tsv) and LOSSY_TSV (tools/lossy-link --bench's lossy.tsv), writes to OUTDIR
those of these charts that have data, and prints markdown linking them (as charts/NAME.svg: the charts go next to
the page):
  keel-vs-linux.svg   Keel and Linux per measure of the main table (median bar, min–max line)
  http.svg            HTTP requests/s and p99 latency against connections (wrk keep-alive, ab one per request)
  latency.svg         ping and TCP_RR percentiles, idle and under a bulk stream
  loss.svg            TCP throughput against packet loss (lossy-link section)
--label puts TEXT under every chart's title (e.g. that the figures come from a short development run).
"""
import math, os, statistics, sys
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Results, num  # noqa: E402

COLOURS = {"keel": "#1f6fb4", "linux": "#e07b39"}
NAMES = {"keel": "Keel", "linux": "Linux"}
FONT = "font-family='sans-serif'"


def load_lossy(path):
    """tools/lossy-link's lossy.tsv: kind, offloads on|off, loss %, h2g|g2h, run, Mbit/s or fail."""
    if not os.path.exists(path):
        return []
    return [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]


def stats(vals):
    """(median, min, max) of the numeric values, or None."""
    nums = [num(v) for v in vals if num(v) is not None]
    if not nums:
        return None
    return statistics.median(nums), min(nums), max(nums)


def nice_ticks(top, count=5):
    """Round tick values from 0 to at least top."""
    if top <= 0:
        top = 1
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    n = int(math.ceil(top / step - 1e-9))
    return [i * step for i in range(n + 1)]


def log_ticks(lo, hi):
    """1, 2 and 5 times the powers of ten from the one at or below lo to the one at or above hi (0 < lo <= hi)."""
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if last == first:
        last += 1
    ticks = [m * 10.0 ** e for e in range(first, last) for m in (1, 2, 5)]
    return ticks + [10.0 ** last]


def short(v):
    if v >= 1e6:
        return "%gM" % round(v / 1e6, 2)
    if v >= 1e4:
        return "%gk" % round(v / 1e3, 1)
    if v >= 100 or v == int(v):
        return "%d" % round(v)
    if v >= 10:
        return "%.1f" % v
    return "%.3g" % v


class Svg:
    def __init__(self, width, height, title, label):
        self.w, self.h = width, height
        self.parts = ["<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'>"
                      % (width, height, width, height),
                      "<rect width='100%' height='100%' fill='white'/>"]
        self.text(width / 2, 22, title, size=16, anchor="middle", bold=True)
        if label:
            self.text(width / 2, 40, label, size=11, anchor="middle", colour="#b00")

    def text(self, x, y, s, size=11, anchor="start", colour="#222", bold=False, rotate=None):
        extra = " font-weight='bold'" if bold else ""
        if rotate is not None:
            extra += " transform='rotate(%d %.1f %.1f)'" % (rotate, x, y)
        self.parts.append("<text x='%.1f' y='%.1f' font-size='%d' %s text-anchor='%s' fill='%s'%s>%s</text>"
                          % (x, y, size, FONT, anchor, colour, extra, escape(str(s))))

    def line(self, x1, y1, x2, y2, colour="#222", width=1, dash=None):
        d = " stroke-dasharray='%s'" % dash if dash else ""
        self.parts.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='%g'%s/>"
                          % (x1, y1, x2, y2, colour, width, d))

    def rect(self, x, y, w, h, colour):
        self.parts.append("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>" % (x, y, w, h, colour))

    def polyline(self, pts, colour, dash=None):
        d = " stroke-dasharray='%s'" % dash if dash else ""
        self.parts.append("<polyline fill='none' stroke='%s' stroke-width='2'%s points='%s'/>"
                          % (colour, d, " ".join("%.1f,%.1f" % p for p in pts)))
        for x, y in pts:
            self.parts.append("<circle cx='%.1f' cy='%.1f' r='3.5' fill='%s'/>" % (x, y, colour))

    def legend(self, x, y, items):
        for i, (name, colour, dash) in enumerate(items):
            yy = y + i * 16
            self.line(x, yy - 4, x + 22, yy - 4, colour, 3, dash)
            self.text(x + 28, yy, name)

    def save(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.parts + ["</svg>"]) + "\n")


def bar_panel(svg, x0, y0, w, h, title, groups, series, fmt_unit=""):
    """Grouped bars: groups = [(label, {series: (med, lo, hi) or None})]; median bars, min–max whiskers."""
    svg.text(x0 + w / 2, y0 - 8, title, size=12, anchor="middle", bold=True)
    top = max([s[2] for _, g in groups for s in g.values() if s] + [0])
    ticks = nice_ticks(top * 1.1 if top else 1)
    ymax = ticks[-1]
    svg.line(x0, y0 + h, x0 + w, y0 + h)
    for t in ticks:
        y = y0 + h - h * t / ymax
        svg.line(x0, y, x0 + w, y, "#ddd")
        svg.text(x0 - 4, y + 4, short(t), size=10, anchor="end")
    gw = w / max(1, len(groups))
    bw = gw * 0.7 / max(1, len(series))
    for gi, (label, vals) in enumerate(groups):
        gx = x0 + gi * gw + gw * 0.15
        for si, s in enumerate(series):
            v = vals.get(s)
            bx = gx + si * bw
            if not v:
                svg.text(bx + bw / 2, y0 + h - 4, "–", size=10, anchor="middle")
                continue
            med, lo, hi = v
            bh = h * med / ymax
            svg.rect(bx + 1, y0 + h - bh, bw - 2, bh, COLOURS[s])
            if hi > lo:
                cx = bx + bw / 2
                svg.line(cx, y0 + h - h * lo / ymax, cx, y0 + h - h * hi / ymax, "#000", 1.2)
            svg.text(bx + bw / 2, y0 + h - bh - 3, short(med) + fmt_unit, size=9, anchor="middle")
        if label:
            svg.text(x0 + gi * gw + gw / 2, y0 + h + 14, label, size=10, anchor="middle")


def line_panel(svg, x0, y0, w, h, title, xlabels, lines, ylabel, log=False, xtitle=""):
    """Lines over categorical x: lines = [(name, colour, dash, [value or None per x])]."""
    svg.text(x0 + w / 2, y0 - 8, title, size=12, anchor="middle", bold=True)
    vals = [v for _, _, _, vs in lines for v in vs if v]
    if not vals:
        return
    if log:
        lo, hi = min(vals), max(vals)
        ticks = log_ticks(lo, hi)
        lo, hi = ticks[0], ticks[-1]
        scale = lambda v: y0 + h - h * (math.log10(v) - math.log10(lo)) / max(1e-9, math.log10(hi) - math.log10(lo))
    else:
        ticks = nice_ticks(max(vals) * 1.1)
        scale = lambda v: y0 + h - h * v / ticks[-1]
    svg.line(x0, y0 + h, x0 + w, y0 + h)
    svg.line(x0, y0, x0, y0 + h)
    for t in ticks:
        svg.line(x0, scale(t), x0 + w, scale(t), "#ddd")
        svg.text(x0 - 4, scale(t) + 4, short(t), size=10, anchor="end")
    svg.text(x0 - 42, y0 + h / 2, ylabel, size=11, anchor="middle", rotate=-90)
    step = w / max(1, len(xlabels))
    xs = [x0 + step * (i + 0.5) for i in range(len(xlabels))]
    for x, lab in zip(xs, xlabels):
        svg.text(x, y0 + h + 15, lab, size=10, anchor="middle")
    if xtitle:
        svg.text(x0 + w / 2, y0 + h + 32, xtitle, size=11, anchor="middle")
    for name, colour, dash, vs in lines:
        pts = [(x, scale(v)) for x, v in zip(xs, vs) if v]
        if pts:
            svg.polyline(pts, colour, dash)


MAIN = [("boot_ms", "boot → first ping (ms) ↓", 1), ("ping_avg", "ping RTT avg (ms) ↓", 1),
        ("tcp_h2g_1", "TCP host→guest 1 stream (Mbit/s) ↑", 1), ("tcp_h2g_4", "TCP host→guest 4 streams (Mbit/s) ↑", 1),
        ("tcp_g2h_1", "TCP guest→host 1 stream (Mbit/s) ↑", 1), ("tcp_g2h_4", "TCP guest→host 4 streams (Mbit/s) ↑", 1),
        ("udp18_rx", "UDP 18 B received (kpps) ↑", 1e-3), ("udp1400_rx", "UDP 1400 B received (kpps) ↑", 1e-3),
        ("raw_rx", "raw receive, 60 B frames (kpps) ↑", 1e-3)]


def series(rows, guest, config, metric, scale=1.0):
    s = stats([r[4] for r in rows if r[0] == guest and r[1] == config and r[2] == metric])
    return tuple(v * scale for v in s) if s else None


def chart_main(rows, out, label):
    panels = []
    for metric, title, scale in MAIN:
        vals = {g: series(rows, g, "base", metric, scale) for g in ("keel", "linux")}
        if any(vals.values()):
            panels.append((title, vals))
    if not panels:
        return None
    cols, pw, ph = 3, 260, 150
    nrows = (len(panels) + cols - 1) // cols
    svg = Svg(cols * (pw + 60) + 20, 90 + nrows * (ph + 60), "Keel and Linux, same QEMU options, same run", label)
    svg.legend(20, 60, [(NAMES[g], COLOURS[g], None) for g in ("keel", "linux")])
    for i, (title, vals) in enumerate(panels):
        x = 60 + (i % cols) * (pw + 60)
        y = 110 + (i // cols) * (ph + 60)
        bar_panel(svg, x, y, pw, ph, title, [("", vals)], ["keel", "linux"])
    svg.save(os.path.join(out, "keel-vs-linux.svg"))
    return "keel-vs-linux.svg", "Keel and Linux per measure (median bars, min–max lines; ↑ higher is better, ↓ lower)"


def chart_http(rows, out, label):
    conns = [1, 16, 64, 256]
    have = any(r[1] == "http" for r in rows)
    if not have:
        return None
    svg = Svg(900, 380, "HTTP: GET /bytes/612, Keel's server and nginx in the Linux guest", label)
    lines_rps, lines_p99 = [], []
    for g in ("keel", "linux"):
        for tool, dash, cs in (("wrk", None, conns), ("ab", "6,4", [1, 64])):
            rps = [series(rows, g, "http", "%s_c%d_rps" % (tool, c)) if c in cs else None for c in conns]
            p99 = [series(rows, g, "http", "%s_c%d_p99" % (tool, c)) if c in cs else None for c in conns]
            name = "%s, %s" % (NAMES[g] if g == "keel" else "Linux nginx",
                               "wrk keep-alive" if tool == "wrk" else "ab one connection per request")
            lines_rps.append((name, COLOURS[g], dash, [v[0] if v else None for v in rps]))
            lines_p99.append((name, COLOURS[g], dash, [v[0] if v else None for v in p99]))
    line_panel(svg, 80, 80, 320, 220, "requests/s against connections", [str(c) for c in conns], lines_rps,
               "requests/s", xtitle="connections")
    line_panel(svg, 500, 80, 320, 220, "p99 latency (ms) against connections", [str(c) for c in conns], lines_p99,
               "ms", log=True, xtitle="connections")
    svg.legend(80, 350, [(n, c, d) for n, c, d, _ in lines_rps[:2]])
    svg.legend(500, 350, [(n, c, d) for n, c, d, _ in lines_rps[2:]])
    svg.save(os.path.join(out, "http.svg"))
    return "http.svg", "HTTP requests/s and p99 latency against connections"


LAT_CASES = [("idle", "idle"), ("full_h2g", "full h→g"), ("full_g2h", "full g→h"), ("cap_h2g", "capped h→g"),
             ("cap_g2h", "capped g→h")]
LAT_METRICS = [("ping_p50", "ping p50 (ms)"), ("ping_p99", "ping p99 (ms)"), ("ping_p999", "ping p99.9 (ms)"),
               ("rr_p50", "TCP_RR p50 (ms)"), ("rr_p99", "TCP_RR p99 (ms)"), ("rr_p999", "TCP_RR p99.9 (ms)")]


def chart_latency(rows, out, label):
    if not any(r[2] in ("ping_p50", "rr_p50") and r[1] in dict(LAT_CASES) for r in rows):
        return None
    cols, pw, ph = 2, 400, 170
    svg = Svg(cols * (pw + 70) + 20, 90 + 3 * (ph + 70),
              "Latency idle and under a bulk TCP stream (full rate, equal capped rate)", label)
    svg.legend(20, 60, [(NAMES[g], COLOURS[g], None) for g in ("keel", "linux")])
    order = [0, 3, 1, 4, 2, 5]   # ping on the left, TCP_RR on the right
    for slot, mi in enumerate(order):
        metric, title = LAT_METRICS[mi]
        groups = [(lab, {g: series(rows, g, cfg, metric) for g in ("keel", "linux")}) for cfg, lab in LAT_CASES]
        x = 60 + (slot % cols) * (pw + 70)
        y = 110 + (slot // cols) * (ph + 70)
        bar_panel(svg, x, y, pw, ph, title, groups, ["keel", "linux"])
    svg.save(os.path.join(out, "latency.svg"))
    return "latency.svg", "ping and TCP request/response latency, idle and under load"


def chart_loss(lossy, out, label):
    # lossy.tsv: kind cfg loss dir run value; the offloads-off rows are the loss sweep
    cells = {}
    for r in lossy:
        if len(r) >= 6 and r[1] == "off" and r[0] in ("keel", "linux"):
            cells.setdefault((r[0], r[3], r[2]), []).append(r[5])
    if not cells:
        return None
    losses = sorted({k[2] for k in cells}, key=float)
    svg = Svg(760, 400, "TCP throughput against packet loss (one stream, offloads off)", label)
    lines = []
    for g in ("keel", "linux"):
        for d, dash, dname in (("h2g", None, "host→guest"), ("g2h", "6,4", "guest→host")):
            vals = [stats(cells.get((g, d, l), [])) for l in losses]
            lines.append(("%s %s" % (NAMES[g], dname), COLOURS[g], dash, [v[0] if v else None for v in vals]))
    line_panel(svg, 130, 80, 560, 220, "", ["%s %%" % l for l in losses], lines, "Mbit/s (log scale)", log=True,
               xtitle="loss (each direction)")
    svg.legend(130, 352, [(n, c, d) for n, c, d, _ in lines[:2]])
    svg.legend(420, 352, [(n, c, d) for n, c, d, _ in lines[2:]])
    svg.save(os.path.join(out, "loss.svg"))
    return "loss.svg", "TCP throughput against loss"


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    results, out = argv[1], argv[2]
    label = argv[argv.index("--label") + 1] if "--label" in argv else ""
    os.makedirs(out, exist_ok=True)
    rows = Results(results).rows if os.path.exists(results) and os.path.getsize(results) else []
    lossy = load_lossy(argv[argv.index("--lossy") + 1]) if "--lossy" in argv else []
    made = [c for c in (chart_main(rows, out, label), chart_http(rows, out, label), chart_latency(rows, out, label),
                        chart_loss(lossy, out, label)) if c]
    if made:
        print("\n### Charts\n")
        for name, alt in made:
            print("![%s](charts/%s)" % (alt, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
