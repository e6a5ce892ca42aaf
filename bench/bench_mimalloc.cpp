// mimalloc's columns. A separate executable: linking mimalloc replaces malloc
// in the whole process, and every other column runs over the system's
// malloc (bench_varena.cpp). The raw limit and varena run here too, so that
// mimalloc's ratios are taken within one process.
#include <varena/varena.hpp>

#include <benchmark/benchmark.h>
#include <mimalloc.h>

#include <vector>

#include "adapters.hpp"
#include "baselines.hpp"
#include "churn.hpp"
#include "harness.hpp"
#include "json.hpp"
#include "team.hpp"
#include "workloads.hpp"

namespace bench {
namespace {

struct MiMallocAdapter {
  std::vector<void*> ptrs;
  std::size_t count = 0;
  explicit MiMallocAdapter(std::size_t) {}
  void reserve(std::size_t n) { ptrs.resize(n); }
  void* alloc(std::size_t bytes, std::size_t) {
    void* p = mi_malloc(bytes);
    ptrs[count++] = p;
    return p;
  }
  void reset() {
    for (std::size_t i = 0; i < count; ++i) mi_free(ptrs[i]);
    count = 0;
  }
};

// mimalloc's closest thing to an arena: a heap freed in one call. Its blocks
// of 16 bytes and more are 16-byte aligned, so no aligned variant is needed.
struct MiHeapAdapter {
  mi_heap_t* heap = mi_heap_new();
  explicit MiHeapAdapter(std::size_t) {}
  ~MiHeapAdapter() { mi_heap_destroy(heap); }
  MiHeapAdapter(const MiHeapAdapter&) = delete;
  MiHeapAdapter& operator=(const MiHeapAdapter&) = delete;
  void* alloc(std::size_t bytes, std::size_t) { return mi_heap_malloc(heap, bytes); }
  void reset() {
    mi_heap_destroy(heap);
    heap = mi_heap_new();
  }
};

struct MiMallocChurn {
  void* alloc() { return mi_malloc(sizeof(Object64)); }
  void free(void* p) { mi_free(p); }
};

struct PoolChurn {
  varena::Arena arena;
  varena::Pool<Object64> pool{arena};
  void* alloc() { return pool.allocate(); }
  void free(void* p) { pool.deallocate(p); }
};

void scope_mimalloc(benchmark::State& state) {
  scope_batches(state, [](std::size_t i) {
    void* p = mi_malloc(64);
    consume(p, i);
    mi_free(p);
  });
}

// Every thread mallocs its 32 B blocks (each written), then frees them.
template <unsigned Threads>
void team_mimalloc(benchmark::State& state) {
  std::vector<std::vector<void*>> blocks(Threads, std::vector<void*>(kTeamPushes));
  Team::run(
      state, Threads,
      [&](unsigned t) {
        void** mine = blocks[t].data();
        std::size_t i = 0;
        team_share([&] { return mine[i++] = mi_malloc(kTeamPushBytes); });
        for (std::size_t k = 0; k < kTeamPushes; ++k) mi_free(mine[k]);
      },
      [] {});
}

void register_all(bool fresh_process) {
  if (fresh_process) {
#if VARENA_BENCH_RAPIDJSON
    register_json("mimalloc", false, true);  // CrtAllocator: malloc is mimalloc in this process
#endif
    return;
  }
  register_push_rows<RawLimit>("raw limit");
  register_push_rows<VarenaAdapter>("varena");
  register_push_rows<MiMallocAdapter>("mimalloc");
  register_push_rows<MiHeapAdapter>("mi_heap");
  add_case("Scope + push 64 B + end/raw limit", scope_raw);
  add_case("Scope + push 64 B + end/varena", scope_varena);
  add_case("Scope + push 64 B + end/mimalloc", scope_mimalloc);
  add_case("Pool churn 64 B/varena", churn<PoolChurn>);
  add_case("Pool churn 64 B/mimalloc", churn<MiMallocChurn>);
  add_case("concurrent push 32 B, 1 thread/mimalloc", team_mimalloc<1>);
  add_case("concurrent push 32 B, 2 threads/mimalloc", team_mimalloc<2>);
#if VARENA_BENCH_RAPIDJSON
  register_json("mimalloc", false, false);
#endif
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) { return bench::bench_main(argc, argv, bench::register_all); }
