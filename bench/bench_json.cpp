// RapidJSON DOM parse of a generated ~10 MB document: varena as RapidJSON's
// allocator (the arena reused, reset between parses) against RapidJSON's own
// MemoryPoolAllocator (chained 64 KiB chunks from malloc, freed when the
// document goes) and CrtAllocator (malloc/realloc/free per value).
#include "json.hpp"

#include <varena/varena.hpp>

#include <benchmark/benchmark.h>
#include <rapidjson/document.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "harness.hpp"

namespace bench {
namespace {

constexpr std::size_t kDocumentBytes = 10 * kMiB;

// A document of user records with strings, numbers, booleans and nested
// arrays: the shapes of typical API payloads. Its buffer is reserved in one
// step: a growing string would free large blocks on the way, which raises
// glibc's mmap threshold and so changes what a "fresh process" measures.
const std::string& document() {
  static const std::string text = [] {
    std::string s;
    s.reserve(kDocumentBytes + 4 * kKiB);
    s = "[";
    char record[512];
    for (int i = 0; s.size() < kDocumentBytes; ++i) {
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

template <class Document>
void check(const Document& doc) {
  if (doc.HasParseError() || !doc.IsArray()) die("RapidJSON parse failed");
  keep(&doc);
}

// Steady state: warmed up until a parse takes a stable time (glibc's
// thresholds adapt within the first parses). Fresh process: no warm-up, the
// first parses of the process are the ones timed.
Budget parse_budget(bool fresh) { return fresh ? Budget{0, 0, 0, 1, 1.0} : Budget{6, 60, 3.0, 3, 0.03}; }

void parse_varena(benchmark::State& state, bool fresh) {
  const std::string& text = document();
  varena::Arena arena;
  ArenaJsonAllocator allocator(arena);
  run_batches(state, 1, [&] {
    {
      rapidjson::GenericDocument<rapidjson::UTF8<>, ArenaJsonAllocator> doc(&allocator);
      doc.Parse(text.c_str(), text.size());
      check(doc);
    }
    arena.reset();
  }, parse_budget(fresh));
}

template <class Allocator>
void parse_with(benchmark::State& state, bool fresh) {
  const std::string& text = document();
  run_batches(state, 1, [&] {
    rapidjson::GenericDocument<rapidjson::UTF8<>, Allocator> doc;
    doc.Parse(text.c_str(), text.size());
    check(doc);
  }, parse_budget(fresh));
}

}  // namespace

void register_json(const char* malloc_column, bool with_pool, bool fresh) {
  const std::string row = fresh ? "RapidJSON parse 10 MB, fresh process/" : "RapidJSON parse 10 MB/";
  // A fixed count: each call of a case warms up again, so Google Benchmark's
  // search for an iteration count would repeat the warm-up for nothing.
  const int parses = fresh || smoke() ? (fresh ? 3 : 1) : 5;
  add_case(row + "varena", parse_varena, fresh)
      ->Unit(benchmark::kMillisecond)->Iterations(parses);
  if (with_pool)
    add_case(row + "RapidJSON pool",
                                 parse_with<rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>>, fresh)
        ->Unit(benchmark::kMillisecond)->Iterations(parses);
  add_case(row + malloc_column, parse_with<rapidjson::CrtAllocator>, fresh)
      ->Unit(benchmark::kMillisecond)->Iterations(parses);
}

}  // namespace bench
