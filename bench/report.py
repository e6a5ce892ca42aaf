#!/usr/bin/env python3
"""Runs the benchmark executables and prints one table: workload x allocator,
time per operation and how many times slower than varena. Writes the merged
results as JSON and, when gnuplot is installed, a chart."""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys

COLUMNS = ["varena", "varena uninit", "raw bump", "malloc", "mimalloc", "mi_heap", "pmr monotonic",
           "chained chunks", "RapidJSON pool", "std::vector", "varena Allocator", "mmap 4 KiB"]
SHORT = {"varena uninit": "uninit", "pmr monotonic": "pmr mono", "chained chunks": "chunks",
         "RapidJSON pool": "RJ pool", "varena Allocator": "Allocator", "std::vector": "vector",
         "mmap 4 KiB": "mmap 4K"}


def run(executable, out_json, smoke, log):
    args = [executable, "--benchmark_out=" + out_json, "--benchmark_out_format=json"]
    if smoke:
        args += ["--benchmark_min_time=0.01"]
    else:
        args += ["--benchmark_min_time=0.1", "--benchmark_repetitions=3"]
    print("  running " + os.path.basename(executable) + " ...", flush=True)
    with open(log, "w") as f:
        subprocess.run(args, stdout=f, stderr=subprocess.STDOUT, check=True)
    with open(out_json) as f:
        return json.load(f)


def collect(data, results, counters):
    """results[row][column] = ns per operation, the best of the repetitions
    (noise on a shared machine only ever adds time); counters[row][column] =
    {name: value} of that repetition."""
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            print("  error in " + b["name"] + ": " + b.get("error_message", ""))
            continue
        if b.get("run_type") == "aggregate":
            continue
        row, column = b.get("run_name", b["name"]).split("/")[:2]
        ips = b.get("items_per_second")
        if not ips:
            continue
        ns = 1e9 / ips
        if ns < results.get(row, {}).get(column, float("inf")):
            results.setdefault(row, {})[column] = ns
            extra = {k: b[k] for k in ("commits", "decommits") if k in b}
            if extra:
                counters.setdefault(row, {})[column] = extra


def fmt_time(ns):
    if ns >= 1e6:
        return "%.1f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.1f us" % (ns / 1e3)
    if ns >= 100:
        return "%.0f ns" % ns
    return "%.2f ns" % ns


def table(results):
    columns = [c for c in COLUMNS if any(c in r for r in results.values())]
    cells = []
    for row, values in results.items():
        base = values.get("varena")
        line = [row]
        for c in columns:
            if c not in values:
                line.append("")
            elif c == "varena" or not base:
                line.append(fmt_time(values[c]))
            else:
                line.append("%s %.2fx" % (fmt_time(values[c]), values[c] / base))
        cells.append(line)
    header = ["workload (time per op; x = vs varena)"] + [SHORT.get(c, c) for c in columns]
    widths = [max(len(header[i]), *(len(r[i]) for r in cells)) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(out)


def targets(results, counters):
    """The targets of issue 3: (description, measured, met)."""
    checks = []

    def ratio(row, a, b):
        r = results.get(row, {})
        return r[a] / r[b] if a in r and b in r else None

    for size in ("16", "32", "64"):
        row = "push %s B" % size
        for other, limit, sense in (("raw bump", 1.2, "le"), ("mi_heap", 2.0, "ge"), ("malloc", 4.0, "ge")):
            r = ratio(row, "varena", other) if sense == "le" else ratio(row, other, "varena")
            if r is None:
                continue
            what = ("%s: varena <= %.1fx raw bump" % (row, limit) if sense == "le"
                    else "%s: %s >= %.1fx varena" % (row, other, limit))
            checks.append((what, "%.2fx" % r, r <= limit if sense == "le" else r >= limit))
    r = ratio("zeroed 64 B fresh", "varena", "varena uninit")
    if r is not None:
        checks.append(("zeroed push of fresh memory costs no memset (push / push_uninit <= 1.15)", "%.2fx" % r,
                       r <= 1.15))
    r = ratio("zeroed 64 B reused", "varena", "raw bump")
    if r is not None:
        checks.append(("zeroed push of reused memory <= raw bump + memset x 1.2", "%.2fx" % r, r <= 1.2))
    for row, limit in (("scope begin+end", 2.0), ("scratch acquire+release", 5.0)):
        v = results.get(row, {}).get("varena")
        if v is not None:
            checks.append(("%s <= %.0f ns" % (row, limit), fmt_time(v), v <= limit))
    for row in ("cold fill 256 MiB", "cold fill 1024 MiB"):
        r = ratio(row, "varena", "mmap 4 KiB")
        if r is not None:
            checks.append(("%s: varena <= 0.35x touching mmap 4 KiB pages" % row, "%.2fx" % r, r <= 0.35))
    for row in ("frame 1 MiB", "frame 16 MiB", "frame 64 MiB"):
        c = counters.get(row, {}).get("varena")
        if c is not None:
            calls = c.get("commits", 0) + c.get("decommits", 0)
            checks.append(("%s: no syscalls per frame after the first" % row,
                           "%.2f commits + %.2f decommits" % (c.get("commits", 0), c.get("decommits", 0)),
                           calls == 0))
    for other, limit in (("RapidJSON pool", 1.1), ("malloc", 2.0)):
        r = ratio("RapidJSON parse 10 MB", other, "varena")
        if r is not None:
            checks.append(("RapidJSON parse: %s >= %.1fx varena" % (other, limit), "%.2fx" % r, r >= limit))
    for row in ("Pool churn 64 B",):
        for other in ("mimalloc", "malloc"):
            r = ratio(row, other, "varena")
            if r is not None:
                checks.append(("%s: %s / varena Pool (informational, > 1 = Pool faster)" % (row, other),
                               "%.2fx" % r, True))
    for row in ("Vector 10^8 ints", "Vector 10^7 records"):
        r = ratio(row, "std::vector", "varena")
        if r is not None:
            checks.append(("%s: std::vector / varena::Vector (informational)" % row, "%.2fx" % r, True))
    one = results.get("scratch loop 1 thread", {}).get("varena")
    two = results.get("scratch loop 2 threads", {}).get("varena")
    if one and two:
        scaling = one / two
        checks.append(("two threads with Scratch >= 1.8x one thread's throughput", "%.2fx" % scaling,
                       scaling >= 1.8))
    return checks


def chart(results, out_dir):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("gnuplot not installed: no chart (Debian: apt-get install gnuplot-nox)")
        return
    columns = [c for c in COLUMNS if c != "varena" and any(c in r for r in results.values())]
    data = os.path.join(out_dir, "bench-chart.dat")
    with open(data, "w") as f:
        f.write("workload " + " ".join('"%s"' % c for c in columns) + "\n")
        for row, values in results.items():
            base = values.get("varena")
            f.write('"%s" ' % row + " ".join(
                "%.4f" % (values[c] / base) if base and c in values else "NaN" for c in columns) + "\n")
    png = os.path.join(out_dir, "bench-chart.png")
    script = """set terminal png size 1600,900 font ",10" noenhanced
set output '%s'
set title "Time per operation relative to varena (1 = as fast as varena, higher = slower; log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.05:*]
set xtics rotate by -35
set key outside right
set grid ytics
plot for [i=2:%d] '%s' using i:xtic(1) title columnhead(i)
""" % (png, len(columns) + 1, data)
    subprocess.run([gnuplot], input=script, text=True, check=True)
    print("chart: " + png)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", required=True)
    p.add_argument("--glibc", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--missing", default="")
    a = p.parse_args()
    smoke = os.environ.get("VARENA_BENCH_SMOKE", "") not in ("", "0")
    results, counters, raw = {}, {}, {}
    print("varena comparison benchmark%s" % (" (smoke run: VARENA_BENCH_SMOKE is set)" if smoke else ""))
    for exe, name in ((a.glibc, "glibc"), (a.bench, "main")):
        data = run(exe, os.path.join(a.out, "bench-%s.json" % name), smoke,
                   os.path.join(a.out, "bench-%s.log" % name))
        collect(data, results, counters)
        raw[name] = data
    order = {r: i for i, r in enumerate([
        "push 16 B", "push 32 B", "push 64 B", "push 8-1024 B", "zeroed 64 B fresh", "zeroed 64 B reused",
        "scope begin+end", "scope + push 64 B", "scratch acquire+release", "cold fill 256 MiB",
        "cold fill 1024 MiB", "frame 1 MiB", "frame 16 MiB", "frame 64 MiB", "grow array 1M ints",
        "scratch loop 1 thread", "scratch loop 2 threads", "RapidJSON parse 10 MB", "Pool churn 64 B",
        "Vector 10^8 ints", "Vector 10^7 records"])}
    results = dict(sorted(results.items(), key=lambda kv: order.get(kv[0], len(order))))

    context = raw["main"].get("context", {})
    print()
    print(table(results))
    print()
    for row in ("frame 1 MiB", "frame 16 MiB", "frame 64 MiB", "cold fill 256 MiB", "cold fill 1024 MiB"):
        c = counters.get(row, {}).get("varena")
        if c:
            print("%s, varena OS calls per iteration%s: %s" % (
                row, " after the first" if row.startswith("frame") else "",
                ", ".join("%s %.2f" % (k, v) for k, v in c.items())))
    checks = targets(results, counters)
    print()
    print("issue-3 targets: %d met, %d missed%s" % (
        sum(1 for c in checks if c[2]), sum(1 for c in checks if not c[2]),
        " (smoke run: figures not meaningful)" if smoke else ""))
    for what, measured, met in checks:
        print("  [%s] %s: %s" % ("met" if met else "MISSED", what, measured))
    if a.missing.strip():
        print()
        print("columns skipped: %s not installed (Debian: apt-get install %s)" % (
            a.missing.replace(";", ", "), a.missing.replace(";", " ")))

    merged = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
              "host": platform.node(), "cpus": context.get("num_cpus"), "mhz": context.get("mhz_per_cpu"),
              "smoke": smoke, "ns_per_op": results, "counters": counters,
              "targets": [{"target": w, "measured": m, "met": ok} for w, m, ok in checks], "raw": raw}
    out = os.path.join(a.out, "bench-results.json")
    with open(out, "w") as f:
        json.dump(merged, f, indent=1)
    print()
    print("results: " + out)
    chart(results, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
