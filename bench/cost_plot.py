#!/usr/bin/env python3
"""cost_plot.py — the medians of bench/cost.sh's runs: a table on stdout,
a CSV, the issue's targets checked, and an SVG (no plotting library: the
bars are drawn here) with what the paper (CloudNet 2018) found beside ours.

    bench/cost_plot.py --runs cost-runs.csv --csv cost.csv --svg cost.svg [--note TEXT]

The runs CSV has config,rep,mbit,ovs_cpu_pct,tabled_cpu_pct, one line per
run, then the same at the fixed rate (fixed_*) and the copies per second
that reached the mirror's capture end (copies_per_s, fixed_copies_per_s;
absent in runs made before them); configurations keep the order of their
first run."""
import argparse
import csv
import random
import statistics
import sys
from xml.sax.saxutils import escape

# What the paper reports (its text; its plots are not in our copy, so the
# shape, not the numbers): figure, finding.
PAPER = [
    ("Fig. 2", "sFlow in OVS cuts an iperf3 flow's throughput (up to 10 Gb/s without "
               "monitoring) at 100% and 50% sampling."),
    ("Fig. 3", "sFlow's CPU grows with the sampling rate and the traffic rate, sublinearly "
               "near 100%: one thread does the sampling."),
    ("Fig. 8", "IPFIX takes more CPU than sFlow at every rate, even with a cache that "
               "sends one record at the end."),
    ("Fig. 9", "IPFIX cuts the flow's throughput more than sFlow at the same sampling."),
    ("§VI", "Open: the right sampling rate; and mirroring to an external process "
            "instead of measuring in the switch."),
]
# Measured earlier on this machine's bed (issue 16): one iperf3 flow, Mbit/s.
EARLIER = {
    "none": (770, 800), "sflow 1:1": (650, 700), "sflow 1:100": (710, 760),
    "ipfix 1:1 no cache": (375, 380), "ipfix 1:100 no cache": (710, 775),
    "mirror full": (615, 635),    # then: a tagged mirror rule with tcpdump on the port
}


def load(path):
    order, runs = [], {}
    with open(path) as f:
        for row in csv.DictReader(f):
            name = row["config"]
            if name not in runs:
                order.append(name)
                runs[name] = []
            try:
                mbit = float(row["mbit"])
                fixed = (float(row.get("fixed_mbit") or 0), float(row.get("fixed_ovs_cpu_pct") or 0),
                         float(row.get("fixed_tabled_cpu_pct") or 0))
                copies = (float(row.get("copies_per_s") or "nan"),
                          float(row.get("fixed_copies_per_s") or "nan"))
                if mbit > 0:
                    runs[name].append((mbit, float(row["ovs_cpu_pct"]),
                                       float(row["tabled_cpu_pct"])) + fixed + copies)
            except ValueError:
                continue
    return order, runs


def thr_cost(none, v):
    return 100 * (1 - statistics.median(x[0] for x in v) / statistics.median(x[0] for x in none))


def per_gbit(x):
    return (x[1] + x[2]) / (x[0] / 1000)


def fixed_per_gbit(x):
    return (x[4] + x[5]) / (x[3] / 1000) if x[3] > 0 else float("nan")


def cpu_cost(none, v):
    return 100 * (1 - statistics.median(map(per_gbit, none)) / statistics.median(map(per_gbit, v)))


def fixed_cost(none, v):
    return 100 * (1 - statistics.median(map(fixed_per_gbit, none))
                  / statistics.median(map(fixed_per_gbit, v)))


def resample(rng, groups):
    """One bootstrap resample of each list in groups.  Lists of one length
    are resampled together, by run: cost.sh runs the configurations round
    robin, so the k-th run of each saw the same moment of the machine, and
    pairing them takes that shared noise out of a comparison."""
    if len({len(g) for g in groups}) == 1:
        idx = [rng.randrange(len(groups[0])) for _ in groups[0]]
        return [[g[i] for i in idx] for g in groups]
    return [[rng.choice(g) for _ in g] for g in groups]


def bootstrap(none, v, f, n=2000):
    """90% interval of f(none, v) over resampled runs (a fixed seed: the same
    runs give the same interval)."""
    rng = random.Random(16)
    xs = sorted(f(*resample(rng, [none, v])) for _ in range(n))
    return xs[int(0.05 * n)], xs[int(0.95 * n) - 1]


def bootstrap_diff(none, a, b, f, n=2000):
    """90% interval of f(none, a) - f(none, b) over resampled runs: the
    difference of two configurations' costs against the same baseline,
    sharper than comparing their two intervals."""
    rng = random.Random(16)
    xs = []
    for _ in range(n):
        ns, xa, xb = resample(rng, [none, a, b])
        xs.append(f(ns, xa) - f(ns, xb))
    xs.sort()
    return xs[int(0.05 * n)], xs[int(0.95 * n) - 1]


def baseline(rows):
    """The "none" row, None without one (--only without it)."""
    return next((r for r in rows if r["config"] == "none"), None)


def summarize(order, runs):
    rows = []
    for name in order:
        v = runs[name]
        if not v:
            continue
        mbit = [x[0] for x in v]
        rows.append({
            "config": name, "runs": len(v),
            "mbit": statistics.median(mbit), "mbit_min": min(mbit), "mbit_max": max(mbit),
            "ovs_cpu": statistics.median(x[1] for x in v),
            "tabled_cpu": statistics.median(x[2] for x in v),
            # CPU seconds of the switch and the collector per Gbit forwarded:
            # what each bit costs, much less noisy than the throughput on a
            # shared machine
            "cpu_per_gbit": statistics.median((x[1] + x[2]) / (x[0] / 1000) for x in v),
            # at the fixed rate (the paper's Fig. 3/8): CPU at a given load
            "fixed_mbit": statistics.median(x[3] for x in v),
            "fixed_ovs_cpu": statistics.median(x[4] for x in v),
            "fixed_tabled_cpu": statistics.median(x[5] for x in v),
            "fixed_per_gbit": (statistics.median(map(fixed_per_gbit, v))
                               if all(x[3] > 0 for x in v) else float("nan")),
            # copies per second at the fixed rate (nan: not recorded)
            "fixed_copies": statistics.median(x[7] for x in v),
            "copies": statistics.median(x[6] for x in v),
        })
    base = baseline(rows)
    nan2 = (float("nan"),) * 2
    for r in rows:      # costs need "none" (--only without it: none)
        r["cost_ci"] = r["cpu_cost_ci"] = r["fixed_cost_ci"] = nan2
    if base:
        for r in rows:
            r["cost_ci"] = bootstrap(runs["none"], runs[r["config"]], thr_cost)
            r["cpu_cost_ci"] = bootstrap(runs["none"], runs[r["config"]], cpu_cost)
            r["fixed_cost_ci"] = (bootstrap(runs["none"], runs[r["config"]], fixed_cost)
                                  if r["fixed_mbit"] > 0 else (float("nan"),) * 2)
    for r in rows:
        r["cost_pct"] = 100 * (1 - r["mbit"] / base["mbit"]) if base else float("nan")
        # where the switch is the bottleneck (a CPU-bound userspace
        # datapath), throughput goes as 1 / CPU per bit
        r["cpu_cost_pct"] = (100 * (1 - base["cpu_per_gbit"] / r["cpu_per_gbit"])
                             if base else float("nan"))
        r["fixed_cost_pct"] = (100 * (1 - base["fixed_per_gbit"] / r["fixed_per_gbit"])
                               if base else float("nan"))
    return rows


def targets(rows, runs):
    by = {r["config"]: r for r in rows}
    out = []
    # a verdict only where the 90% intervals say it: else "not resolved"
    for key, how, f in (("cost_pct", "throughput", thr_cost),
                        ("cpu_cost_pct", "CPU per bit, flat out", cpu_cost),
                        ("fixed_cost_pct", "CPU per bit at a fixed rate", fixed_cost)):
        def cost(name):
            return (by[name][key], by[name][key.replace("_pct", "_ci")]) if name in by else None
        s1 = cost("sflow 1:1")
        # VND's full-packet capture: the switch's copies (mirror) or the
        # port's interface read by the table server (tap)
        for name in ("mirror full", "tap full"):
            full = cost(name)
            if not (full and s1 and full[0] == full[0] and "none" in runs):
                continue
            # the difference's own interval: the capture costs no more when
            # all of it is at or below 0
            d = bootstrap_diff(runs["none"], runs[name], runs["sflow 1:1"], f)
            v = "holds" if d[1] <= 0 else "fails" if d[0] > 0 else "not resolved"
            out.append((f"[{how}] VND's full-packet capture ({name.split()[0]}) costs the tenant "
                        "flow no more than sFlow 1:1", v, f"{name} {full[0]:.1f}% "
                        f"[{full[1][0]:.0f}, {full[1][1]:.0f}] vs sFlow 1:1 {s1[0]:.1f}% "
                        f"[{s1[1][0]:.0f}, {s1[1][1]:.0f}]; the difference "
                        f"{full[0] - s1[0]:+.1f} points [{d[0]:+.1f}, {d[1]:+.1f}]"))
        for name, what in (("mirror snaplen 128", "in-switch truncation to 128 bytes"),
                           ("tap snaplen 128", "truncation to 128 bytes by the kernel (tap)"),
                           ("mirror flow 1:10", "flow sampling 1-in-10")):
            c = cost(name)
            if c and c[0] == c[0]:
                v = "holds" if c[1][1] <= 5 else "fails" if c[1][0] > 5 else "not resolved"
                out.append((f"[{how}] with {what} VND's capture costs at most 5%", v,
                            f"{name} {c[0]:.1f}% [{c[1][0]:.0f}, {c[1][1]:.0f}]"))
    return out


def copy_ns(base, r):
    """The switch's CPU per copy at the fixed rate, in ns: what its share
    grew by over none's, per copy that reached the capture end; nan
    without none or with too few copies to tell (under 1000 a second)."""
    if not base or not r["fixed_copies"] >= 1000:
        return float("nan")
    return (r["fixed_ovs_cpu"] - base["fixed_ovs_cpu"]) / 100 / r["fixed_copies"] * 1e9


def host_copy_ns(rows):
    """The host's figure for the NIB's budget.copy_ns: the full mirror's
    (the most copies, the steadiest), else the first configuration's that
    has one."""
    base = baseline(rows)
    ns = [(r["config"] != "mirror full", copy_ns(base, r)) for r in rows]
    ns = sorted(x for x in ns if x[1] == x[1])
    return ns[0][1] if ns else float("nan")


def drop_model(rows):
    """The control server's estimate of the drop copying costs the
    tenants (controld/host_budget.c, vnd_budget_drop_fixed) from the
    shares and copies flat out, where the throughput cost is measured:
    the table server's part of the share, and with the switch's CPU per
    copy (host_copy_ns, from the fixed rate) the switch's part, the copies'
    work over its share; the estimate given both is the larger."""
    out = []
    ns = host_copy_ns(rows)
    for r in rows:
        if r["config"] == "none":
            continue
        s = r["ovs_cpu"] + r["tabled_cpu"]
        est = 100 * r["tabled_cpu"] / s if s > 0 else 0.0
        sw = (100 * max(0.0, ns) * 1e-9 * r["copies"] / (r["ovs_cpu"] / 100)
              if ns == ns and r["copies"] == r["copies"] and r["ovs_cpu"] > 0 else float("nan"))
        both = max(est, sw) if sw == sw else float("nan")
        lo, hi = r["cost_ci"]

        def where(e):
            return ("-" if e != e else "(no none run)" if lo != lo
                    else "above" if e > hi else "below" if e < lo else "within")
        out.append((r["config"], est, where(est), sw, both, where(both), r["cost_pct"], lo, hi))
    return out, ns


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["config", "runs", "mbit_median", "mbit_min", "mbit_max", "cost_pct",
                    "cost_ci90_lo", "cost_ci90_hi",
                    "ovs_cpu_pct_median", "tabled_cpu_pct_median", "cpu_pct_per_gbit_median",
                    "cpu_cost_pct", "cpu_cost_ci90_lo", "cpu_cost_ci90_hi",
                    "fixed_mbit_median", "fixed_ovs_cpu_pct_median",
                    "fixed_tabled_cpu_pct_median", "fixed_cpu_pct_per_gbit_median",
                    "fixed_cost_pct", "fixed_cost_ci90_lo", "fixed_cost_ci90_hi",
                    "fixed_copies_per_s_median", "copy_ns"])
        base = baseline(rows)
        for r in rows:
            ns = copy_ns(base, r)
            w.writerow([r["config"], r["runs"], f"{r['mbit']:.1f}", f"{r['mbit_min']:.1f}",
                        f"{r['mbit_max']:.1f}", f"{r['cost_pct']:.1f}",
                        f"{r['cost_ci'][0]:.1f}", f"{r['cost_ci'][1]:.1f}", f"{r['ovs_cpu']:.1f}",
                        f"{r['tabled_cpu']:.1f}", f"{r['cpu_per_gbit']:.1f}",
                        f"{r['cpu_cost_pct']:.1f}", f"{r['cpu_cost_ci'][0]:.1f}",
                        f"{r['cpu_cost_ci'][1]:.1f}", f"{r['fixed_mbit']:.1f}",
                        f"{r['fixed_ovs_cpu']:.1f}", f"{r['fixed_tabled_cpu']:.1f}",
                        f"{r['fixed_per_gbit']:.1f}", f"{r['fixed_cost_pct']:.1f}",
                        f"{r['fixed_cost_ci'][0]:.1f}", f"{r['fixed_cost_ci'][1]:.1f}",
                        f"{r['fixed_copies']:.0f}" if r["fixed_copies"] == r["fixed_copies"]
                        else "", f"{ns:.0f}" if ns == ns else ""])


def print_table(rows, checks):
    print(f"{'configuration':<24} {'Mbit/s':>7} {'(min-max)':>13} {'cost [90% CI]':>20} "
          f"{'ovs':>6} {'tabled':>6} {'CPU%/Gbit':>9} {'CPU cost [90% CI]':>20} "
          f"{'fixed: Mbit/s':>13} {'ovs':>6} {'tabled':>6} {'cost [90% CI]':>20}")
    for r in rows:
        ci, cc = r["cost_ci"], r["cpu_cost_ci"]
        print(f"{r['config']:<24} {r['mbit']:7.1f} {r['mbit_min']:6.1f}-{r['mbit_max']:<6.1f} "
              f"{r['cost_pct']:6.1f}% [{ci[0]:5.1f},{ci[1]:5.1f}] "
              f"{r['ovs_cpu']:5.1f}% {r['tabled_cpu']:5.1f}% {r['cpu_per_gbit']:9.1f} "
              f"{r['cpu_cost_pct']:6.1f}% [{cc[0]:5.1f},{cc[1]:5.1f}] "
              f"{r['fixed_mbit']:13.1f} {r['fixed_ovs_cpu']:5.1f}% {r['fixed_tabled_cpu']:5.1f}% "
              f"{r['fixed_cost_pct']:6.1f}% [{r['fixed_cost_ci'][0]:5.1f},"
              f"{r['fixed_cost_ci'][1]:5.1f}]")
    print()
    for what, verdict, detail in checks:
        print(f"target: {what}: {verdict} ({detail})")
    model, ns = drop_model(rows)
    if model:
        print()
        print("the control server's drop estimate from the shares flat out, against the throughput"
              " cost measured there [90% CI]: the table server's part; the switch's (the copies"
              " x its CPU per copy over its share); the estimate given both (the larger)")
        print("  the switch's CPU per copy (the NIB's budget.copy_ns): "
              + (f"{ns:.0f} ns" if ns == ns else "- (no mirror run with copies counted)"))
        for name, est, w1, sw, both, w2, cost, lo, hi in model:
            swtxt = f"{sw:5.1f}%" if sw == sw else "     -"
            bothtxt = f"{both:5.1f}% ({w2})" if both == both else "     -"
            print(f"  {name:<24} {est:5.1f}% ({w1:<6}) {swtxt}  {bothtxt:<16}   "
                  f"measured {cost:5.1f}% [{lo:5.1f},{hi:5.1f}]")


def color(name):
    if name == "none":
        return "#555555"
    if name.startswith("sflow"):
        return "#3b7dd8"
    if name.startswith("ipfix"):
        return "#d8823b"
    return "#2e9e5b"


def svg(rows, checks, path, note):
    W, left, bar_w = 1240, 190, 300
    row_h, top = 22, 80
    n = len(rows)
    chart_h = top + n * row_h + 40
    paper_top = chart_h + 20
    H = paper_top + 40 + 18 * (len(PAPER) + len(checks) + 3)
    max_mbit = max([r["mbit_max"] for r in rows] + [hi for _, hi in EARLIER.values()]) or 1
    # the CPU panel: at the fixed rate when the runs have it (Fig. 3/8)
    fixed = all(r["fixed_mbit"] > 0 for r in rows)
    ko, kt, kg, kc = (("fixed_ovs_cpu", "fixed_tabled_cpu", "fixed_per_gbit", "fixed_cost_pct")
                      if fixed else ("ovs_cpu", "tabled_cpu", "cpu_per_gbit", "cpu_cost_pct"))
    max_cpu = max(max(r[ko] + r[kt] for r in rows), 1)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         '<text x="10" y="22" font-size="16" font-weight="bold">The cost of measuring on '
         'the VND test bed (bench/cost.sh), beside CloudNet 2018 Fig. 2/3/8/9</text>',
         f'<text x="10" y="40" fill="#444">{escape(note)}</text>']
    x1 = left
    x2 = left + bar_w + 130
    o.append(f'<text x="{x1}" y="{top - 12}" font-weight="bold">tenant throughput, Mbit/s '
             '(median; whisker min-max; grey: issue 16\'s earlier runs)</text>')
    at = f"at {rows[0]['fixed_mbit']:.0f} Mbit/s" if fixed else "flat out"
    o.append(f'<text x="{x2}" y="{top - 12}" font-weight="bold">CPU {at}, % of a core '
             '(ovs-vswitchd solid, table server light); per Gbit/s and what that costs'
             '</text>')
    for i, r in enumerate(rows):
        y = top + i * row_h
        c = color(r["config"])
        o.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{escape(r["config"])}'
                 '</text>')
        w = bar_w * r["mbit"] / max_mbit
        o.append(f'<rect x="{x1}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{c}"/>')
        lo, hi = (bar_w * r["mbit_min"] / max_mbit, bar_w * r["mbit_max"] / max_mbit)
        o.append(f'<line x1="{x1 + lo:.1f}" x2="{x1 + hi:.1f}" y1="{y + row_h / 2}" '
                 f'y2="{y + row_h / 2}" stroke="black"/>')
        if r["config"] in EARLIER:
            a, b = EARLIER[r["config"]]
            o.append(f'<rect x="{x1 + bar_w * a / max_mbit:.1f}" y="{y + row_h - 6}" '
                     f'width="{max(bar_w * (b - a) / max_mbit, 2):.1f}" height="3" '
                     'fill="#999"/>')
        o.append(f'<text x="{x1 + bar_w + 6}" y="{y + 14}">{r["mbit"]:.0f}'
                 f' ({-r["cost_pct"]:+.1f}%)</text>')
        wo = bar_w * r[ko] / max_cpu
        wt = bar_w * r[kt] / max_cpu
        o.append(f'<rect x="{x2}" y="{y + 3}" width="{wo:.1f}" height="{row_h - 8}" '
                 f'fill="{c}"/>')
        o.append(f'<rect x="{x2 + wo:.1f}" y="{y + 3}" width="{wt:.1f}" height="{row_h - 8}" '
                 f'fill="{c}" fill-opacity="0.35"/>')
        o.append(f'<text x="{x2 + wo + wt + 6:.1f}" y="{y + 14}">{r[ko]:.0f}'
                 f' + {r[kt]:.0f}; {r[kg]:.0f} per Gbit/s '
                 f'({-r[kc]:+.1f}%)</text>')
    y = paper_top
    o.append(f'<text x="10" y="{y}" font-weight="bold">The paper (Open vSwitch 2.5, '
             'kernel datapath, 8 cores; its findings, beside ours above)</text>')
    for fig, text in PAPER:
        y += 18
        o.append(f'<text x="20" y="{y}"><tspan font-weight="bold">{fig}</tspan> '
                 f'{escape(text)}</text>')
    y += 26
    o.append(f'<text x="10" y="{y}" font-weight="bold">Issue 16\'s targets, this run</text>')
    tint = {"holds": "#1a7f37", "fails": "#b42318", "not resolved": "#8a6d00"}
    for what, verdict, detail in checks:
        y += 18
        o.append(f'<text x="20" y="{y}" fill="{tint[verdict]}">{verdict}: {escape(what)} '
                 f'({escape(detail)}; 90% bootstrap intervals)</text>')
    o.append('</svg>')
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--svg", required=True)
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    order, runs = load(a.runs)
    rows = summarize(order, runs)
    if not rows:
        sys.exit(f"{a.runs}: no runs")
    checks = targets(rows, runs)
    write_csv(rows, a.csv)
    print_table(rows, checks)
    svg(rows, checks, a.svg, a.note)


if __name__ == "__main__":
    main()
