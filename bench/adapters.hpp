// One adapter per allocator for the shared workloads (see workloads.hpp).
#pragma once

#include <varena/varena.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory_resource>

#include "baselines.hpp"

namespace bench {

struct NoCounters {
  void report(benchmark::State&) {}
};

// varena with default Options, reset after each batch. Reports the OS calls
// made after the first batch, per batch: the steady state.
struct VarenaAdapter {
  varena::Arena arena;
  std::size_t batches = 0;
  varena::Arena::Stats after_first{};

  explicit VarenaAdapter(std::size_t) {}
  void* alloc(std::size_t bytes) { return arena.push_uninit(bytes); }
  void end_batch(void**, std::size_t) {
    arena.reset();
    if (++batches == 1) after_first = arena.stats();
  }
  void report(benchmark::State& state) {
    const double later = batches > 1 ? static_cast<double>(batches - 1) : 1.0;
    state.counters["commits"] = static_cast<double>(arena.stats().commits - after_first.commits) / later;
    state.counters["decommits"] = static_cast<double>(arena.stats().decommits - after_first.decommits) / later;
  }
};

struct RawBumpAdapter : NoCounters {
  RawBump bump;
  explicit RawBumpAdapter(std::size_t capacity) : bump(capacity) {}
  void* alloc(std::size_t bytes) { return bump.push(bytes); }
  void end_batch(void**, std::size_t) { bump.reset(); }
};

struct ChunkAdapter : NoCounters {
  ChunkArena chunks;
  explicit ChunkAdapter(std::size_t) {}
  void* alloc(std::size_t bytes) { return chunks.push(bytes); }
  void end_batch(void**, std::size_t) { chunks.reset(); }
};

struct PmrMonotonicAdapter : NoCounters {
  std::pmr::monotonic_buffer_resource resource;
  explicit PmrMonotonicAdapter(std::size_t) {}
  void* alloc(std::size_t bytes) { return resource.allocate(bytes, 16); }
  void end_batch(void**, std::size_t) { resource.release(); }
};

// malloc/free, whichever malloc this executable links (glibc, or mimalloc
// when the executable links it: it then replaces malloc process-wide).
struct MallocAdapter : NoCounters {
  explicit MallocAdapter(std::size_t) {}
  void* alloc(std::size_t bytes) { return std::malloc(bytes); }
  void end_batch(void** ptrs, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) std::free(ptrs[i]);
  }
};

}  // namespace bench
