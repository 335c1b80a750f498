#!/usr/bin/env python3
"""bench/report.py OUT_DIR - turns OUT_DIR/results.tsv (written by bench/run.sh)
into the table on stdout, OUT_DIR/report.md, and OUT_DIR/fanout.svg: fan-out
p99 latency against the number of clients, for pushq and each peer.

A ratio is always "how many times better pushq is": peer/pushq for figures
where lower is better (latency, CPU, memory), pushq/peer where higher is."""
import html
import math
import sys
from collections import OrderedDict
from pathlib import Path

out = Path(sys.argv[1])
rows = [line.rstrip("\n").split("\t") for line in (out / "results.tsv").read_text().splitlines() if line]
notes = [r[5] for r in rows if r[0] == "note"]
data = [r for r in rows if r[0] != "note"]

scenarios = OrderedDict()
for scenario, server, value, unit, better, command in data:
    scenarios.setdefault(scenario, []).append((server, float(value or 0), unit, better, command))


def fmt(value, unit):
    if unit == "failed":
        return "failed"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def ratio(ours, theirs, better, unit=""):
    if unit == "failed":
        return "peer failed"
    if ours <= 0 or theirs <= 0:
        return "-"
    r = theirs / ours if better == "lower" else ours / theirs
    return f"{r:.2f}x"


table = []
for scenario, entries in scenarios.items():
    ours = next((e for e in entries if e[0] == "pushq"), None)
    peers = [e for e in entries if e[0] != "pushq"]
    if ours is None:
        continue
    if not peers:
        table.append((scenario, fmt(ours[1], ours[2]) + " " + ours[2], "-", "-", "-", ours[4]))
    for server, value, unit, better, command in peers:
        table.append((scenario, fmt(ours[1], ours[2]) + " " + ours[2], server,
                      fmt(value, unit) + ("" if unit == "failed" else " " + unit),
                      ratio(ours[1], value, better, unit),
                      ours[4] + "  |  " + command))

widths = [max(len(row[i]) for row in table + [("scenario", "pushq", "peer", "peer value", "pushq advantage")]) for i in range(5)]
header = ("scenario", "pushq", "peer", "peer value", "pushq advantage")
print()
print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
for row in table:
    print("  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths)))
for n in notes:
    print("note:", n)

md = ["# pushq benchmark report", "",
      "Same run, same machine; the load tool shares the cores. \"pushq advantage\" is how many",
      "times better pushq is than the peer (> 1: pushq is better). Every figure names its command.", "",
      "| scenario | pushq | peer | peer value | pushq advantage |", "|---|---|---|---|---|"]
for row in table:
    md.append("| " + " | ".join(row[:5]) + " |")
md += ["", "## Commands", ""]
for row in table:
    md.append(f"- {row[0]} ({row[2]}): `{row[5]}`")
if notes:
    md += ["", "## Notes", ""] + [f"- {n}" for n in notes]
md += ["", "![fan-out latency](fanout.svg)", ""]
(out / "report.md").write_text("\n".join(md))

# ------------------------------------------------------------------ chart
points = OrderedDict()   # (mode, server) -> [(n, p99)]
fanout = out / "fanout.tsv"
if fanout.exists():
    for line in fanout.read_text().splitlines():
        _, server, mode, n, p99, missing = line.split("\t")
        if float(p99) > 0:
            points.setdefault((mode, server), []).append((int(n), float(p99)))

W, H, left, right, top, bottom = 760, 420, 70, 170, 30, 50
colors = {"pushq": "#2454d6", "civetweb": "#b45309", "django": "#c0262d", "node": "#14804a",
          "nchan": "#7c3aed", "pushpin": "#0e7490"}
all_n = [n for series in points.values() for n, _ in series] or [100, 1000]
all_p = [p for series in points.values() for _, p in series] or [1, 10]
x_lo, x_hi = math.log10(min(all_n)), math.log10(max(all_n)) + 1e-9
y_lo, y_hi = math.log10(max(0.1, min(all_p))), math.log10(max(all_p)) + 1e-9
if x_hi - x_lo < 0.5:
    x_lo -= 0.5
    x_hi += 0.5
if y_hi - y_lo < 0.5:
    y_hi += 0.5


def px(n):
    return left + (math.log10(n) - x_lo) / (x_hi - x_lo) * (W - left - right)


def py(p):
    return H - bottom - (math.log10(max(p, 0.1)) - y_lo) / (y_hi - y_lo) * (H - top - bottom)


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{left}" y="18" font-size="14" font-weight="bold">Fan-out: p99 delivery latency against clients (log-log)</text>',
       f'<line x1="{left}" y1="{H - bottom}" x2="{W - right}" y2="{H - bottom}" stroke="#999"/>',
       f'<line x1="{left}" y1="{top}" x2="{left}" y2="{H - bottom}" stroke="#999"/>',
       f'<text x="{(left + W - right) / 2}" y="{H - 12}" text-anchor="middle">clients (N)</text>',
       f'<text x="14" y="{(top + H - bottom) / 2}" transform="rotate(-90 14 {(top + H - bottom) / 2})" text-anchor="middle">p99 latency (ms)</text>']
for n in sorted(set(all_n)):
    svg.append(f'<text x="{px(n):.1f}" y="{H - bottom + 16}" text-anchor="middle">{n:,}</text>')
for exp in range(math.floor(y_lo), math.ceil(y_hi) + 1):
    v = 10 ** exp
    if y_lo - 1e-9 <= exp <= y_hi + 1e-9:
        svg.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{W - right}" y2="{py(v):.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
legend_y = top + 10
for (mode, server), series in points.items():
    series.sort()
    color = colors.get(server, "#555")
    dash = {"lp": "", "ws": ' stroke-dasharray="6 4"', "sse": ' stroke-dasharray="2 3"'}.get(mode, "")
    coords = " ".join(f"{px(n):.1f},{py(p):.1f}" for n, p in series)
    svg.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
    for n, p in series:
        svg.append(f'<circle cx="{px(n):.1f}" cy="{py(p):.1f}" r="3.5" fill="{color}"/>')
    label = f"{server} ({ {'lp': 'long poll', 'ws': 'WebSocket', 'sse': 'SSE'}.get(mode, mode) })"
    svg.append(f'<line x1="{W - right + 12}" y1="{legend_y}" x2="{W - right + 36}" y2="{legend_y}" stroke="{color}" stroke-width="2"{dash}/>')
    svg.append(f'<text x="{W - right + 42}" y="{legend_y + 4}">{html.escape(label)}</text>')
    legend_y += 18
svg.append("</svg>")
(out / "fanout.svg").write_text("\n".join(svg))
print(f"\nwrote {out / 'report.md'} and {out / 'fanout.svg'}")
