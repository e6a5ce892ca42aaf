// The glibc malloc columns, and the Vector rows (std::vector over glibc
// malloc). A separate executable: the main benchmark links mimalloc, which
// replaces malloc in its whole process.
#include <benchmark/benchmark.h>

#include <string>

#include "adapters.hpp"
#include "churn.hpp"
#include "vectors.hpp"
#include "json.hpp"
#include "workloads.hpp"

namespace bench {
struct MallocChurn {
  void* alloc() { return std::malloc(sizeof(Object64)); }
  void free(void* p) { std::free(p); }
};
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  const std::pair<const char*, std::size_t> small[] = {
      {"push 16 B", 16}, {"push 32 B", 32}, {"push 64 B", 64}, {"push 8-1024 B", 0}};
  for (const auto& [row, bytes] : small)
    benchmark::RegisterBenchmark((std::string(row) + "/malloc").c_str(), small_allocations<MallocAdapter>, bytes);
  for (std::size_t mib : {1, 16, 64})
    benchmark::RegisterBenchmark(("frame " + std::to_string(mib) + " MiB/malloc").c_str(), frame_loop<MallocAdapter>,
                                 mib);
#if VARENA_BENCH_RAPIDJSON
  // First, in a fresh process: large frees (the vectors below) make glibc raise
  // its mmap and trim thresholds, after which it no longer gives freed memory
  // back, and RapidJSON's pool stops paying page faults (see the README).
  register_json("malloc", true);
#endif
  benchmark::RegisterBenchmark("Pool churn 64 B/malloc", churn<MallocChurn>);
  // std::vector over glibc malloc: what a user would otherwise have.
  register_vectors(true);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
