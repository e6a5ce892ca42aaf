// The push workloads, written once over the adapters (adapters.hpp) so that
// every column runs exactly the same loop: get a block, write 8 bytes into
// it, and after the batch free everything in one step (or one free per block
// for malloc). No column has a compiler barrier inside its loop.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "adapters.hpp"
#include "baselines.hpp"
#include "harness.hpp"

namespace bench {

constexpr std::size_t kMixedPushes = 1000000;  // 10^6 pushes a batch
constexpr std::size_t kScopeOps = 10000;       // scopes a batch

// Sizes 8..1024, log-uniform (each power-of-two band equally likely), the
// same fixed sequence for every column: about 190 MB a batch.
inline const std::vector<std::uint16_t>& mixed_sizes() {
  static const std::vector<std::uint16_t> sizes = [] {
    std::vector<std::uint16_t> s(kMixedPushes);
    std::uint32_t x = 2463534242u;
    for (auto& size : s) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      const std::size_t shift = x % 8;  // 8 << 0..7 = 8..1024
      const std::size_t v = (std::size_t{8} << shift) - (x >> 20) % (std::size_t{4} << shift);
      size = static_cast<std::uint16_t>(v < 8 ? 8 : v);
    }
    return s;
  }();
  return sizes;
}

template <class A, class = void>
struct has_probe : std::false_type {};
template <class A>
struct has_probe<A, std::void_t<decltype(std::declval<const A&>().probe())>> : std::true_type {};
template <class A, class = void>
struct has_own_loop : std::false_type {};
template <class A>
struct has_own_loop<A, std::void_t<decltype(A::kOwnLoop)>> : std::true_type {};
template <class A, class = void>
struct has_reserve : std::false_type {};
template <class A>
struct has_reserve<A, std::void_t<decltype(std::declval<A&>().reserve(std::size_t{}))>> : std::true_type {};

// n pushes of size_of(i) bytes at Align, each written, then a reset.
template <class A, std::size_t Align, class SizeOf>
void push_batches(benchmark::State& state, std::size_t n, SizeOf size_of, Budget budget) {
  std::size_t capacity = 64 * kKiB;
  for (std::size_t i = 0; i < n; ++i) capacity += round_up(size_of(i), 16);
  A a(capacity);
  if constexpr (has_reserve<A>::value) a.reserve(n);
  auto batch = [&a, n, size_of] {
    // Local copies: the stores of a push (the 8-byte write, the allocator's
    // position) may alias the lambda's own copies of n and of the sizes'
    // address, which would then be reloaded on every push (a cost of the
    // harness, not of the allocator).
    const std::size_t count = n;
    const SizeOf size = size_of;
    if constexpr (has_own_loop<A>::value) {
      a.template batch<Align>(count, size);
    } else {
      for (std::size_t i = 0; i < count; ++i) consume(a.alloc(size(i), Align), i);
      a.reset();
    }
    benchmark::ClobberMemory();  // once a batch: the blocks' contents are observable
  };
  if constexpr (has_probe<A>::value)
    run_batches(state, n, batch, budget, a.probe());
  else
    run_batches(state, n, batch, budget);
}

// Fixed-size pushes (align 16) filling batch_bytes, then a reset.
template <class A, std::size_t Bytes>
void push_fixed(benchmark::State& state, std::size_t batch_bytes) {
  push_batches<A, 16>(state, batch_bytes / Bytes, [](std::size_t) { return Bytes; }, Budget{});
}

// The mixed sequence (align 8).
template <class A>
void push_mixed(benchmark::State& state) {
  const std::uint16_t* sizes = mixed_sizes().data();
  push_batches<A, 8>(state, kMixedPushes, [sizes](std::size_t i) { return std::size_t{sizes[i]}; }, Budget{});
}

// Which push rows a column takes part in.
enum Rows : unsigned { kCache = 1, kFrames = 2, kMixed = 4, kAllRows = 7 };

// Registers the push rows for one allocator column:
//   push 16/32/64 B           cache-resident: 1 MiB of pushes a batch
//   frame 16 MiB, 64 MiB      64 B pushes: past the caches, the commit policy's steady state
//   push 64 B x 128 MiB       bandwidth-bound: 128 MiB a batch
//   push 8-1024 B mixed       10^6 pushes of the mixed sequence, align 8
template <class A>
void register_push_rows(const std::string& column, unsigned rows = kAllRows) {
  auto reg = [&](const std::string& row, auto fn, std::size_t arg) {
    add_case(row + "/" + column, fn, arg);
  };
  if (rows & kCache) {
    reg("push 16 B", push_fixed<A, 16>, kMiB);
    reg("push 32 B", push_fixed<A, 32>, kMiB);
    reg("push 64 B", push_fixed<A, 64>, kMiB);
  }
  if (rows & kFrames) {
    reg("frame 16 MiB", push_fixed<A, 64>, 16 * kMiB);
    reg("frame 64 MiB", push_fixed<A, 64>, 64 * kMiB);
    reg("push 64 B x 128 MiB", push_fixed<A, 64>, 128 * kMiB);
  }
  if (rows & kMixed)
    add_case("push 8-1024 B mixed/" + column, push_mixed<A>);
}

// A batch of kScopeOps calls of op(i): the scope rows.
template <class Op>
void scope_batches(benchmark::State& state, Op op) {
  run_batches(state, kScopeOps, [&op] {
    // A local copy whose address never escapes, so that what op captured
    // (an arena's address) stays in a register across the arena's calls.
    Op local = op;
    for (std::size_t i = 0; i < kScopeOps; ++i) local(i);
    benchmark::ClobberMemory();
  });
}

// Scopes: a push of 64 B (written) between taking a mark and going back to
// it. The arena is not at position 0, as in real use.
inline void scope_varena(benchmark::State& state) {
  varena::Arena arena;
  arena.push(64);
  scope_batches(state, [&](std::size_t i) {
    varena::Scope scope(arena);
    consume(arena.push_uninit(64), i);
  });
}

// The limit: with the pointer in a register, mark, bump and restore fold
// away and only the write of the block is left.
inline void scope_raw(benchmark::State& state) {
  Buffer buffer(kHuge);
  char* const base = buffer.data() + 64;
  char* const end = buffer.data() + buffer.size();
  scope_batches(state, [base, end](std::size_t i) {
    char* p = base;
    char* const mark = p;
    if (64 > end - p) raw_overflow();
    char* q = p;
    p += 64;
    consume(q, i);
    p = mark;
  });
}

}  // namespace bench
