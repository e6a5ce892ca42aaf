// The comparison benchmark: varena against the raw limit, foonathan/memory's
// memory_stack, RapidJSON's pool, std::pmr, a chained-chunk arena and glibc
// malloc, all in one process that uses the system's malloc. mimalloc's
// columns come from bench_mimalloc.cpp, a separate executable, because
// linking mimalloc replaces malloc in the whole process.
#include <varena/varena.hpp>

#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "adapters.hpp"
#include "baselines.hpp"
#include "churn.hpp"
#include "harness.hpp"
#include "json.hpp"
#include "persist.hpp"
#include "snapshot.hpp"
#include "team.hpp"
#include "vectors.hpp"
#include "workloads.hpp"

namespace bench {
namespace {

// ---------------------------------------------------------------------------
// Scopes (the rest are in workloads.hpp).

void scope_only_varena(benchmark::State& state) {
  varena::Arena arena;
  arena.push(64);
  scope_batches(state, [&](std::size_t) { varena::Scope scope(arena); });
}

// A scope that pushes two pages: with Options::protect its end makes them
// inaccessible and the next push opens them again (two syscalls a scope).
template <bool Protect>
void scope_pages(benchmark::State& state) {
  varena::Options options;
  options.protect = Protect;
  varena::Arena arena(options);
  arena.push(64);
  scope_batches(state, [&](std::size_t i) {
    varena::Scope scope(arena);
    char* p = static_cast<char*>(arena.push_uninit(8 * kKiB, 16));
    consume(p, i);
    consume(p + 4 * kKiB, i);
  });
}

// The same as scope_varena with a (no-op) restore hook installed, as a
// profiler would: every restore then goes out of line to report itself.
void scope_varena_hooked(benchmark::State& state) {
  varena::Hooks hooks;
  hooks.restore = [](void*, const varena::Arena&, std::size_t, std::size_t) {};
  const varena::Hooks previous = varena::set_hooks(hooks);
  scope_varena(state);
  varena::set_hooks(previous);
}

void restore_varena(benchmark::State& state) {
  varena::Arena arena;
  arena.push(64);
  scope_batches(state, [&](std::size_t i) {
    const std::size_t mark = arena.position();
    consume(arena.push_uninit(64), i);
    arena.restore(mark);
  });
}

#if VARENA_BENCH_FOONATHAN
void scope_foonathan(benchmark::State& state) {
  foonathan::memory::memory_stack<> stack(64 * kKiB);
  stack.allocate(64, 16);
  scope_batches(state, [&](std::size_t i) {
    foonathan::memory::memory_stack_raii_unwind<> scope(stack);
    consume(stack.allocate(64, 16), i);
  });
}

void restore_foonathan(benchmark::State& state) {
  foonathan::memory::memory_stack<> stack(64 * kKiB);
  stack.allocate(64, 16);
  scope_batches(state, [&](std::size_t i) {
    const auto mark = stack.top();
    consume(stack.allocate(64, 16), i);
    stack.unwind(mark);
  });
}
#endif

#if VARENA_BENCH_RAPIDJSON
// Clear() keeps a user buffer, so this is the pool's cheapest reset.
void scope_rapidjson(benchmark::State& state) {
  Buffer buffer(kHuge);
  rapidjson::MemoryPoolAllocator<> pool(buffer.data(), buffer.size());
  scope_batches(state, [&](std::size_t i) {
    consume(pool.Malloc(64), i);
    pool.Clear();
  });
}
#endif

void scope_pmr(benchmark::State& state) {
  Buffer buffer(kHuge);
  std::pmr::monotonic_buffer_resource resource(buffer.data(), buffer.size(), std::pmr::new_delete_resource());
  scope_batches(state, [&](std::size_t i) {
    consume(resource.allocate(64, 16), i);
    resource.release();
  });
}

void scope_malloc(benchmark::State& state) {
  scope_batches(state, [](std::size_t i) {
    void* p = std::malloc(64);
    consume(p, i);
    std::free(p);
  });
}

// ---------------------------------------------------------------------------
// Zeroed pushes. Fresh memory (never handed out: here an arena with
// retain = 0, so each reset decommits everything) needs no memset, so push
// must cost what push_uninit costs there; reused memory costs the memset.

template <bool Zeroed>
void zeroed_fresh(benchmark::State& state) {
  varena::Options o;
  o.retain = 0;
  o.keep_recent = false;
  varena::Arena arena(o);
  constexpr std::size_t n = 16 * kMiB / 64;
  run_batches(state, n, [&] {
    for (std::size_t i = 0; i < n; ++i) consume(Zeroed ? arena.push(64) : arena.push_uninit(64), i);
    arena.reset();
    benchmark::ClobberMemory();
  }, Budget{}, ArenaProbe{arena, {}, {}});
}

void zeroed_reused_varena(benchmark::State& state) {
  varena::Arena arena;
  constexpr std::size_t n = kMiB / 64;
  run_batches(state, n, [&] {
    for (std::size_t i = 0; i < n; ++i) consume(arena.push(64), i);
    arena.reset();
    benchmark::ClobberMemory();
  });
}

void zeroed_reused_raw(benchmark::State& state) {
  Buffer buffer(2 * kMiB);
  constexpr std::size_t n = kMiB / 64;
  run_batches(state, n, [&] {
    char* p = buffer.data();
    for (std::size_t i = 0; i < n; ++i) {
      char* q = p;
      p += 64;
      std::memset(q, 0, 64);
      consume(q, i);
    }
    benchmark::ClobberMemory();
  });
}

// ---------------------------------------------------------------------------
// Scratch arenas.

void scratch_acquire(benchmark::State& state) {
  scope_batches(state, [](std::size_t) {
    varena::Scratch scratch;
    keep(&scratch.arena());
  });
}

// Every thread runs scratch scopes with 8 pushes each.
void scratch_threads(benchmark::State& state) {
  constexpr std::size_t scopes = 1000;
  run_batches(state, scopes * 8, [] {
    for (std::size_t s = 0; s < scopes; ++s) {
      varena::Scratch scratch;
      for (std::size_t i = 0; i < 8; ++i) consume(scratch->push_uninit(64), i);
    }
    benchmark::ClobberMemory();
  });
}

// ---------------------------------------------------------------------------
// One arena, many threads: 32 B pushes from every thread into one
// ConcurrentArena, into one Arena behind a std::mutex, and (the reference,
// no sharing at all) into an Arena of each thread's own; reset between batches.

template <unsigned Threads>
void team_concurrent(benchmark::State& state) {
  varena::ConcurrentArena arena;
  Team::run(
      state, Threads, [&](unsigned) { team_share([&] { return arena.push_uninit(kTeamPushBytes, 16); }); },
      [&] { arena.reset(); });
}

template <unsigned Threads>
void team_private(benchmark::State& state) {
  std::vector<varena::Arena> arenas(Threads);
  Team::run(
      state, Threads,
      [&](unsigned t) {
        varena::Arena& arena = arenas[t];
        team_share([&] { return arena.push_uninit(kTeamPushBytes, 16); });
        arena.reset();
      },
      [] {});
}

template <unsigned Threads>
void team_mutex(benchmark::State& state) {
  varena::Arena arena;
  std::mutex lock;
  Team::run(
      state, Threads,
      [&](unsigned) {
        team_share([&] {
          std::lock_guard<std::mutex> hold(lock);
          return arena.push_uninit(kTeamPushBytes, 16);
        });
      },
      [&] { arena.reset(); });
}

// ---------------------------------------------------------------------------
// Cold fill: 256 MiB of 64 B pushes (each written) into memory the process
// never touched: a new arena each time, against a fresh mapping written by
// hand with a register pointer, 2 MiB-aligned with MADV_HUGEPAGE (the limit:
// what the kernel charges for huge-page faults) or with MADV_NOHUGEPAGE
// (4 KiB pages). Unmapping is timed in all three.

constexpr std::size_t kColdBytes = 256 * kMiB;

// A new arena filled with 64 B pushes, each written: plainly, or through a
// Cursor (the loop a user writes when the fill is the hot path).
template <bool WithCursor>
void cold_fill_varena(benchmark::State& state) {
  constexpr std::size_t n = kColdBytes / 64;
  double commits = 0;
  run_batches(state, n, [&] {
    varena::Arena arena;
    if constexpr (WithCursor) {
      varena::Cursor cursor(arena);
      for (std::size_t i = 0; i < n; ++i) consume(cursor.push_uninit(64), i);
    } else {
      for (std::size_t i = 0; i < n; ++i) consume(arena.push_uninit(64), i);
    }
    commits = static_cast<double>(arena.stats().commits);
  }, cold_budget());
  state.counters["commits"] = commits;
}

template <bool Huge>
void cold_fill_mmap(benchmark::State& state) {
  constexpr std::size_t n = kColdBytes / 64;
  constexpr std::size_t mapped = kColdBytes + (Huge ? kHuge : 0);
  run_batches(state, n, [&] {
    void* m = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) die("mmap failed");
    char* p = static_cast<char*>(m);
    if (Huge) p = reinterpret_cast<char*>(round_up(reinterpret_cast<std::uintptr_t>(p), kHuge));
    madvise(p, kColdBytes, Huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    for (std::size_t i = 0; i < n; ++i) {
      char* q = p;
      p += 64;
      consume(q, i);
    }
    benchmark::ClobberMemory();
    munmap(m, mapped);
  }, cold_budget());
}

// ---------------------------------------------------------------------------
// A growing array of ints, one push_back at a time.

constexpr std::size_t kGrowCount = 1000000;

void grow_extend(benchmark::State& state) {
  varena::Arena arena;
  run_batches(state, kGrowCount, [&] {
    varena::Scope scope(arena);
    std::size_t capacity = 16, size = 0;
    int* data = arena.push_array_uninit<int>(capacity);
    for (std::size_t i = 0; i < kGrowCount; ++i) {
      if (size == capacity) {
        if (!arena.extend(data, capacity * sizeof(int), 2 * capacity * sizeof(int))) {
          int* moved = arena.push_array_uninit<int>(2 * capacity);
          std::memcpy(moved, data, size * sizeof(int));
          data = moved;
        }
        capacity *= 2;
      }
      data[size++] = static_cast<int>(i);
    }
    keep(data);
    benchmark::ClobberMemory();
  });
}

void grow_vector(benchmark::State& state) {
  run_batches(state, kGrowCount, [] {
    std::vector<int> v;
    for (std::size_t i = 0; i < kGrowCount; ++i) v.push_back(static_cast<int>(i));
    keep(v.data());
    benchmark::ClobberMemory();
  });
}

void grow_allocator(benchmark::State& state) {
  varena::Arena arena;
  run_batches(state, kGrowCount, [&] {
    varena::Scope scope(arena);
    std::vector<int, varena::Allocator<int>> v{varena::Allocator<int>(arena)};
    for (std::size_t i = 0; i < kGrowCount; ++i) v.push_back(static_cast<int>(i));
    keep(v.data());
    benchmark::ClobberMemory();
  });
}

// ---------------------------------------------------------------------------
// Pool<T> churn (churn.hpp).

struct PoolChurn {
  varena::Arena arena;
  varena::Pool<Object64> pool{arena};
  void* alloc() { return pool.allocate(); }
  void free(void* p) { pool.deallocate(p); }
};

struct MallocChurn {
  void* alloc() { return std::malloc(sizeof(Object64)); }
  void free(void* p) { std::free(p); }
};

void register_all(bool fresh_process) {
  if (fresh_process) {
#if VARENA_BENCH_RAPIDJSON
    register_json("malloc", true, true);
#endif
    return;
  }
  register_push_rows<RawLimit>("raw limit");
  register_push_rows<RawInMemoryAdapter>("raw in memory", kCache | kMixed);
  register_push_rows<VarenaAdapter>("varena");
  register_push_rows<VarenaCursorAdapter>("varena cursor", kCache | kMixed);
#if VARENA_BENCH_FOONATHAN
  register_push_rows<FoonathanAdapter>("foonathan stack");
#endif
#if VARENA_BENCH_RAPIDJSON
  register_push_rows<RapidJsonPoolAdapter>("RapidJSON pool");
#endif
  register_push_rows<PmrMonotonicAdapter>("pmr monotonic");
  register_push_rows<ChunkAdapter>("chained chunks");
  register_push_rows<MallocAdapter>("malloc");

  add_case("Scope begin + end/varena", scope_only_varena);
  add_case("Scope + push 64 B + end/raw limit", scope_raw);
  add_case("Scope + push 64 B + end/varena", scope_varena);
  add_case("Scope + push 64 B + end/varena hooked", scope_varena_hooked);
#if VARENA_BENCH_FOONATHAN
  add_case("Scope + push 64 B + end/foonathan stack", scope_foonathan);
#endif
#if VARENA_BENCH_RAPIDJSON
  add_case("Scope + push 64 B + end/RapidJSON pool", scope_rapidjson);
#endif
  add_case("Scope + push 64 B + end/pmr monotonic", scope_pmr);
  add_case("Scope + push 64 B + end/malloc", scope_malloc);
  add_case("Scope + push 8 KiB + end/varena", scope_pages<false>);
  add_case("Scope + push 8 KiB + end/varena protect", scope_pages<true>);
  add_case("position + push 64 B + restore/raw limit", scope_raw);
  add_case("position + push 64 B + restore/varena", restore_varena);
#if VARENA_BENCH_FOONATHAN
  add_case("position + push 64 B + restore/foonathan stack", restore_foonathan);
#endif

  add_case("zeroed 64 B fresh/varena", zeroed_fresh<true>);
  add_case("zeroed 64 B fresh/varena uninit", zeroed_fresh<false>);
  add_case("zeroed 64 B reused/varena", zeroed_reused_varena);
  add_case("zeroed 64 B reused/raw limit", zeroed_reused_raw);

  add_case("scratch acquire+release/varena", scratch_acquire);
  add_case("scratch loop 1 thread/varena", scratch_threads)->Threads(1);
  add_case("scratch loop 2 threads/varena", scratch_threads)->Threads(2);

  add_case("concurrent push 32 B, 1 thread/varena", team_private<1>);
  add_case("concurrent push 32 B, 1 thread/varena concurrent", team_concurrent<1>);
  add_case("concurrent push 32 B, 1 thread/mutex Arena", team_mutex<1>);
  add_case("concurrent push 32 B, 2 threads/varena", team_private<2>);
  add_case("concurrent push 32 B, 2 threads/varena concurrent", team_concurrent<2>);
  add_case("concurrent push 32 B, 2 threads/mutex Arena", team_mutex<2>);

  const int fills = smoke() ? 1 : 3;
  add_case("cold fill 256 MiB/varena cursor", cold_fill_varena<true>)
      ->Unit(benchmark::kMillisecond)->Iterations(fills);
  add_case("cold fill 256 MiB/varena", cold_fill_varena<false>)
      ->Unit(benchmark::kMillisecond)->Iterations(fills);
  add_case("cold fill 256 MiB/mmap THP", cold_fill_mmap<true>)
      ->Unit(benchmark::kMillisecond)->Iterations(fills);
  add_case("cold fill 256 MiB/mmap 4 KiB", cold_fill_mmap<false>)
      ->Unit(benchmark::kMillisecond)->Iterations(fills);

  add_case("grow array 1M ints/varena", grow_extend);
  add_case("grow array 1M ints/std::vector", grow_vector);
  add_case("grow array 1M ints/varena Allocator", grow_allocator);

  add_case("Pool churn 64 B/varena", churn<PoolChurn>);
  add_case("Pool churn 64 B/malloc", churn<MallocChurn>);

#if VARENA_BENCH_RAPIDJSON
  register_json("malloc", true, false);
#endif
  register_vectors();
  register_persist();
  register_snapshots();
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) { return bench::bench_main(argc, argv, bench::register_all); }
