// The churn workload of Pool<T>: a working set of live 64-byte objects where
// every operation frees one at random and allocates a replacement. An adapter
// has  void* alloc()  and  void free(void*).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "harness.hpp"

namespace bench {

struct Object64 {
  std::uint64_t words[8];
};

template <class Adapter>
void churn(benchmark::State& state) {
  constexpr std::size_t kLive = 10000, kOps = 1000;
  Adapter a;
  std::vector<void*> live(kLive);
  for (auto& p : live) {
    p = a.alloc();
    std::memset(p, 1, sizeof(Object64));
  }
  std::uint32_t x = 2463534242u;
  run_batches(state, kOps, [&] {
    for (std::size_t i = 0; i < kOps; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      void*& slot = live[x % kLive];
      a.free(slot);
      slot = a.alloc();
      consume(slot, i);
    }
    benchmark::ClobberMemory();
  });
  for (void* p : live) a.free(p);
}

}  // namespace bench
