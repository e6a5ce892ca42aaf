#!/usr/bin/env python3
"""Runs the benchmark executables and prints one table: for each workload and
allocator the median time per operation over interleaved repetitions, its
spread (min-max), how many times the limit (a raw bump whose pointer stays in
a register, or the row's own reference) and how many times varena it takes,
and whether page faults were taken while timed. Then checks the targets of
issue 9 (and those of issue 3 that still apply), writes bench-results.json
and, with gnuplot, bench-chart.png."""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

SMOKE = os.environ.get("VARENA_BENCH_SMOKE", "") not in ("", "0")
SPREAD_FLAG = 0.10  # (max - min) / median above this: the row is flagged as noisy

# Families of rows (one chart panel each): key, title, how the rows are run, the rows.
FAMILIES = [
    ("cache", "Cache-resident pushes",
     "1 MiB of pushes a batch, reset between batches; align 16; 8 B written into each block",
     ["push 16 B", "push 32 B", "push 64 B"]),
    ("mixed", "Mixed sizes",
     "10^6 pushes a batch of 8-1024 B (one fixed pseudo-random sequence), align 8, 8 B written into each; reset between",
     ["push 8-1024 B mixed"]),
    ("frames", "Past the caches",
     "64 B pushes filling 16 or 64 MiB frames, or 128 MiB batches (bandwidth-bound); reset between",
     ["frame 16 MiB", "frame 64 MiB", "push 64 B x 128 MiB"]),
    ("scopes", "Scopes",
     "10^4 a batch: mark, push 64 B (written), back to the mark (RapidJSON: Malloc + Clear(); pmr: allocate + "
     "release(); malloc: malloc + free; hooked: a no-op restore hook installed); 8 KiB: two pages written, with Options::protect off and on",
     ["Scope begin + end", "Scope + push 64 B + end", "Scope + push 8 KiB + end", "position + push 64 B + restore"]),
    ("zeroed", "Zero-filled pushes",
     "64 B push() into fresh memory (16 MiB batches, arena with retain 0: every batch is decommitted) or into "
     "reused memory (1 MiB batches; the limit adds a memset)",
     ["zeroed 64 B fresh", "zeroed 64 B reused"]),
    ("scratch", "Scratch arenas",
     "acquire + release, 10^4 a batch; a loop of scratch scopes with 8 pushes of 64 B each, on 1 and 2 threads",
     ["scratch acquire+release", "scratch loop 1 thread", "scratch loop 2 threads"]),
    ("concurrent", "One arena, many threads",
     "1 MiB of 32 B pushes per thread a batch (8 B written into each), then a reset (mimalloc: free); ns per push of "
     "all threads together; varena: an Arena per thread, nothing shared (the reference)",
     ["concurrent push 32 B, 1 thread", "concurrent push 32 B, 2 threads"]),
    ("cold", "Cold fill",
     "256 MiB of 64 B pushes (each written) into memory this process never touched: a new arena each time; the "
     "limit writes the same bytes by hand into a fresh 2 MiB-aligned MADV_HUGEPAGE mapping",
     ["cold fill 256 MiB"]),
    ("json", "RapidJSON DOM parse",
     "a generated 10 MB document; steady state: many parses in one process, warmed up until stable; fresh "
     "process: the first 3 parses of a new process, one process per measurement",
     ["RapidJSON parse 10 MB", "RapidJSON parse 10 MB, fresh process"]),
    ("containers", "Containers and pools",
     "a growing array of 10^6 ints; Pool<T> churn (10^4 live 64 B objects, free one and allocate one); "
     "Vector<T> against std::vector, from empty",
     ["grow array 1M ints", "Pool churn 64 B", "Vector 10^8 ints", "Vector 10^7 records"]),
    ("persist", "After a restart",
     "a binary search tree of 10^6 nodes (10^4 in a smoke run), and a balanced one of 2^25-1 32-byte nodes, 1 GiB "
     "(2^14-1 in a smoke run): a MappedArena's file opened (in the page cache) and every node walked, against "
     "rebuilding the tree in an Arena from the same keys and walking it",
     ["tree 10^6 nodes after a restart", "tree 2^25-1 nodes (1 GiB) after a restart"]),
    ("snapshots", "Snapshots and rollback",
     "1 GiB in use (16 MiB in a smoke run), every page faulted in; a byte written in 1% of the pages (the same "
     "pseudo-random ones in every column); a batch: snapshot + dirty + rollback + drop, or dirty + rollback to a "
     "snapshot taken before timing (then one byte of every page read), or snapshot + drop; copy-on-write: "
     "Options::copy_on_write; copy: a plain arena (the snapshot is a copy into a new reservation); memcpy: the "
     "used range copied out to and back from a buffer faulted in before timing (the limit of a copy)",
     ["snapshot + 1% dirty + rollback 1 GiB", "1% dirty + rollback 1 GiB",
      "1% dirty + rollback + read every page 1 GiB", "snapshot alone 1 GiB"]),
]
ROW_ORDER = [r for f in FAMILIES for r in f[3]]
SNAPSHOT_ROWS = next(f[3] for f in FAMILIES if f[0] == "snapshots")
FAMILY_OF = {r: f[0] for f in FAMILIES for r in f[3]}

COLUMNS = ["raw limit", "raw in memory", "varena", "varena cursor", "varena concurrent", "mutex Arena", "varena protect", "varena hooked", "varena uninit", "foonathan stack", "RapidJSON pool",
           "pmr monotonic", "chained chunks", "malloc", "mimalloc", "mi_heap", "mmap THP", "mmap 4 KiB",
           "std::vector", "varena Allocator", "varena mapped", "varena copy-on-write", "varena copy", "memcpy"]
LABEL = {"raw limit": "raw limit (register)", "raw in memory": "raw, pointer in memory",
         "varena cursor": "varena Cursor", "varena concurrent": "varena ConcurrentArena",
         "mutex Arena": "Arena + std::mutex", "varena protect": "varena, protect on",
         "varena hooked": "varena, restore hook on",
         "foonathan stack": "foonathan memory_stack", "malloc": "glibc malloc",
         "mmap THP": "mmap + MADV_HUGEPAGE", "mmap 4 KiB": "mmap, 4 KiB pages",
         "varena copy": "varena copy (plain arena)", "memcpy": "memcpy (limit)"}
ROW_LABEL = {("RapidJSON parse 10 MB", "RapidJSON pool"): "MemoryPoolAllocator",
             ("RapidJSON parse 10 MB", "malloc"): "CrtAllocator (glibc)",
             ("RapidJSON parse 10 MB", "mimalloc"): "CrtAllocator (mimalloc)",
             ("zeroed 64 B reused", "raw limit"): "raw limit + memset",
             ("Pool churn 64 B", "varena"): "varena Pool",
             ("Vector 10^8 ints", "varena"): "varena::Vector",
             ("Vector 10^7 records", "varena"): "varena::Vector",
             ("grow array 1M ints", "varena"): "varena extend",
             ("tree 10^6 nodes after a restart", "varena"): "Arena: rebuild + walk",
             ("tree 10^6 nodes after a restart", "varena mapped"): "MappedArena: open + walk",
             ("tree 2^25-1 nodes (1 GiB) after a restart", "varena"): "Arena: rebuild + walk",
             ("tree 2^25-1 nodes (1 GiB) after a restart", "varena mapped"): "MappedArena: open + walk",
             ("1% dirty + rollback 1 GiB", "memcpy"): "memcpy back (limit)",
             ("1% dirty + rollback + read every page 1 GiB", "memcpy"): "memcpy back (limit)"}
for row in ("RapidJSON parse 10 MB, fresh process",):
    for col in ("RapidJSON pool", "malloc", "mimalloc"):
        ROW_LABEL[(row, col)] = ROW_LABEL[("RapidJSON parse 10 MB", col)]
ROW_LABEL.update({(r, "RapidJSON pool"): "RapidJSON pool (Clear)" for r in FAMILIES[3][3]})
ROW_LABEL.update({(r, "pmr monotonic"): "pmr monotonic (release)" for r in FAMILIES[3][3]})
# One colour per allocator, the same in every panel of the chart.
COLOURS = {"raw limit": "#303030", "raw in memory": "#a0a0a0", "varena": "#d62728", "varena uninit": "#ff9896",
           "varena cursor": "#7f0000",
           "foonathan stack": "#1f77b4", "RapidJSON pool": "#2ca02c", "pmr monotonic": "#9467bd",
           "chained chunks": "#8c564b", "malloc": "#e377c2", "mimalloc": "#ff7f0e", "mi_heap": "#bcbd22",
           "mmap THP": "#17becf", "mmap 4 KiB": "#393b79", "std::vector": "#e7ba52",
           "varena Allocator": "#843c39", "varena mapped": "#e6550d", "varena copy-on-write": "#d62728",
           "varena copy": "#ff9896", "memcpy": "#303030"}


def preferred_reference(row):
    """The column a row's ratios are taken against (its limit), or None."""
    if row.startswith("cold fill"):
        return "mmap THP"
    if row == "zeroed 64 B fresh":
        return "varena uninit"
    if FAMILY_OF.get(row) in ("cache", "mixed", "frames", "scopes") or row == "zeroed 64 B reused":
        return "raw limit"
    if row in SNAPSHOT_ROWS:
        return "memcpy"
    return None


def varena_column(row):
    """The column the x varena ratios are taken against."""
    return "varena copy-on-write" if row in SNAPSHOT_ROWS else "varena"


RESULTS = None


def reference(row):
    """The row's limit if it was measured, else None (then only x varena)."""
    ref = preferred_reference(row)
    if ref is not None and RESULTS is not None and RESULTS.get(row, ref)[1] is None:
        return None
    return ref


def label(row, col):
    return ROW_LABEL.get((row, col), LABEL.get(col, col))


def log(msg):
    print(msg, flush=True)


def run(args, out_json, log_path):
    with open(log_path, "a") as f:
        f.write("$ " + " ".join(args) + "\n")
        f.flush()
        subprocess.run(args + ["--benchmark_out=" + out_json, "--benchmark_out_format=json"],
                       stdout=f, stderr=subprocess.STDOUT, check=True)
    with open(out_json) as f:
        return json.load(f)


class Cell:
    def __init__(self):
        self.ns, self.faults, self.stable, self.warmup = [], [], [], []
        self.counters = {}

    def add(self, b):
        ips = b.get("items_per_second")
        if not ips:
            return
        self.ns.append(1e9 / ips)
        self.faults.append(b.get("faults_per_batch", 0.0))
        self.stable.append(b.get("stable", 1.0))
        self.warmup.append(b.get("warmup_batches", 0.0))
        for k in ("commits", "decommits", "os_calls_after_first"):
            if k in b:
                self.counters.setdefault(k, []).append(b[k])

    @property
    def median(self):
        return statistics.median(self.ns)

    @property
    def spread(self):
        return (max(self.ns) - min(self.ns)) / self.median if len(self.ns) > 1 else 0.0

    @property
    def noisy(self):
        return self.spread > SPREAD_FLAG

    @property
    def faults_per_batch(self):
        return statistics.median(self.faults) if self.faults else 0.0

    @property
    def first_touch(self):
        return self.faults_per_batch >= 1.0

    def as_json(self):
        return {"median_ns": self.median, "min_ns": min(self.ns), "max_ns": max(self.ns), "spread": self.spread,
                "ns": self.ns, "faults_per_batch": self.faults, "stable": self.stable, "warmup_batches": self.warmup,
                "counters": self.counters}


def collect(data, cells, process, errors):
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        name = b.get("run_name", b["name"])
        if b.get("error_occurred"):
            errors.append("%s: %s" % (name, b.get("error_message", "")))
            continue
        row, col = name.split("/")[:2]
        cells.setdefault((process, row, col), Cell()).add(b)


def fmt_time(ns):
    if ns >= 1e6:
        return "%.1f ms" % (ns / 1e6)
    if ns >= 1e4:
        return "%.1f us" % (ns / 1e3)
    if ns >= 100:
        return "%.0f ns" % ns
    return "%.2f ns" % ns


def fmt_range(lo, hi):
    if hi >= 1e6:
        return "%.1f-%.1f ms" % (lo / 1e6, hi / 1e6)
    if hi >= 1e4:
        return "%.1f-%.1f us" % (lo / 1e3, hi / 1e3)
    if hi >= 100:
        return "%.0f-%.0f ns" % (lo, hi)
    return "%.2f-%.2f" % (lo, hi)


class Results:
    """Cells by (process, row, column). The main process holds every column
    but mimalloc's; mimalloc's process has its own raw limit and varena, and
    its columns' ratios are taken against those."""

    def __init__(self, cells):
        self.cells = cells

    def get(self, row, col):
        for proc in ("main", "mimalloc", "fresh", "fresh-mimalloc"):
            if (proc, row, col) in self.cells:
                return proc, self.cells[(proc, row, col)]
        return None, None

    def sibling(self, proc, row, col):
        """The cell of `col` in the same process as a cell of `proc`, else the main one."""
        c = self.cells.get((proc, row, col))
        if c is None and proc == "fresh-mimalloc":
            c = self.cells.get(("fresh", row, col))
        return c if c is not None else self.get(row, col)[1]

    def columns(self, row):
        present = {col for (_, r, col) in self.cells if r == row}
        return [c for c in COLUMNS if c in present] + sorted(present - set(COLUMNS))

    def rows(self):
        present = {r for (_, r, _) in self.cells}
        return [r for r in ROW_ORDER if r in present] + sorted(present - set(ROW_ORDER))

    def ns(self, row, col):
        c = self.get(row, col)[1]
        return c.median if c else None

    def ratio(self, row, col, base):
        """col's median over base's median, in col's process when base ran there."""
        proc, c = self.get(row, col)
        if c is None:
            return None
        b = self.sibling(proc, row, base)
        return c.median / b.median if b else None

    def noisy(self, row, *cols):
        return any(self.get(row, c)[1] is not None and self.get(row, c)[1].noisy for c in cols)


def table(res):
    header = ["workload", "allocator", "median/op", "min-max", "spread", "x limit", "x varena", "faults/batch"]
    lines = []
    for key, title, how, rows in FAMILIES:
        rows = [r for r in rows if r in res.rows()]
        if not rows:
            continue
        lines.append(("title", "%s: %s" % (title, how)))
        for row in rows:
            ref = reference(row)
            first = True
            for col in res.columns(row):
                proc, c = res.get(row, col)
                x_lim = res.ratio(row, col, ref) if ref else None
                x_var = res.ratio(row, col, varena_column(row)) if col != varena_column(row) else None
                name = label(row, col) + (" *" if proc in ("mimalloc", "fresh-mimalloc") else "")
                faults = ""
                if c.faults_per_batch >= 0.01:
                    faults = ("%.0f" if c.faults_per_batch >= 10 else "%.2f") % c.faults_per_batch
                    if c.first_touch:
                        faults += " (first touch)"
                spread = "%.0f%%" % (100 * c.spread) + (" !" if c.noisy else "")
                if c.stable and min(c.stable) < 1 and not SMOKE:
                    spread += " ~"
                lines.append(("cell", [row if first else "", name, fmt_time(c.median),
                                       fmt_range(min(c.ns), max(c.ns)), spread,
                                       "%.2fx" % x_lim if x_lim is not None else "",
                                       "%.2fx" % x_var if x_var is not None else "", faults]))
                first = False
        lines.append(("blank", None))
    cells = [l[1] for l in lines if l[0] == "cell"]
    widths = [max(len(header[i]), *(len(r[i]) for r in cells)) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    for kind, value in lines:
        if kind == "title":
            out.append("== " + value)
        elif kind == "cell":
            out.append("  ".join(v.ljust(w) for v, w in zip(value, widths)).rstrip())
        else:
            out.append("")
    return "\n".join(out)


def targets(res):
    """(issue, description, measured, met)."""
    checks = []

    def add(issue, what, value, fmt, met, *noisy_cells):
        note = " (noisy: spread > 10%)" if noisy_cells and res.noisy(*noisy_cells) else ""
        checks.append((issue, what, (fmt % value) + note, met))

    for size in ("16", "32", "64"):
        row = "push %s B" % size
        r = res.ratio(row, "varena", "raw limit")
        if r is not None:
            add(9, "%s cache-resident: varena <= 1.5x the raw limit" % row, r, "%.2fx", r <= 1.5,
                row, "varena", "raw limit")
        r = res.ratio(row, "varena cursor", "raw limit")
        if r is not None:
            add(9, "%s cache-resident: varena Cursor <= 1.5x the raw limit" % row, r, "%.2fx", r <= 1.5,
                row, "varena cursor", "raw limit")
        r = res.ratio(row, "RapidJSON pool", "varena")
        if r is not None:
            add(9, "%s: varena faster than RapidJSON's pool (pool / varena > 1)" % row, r, "%.2fx", r > 1.0,
                row, "varena", "RapidJSON pool")
        r = res.ratio(row, "RapidJSON pool", "varena cursor")
        if r is not None:
            add(9, "%s: varena Cursor faster than RapidJSON's pool" % row, r, "%.2fx", r > 1.0,
                row, "varena cursor", "RapidJSON pool")
    for col, name in (("varena", "varena"), ("varena cursor", "varena Cursor")):
        r = res.ratio("push 8-1024 B mixed", col, "raw limit")
        if r is not None:
            add(9, "mixed 8-1024 B: %s <= 1.25x the raw limit" % name, r, "%.2fx", r <= 1.25,
                "push 8-1024 B mixed", col, "raw limit")
    row = "Scope + push 64 B + end"
    v = res.ns(row, "varena")
    if v is not None:
        add(9, "Scope begin + push + end <= 1.0 ns", v, "%.2f ns", v <= 1.0, row, "varena")
        for other, what in (("RapidJSON pool", "RapidJSON's Clear()"), ("pmr monotonic", "pmr's release()")):
            r = res.ratio(row, other, "varena")
            if r is not None:
                add(9, "Scope + push: varena faster than %s (%s / varena > 1)" % (what, other), r, "%.2fx",
                    r > 1.0, row, "varena", other)
    row = "cold fill 256 MiB"
    for col, name in (("varena", "varena"), ("varena cursor", "varena Cursor")):
        r = res.ratio(row, col, "mmap THP")
        if r is not None:
            add(9, "cold fill 256 MiB: %s <= 1.15x a hand-touched MADV_HUGEPAGE mapping" % name, r, "%.2fx",
                r <= 1.15, row, col, "mmap THP")
    r = res.ratio(row, "varena", "mmap 4 KiB")
    if r is not None:
        add(9, "cold fill 256 MiB: varena <= 0.1x 4 KiB pages", r, "%.3fx", r <= 0.1, row, "varena", "mmap 4 KiB")
    row = "RapidJSON parse 10 MB"
    for other, limit, what in (("RapidJSON pool", 1.1, "MemoryPoolAllocator"), ("malloc", 1.4, "CrtAllocator (glibc)")):
        r = res.ratio(row, other, "varena")
        if r is not None:
            add(9, "RapidJSON parse, steady state: varena >= %.1fx faster than %s" % (limit, what), r, "%.2fx",
                r >= limit, row, "varena", other)
    row = "push 64 B x 128 MiB"
    r = res.ratio(row, "varena", "raw limit")
    if r is not None:
        add(9, "bandwidth-bound push (128 MiB batches): varena <= 1.05x the raw limit", r, "%.2fx", r <= 1.05,
            row, "varena", "raw limit")
    for row in ("push 64 B", "frame 16 MiB", "frame 64 MiB", "push 64 B x 128 MiB"):
        proc, c = res.get(row, "varena")
        if c is not None and "os_calls_after_first" in c.counters:
            calls = max(c.counters["os_calls_after_first"])
            add(9, "%s frames (%s): no OS calls after the first frame" % (
                row, "1 MiB" if row == "push 64 B" else row.split()[-2] + " MiB"), calls,
                "%.0f commits + decommits after the first frame (worst repetition)", calls == 0)

    for size in ("16", "32", "64"):
        row = "push %s B" % size
        for other, limit in (("mi_heap", 2.0), ("malloc", 4.0)):
            r = res.ratio(row, other, "varena")
            if r is not None:
                add(3, "%s: %s >= %.1fx varena" % (row, label(row, other), limit), r, "%.2fx", r >= limit,
                    row, "varena", other)
    r = res.ratio("zeroed 64 B fresh", "varena", "varena uninit")
    if r is not None:
        add(3, "zeroed push of fresh memory costs no memset (push / push_uninit <= 1.15)", r, "%.2fx", r <= 1.15,
            "zeroed 64 B fresh", "varena", "varena uninit")
    r = res.ratio("zeroed 64 B reused", "varena", "raw limit")
    if r is not None:
        add(3, "zeroed push of reused memory <= 1.2x raw limit + memset", r, "%.2fx", r <= 1.2,
            "zeroed 64 B reused", "varena", "raw limit")
    for row, limit in (("Scope begin + end", 2.0), ("scratch acquire+release", 5.0)):
        v = res.ns(row, "varena")
        if v is not None:
            add(3, "%s <= %.0f ns" % (row, limit), v, "%.2f ns", v <= limit, row, "varena")
    one, two = res.ns("scratch loop 1 thread", "varena"), res.ns("scratch loop 2 threads", "varena")
    if one and two:
        add(3, "two threads with Scratch >= 1.8x one thread's throughput", one / two, "%.2fx", one / two >= 1.8,
            "scratch loop 1 thread", "varena")
    row = "RapidJSON parse 10 MB, fresh process"
    for other, limit in (("RapidJSON pool", 1.1), ("malloc", 2.0)):
        r = res.ratio(row, other, "varena")
        if r is not None:
            add(3, "RapidJSON parse, fresh process: %s >= %.1fx varena" % (label(row, other), limit), r, "%.2fx",
                r >= limit, row, "varena", other)
    for row, other in (("Pool churn 64 B", "mimalloc"), ("Pool churn 64 B", "malloc"),
                       ("Vector 10^8 ints", "std::vector"), ("Vector 10^7 records", "std::vector"),
                       ("grow array 1M ints", "std::vector")):
        r = res.ratio(row, other, "varena")
        if r is not None:
            add(3, "%s: %s / varena (informational, > 1: varena faster)" % (row, label(row, other)), r, "%.2fx",
                True)

    for row in SNAPSHOT_ROWS:
        for col, base in (("varena copy-on-write", "memcpy"), ("varena copy", "memcpy")):
            r = res.ratio(row, col, base)
            if r is not None:
                add(14, "%s: %s / %s" % (row, label(row, col), label(row, base)), r, "%.3fx", None, row, col, base)

    one, two = "concurrent push 32 B, 1 thread", "concurrent push 32 B, 2 threads"
    a, b = res.ns(one, "varena concurrent"), res.ns(two, "varena concurrent")
    if a and b:
        add(12, "ConcurrentArena: 2 threads >= 1.8x the throughput of one", a / b, "%.2fx", a / b >= 1.8,
            one, "varena concurrent")
    r = res.ratio(two, "mutex Arena", "varena concurrent")
    if r is not None:
        add(12, "ConcurrentArena, 2 threads: >= 3x faster than an Arena behind a std::mutex", r, "%.2fx", r >= 3.0,
            two, "varena concurrent", "mutex Arena")
    r = res.ratio(two, "mimalloc", "varena concurrent")
    if r is not None:
        add(12, "ConcurrentArena, 2 threads: faster than mi_malloc (+ free) on 2 threads", r, "%.2fx", r > 1.0,
            two, "varena concurrent", "mimalloc")
    r = res.ratio(one, "varena concurrent", "varena")
    if r is not None:
        add(12, "ConcurrentArena, 1 thread: <= 1.3x a plain Arena push", r, "%.2fx", r <= 1.3,
            one, "varena concurrent", "varena")
    return checks


def chart(res, out_dir):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("gnuplot not installed: no chart (Debian: apt-get install gnuplot-nox)")
        return None
    panels = []
    for key, title, _, rows in FAMILIES:
        rows = [r for r in rows if r in res.rows()]
        if not rows:
            continue
        refs = [reference(r) or "varena" for r in rows]
        main_ref = max(refs, key=lambda r: (refs.count(r), r != "varena"))
        data = os.path.join(out_dir, "bench-chart-%s.dat" % key)
        bars, xtics, x, cols_used, top, bottom = [], [], 0.0, [], 0.0, float("inf")
        for row in rows:
            ref = reference(row) or "varena"
            cols = [c for c in res.columns(row) if res.ratio(row, c, ref) is not None]
            start = x
            for col in cols:
                r = res.ratio(row, col, ref)
                bars.append((x, r, int(COLOURS.get(col, "#000000")[1:], 16), fmt_time(res.ns(row, col))))
                top, bottom = max(top, r), min(bottom, r)
                if col not in cols_used:
                    cols_used.append(col)
                x += 1
            name = row if ref == main_ref else "%s (x %s)" % (row, ref)
            xtics.append((name, (start + x - 1) / 2))
            x += 1.2
        with open(data, "w") as f:
            for bx, r, rgb, text in bars:
                f.write('%g %g %d "%s"\n' % (bx, r, rgb, text))
        panels.append((title, main_ref, data, xtics, [c for c in COLUMNS if c in cols_used], x - 1.2, top, bottom))
    n = len(panels)
    cols_n = 3
    rows_n = (n + cols_n - 1) // cols_n
    png = os.path.join(out_dir, "bench-chart.png")
    script = ['set terminal pngcairo size %d,%d font ",9" noenhanced' % (cols_n * 640, rows_n * 520),
              "set output '%s'" % png,
              'set multiplot layout %d,%d title "varena benchmark: time per operation as a multiple of the '
              'row\'s limit (lower is better); ns or ms per operation above each bar"' % (rows_n, cols_n),
              "set style fill solid 0.9 border rgb '#202020'", "set boxwidth 0.85", "set grid ytics",
              "set key below horizontal font ',8' samplen 1 spacing 0.9 width 2 maxrows 3", "set xtics font ',8'"]
    for title, main_ref, data, xtics, cols, xmax, top, bottom in panels:
        log_scale = top / max(bottom, 1e-9) > 12
        script.append('set title "%s"' % title)
        script.append('set ylabel "x %s"' % main_ref)
        script.append("set xrange [-0.8:%g]" % (xmax + 0.8))
        # A tic's label is a format for its value: a '%' in a row's name is written '%%'.
        script.append("set xtics (%s) rotate by -15" % ", ".join('"%s" %g' % (n_.replace("%", "%%"), p)
                                                                 for n_, p in xtics))
        if log_scale:
            script.append("set logscale y")
            script.append("set yrange [%g:%g]" % (min(bottom, 1.0) / 1.5, top * 8))
        else:
            script.append("unset logscale y")
            script.append("set yrange [0:%g]" % (top * 1.35))
        dummies = ", ".join("NaN with boxes lc rgb '%s' title '%s'" % (COLOURS.get(c, "#000000"), LABEL.get(c, c))
                            for c in cols)
        script.append("plot '%s' using 1:2:3 with boxes lc rgb variable notitle, "
                      "'' using 1:2:4 with labels rotate by 90 left offset 0,0.4 font ',7' notitle, %s"
                      % (data, dummies))
    script.append("unset multiplot")
    subprocess.run([gnuplot], input="\n".join(script) + "\n", text=True, check=True)
    return png


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", required=True)
    p.add_argument("--mimalloc")
    p.add_argument("--out", required=True)
    p.add_argument("--missing", default="")
    p.add_argument("--docs", help="copy the chart here too (default: docs/ of the source tree)")
    a = p.parse_args()
    smoke = SMOKE
    # Repetitions interleaved at random (Google Benchmark's random
    # interleaving), so slow drifts of a shared machine spread over every
    # case instead of landing on a few; the median is reported with its range.
    reps, min_time, fresh_runs = (1, 0.002, 1) if smoke else (5, 0.05, 5)
    started = time.time()
    load_before = os.getloadavg()[0]
    log_path = os.path.join(a.out, "bench.log")
    open(log_path, "w").close()
    log("varena comparison benchmark%s: %d interleaved repetitions per case, %d fresh processes per parse"
        % (" (smoke run: VARENA_BENCH_SMOKE is set, figures not meaningful)" if smoke else "", reps, fresh_runs))
    common = ["--benchmark_repetitions=%d" % reps, "--benchmark_enable_random_interleaving=true",
              "--benchmark_min_time=%g" % min_time]
    cells, raw, errors = {}, {}, []
    exes = [("main", a.bench)] + ([("mimalloc", a.mimalloc)] if a.mimalloc else [])
    for name, exe in exes:
        log("  running %s ..." % os.path.basename(exe))
        data = run([exe] + common, os.path.join(a.out, "bench-%s.json" % name), log_path)
        collect(data, cells, name, errors)
        raw[name] = data

    # The first parses of a new process, one process per figure, the
    # allocators taking turns.
    fresh_cols = [("fresh", a.bench, c) for c in ("varena", "RapidJSON pool", "malloc")]
    if a.mimalloc:
        fresh_cols.append(("fresh-mimalloc", a.mimalloc, "mimalloc"))
    log("  running the fresh-process parses ...")
    raw["fresh"] = []
    for i in range(fresh_runs):
        for proc, exe, col in fresh_cols:
            data = run([exe, "--fresh-process", "--benchmark_repetitions=1",
                        "--benchmark_filter=^RapidJSON parse 10 MB, fresh process/%s(/|$)" % col],
                       os.path.join(a.out, "bench-fresh.json"), log_path)
            collect(data, cells, proc, errors)
            raw["fresh"].append(data)
    global RESULTS
    res = RESULTS = Results(cells)
    elapsed = time.time() - started
    load_after = os.getloadavg()[0]

    context = raw["main"].get("context", {})
    log("")
    log("Median of %d interleaved repetitions (fresh process: of %d processes); min-max over them; spread = "
        "(max - min) / median, '!' above %d%%; '~': in some repetition warm-up hit its time budget before the "
        "batch time settled." % (reps, fresh_runs, 100 * SPREAD_FLAG))
    log("x limit: the row's median over its limit's (the raw limit: the same loop with the bump pointer in a "
        "register; cold fill: the MADV_HUGEPAGE mapping; zeroed fresh: push_uninit; snapshots: memcpy). x varena: "
        "over varena's (snapshots: varena copy-on-write's).")
    log("faults/batch: page faults taken while timed (median per batch); '(first touch)': the figure includes "
        "first-touch costs. * : measured in the mimalloc process, ratios against that process's own limit and "
        "varena.")
    log("Columns: raw limit = the same loop with the bump pointer in a local variable (a register), over "
        "memory touched up front; raw, pointer in memory = that bump with its pointer in an object whose address "
        "escapes, as an arena's does (memory-resident: not a limit); foonathan memory_stack = default growing "
        "heap blocks, unwind() as reset; RapidJSON pool = MemoryPoolAllocator over a user buffer holding the "
        "batch (it aligns to 8 only), Clear() as reset; pmr monotonic = monotonic_buffer_resource with an "
        "initial buffer holding the batch, release() as reset; chained chunks = 64 KiB malloc'd chunks; glibc "
        "malloc = malloc + free per block; mimalloc = mi_malloc + mi_free, mi_heap = mi_heap_malloc + "
        "mi_heap_destroy.")
    log("Machine load (1-minute average) before / after the run: %.2f / %.2f on %s CPUs: anything else running "
        "competes with the benchmark and widens the spreads." % (load_before, load_after, os.cpu_count()))
    log("")
    log(table(res))
    flagged = sum(1 for c in cells.values() if c.noisy)
    log("")
    log("%d of %d figures have a spread above %d%%. On a shared virtual machine the same loop's time drifts by 2-4x "
        "over hundreds of milliseconds. Medians of interleaved repetitions are steadier (mostly within 10-25%% from "
        "one quiet run to the next here), but a ratio close to a target's threshold is within the noise."
        % (flagged, len(cells), 100 * SPREAD_FLAG))
    for row in ("push 64 B", "frame 16 MiB", "frame 64 MiB", "push 64 B x 128 MiB", "zeroed 64 B fresh",
                "cold fill 256 MiB"):
        c = res.get(row, "varena")[1]
        if c is not None and c.counters:
            log("%s, varena OS calls per %s (median): %s" % (
                row, "fill" if row.startswith("cold") else "timed batch",
                ", ".join("%s %.2f" % (k, statistics.median(v)) for k, v in c.counters.items()
                          if k != "os_calls_after_first")))
    checks = targets(res)
    for issue in (9, 12, 3):
        mine = [c for c in checks if c[0] == issue]
        log("")
        log("issue-%d targets: %d met, %d missed%s" % (
            issue, sum(1 for c in mine if c[3]), sum(1 for c in mine if not c[3]),
            " (smoke run: figures not meaningful)" if smoke else ""))
        for _, what, measured, met in mine:
            log("  [%s] %s: %s" % ("met" if met else "MISSED", what, measured))
    mine = [c for c in checks if c[0] == 14]
    if mine:
        log("")
        log("issue-14 ratios, no targets set (< 1: faster than memcpy of the used range)%s"
            % (" (smoke run: figures not meaningful)" if smoke else ""))
        for _, what, measured, _ in mine:
            log("  %s: %s" % (what, measured))
    if errors:
        log("")
        log("errors: " + "; ".join(errors))
    if a.missing.strip():
        log("")
        missing = [m for m in a.missing.replace(";", ",").split(",") if m]
        log("columns skipped: %s not installed (Debian: apt-get install %s)" % (", ".join(missing), " ".join(missing)))

    merged = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
              "cpus": context.get("num_cpus"), "mhz": context.get("mhz_per_cpu"), "smoke": smoke,
              "repetitions": reps, "min_time": min_time, "fresh_processes": fresh_runs,
              "seconds": round(elapsed, 1), "load_before": load_before, "load_after": load_after,
              "cells": [dict(process=pr, row=r, column=c, x_limit=res.ratio(r, c, reference(r)) if reference(r) else None,
                             x_varena=res.ratio(r, c, varena_column(r)), **cell.as_json())
                        for (pr, r, c), cell in sorted(cells.items())],
              "targets": [{"issue": i, "target": w, "measured": m, "met": ok} for i, w, m, ok in checks],
              "raw": raw}
    out = os.path.join(a.out, "bench-results.json")
    with open(out, "w") as f:
        json.dump(merged, f, indent=1)
    log("")
    log("results: " + out)
    png = chart(res, a.out)
    if png and smoke:
        log("chart: %s (a smoke run's: not copied to docs/)" % png)
    elif png:
        docs = a.docs or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")
        os.makedirs(docs, exist_ok=True)
        shutil.copy(png, os.path.join(docs, "bench-chart.png"))
        log("chart: %s (copied to %s)" % (png, os.path.join(docs, "bench-chart.png")))
    log("benchmark run time: %.0f s" % elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
