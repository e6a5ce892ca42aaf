// Growing one array by push_back from empty: varena::Vector (grows in place,
// never moves an element) against std::vector (reallocates and moves).
#pragma once

#include <varena/vector.hpp>

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace bench {

constexpr std::size_t kVectorInts = 100000000;    // 10^8
constexpr std::size_t kVectorRecords = 10000000;  // 10^7

// A record with a non-trivial move: what std::vector must move on every growth.
struct Record {
  std::string name;
  std::uint64_t id;
  Record(const char* n, std::uint64_t i) : name(n), id(i) {}
};

// Each batch builds a new vector from empty, as a program would: both
// columns pay first-touch costs (the fault counter shows how many).
template <class V>
void vector_ints(benchmark::State& state) {
  run_batches(state, kVectorInts, [] {
    V v;
    for (std::size_t i = 0; i < kVectorInts; ++i) v.push_back(static_cast<int>(i));
    keep(v.data());
    benchmark::ClobberMemory();
  }, cold_budget());
}

template <class V>
void vector_records(benchmark::State& state) {
  run_batches(state, kVectorRecords, [] {
    V v;
    for (std::size_t i = 0; i < kVectorRecords; ++i) v.emplace_back("a name longer than fifteen", i);
    keep(v.data());
    benchmark::ClobberMemory();
  }, cold_budget());
}

inline void register_vectors() {
  const int n = smoke() ? 1 : 2;
  add_case("Vector 10^8 ints/varena", vector_ints<varena::Vector<int>>)
      ->Unit(benchmark::kMillisecond)->Iterations(n);
  add_case("Vector 10^7 records/varena", vector_records<varena::Vector<Record>>)
      ->Unit(benchmark::kMillisecond)->Iterations(n);
  add_case("Vector 10^8 ints/std::vector", vector_ints<std::vector<int>>)
      ->Unit(benchmark::kMillisecond)->Iterations(n);
  add_case("Vector 10^7 records/std::vector", vector_records<std::vector<Record>>)
      ->Unit(benchmark::kMillisecond)->Iterations(n);
}

}  // namespace bench
