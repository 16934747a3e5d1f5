#!/usr/bin/python3
"""ctrbench's report: plots (PNG and SVG) and a Markdown report from one or more result files.

    analysis/report.py results/matrix-X.csv [more.csv | results/<host>/ ...] [--out DIR]

A directory stands for every *.csv under it (results/<host>/ as run-matrix.yml fetches them).
Hosts are shown side by side. Only measured (not warmup) runs that succeeded count; skipped
candidates are listed with their reason. Needs Debian's python3-matplotlib and python3-scipy: run
it with /usr/bin/python3 (another python3 on PATH may lack them).
"""
import argparse
import collections
import csv
import json
import math
import pathlib
import random
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text in the SVGs: searchable, and checked by the tests
import matplotlib.pyplot as plt  # noqa: E402
from scipy import stats  # noqa: E402

PHASES = ["create", "start", "exec"]
COLORS = {"create": "#4C72B0", "start": "#DD8452", "exec": "#55A868", "response": "#C44E52"}
# Which figure says "better" for each workload: the time to a container that did its work, except
# ping (round-trip time) and throughput (containers per second, higher is better).
LOWER_IS_BETTER = {"throughput": False}


def load(paths):
    rows, metas = [], {}
    files = []
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            files += sorted(p.rglob("*.csv"))
        elif p.is_file():
            files.append(p)
        else:
            sys.exit(f"report.py: no such file or directory: {p}")
    if not files:
        sys.exit("report.py: no result files (*.csv) in " + " ".join(paths))
    for f in files:
        with open(f, newline="") as fh:
            reader = csv.DictReader(fh)
            if not {"candidate", "workload", "status", "create_ms"} <= set(reader.fieldnames or []):
                sys.exit(f"report.py: {f} is not a ctrbench results file (its header lacks the columns of DESIGN.md)")
            r = list(reader)
        rows += r
        meta = f.with_suffix(".json")
        if meta.exists():
            try:
                metas[str(f)] = json.loads(meta.read_text())
            except json.JSONDecodeError:
                pass
    return rows, metas, files


def num(v):
    return float(v) if v not in ("", None) else None


def ready_ms(r):
    """Ready as harness/record.h defines it (ready_ms): create + start + exec, plus the wait for the
    first response where the workload has one. Keep the two alike."""
    parts = [num(r[p + "_ms"]) for p in PHASES]
    if any(p is None for p in parts):
        return None
    return sum(parts) + (num(r["response_ms"]) or 0)


def service_ready(r):
    """A service run's time to its first correct 200: the phases' sum, or, where the workload measured
    the run itself (an engine's restore, the pool), its own figure."""
    t = ready_ms(r)
    if t is None and r.get("unit") == "ms to first 200":
        return num(r["value"])
    return t


def metric(workload, r):
    """The figure compared between candidates for one run."""
    if workload in ("throughput", "ping"):
        return num(r["value"])
    if workload in SERVICE:
        return service_ready(r)
    return ready_ms(r)


def param_key(p):
    digits = "".join(c for c in p if c.isdigit() or c == ".")
    try:
        v = float(digits)
    except ValueError:
        return (0, p)
    scale = {"kB": 1e3, "MB": 1e6, "GB": 1e9}
    for unit, s in scale.items():
        if p.endswith(unit):
            v *= s
    return (v, p)


def median_ci(samples, rng, n_boot=2000):
    """Median and a 95 % bootstrap confidence interval of it (percentile method)."""
    m = statistics.median(samples)
    if len(samples) < 3:
        return m, float("nan"), float("nan")
    meds = sorted(statistics.median(rng.choices(samples, k=len(samples))) for _ in range(n_boot))
    return m, meds[int(0.025 * n_boot)], meds[int(0.975 * n_boot) - 1]


def p95(samples):
    s = sorted(samples)
    k = (len(s) - 1) * 0.95
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)

MARKERS = "osD^v<>phX*"


def fmt(v):
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def draw_series(ax, series, xlabel, ylabel, logy=True, lower=True):
    """Lines of y by parameter, one per candidate (distinct colour and marker); with a single
    parameter value, horizontal bars sorted by value, which read better than a column of dots."""
    if not series:  # this host did not run the workload
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    xs = {p[1] for pts in series.values() for p in pts}
    if len(xs) <= 1:
        cands = sorted(series, key=lambda c: series[c][0][2] * (1 if lower else -1))
        vals = [series[c][0][2] for c in cands]
        ax.barh(cands, vals, color="#4C72B0")
        ax.invert_yaxis()  # best on top, as in every figure
        for y, v in enumerate(vals):
            ax.annotate(" " + fmt(v), (v, y), va="center", fontsize=7)
        ax.set_xlim(0, max(vals) * 1.18)
        ax.set_xlabel(f"{ylabel} ({xlabel} {next(iter(xs), '')})")
        ax.tick_params(axis="y", labelsize=7)
        return
    cmap = plt.get_cmap("tab20")
    for pts in series.values():
        pts.sort()
    # The legend in the one order of every figure: best first, by the value at the largest parameter.
    best_first = sorted(series.items(), key=lambda kv: (-kv[1][-1][0][0], kv[1][-1][2] * (1 if lower else -1)))
    for i, (cand, pts) in enumerate(best_first):
        ax.plot([p[1] for p in pts], [p[2] for p in pts], marker=MARKERS[i % len(MARKERS)], color=cmap(i % 20), label=cand)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1))


def save(fig, out, name, made):
    for ext in ("png", "svg"):
        fig.savefig(out / f"{name}.{ext}", dpi=110, bbox_inches="tight")
    plt.close(fig)
    made.append(name)


def host_columns(hosts):
    n = len(hosts)
    return n, max(1, n)


FAST_GROUP = 10  # a second panel for candidates more than this many times slower than the fastest


def split_fast_slow(cands, total, most=3):
    """Candidates in one sort order (fastest first), in panels that each span at most FAST_GROUP
    times their fastest (up to `most` panels; the last takes the rest), so that no bar is a sliver
    beside one ten times longer."""
    groups = []
    for c in sorted(cands, key=lambda c: total[c]):
        if not groups or (total[c] > FAST_GROUP * max(total[groups[-1][0]], 1e-9) and len(groups) < most):
            groups.append([c])
        else:
            groups[-1].append(c)
    return groups


def plot_boot(ok, hosts, out, made):
    """Stacked create/start/exec bars per candidate. The bar's length and its label are the median of
    the per-run create+start+exec sums, the figure the table shows; the bar is split by the phases'
    median shares. Fastest first; a second panel for the slow group."""
    data = {h: {} for h in hosts}
    for (h, cand, w, p), runs in ok.items():
        if w == "boot":
            med = {ph: statistics.median([num(r[ph + "_ms"]) for r in runs]) for ph in PHASES}
            data[h][cand] = (statistics.median([ready_ms(r) for r in runs]), med)
    if not any(data.values()):
        return
    groups = {h: split_fast_slow(data[h], {c: v[0] for c, v in data[h].items()}) for h in hosts}
    rows = max(len(g) for g in groups.values())
    heights = [max(1.6, 0.3 * max((len(g[i]) for g in groups.values() if len(g) > i), default=1) + 1.0) for i in range(rows)]
    fig, axes = plt.subplots(rows, len(hosts), figsize=(7.5 * len(hosts), sum(heights) + 0.6), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for j, h in enumerate(hosts):
        for i in range(rows):
            ax = axes[i][j]
            if i >= len(groups[h]):
                ax.set_axis_off()
                continue
            cands = groups[h][i]
            totals = [data[h][c][0] for c in cands]
            left = [0.0] * len(cands)
            for ph in PHASES:
                shares = [data[h][c][1][ph] / max(sum(data[h][c][1].values()), 1e-9) for c in cands]
                vals = [t * sh for t, sh in zip(totals, shares)]
                ax.barh(cands, vals, left=left, color=COLORS[ph], label=f"t_{ph}")
                left = [a + b for a, b in zip(left, vals)]
            for y, total in enumerate(totals):
                ax.annotate(f" {total:.1f} ms", (total, y), va="center", fontsize=7)
            ax.set_xlim(0, max(totals) * 1.2)
            ax.invert_yaxis()  # fastest on top, as in every figure
            ax.tick_params(axis="y", labelsize=8)
            which = "" if len(groups[h]) == 1 else f" ({i + 1} of {len(groups[h])}, by time)"
            ax.set_title(f"boot: create, start, exec of /bin/echo — {h}{which}", fontsize=9)
            if i == 0:
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
            ax.set_xlabel("ms", fontsize=8)
    fig.tight_layout()
    fig.text(0.01, -0.02, "Bar and label: the median of per-run create+start+exec (the table's figure), "
                          "split by the phases' median shares. Fastest on top.", fontsize=8)
    save(fig, out, "boot_phases", made)


def plot_by_param(ok, hosts, out, made, workloads, name, xlabel):
    have = [w for w in workloads if any(k[2] == w for k in ok)]
    if not have:
        return
    n = max(len({k[1] for k in ok if k[2] == w}) for w in have)
    row = max(4.2, 0.22 * n + 1.5)
    fig, axes = plt.subplots(len(have), len(hosts), figsize=(7.5 * len(hosts), row * len(have)), squeeze=False)
    for i, w in enumerate(have):
        for j, h in enumerate(hosts):
            ax = axes[i][j]
            series = collections.defaultdict(list)
            for (hh, cand, ww, p), runs in ok.items():
                if hh == h and ww == w:
                    series[cand].append((param_key(p), p, statistics.median([ready_ms(r) for r in runs])))
            draw_series(ax, series, xlabel, "create + start + exec, median (ms)")
            ax.set_title(f"{w} — {h}")
    fig.subplots_adjust(hspace=0.25)
    save(fig, out, name, made)


def plot_bars(ok, hosts, out, made, workload, name, value_of, xlabel, title):
    data = {h: {} for h in hosts}
    for (h, cand, w, p), runs in ok.items():
        if w == workload:
            vals = [value_of(r) for r in runs if value_of(r) is not None]
            if vals:
                data[h][cand] = statistics.median(vals)
    if not any(data.values()):
        return
    height = max(2.5, 0.32 * max(len(v) for v in data.values()) + 1.2)
    fig, axes = plt.subplots(1, len(hosts), figsize=(7.5 * len(hosts), height), squeeze=False)
    for ax, h in zip(axes[0], hosts):
        if not data[h]:
            ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        # Best first, on top: lowest for times, highest for rates.
        cands = sorted(data[h], key=lambda c: data[h][c] * (1 if LOWER_IS_BETTER.get(workload, True) else -1))
        vals = [data[h][c] for c in cands]
        ax.barh(cands, vals, color="#4C72B0")
        ax.invert_yaxis()
        for y, v in enumerate(vals):
            ax.annotate(" " + fmt(v), (v, y), va="center", fontsize=7)
        ax.set_xlim(0, max(vals) * 1.18)
        ax.set_xlabel(xlabel)
        ax.set_title(f"{title} — {h}")
        ax.tick_params(axis="y", labelsize=8)
    save(fig, out, name, made)


def plot_throughput(ok, hosts, out, made):
    if not any(k[2] == "throughput" for k in ok):
        return
    n = len({k[1] for k in ok if k[2] == "throughput"})
    fig, axes = plt.subplots(1, len(hosts), figsize=(7.5 * len(hosts), max(4.2, 0.22 * n + 1.5)), squeeze=False)
    for ax, h in zip(axes[0], hosts):
        series = collections.defaultdict(list)
        for (hh, cand, w, p), runs in ok.items():
            if hh == h and w == "throughput":
                series[cand].append((int(p), p, statistics.median([num(r["value"]) for r in runs])))
        draw_series(ax, series, "concurrent starts", "containers per second (median)", lower=False)
        ax.set_title(f"throughput — {h}")
    save(fig, out, "throughput", made)


# The isolation workload's probes that a stack lets through by design, and why (a shared kernel's
# namespaced entries, what stays inside the container): the scorecard says so beside the verdict.
BY_DESIGN = {
    "kernel/proc-sys-uts": "the UTS namespace: the hostname written is the container's own",
    "processes/traceme-thread": "traces only its own child; the run still ends",
    "mounts/unshare-mount": "a mount namespace nested in the container's own",
    "kernel/add-key": "a key in its own process keyring, gone when it exits",
    "kernel/io-uring": "allowed by Docker's default seccomp profile of this version",
    "network/raw-socket": "on the container's own link (CAP_NET_RAW)",
    "network/packet-socket": "on the container's own link (CAP_NET_RAW)",
    "privilege/setuid": "euid 0 inside the container, no more than its root already has",
    "privilege/no-new-privs": "without no_new_privs, set-user-ID programs gain the container root's power",
    "privilege/host-root": "no user namespace: root inside is root outside, held in by the other layers",
    "resources/memory-wedge": "allowed = the engine's exec never returned once the sandbox was killed at its limit",
}
# Runtimes whose sandbox has a kernel of its own: what a probe reaches there is that kernel's.
OWN_KERNEL = ("runsc", "kata")


# Seed 002's "Reference Performance" (images on tmpfs), ms by memory size in MB.
SEED_002 = {"dump": {1: 12.7, 4: 14.4, 16: 21.5, 64: 46.5, 256: 158.2, 1024: 514.9},
            "container": {m: 6 for m in (1, 4, 16, 64, 256, 1024)},
            "restore": {1: 5, 4: 5, 16: 5.2, 64: 5.2, 256: 5.2, 1024: 5.6},
            "execution": {1: 0.72, 4: 3, 16: 12.7, 64: 55, 256: 188, 1024: 744}}
CHECKPOINT = {"checkpoint": "eager", "checkpoint-lazy": "lazy"}


def checkpoint_figures(ok, metas):
    """(host, candidate, mode) -> row -> {MB: median ms}: dump and the named figures from the runs' JSON
    (medians of the unit), container (create + start) from the CSV rows."""
    out = collections.defaultdict(lambda: collections.defaultdict(dict))
    for (h, cand, w, p), runs in ok.items():
        # An engine that restores whole containers (podman) has no phase columns: no container figure.
        both = [num(r["create_ms"]) + num(r["start_ms"]) for r in runs
                if num(r["create_ms"]) is not None and num(r["start_ms"]) is not None]
        if w in CHECKPOINT and p.isdigit() and both:
            out[(h, cand, CHECKPOINT[w])]["container"][int(p)] = statistics.median(both)
    for m in metas.values():
        h = m.get("host", {}).get("hostname", "?")
        for res in m.get("results", []):
            w, p = res.get("workload"), str(res.get("param", ""))
            figs = res.get("summary", {}).get("figures", {})
            if w not in CHECKPOINT or not p.isdigit() or not figs:
                continue
            key = (h, res.get("candidate", "?"), CHECKPOINT[w])
            for name in ("dump", "restore", "execution"):
                if figs.get(name + "_ms", {}).get("n"):
                    out[key][name][int(p)] = figs[name + "_ms"]["median"]
    return out


def plot_checkpoint(figs, hosts, out, made):
    """Seed 002's table as a figure: time by memory size, dump, restore and execution, eager and lazy,
    with the seed's own figures dashed."""
    if not figs:
        return
    fig, axes = plt.subplots(1, len(hosts), figsize=(7.5 * len(hosts), 5), squeeze=False)
    styles = {"dump": "s", "restore": "o", "execution": "^", "container": "x"}
    for j, h in enumerate(hosts):
        ax = axes[0][j]
        keys = sorted(k for k in figs if k[0] == h)
        if not keys:
            ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        cmap = plt.get_cmap("tab10")
        for i, key in enumerate(keys):
            for row, by_mb in sorted(figs[key].items()):
                if row == "dump" and key[2] == "lazy":
                    continue  # the same dump as the eager one's: once
                xs = sorted(by_mb)
                ax.plot(xs, [by_mb[x] for x in xs], marker=styles.get(row, "."), color=cmap(i % 10),
                        linestyle="-" if key[2] == "eager" else ":", label=f"{key[1]} {row} ({key[2]})")
        for row in ("dump", "restore", "execution"):
            xs = sorted(SEED_002[row])
            ax.plot(xs, [SEED_002[row][x] for x in xs], marker=styles[row], color="#999999", linestyle="--",
                    label=f"seed 002 {row}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("memory touched by the process (MB)")
        ax.set_ylabel("median (ms)")
        ax.set_title(f"checkpoint / restore — {h}")
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1))
    save(fig, out, "checkpoint", made)


def checkpoint_section(figs):
    if not figs:
        return []
    sizes = sorted({mb for rows in figs.values() for by in rows.values() for mb in by})
    md = ["", "## checkpoint and restore (seed 002)", "",
          "Medians in ms by memory size (MB); restore is criu's run inside the container, execution the restored "
          "process touching its memory again, container its create + start. Seed 002's own figures last.", "",
          "| host | candidate | restore | figure | " + " | ".join(str(s) for s in sizes) + " |",
          "|---|---|---|---|" + "---|" * len(sizes)]
    for (h, cand, mode), rows in sorted(figs.items()):
        for row in ("dump", "container", "restore", "execution"):
            if row in rows:
                md.append(f"| {h} | {cand} | {mode} | {row} | " +
                          " | ".join(fmt(rows[row][s]) if s in rows[row] else "—" for s in sizes) + " |")
    for row in ("dump", "container", "restore", "execution"):
        md.append(f"| — | seed 002 | — | {row} | " +
                  " | ".join(fmt(SEED_002[row][s]) if s in SEED_002[row] else "—" for s in sizes) + " |")
    return md


SERVICE = {"service": "cold", "service-restored": "restored", "service-pool": "pool"}


def service_figures(ok):
    """(host, candidate) -> {(app, how): median ms to the first correct 200}; how: cold, restored,
    pool=N (the JVM service)."""
    out = collections.defaultdict(dict)
    for (h, cand, w, p), runs in ok.items():
        if w not in SERVICE:
            continue
        vals = [service_ready(r) for r in runs if service_ready(r) is not None]
        if vals:
            key = ("jvm", f"pool={p}") if w == "service-pool" else (p, SERVICE[w])
            out[(h, cand)][key] = statistics.median(vals)
    return out


def plot_service(figs, hosts, out, made):
    """Cold against restored, per service and candidate: the time to the first correct 200."""
    if not figs:
        return
    n = max(sum(len(v) for (h, _), v in figs.items() if h == host) for host in hosts)
    fig, axes = plt.subplots(1, len(hosts), figsize=(7.5 * len(hosts), max(2.5, 0.3 * n + 1.2)), squeeze=False)
    colours = {"cold": "#C44E52", "restored": "#4C72B0"}
    for ax, h in zip(axes[0], hosts):
        labels, vals, cols = [], [], []
        for (hh, cand), by in sorted(figs.items()):
            if hh != h:
                continue
            for (app, how), v in sorted(by.items()):
                labels.append(f"{cand} {app} {how}")
                vals.append(v)
                cols.append(colours.get(how, "#55A868"))
        if not vals:
            ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        ax.barh(labels, vals, color=cols)
        ax.invert_yaxis()
        ax.set_xscale("log")
        for y, v in enumerate(vals):
            ax.annotate(" " + fmt(v), (v, y), va="center", fontsize=7)
        ax.set_xlabel("create (or request) .. first correct 200, median (ms)")
        ax.set_title(f"services cold vs restored — {h}")
        ax.tick_params(axis="y", labelsize=7)
    save(fig, out, "service", made)


def service_section(figs):
    if not figs:
        return []
    md = ["", "## services cold vs restored (seeds 001 and 003)", "",
          "Medians in ms from create (the pool: from the request) to the first correct answer of "
          "`GET /?key=888888`; restored sooner by = cold / restored.", "",
          "| host | candidate | service | cold | restored | restored sooner by | from a pool |", "|---|---|---|---|---|---|---|"]
    for (h, cand), by in sorted(figs.items()):
        for app in ("python", "jvm"):
            cold, rest = by.get((app, "cold")), by.get((app, "restored"))
            pools = ", ".join(f"{how}: {fmt(v)}" for (a, how), v in sorted(by.items()) if a == app and how.startswith("pool"))
            if cold is None and rest is None and not pools:
                continue
            ratio = f"{cold / rest:.1f}×" if cold and rest else "—"
            md.append(f"| {h} | {cand} | {app} | {fmt(cold) if cold else '—'} | {fmt(rest) if rest else '—'} | {ratio} | "
                      f"{pools or '—'} |")
    return md


def isolation_section(probes, boot_ms):
    """The scorecard: candidates x probe families (blocked of tried) beside the boot time, then a
    cell per probe. `probes`: (host, candidate) -> {probe: (verdict, why)}."""
    if not probes:
        return []
    md = ["", "## Isolation scorecard", "",
          "What a hostile program inside each candidate's container could do to its host (the isolation "
          "workload: one attempt per probe, `value` 1 = blocked). A cell is blocked of tried; a probe not "
          "tried (no target on this host, or harmful to try) is never counted as blocked. Beside it, the "
          "candidate's boot (create..exec median, ms): speed and isolation on one page."]
    families = sorted({p.split("/")[0] for v in probes.values() for p in v})
    md += ["", "| host | candidate | boot ms | " + " | ".join(families) + " | blocked |",
           "|---|---|---|" + "---|" * (len(families) + 1)]
    order = sorted(probes, key=lambda k: (k[0], -sum(v[0] == "blocked" for v in probes[k].values()), k[1]))
    for key in order:
        cells, total_b, total_t = [], 0, 0
        for fam in families:
            got = [v for p, v in probes[key].items() if p.startswith(fam + "/")]
            b = sum(v[0] == "blocked" for v in got)
            t = sum(v[0] != "untried" for v in got)
            total_b, total_t = total_b + b, total_t + t
            cells.append(f"{b}/{t}")
        boot = boot_ms.get(key)
        md.append(f"| {key[0]} | {key[1]} | {'—' if boot is None else f'{boot:.1f}'} | " + " | ".join(cells) +
                  f" | **{total_b}/{total_t}** |")
    names = sorted({p for v in probes.values() for p in v})
    md += ["", "### Every probe", "",
           "✔ blocked, ✘ allowed, – not tried. Notes say where an allowed probe is by design.", "",
           "| probe | " + " | ".join(f"{c} ({h})" if len({k[0] for k in order}) > 1 else c for h, c in order) + " | note |",
           "|---|" + "---|" * (len(order) + 1)]
    mark = {"blocked": "✔", "allowed": "✘", "untried": "–"}
    for p in names:
        cells = [mark[probes[k][p][0]] if p in probes[k] else " " for k in order]
        md.append(f"| {p} | " + " | ".join(cells) + f" | {BY_DESIGN.get(p, '')} |")
    own = sorted({c for _, c in order if any(f"-{r}-" in f"-{c}-" for r in OWN_KERNEL)})
    if own:
        md += ["", "In " + ", ".join(own) + " a kernel of the sandbox's own answers the probes: what is allowed "
               "there (its /proc/sys, its perf events) is that kernel's, not the host's."]
    untried = sorted({(p, v[1]) for d in probes.values() for p, v in d.items() if v[0] == "untried"})
    if untried:
        md += ["", "Not tried: " + "; ".join(f"{p} ({why})" for p, why in untried) + "."]
    return md


MIN_RUNS = 3  # fewer measured runs than this give no verdict: one sample says nothing of the noise


def fastest(groups, lower, rng):
    """The best candidate of one workload/parameter on one host, and how sure that is."""
    if min(len(s) for s in groups.values()) < MIN_RUNS and len(groups) > 1:
        m = {c: statistics.median(s) for c, s in groups.items()}
        best = min(m, key=lambda c: m[c] * (1 if lower else -1))
        return (0, best, m[best], None, None, groups[best]), None, \
            f"not enough runs to decide (n < {MIN_RUNS} for some candidates)"
    ranked = []
    for cand, samples in groups.items():
        m, lo, hi = median_ci(samples, rng)
        ranked.append((m if lower else -m, cand, m, lo, hi, samples))
    ranked.sort()
    best = ranked[0]
    if len(ranked) == 1:
        return best, None, "the only candidate"
    second = ranked[1]
    overlap = not (math.isnan(best[3]) or math.isnan(second[3])) and (
        (best[4] >= second[3]) if lower else (best[3] <= second[4]))
    if math.isnan(best[3]) or overlap:
        alt = "less" if lower else "greater"
        p = stats.mannwhitneyu(best[5], second[5], alternative=alt).pvalue
        verdict = "clearly" if p < 0.05 else "not clearly"
        return best, second, f"{verdict} ahead of {second[1]} (Mann-Whitney U, one-sided p = {p:.3g})"
    return best, second, f"ahead of {second[1]}: the 95 % confidence intervals of the medians do not overlap"


N_BOOT = 1000


def mean_ranks(pairs, cands, pick):
    """Mean rank of each candidate over the pairs, with `pick(samples)` the value compared; tied
    values share their mean rank (1 = best)."""
    total = dict.fromkeys(cands, 0.0)
    for _, _, lower, groups in pairs:
        vals = {c: pick(groups[c]) * (1 if lower else -1) for c in cands}
        order = sorted(cands, key=lambda c: vals[c])
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and vals[order[j + 1]] == vals[order[i]]:
                j += 1
            for c in order[i:j + 1]:
                total[c] += (i + j) / 2 + 1
            i = j + 1
    return {c: total[c] / len(pairs) for c in cands}


def best_configuration(host, pairs, rng):
    """The verdict for one host: the best mean rank over the pairs every competitor ran with n >= MIN_RUNS,
    and how often it stays first when the runs are resampled."""
    if not pairs:
        return f"On **{host}**: no workload ran."
    cover = collections.Counter(c for _, _, _, g in pairs for c in g)
    most = max(cover.values())
    cands = sorted(c for c, n in cover.items() if n == most)
    pairs = [p for p in pairs if all(c in p[3] for c in cands)]
    decidable = [p for p in pairs if min(len(p[3][c]) for c in cands) >= MIN_RUNS]
    few = len(pairs) - len(decidable)
    if len(cands) < 2:
        return f"On **{host}**: only {cands[0]} ran every workload; nothing to compare it with."
    if not decidable:
        return (f"On **{host}**: not enough runs to decide: every one of the {len(pairs)} workload/parameter pairs has a "
                f"candidate with fewer than {MIN_RUNS} measured runs (run the full matrix, or more --runs).")
    point = mean_ranks(decidable, cands, statistics.median)
    wins = collections.Counter()
    boot = collections.defaultdict(list)
    for _ in range(N_BOOT):
        r = mean_ranks(decidable, cands, lambda s: statistics.median(rng.choices(s, k=len(s))))
        best = min(r.values())
        leaders = [c for c in cands if r[c] == best]
        for c in leaders:  # a tie for first shares the resample
            wins[c] += 1 / len(leaders)
        for c in cands:
            boot[c].append(r[c])
    ordered = sorted(cands, key=lambda c: (-wins[c], point[c]))
    top = ordered[0]

    def interval(c):
        v = sorted(boot[c])
        return f"{v[int(0.025 * N_BOOT)]:.2f}–{v[int(0.975 * N_BOOT) - 1]:.2f}"

    share = wins[top] / N_BOOT
    rest = ", ".join(f"{c} ({100 * wins[c] / N_BOOT:.0f} %, mean rank {point[c]:.2f})" for c in ordered[1:4] if wins[c] > 0)
    basis = f"over {len(decidable)} workload/parameter pair(s)" + (
        f"; {few} more with fewer than {MIN_RUNS} runs left out: not enough runs to decide them" if few else "")
    if share >= 0.95:
        head = f"**{top}**, first in {100 * share:.0f} % of {N_BOOT} resamples (mean rank {point[top]:.2f}, 95 % interval {interval(top)})"
    else:
        head = (f"no clear winner: **{top}** is first in {100 * share:.0f} % of {N_BOOT} resamples (mean rank {point[top]:.2f}, "
                f"95 % interval {interval(top)})" + (f"; also first: {rest}" if rest else ""))
    return f"On **{host}**: {head}; {basis}."


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", help="result CSV files or directories of them")
    ap.add_argument("--out", default="results/report", help="directory for report.md and the plots (default: %(default)s)")
    args = ap.parse_args()
    rows, metas, files = load(args.inputs)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1)

    hosts = sorted({r["host"] for r in rows})
    ok = collections.defaultdict(list)
    skipped, failed = {}, collections.Counter()
    probes = collections.defaultdict(dict)  # (host, candidate) -> {probe: (verdict, why)}, last measured run
    for r in rows:
        if r.get("probe"):  # a probe's row: part of the isolation run before it
            if r["warmup"] == "0":
                verdict = "untried" if r["status"] == "skipped" else ("blocked" if num(r["value"]) == 1 else "allowed")
                why = r["error"].removeprefix("not tried: ")
                probes[(r["host"], r["candidate"])][r["probe"]] = (verdict, why)
            continue
        if r["status"] == "skipped":
            skipped[(r["host"], r["candidate"], r["workload"])] = r["error"]
        elif r["status"] != "ok":
            failed[(r["host"], r["candidate"], r["status"])] += 1
        elif r["warmup"] == "0":
            ok[(r["host"], r["candidate"], r["workload"], r["param"])].append(r)

    made = []
    plot_boot(ok, hosts, out, made)
    plot_by_param(ok, hosts, out, made, ["sqlite-read", "sqlite-write"], "io_sqlite", "database size")
    plot_by_param(ok, hosts, out, made, ["files-read", "tar-extract"], "io_files", "number of files")
    plot_bars(ok, hosts, out, made, "http", "http", ready_ms, "create .. first HTTP response, median (ms)", "HTTP readiness")
    plot_bars(ok, hosts, out, made, "ping", "ping", lambda r: num(r["value"]), "average round-trip time, median (ms)", "ping")
    plot_throughput(ok, hosts, out, made)
    ckpt = checkpoint_figures(ok, metas)
    plot_checkpoint(ckpt, hosts, out, made)
    svc = service_figures(ok)
    plot_service(svc, hosts, out, made)

    md = ["# ctrbench report", ""]
    md.append(f"From {len(files)} result file(s): " + ", ".join(f"`{f}`" for f in files) + ".")
    md.append(f"{sum(len(v) for v in ok.values())} measured runs that succeeded, on {len(hosts)} host(s). "
              "Times are medians over the measured runs (warmups excluded); p95 is the 95th percentile.")
    md += ["", "## Hosts", "", "| host | kernel | CPU | cores | memory | cgroup | run |", "|---|---|---|---|---|---|---|"]
    for f, m in metas.items():
        h = m.get("host", {})
        mem = f"{h['memory_kib'] / 1048576:.1f} GiB" if h.get("memory_kib") else "?"
        md.append(f"| {h.get('hostname', '?')} | {h.get('kernel', '?')} | {h.get('cpu_model', '?')} | {h.get('cores', '?')} | "
                  f"{mem} | {h.get('cgroup_mode', '?')} | {m.get('run_id', '?')} |")
    by_workload = collections.defaultdict(lambda: collections.defaultdict(dict))
    for (h, cand, w, p), runs in ok.items():
        if w != "isolation":  # its figure is the scorecard, not a time to rank
            by_workload[(w, p)][h][cand] = runs
    boot_ms = {(h, c): statistics.median([ready_ms(r) for r in runs])
               for (h, c, w, p), runs in ok.items() if w == "boot"}
    md += isolation_section(probes, boot_ms)
    md += checkpoint_section(ckpt)
    md += service_section(svc)
    figures_for = {"boot": "boot_phases", "sqlite-read": "io_sqlite", "sqlite-write": "io_sqlite", "files-read": "io_files",
                   "tar-extract": "io_files", "http": "http", "ping": "ping", "throughput": "throughput",
                   "checkpoint": "checkpoint", "checkpoint-lazy": "checkpoint", "service": "service",
                   "service-restored": "service", "service-pool": "service"}
    rank_inputs = collections.defaultdict(list)  # host -> [(workload, param, lower is better, {candidate: samples})]
    shown = set()
    order = ["boot", "sqlite-read", "sqlite-write", "files-read", "tar-extract", "http", "ping", "throughput",
             "checkpoint", "checkpoint-lazy", "service", "service-restored", "service-pool"]
    keys = sorted(by_workload, key=lambda k: (order.index(k[0]) if k[0] in order else 99, param_key(k[1])))
    for w, p in keys:
        fig = figures_for.get(w)
        if fig and fig in made and fig not in shown:
            md += ["", f"## {fig.replace('_', ' ')}", "", f"![{fig}]({fig}.png)"]
            shown.add(fig)
        lower = LOWER_IS_BETTER.get(w, True)
        what = {"throughput": "containers/s", "ping": "RTT ms"}.get(
            w, "to the first correct 200, ms" if w in SERVICE else
            "create..exec" + (" ..response" if w in ("http", *CHECKPOINT) else "") + " ms")
        md += ["", f"### {w}{' ' + p if p else ''} ({what}, {'lower' if lower else 'higher'} is better)", ""]
        md += ["| host | candidate | n | median | p95 | 95 % CI of median |", "|---|---|---|---|---|---|"]
        for h in hosts:
            groups = {c: [metric(w, r) for r in runs if metric(w, r) is not None] for c, runs in by_workload[(w, p)][h].items()}
            groups = {c: s for c, s in groups.items() if s}
            if not groups:
                continue
            ordered = sorted(groups, key=lambda c: statistics.median(groups[c]) * (1 if lower else -1))
            for i, c in enumerate(ordered):
                m, lo, hi = median_ci(groups[c], rng)
                ci = "—" if math.isnan(lo) else f"{lo:.3f} – {hi:.3f}"
                md.append(f"| {h} | {c} | {len(groups[c])} | {m:.3f} | {p95(groups[c]):.3f} | {ci} |")
            rank_inputs[h].append((w, p, lower, groups))
            best, second, how = fastest(groups, lower, rng)
            if second is None and len(groups) > 1:  # too few runs: the lowest median, no verdict
                md += ["", f"{'Lowest' if lower else 'Highest'} median on {h}: {best[1]} ({best[2]:.3f}); {how}.", ""]
            else:
                md += ["", f"Fastest on {h}: **{best[1]}** ({best[2]:.3f}; {how})." if lower else
                       f"Best on {h}: **{best[1]}** ({best[2]:.3f}; {how}).", ""]
    if skipped:
        md += ["", "## Skipped", "", "| host | candidate | workload | why |", "|---|---|---|---|"]
        for (h, c, w), why in sorted(skipped.items()):
            md.append(f"| {h} | {c} | {w} | {why} |")
    if failed:
        md += ["", "## Failed runs", "", "| host | candidate | status | runs |", "|---|---|---|---|"]
        for (h, c, s), n in sorted(failed.items()):
            md.append(f"| {h} | {c} | {s} | {n} |")
    md += ["", "## The best configuration", ""]
    md.append("The thesis's question — which configuration gives a ready container the fastest, and runs the work "
              "inside it best — answered per host by the mean rank over every workload and parameter a candidate ran "
              f"(1 = best), counting only workload/parameter pairs where every candidate has at least {MIN_RUNS} measured "
              f"runs. The ranking is redone on {N_BOOT} bootstrap resamples of the runs: the share of resamples a "
              "candidate comes first in is how sure the verdict is (95 % or more: a clear winner). Only candidates that "
              "ran everything their host's best-covered candidate ran compete.")
    for h in hosts:
        md += ["", best_configuration(h, rank_inputs[h], rng)]
    (out / "report.md").write_text("\n".join(md) + "\n")
    print(f"report: {out / 'report.md'}; figures: " + ", ".join(f"{n}.png/.svg" for n in made))


if __name__ == "__main__":
    main()
