// What every case of the benchmark shares: how a block is consumed, how a
// case is warmed up until its time is stable, and what is counted while it is
// timed (page faults, so the table can say which figures include first-touch
// costs).
//
// A case runs "batches": one batch is a fixed amount of work (1 MiB of
// pushes then a reset, 10^4 scopes, one parse...). One Google Benchmark
// iteration is one batch, so per-iteration counters are per-batch counters.
#pragma once

#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace bench {

constexpr std::size_t kKiB = std::size_t{1} << 10;
constexpr std::size_t kMiB = std::size_t{1} << 20;

// VARENA_BENCH_SMOKE=1: CI only checks that every case still runs, so warm-up
// and the long cases are cut short.
inline bool smoke() {
  static const bool on = [] {
    const char* s = std::getenv("VARENA_BENCH_SMOKE");
    return s != nullptr && *s != '\0' && std::strcmp(s, "0") != 0;
  }();
  return on;
}

// Writes 8 bytes into a block, as every caller of an allocator does, and what
// every column of every row does with each block it gets ("same bytes
// written"). The empty asm makes the pointer's value unknown to the compiler,
// so stores to one address are not merged or sunk out of a loop and a loop
// of stores is not vectorised into something no allocator allows, all
// without a "memory" clobber: benchmark::DoNotOptimize has one, and inside a
// loop it forces every column's state (a register-resident bump pointer
// included) through memory on every push.
inline void consume(void* p, std::uint64_t value) noexcept {
  __asm__ __volatile__("" : "+r"(p));
  *static_cast<std::uint64_t*>(p) = value;
}

// Keeps a value alive without touching memory (same reason as above).
inline void keep(const void* p) noexcept { __asm__ __volatile__("" : : "r"(p)); }

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "varena bench: %s\n", what);
  std::abort();
}

// Page faults taken by this thread so far: a timed region that takes any
// pays first-touch (or refault) costs, whatever the allocator claims.
inline long page_faults() noexcept {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_minflt + u.ru_majflt;
}

// How long a case may warm up. Stable means: the fastest of the last
// `window` batches is within `tolerance` of the fastest of the `window`
// before (minima, because noise on a shared machine only ever adds time; a
// drift is what warm-up waits out).
struct Budget {
  int min_batches = 6;
  int max_batches = 4000;
  double max_seconds = 0.25;
  int window = 3;
  double tolerance = 0.03;
};

// For cases where every batch is by design as cold as the first (a fresh
// arena or mapping each time): one batch brings the process itself (code,
// allocator state) to its steady state.
inline Budget cold_budget() { return Budget{1, 1, 10.0, 1, 1.0}; }

struct Warm {
  int batches = 0;
  bool stable = false;
};

template <class Batch, class AfterFirst>
Warm warm_up(Batch& batch, Budget b, AfterFirst after_first) {
  using clock = std::chrono::steady_clock;
  if (smoke()) {
    b.max_batches = std::min(b.max_batches, 1);
    b.min_batches = std::min(b.min_batches, b.max_batches);
  }
  Warm w;
  std::vector<double> times;
  const auto start = clock::now();
  while (w.batches < b.max_batches) {
    const auto t0 = clock::now();
    batch();
    const auto t1 = clock::now();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
    if (++w.batches == 1) after_first();
    const std::size_t n = times.size(), k = static_cast<std::size_t>(b.window);
    if (w.batches >= b.min_batches && n >= 2 * k) {
      const double recent = *std::min_element(times.end() - static_cast<std::ptrdiff_t>(k), times.end());
      const double before = *std::min_element(times.end() - static_cast<std::ptrdiff_t>(2 * k),
                                              times.end() - static_cast<std::ptrdiff_t>(k));
      if (recent <= before * (1 + b.tolerance) && recent >= before * (1 - b.tolerance)) {
        w.stable = true;
        break;
      }
    }
    if (w.batches >= b.min_batches && std::chrono::duration<double>(t1 - start).count() > b.max_seconds) break;
  }
  if (b.window == 1 && w.batches >= b.min_batches) w.stable = true;  // cold cases: nothing to converge
  return w;
}

// Extra counters of a case (varena's OS calls): first() runs after the first
// batch, start() and finish() around the timed batches.
struct NoProbe {
  void first() {}
  void start() {}
  void finish(benchmark::State&) {}
};

// Runs a case: warm-up, then one batch per iteration, timed by Google
// Benchmark. `ops` is the number of operations (pushes, scopes, parses) in a
// batch: items_per_second gives the time per operation, the mean over the
// repetition's batches (amortised costs included). Each batch is also timed
// on its own (two clock reads, ~0.1% of the shortest batch) so that
// bench-results.json has each repetition's fastest and median batch too.
template <class Batch, class Probe = NoProbe>
void run_batches(benchmark::State& state, std::size_t ops, Batch&& batch, Budget budget = Budget{},
                 Probe&& probe = Probe{}) {
  const Warm w = warm_up(batch, budget, [&probe] { probe.first(); });
  probe.start();
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(state.max_iterations));
  const long faults_before = page_faults();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    batch();
    times.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  const long faults = page_faults() - faults_before;
  probe.finish(state);
  const double iterations = static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ops));
  // Averaged over threads: each thread of a threaded case reports its own.
  using C = benchmark::Counter;
  std::sort(times.begin(), times.end());
  state.counters["ops_per_batch"] = C(static_cast<double>(ops), C::kAvgThreads);
  state.counters["batch_min_ns"] = C(times.empty() ? 0 : times.front(), C::kAvgThreads);
  state.counters["batch_median_ns"] = C(times.empty() ? 0 : times[times.size() / 2], C::kAvgThreads);
  state.counters["faults_per_batch"] = C(static_cast<double>(faults) / iterations, C::kAvgThreads);
  state.counters["warmup_batches"] = C(w.batches, C::kAvgThreads);
  state.counters["stable"] = C(w.stable ? 1 : 0, C::kAvgThreads);
}

// Registers a case timed by the wall clock: on a virtual machine the host's
// share of a page fault never shows in the thread's CPU time, and which
// allocator pays first touches is part of what is measured.
template <class... Args>
benchmark::internal::Benchmark* add_case(const std::string& name, Args&&... args) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Args>(args)...)->UseRealTime();
}

// main() of each executable. `--fresh-process` registers only the cases
// meant to run first in a process of their own (report.py spawns one
// process per measurement, with a filter); otherwise everything else.
inline int bench_main(int argc, char** argv, void (*register_cases)(bool fresh_process)) {
  bool fresh = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--fresh-process") == 0)
      fresh = true;
    else
      args.push_back(argv[i]);
  }
  register_cases(fresh);
  int n = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace bench
