// Workload 8: RapidJSON DOM parse of a generated ~10 MB document: varena as
// RapidJSON's allocator (the arena reused, reset between parses) against
// RapidJSON's own MemoryPoolAllocator (chained chunks) and CrtAllocator.
#include "json.hpp"

#include <varena/varena.hpp>

#include <benchmark/benchmark.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace bench {
namespace {

// A document of user records with strings, numbers, booleans and nested
// arrays: the shapes of typical API payloads.
const std::string& document() {
  static const std::string text = [] {
    std::string s = "[";
    char record[512];
    for (int i = 0; s.size() < (std::size_t{10} << 20); ++i) {
      const int n = std::snprintf(
          record, sizeof record,
          "%s{\"id\":%d,\"name\":\"user_%d\",\"email\":\"user%d@example.com\",\"score\":%d.%02d,"
          "\"active\":%s,\"tags\":[\"t%d\",\"t%d\",\"t%d\"],\"friends\":[{\"id\":%d,\"name\":\"f%d\"},"
          "{\"id\":%d,\"name\":\"f%d\"}],\"note\":null}",
          i == 0 ? "" : ",", i, i, i, i % 1000, i % 100, i % 3 == 0 ? "true" : "false", i % 7, i % 11, i % 13,
          i * 3, i * 3, i * 5, i * 5);
      s.append(record, static_cast<std::size_t>(n));
    }
    s += "]";
    return s;
  }();
  return text;
}

// RapidJSON's Allocator concept over a varena arena. Values are never freed
// one by one (kNeedFree is false): the arena is reset after the document.
class ArenaJsonAllocator {
 public:
  static const bool kNeedFree = false;
  ArenaJsonAllocator() : arena_(&fallback()) {}  // RapidJSON's own default construction path
  explicit ArenaJsonAllocator(varena::Arena& arena) : arena_(&arena) {}

  void* Malloc(std::size_t size) { return size != 0 ? arena_->push_uninit(size, 8) : nullptr; }
  void* Realloc(void* original, std::size_t old_size, std::size_t new_size) {
    if (original == nullptr) return Malloc(new_size);
    if (new_size <= old_size) return original;
    if (arena_->extend(original, old_size, new_size)) return original;  // the last block grows in place
    void* moved = Malloc(new_size);
    std::memcpy(moved, original, old_size);
    return moved;
  }
  static void Free(void*) {}

 private:
  static varena::Arena& fallback() {
    static varena::Arena arena;
    return arena;
  }
  varena::Arena* arena_;
};

void parse_varena(benchmark::State& state) {
  const std::string& text = document();
  varena::Arena arena;
  ArenaJsonAllocator allocator(arena);
  for (auto _ : state) {
    {
      rapidjson::GenericDocument<rapidjson::UTF8<>, ArenaJsonAllocator> doc(&allocator);
      doc.Parse(text.c_str(), text.size());
      if (doc.HasParseError() || !doc.IsArray()) state.SkipWithError("parse failed");
      benchmark::DoNotOptimize(doc.Size());
    }
    arena.reset();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

template <class Allocator>
void parse_with(benchmark::State& state) {
  const std::string& text = document();
  for (auto _ : state) {
    rapidjson::GenericDocument<rapidjson::UTF8<>, Allocator> doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsArray()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(doc.Size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

}  // namespace

void register_json(const char* malloc_column, bool with_arenas) {
  const std::string row = "RapidJSON parse 10 MB/";
  if (with_arenas) {
    benchmark::RegisterBenchmark((row + "varena").c_str(), parse_varena)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((row + "RapidJSON pool").c_str(),
                                 parse_with<rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>>)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark((row + malloc_column).c_str(), parse_with<rapidjson::CrtAllocator>)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace bench
