// The workloads of the comparison, written once over a small adapter per
// allocator so every column runs exactly the same loop. An adapter is built
// from the most memory the workload will hold at once and has
//   void* alloc(std::size_t bytes)
//   void end_batch(void** ptrs, std::size_t n)   free each pointer, or all in one step
//   void report(benchmark::State&)               extra counters, usually none
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

constexpr std::size_t kBatch = 1000;  // allocations between two bulk frees

// Sizes 8..1024 with small ones most common, the same sequence everywhere.
inline const std::vector<std::size_t>& mixed_sizes() {
  static const std::vector<std::size_t> sizes = [] {
    std::vector<std::size_t> s(kBatch);
    std::uint32_t x = 2463534242u;
    for (auto& size : s) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      const std::size_t shift = x % 8;              // 8 << 0..7 = 8..1024
      size = (std::size_t{8} << shift) - (x >> 20) % (std::size_t{4} << shift);
      if (size < 8) size = 8;
    }
    return s;
  }();
  return sizes;
}

// Workload 1: warm small allocations, `bytes` each (0: the mixed sizes).
template <class Adapter>
void small_allocations(benchmark::State& state, std::size_t bytes) {
  Adapter a(std::size_t{2} << 20);
  const auto& mixed = mixed_sizes();
  void* ptrs[kBatch];
  for (int warm = 0; warm < 3; ++warm) {  // commit / fault in what the loop will use
    for (std::size_t i = 0; i < kBatch; ++i) ptrs[i] = a.alloc(bytes != 0 ? bytes : mixed[i]);
    a.end_batch(ptrs, kBatch);
  }
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      ptrs[i] = a.alloc(bytes != 0 ? bytes : mixed[i]);
      benchmark::DoNotOptimize(ptrs[i]);
    }
    a.end_batch(ptrs, kBatch);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

// Workload 5: a frame loop: fill `mib` MiB with 64-byte objects (each
// touched), free them all, repeat. The steady state is timed: every column
// gets one untimed first frame. Counts OS calls where the adapter can.
template <class Adapter>
void frame_loop(benchmark::State& state, std::size_t mib) {
  Adapter a((mib + 1) << 20);
  const std::size_t objects = (mib << 20) / 64;
  std::vector<void*> ptrs(objects);
  auto frame = [&] {
    for (std::size_t i = 0; i < objects; ++i) {
      auto* p = static_cast<char*>(a.alloc(64));
      p[0] = static_cast<char>(i);
      ptrs[i] = p;
    }
    benchmark::ClobberMemory();
    a.end_batch(ptrs.data(), objects);
  };
  frame();  // the first frame commits and faults memory in: not the steady state measured
  for (auto _ : state) frame();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * objects));
  a.report(state);
}

}  // namespace bench
