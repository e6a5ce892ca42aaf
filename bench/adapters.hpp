// One adapter per allocator for the push workloads (workloads.hpp). An
// adapter is built from the most memory one batch holds and has
//   void* alloc(std::size_t bytes, std::size_t align)   inline wherever the allocator allows
//   void reset()                                         free the whole batch
// RawLimit (baselines.hpp) runs its own loop instead, so that its pointer is
// a local variable.
#pragma once

#include <varena/varena.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory_resource>
#include <vector>

#if VARENA_BENCH_FOONATHAN
#include <foonathan/memory/memory_stack.hpp>
#endif
#if VARENA_BENCH_RAPIDJSON
#include <rapidjson/allocators.h>
#endif

#include "baselines.hpp"
#include "harness.hpp"

namespace bench {

// varena's commit and decommit calls: per batch while timed, and in all
// after the first batch (a frame loop should make none after its first frame).
struct ArenaProbe {
  const varena::Arena& arena;
  varena::Arena::Stats after_first{}, before{};
  void first() { after_first = arena.stats(); }
  void start() { before = arena.stats(); }
  void finish(benchmark::State& state) {
    const varena::Arena::Stats now = arena.stats();
    const double n = static_cast<double>(state.iterations());
    state.counters["commits"] = static_cast<double>(now.commits - before.commits) / n;
    state.counters["decommits"] = static_cast<double>(now.decommits - before.decommits) / n;
    state.counters["os_calls_after_first"] =
        static_cast<double>(now.commits - after_first.commits + now.decommits - after_first.decommits);
  }
};

// varena with default Options.
struct VarenaAdapter {
  varena::Arena arena;
  explicit VarenaAdapter(std::size_t) {}
  void* alloc(std::size_t bytes, std::size_t align) { return arena.push_uninit(bytes, align); }
  void reset() { arena.reset(); }
  ArenaProbe probe() const { return ArenaProbe{arena, {}, {}}; }
};

// varena through a Cursor (the README's advice for tight loops): the same
// pushes with the position in a register for the batch's loop. Runs its own
// loop, like RawLimit, so that the cursor is a local variable.
struct VarenaCursorAdapter {
  static constexpr bool kOwnLoop = true;
  varena::Arena arena;
  explicit VarenaCursorAdapter(std::size_t) {}
  template <std::size_t Align, class SizeOf>
  void batch(std::size_t n, SizeOf size_of) {
    {
      varena::Cursor cursor(arena);
      for (std::size_t i = 0; i < n; ++i) consume(cursor.push_uninit(size_of(i), Align), i);
    }
    arena.reset();
  }
  ArenaProbe probe() const { return ArenaProbe{arena, {}, {}}; }
};

struct RawInMemoryAdapter : RawInMemory {
  using RawInMemory::RawInMemory;
};

struct ChunkAdapter {
  ChunkArena chunks;
  explicit ChunkAdapter(std::size_t) {}
  void* alloc(std::size_t bytes, std::size_t align) { return chunks.push(bytes, align); }
  void reset() { chunks.reset(); }
};

// std::pmr's arena at its best: an initial buffer (mapped and touched up
// front) that holds the whole batch, so release() only rewinds into it.
struct PmrMonotonicAdapter {
  Buffer buffer;
  std::pmr::monotonic_buffer_resource resource;
  explicit PmrMonotonicAdapter(std::size_t capacity)
      : buffer(capacity), resource(buffer.data(), buffer.size(), std::pmr::new_delete_resource()) {}
  void* alloc(std::size_t bytes, std::size_t align) { return resource.allocate(bytes, align); }
  void reset() { resource.release(); }
};

// malloc/free, whichever malloc this executable links (glibc here;
// bench_mimalloc.cpp has mimalloc's). The pointers must be kept to be freed.
struct MallocAdapter {
  std::vector<void*> ptrs;
  std::size_t count = 0;
  explicit MallocAdapter(std::size_t) {}
  void reserve(std::size_t n) { ptrs.resize(n); }
  void* alloc(std::size_t bytes, std::size_t) {
    void* p = std::malloc(bytes);
    ptrs[count++] = p;
    return p;
  }
  void reset() {
    for (std::size_t i = 0; i < count; ++i) std::free(ptrs[i]);
    count = 0;
  }
};

#if VARENA_BENCH_FOONATHAN
// foonathan::memory's memory_stack with its default growing block allocator
// (heap blocks, 64 KiB first, doubling). Its virtual_block_allocator is not
// used: Debian's 0.7.2 decommits with a size in bytes where pages are
// expected. reset() unwinds to the first marker; the blocks stay cached.
struct FoonathanAdapter {
  foonathan::memory::memory_stack<> stack{64 * kKiB};
  foonathan::memory::memory_stack<>::marker start = stack.top();
  explicit FoonathanAdapter(std::size_t) {}
  void* alloc(std::size_t bytes, std::size_t align) { return stack.allocate(bytes, align); }
  void reset() { stack.unwind(start); }
};
#endif

#if VARENA_BENCH_RAPIDJSON
// RapidJSON's MemoryPoolAllocator as a general arena: Malloc is a bump
// (to 8-byte alignment, whatever is asked: it has no alignment parameter),
// Clear() the reset. Given a user buffer that holds the whole batch, which
// Clear() keeps, so a batch never goes to malloc: the pool at its best.
struct RapidJsonPoolAdapter {
  Buffer buffer;
  rapidjson::MemoryPoolAllocator<> pool;
  explicit RapidJsonPoolAdapter(std::size_t capacity) : buffer(capacity), pool(buffer.data(), buffer.size()) {}
  void* alloc(std::size_t bytes, std::size_t) { return pool.Malloc(bytes); }
  void reset() { pool.Clear(); }
};
#endif

}  // namespace bench
