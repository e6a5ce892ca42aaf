// The glibc malloc columns. A separate executable: the main benchmark links
// mimalloc, which replaces malloc in its whole process.
#include <benchmark/benchmark.h>

#include <string>

#include "adapters.hpp"
#include "json.hpp"
#include "workloads.hpp"

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
  register_json("malloc", true);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
