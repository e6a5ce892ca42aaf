// The comparison benchmark: varena against the raw bump, mimalloc (when
// built with it), std::pmr and a chained-chunk arena, in one process. The
// glibc malloc columns come from bench_glibc.cpp, a separate executable,
// because linking mimalloc replaces malloc in the whole process.
#include <varena/varena.hpp>

#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "adapters.hpp"
#include "churn.hpp"
#include "json.hpp"
#include "workloads.hpp"

#if VARENA_BENCH_MIMALLOC
#include <mimalloc.h>
#endif

namespace bench {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

struct PoolChurn {
  varena::Arena arena;
  varena::Pool<Object64> pool{arena};
  void* alloc() { return pool.allocate(); }
  void free(void* p) { pool.deallocate(p); }
};

#if VARENA_BENCH_MIMALLOC
struct MiMallocChurn {
  void* alloc() { return mi_malloc(sizeof(Object64)); }
  void free(void* p) { mi_free(p); }
};

struct MiMallocAdapter : NoCounters {
  explicit MiMallocAdapter(std::size_t) {}
  void* alloc(std::size_t bytes) { return mi_malloc(bytes); }
  void end_batch(void** ptrs, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) mi_free(ptrs[i]);
  }
};

// mimalloc's closest thing to an arena: a heap freed in one call.
struct MiHeapAdapter : NoCounters {
  mi_heap_t* heap = mi_heap_new();
  explicit MiHeapAdapter(std::size_t) {}
  ~MiHeapAdapter() { mi_heap_destroy(heap); }
  void* alloc(std::size_t bytes) { return mi_heap_malloc(heap, bytes); }
  void end_batch(void**, std::size_t) {
    mi_heap_destroy(heap);
    heap = mi_heap_new();
  }
};
#endif

template <class Adapter>
void register_allocator(const char* column) {
  const std::pair<const char*, std::size_t> small[] = {
      {"push 16 B", 16}, {"push 32 B", 32}, {"push 64 B", 64}, {"push 8-1024 B", 0}};
  for (const auto& [row, bytes] : small)
    benchmark::RegisterBenchmark((std::string(row) + "/" + column).c_str(), small_allocations<Adapter>, bytes);
  for (std::size_t mib : {1, 16, 64})
    benchmark::RegisterBenchmark(("frame " + std::to_string(mib) + " MiB/" + column).c_str(), frame_loop<Adapter>,
                                 mib);
}

// Workload 2: zeroed pushes. Fresh memory (never handed out) needs no
// memset, so push must cost what push_uninit costs there; reused memory
// costs the memset.
void zeroed_fresh(benchmark::State& state, bool zeroed) {
  varena::Options o;
  o.reserve = std::size_t{4} << 30;
  varena::Arena arena(o);
  for (auto _ : state) {
    if (arena.position() + kBatch * 64 > (std::size_t{1} << 30)) {
      state.PauseTiming();
      arena.reset();
      arena.trim();  // decommitted memory reads zero again: fresh
      state.ResumeTiming();
    }
    for (std::size_t i = 0; i < kBatch; ++i) {
      auto* p = static_cast<char*>(zeroed ? arena.push(64) : arena.push_uninit(64));
      p[0] = 1;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void zeroed_reused_varena(benchmark::State& state) {
  varena::Arena arena;
  std::memset(arena.push_uninit(kBatch * 64), 0xAB, kBatch * 64);
  arena.reset();
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) benchmark::DoNotOptimize(arena.push(64));
    arena.reset();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void zeroed_reused_raw(benchmark::State& state) {
  RawBump bump(2 * kMiB);
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      void* p = bump.push(64);
      std::memset(p, 0, 64);
      benchmark::DoNotOptimize(p);
    }
    bump.reset();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

// Workload 3: scopes and scratch.
void scope_push(benchmark::State& state, bool with_push) {
  varena::Arena arena;
  arena.push(64);
  for (auto _ : state) {
    varena::Scope scope(arena);
    if (with_push) benchmark::DoNotOptimize(arena.push_uninit(64));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void scope_push_raw(benchmark::State& state) {
  RawBump bump(kMiB);
  for (auto _ : state) {
    char* mark = bump.mark();
    benchmark::DoNotOptimize(bump.push(64));
    bump.restore(mark);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

void scratch_acquire(benchmark::State& state) {
  { varena::Scratch warm; }
  for (auto _ : state) {
    varena::Scratch scratch;
    benchmark::DoNotOptimize(&scratch.arena());
  }
  state.SetItemsProcessed(state.iterations());
}

// Workload 4: a cold fill: a new arena filled with 64-byte objects, each
// touched, against touching a plain mmap region (4 KiB pages) of the same size.
void cold_fill_varena(benchmark::State& state, std::size_t bytes) {
  std::size_t commits = 0;
  for (auto _ : state) {
    varena::Arena arena;
    for (std::size_t done = 0; done < bytes; done += 64) static_cast<char*>(arena.push_uninit(64))[0] = 1;
    commits = arena.stats().commits;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (bytes / 64)));
  state.counters["commits"] = static_cast<double>(commits);
}

void cold_fill_mmap(benchmark::State& state, std::size_t bytes) {
  for (auto _ : state) {
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      break;
    }
    char* p = static_cast<char*>(m);
    for (std::size_t i = 0; i < bytes; i += 64) p[i] = 1;
    benchmark::ClobberMemory();
    munmap(m, bytes);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (bytes / 64)));
}

// Workload 6: a growing array of ints, one push_back at a time.
constexpr std::size_t kGrowCount = 1000000;

void grow_extend(benchmark::State& state) {
  varena::Arena arena;
  for (auto _ : state) {
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
    benchmark::DoNotOptimize(data);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kGrowCount));
}

template <class Vector, class... Args>
void grow_vector(benchmark::State& state, Args&... args) {
  for (auto _ : state) {
    Vector v(args...);
    for (std::size_t i = 0; i < kGrowCount; ++i) v.push_back(static_cast<int>(i));
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kGrowCount));
}

void grow_allocator(benchmark::State& state) {
  varena::Arena arena;
  for (auto _ : state) {
    varena::Scope scope(arena);
    std::vector<int, varena::Allocator<int>> v{varena::Allocator<int>(arena)};
    for (std::size_t i = 0; i < kGrowCount; ++i) v.push_back(static_cast<int>(i));
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kGrowCount));
}

// Workload 7: every thread runs scratch scopes with a few pushes each.
void scratch_threads(benchmark::State& state) {
  for (auto _ : state) {
    varena::Scratch scratch;
    for (int i = 0; i < 8; ++i) {
      auto* p = static_cast<char*>(scratch->push_uninit(64));
      p[0] = static_cast<char>(i);
      benchmark::DoNotOptimize(p);
    }
  }
  state.SetItemsProcessed(state.iterations() * 8);
}

void register_all() {
  register_allocator<VarenaAdapter>("varena");
  register_allocator<RawBumpAdapter>("raw bump");
  register_allocator<ChunkAdapter>("chained chunks");
  register_allocator<PmrMonotonicAdapter>("pmr monotonic");
#if VARENA_BENCH_MIMALLOC
  register_allocator<MiMallocAdapter>("mimalloc");
  register_allocator<MiHeapAdapter>("mi_heap");
#endif

  benchmark::RegisterBenchmark("Pool churn 64 B/varena", churn<PoolChurn>);
#if VARENA_BENCH_MIMALLOC
  benchmark::RegisterBenchmark("Pool churn 64 B/mimalloc", churn<MiMallocChurn>);
#endif

  benchmark::RegisterBenchmark("zeroed 64 B fresh/varena", zeroed_fresh, true);
  benchmark::RegisterBenchmark("zeroed 64 B fresh/varena uninit", zeroed_fresh, false);
  benchmark::RegisterBenchmark("zeroed 64 B reused/varena", zeroed_reused_varena);
  benchmark::RegisterBenchmark("zeroed 64 B reused/raw bump", zeroed_reused_raw);

  benchmark::RegisterBenchmark("scope begin+end/varena", scope_push, false);
  benchmark::RegisterBenchmark("scope + push 64 B/varena", scope_push, true);
  benchmark::RegisterBenchmark("scope + push 64 B/raw bump", scope_push_raw);
  benchmark::RegisterBenchmark("scratch acquire+release/varena", scratch_acquire);

  for (std::size_t mib : {256, 1024}) {
    const std::string row = "cold fill " + std::to_string(mib) + " MiB/";
    benchmark::RegisterBenchmark((row + "varena").c_str(), cold_fill_varena, mib << 20)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((row + "mmap 4 KiB").c_str(), cold_fill_mmap, mib << 20)->Unit(benchmark::kMillisecond);
  }

  benchmark::RegisterBenchmark("grow array 1M ints/varena", grow_extend);
  benchmark::RegisterBenchmark("grow array 1M ints/std::vector", grow_vector<std::vector<int>>);
  benchmark::RegisterBenchmark("grow array 1M ints/varena Allocator", grow_allocator);

#if VARENA_BENCH_RAPIDJSON && VARENA_BENCH_MIMALLOC
  register_json("mimalloc", false);  // CrtAllocator: malloc is mimalloc in this process
#endif

  benchmark::RegisterBenchmark("scratch loop 1 thread/varena", scratch_threads)->Threads(1)->UseRealTime();
  benchmark::RegisterBenchmark("scratch loop 2 threads/varena", scratch_threads)->Threads(2)->UseRealTime();
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  bench::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
