// A word index that survives a restart: a hash table of words and counts
// built with plain pointers in a MappedArena, written to a file, and used
// again after "restarting" by opening the file: no parsing, no pointer fix-up,
// the structure is simply there at the address it was built at.
//
//   example_persistent_index [file]   (default: persistent_index.arena here)
#include <varena/mapped.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

// Everything in the file is plain data and pointers into the file itself:
// trivially destructible (MappedArena refuses anything else at compile time).
struct Entry {
  const char* word;
  std::uint32_t count;
  Entry* next;  // same bucket
};

struct Index {
  static constexpr std::size_t kBuckets = 1024;
  Entry* buckets[kBuckets];
  std::uint64_t words;
};

std::size_t bucket_of(std::string_view w) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : w) h = (h ^ c) * 1099511628211ull;
  return static_cast<std::size_t>(h % Index::kBuckets);
}

// The index in `arena`: its root, made (zero-filled) on first use.
Index& index_of(varena::MappedArena& arena) {
  if (auto* index = arena.root<Index>()) return *index;
  auto* index = arena.make<Index>();
  arena.set_root(index);
  return *index;
}

void add(varena::MappedArena& arena, Index& index, std::string_view word) {
  Entry*& head = index.buckets[bucket_of(word)];
  for (Entry* e = head; e != nullptr; e = e->next)
    if (word == e->word) {
      ++e->count;
      return;
    }
  auto* e = arena.make<Entry>();
  e->word = arena.push_string(word).data();
  e->count = 1;
  e->next = head;
  head = e;
  ++index.words;
}

std::uint32_t count_of(const Index& index, std::string_view word) {
  for (const Entry* e = index.buckets[bucket_of(word)]; e != nullptr; e = e->next)
    if (word == e->word) return e->count;
  return 0;
}

constexpr const char* kText =
    "the arena reserves address space once and commits it as the position grows "
    "the file grows with it and the pointers in the file stay valid because the "
    "file is mapped back at the address the arena was created at";

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "persistent_index.arena";
  varena::MappedOptions options;
  options.reserve = std::size_t{256} << 20;
  // A fixed address far from where the OS puts things, so that any later run
  // finds it free (64-bit targets; elsewhere the OS chooses).
  if (sizeof(void*) == 8) options.address = reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x520000000000ull));

  // First run: build the index and sync it to the file.
  {
    varena::MappedArena arena = varena::MappedArena::create(path, options);
    Index& index = index_of(arena);
    const char* p = kText;
    while (*p != '\0') {
      const std::size_t n = std::strcspn(p, " ");
      add(arena, index, std::string_view(p, n));
      p += n + (p[n] == ' ');
    }
    if (!arena.sync()) {
      std::fprintf(stderr, "%s\n", varena::MappedArena::last_error());
      return 1;
    }
    std::printf("built: %llu distinct words in %zu bytes of %s\n", static_cast<unsigned long long>(index.words),
                arena.position(), path);
  }  // closed: the program could end here

  // A later run: open the file and use the index as it is.
  try {
    varena::MappedArena arena = varena::MappedArena::open(path);
    const Index* index = arena.root<Index>();
    std::printf("reopened at %p: %llu words; \"the\" x%u, \"file\" x%u, \"missing\" x%u\n", arena.base(),
                static_cast<unsigned long long>(index->words), count_of(*index, "the"), count_of(*index, "file"),
                count_of(*index, "missing"));
    const bool ok = count_of(*index, "the") == 8 && count_of(*index, "file") == 3 && count_of(*index, "missing") == 0;
    arena = varena::MappedArena();
    std::remove(path);
    return ok ? 0 : 1;
  } catch (const varena::MappedFileError& e) {  // a corrupt or foreign file, or its address taken
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
