// Compiled with -fno-exceptions (see tests/CMakeLists.txt): every failure here
// must reach the failure handler, never throw.
#include <varena/varena.hpp>

#include "no_exceptions_tu.hpp"

#include <string>
#include <vector>

namespace noexc {

void push(varena::Arena& arena, std::size_t bytes) { arena.push(bytes); }
void push_uninit(varena::Arena& arena, std::size_t bytes) { arena.push_uninit(bytes); }
void push_array(varena::Arena& arena, std::size_t count) { arena.push_array<int>(count); }
void make(varena::Arena& arena) { arena.make<std::vector<int>>(std::size_t{10}, 1); }
void push_string(varena::Arena& arena, std::size_t length) { arena.push_string(std::string(length, 'x')); }
void allocate(varena::Arena& arena, std::size_t count) { varena::Allocator<long>(arena).allocate(count); }
void reserve(std::size_t bytes) {
  varena::Options options;
  options.reserve = bytes;
  varena::Arena arena(options);
}
bool try_push_fails(varena::Arena& arena, std::size_t bytes) { return arena.try_push(bytes) == nullptr; }
std::size_t push_and_count(std::size_t n) {
  varena::Arena arena;
  for (std::size_t i = 0; i < n; ++i) arena.push(16);
  varena::Scratch scratch(arena);
  scratch->push(100);
  return arena.position() + scratch->position();
}

void open_mapped(const char* path) { varena::MappedArena::open(path); }

}  // namespace noexc
