// What a user's translation unit does with varena's headers, edge constants
// included, compiled at -O0, -O2 and -O3, with and without NDEBUG, all with
// -Wall -Wextra -Wpedantic -Werror: the public headers must stay warning-free
// whatever the optimiser sees (g++ 12 once warned -Wstringop-overflow on
// push(SIZE_MAX) through the zero-fill). Each build is its own namespace,
// USER_TU, so the six can be linked into one test.
#include <varena/varena.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory_resource>
#include <new>
#include <string>
#include <vector>

#define USER_TU_STRING2(x) #x
#define USER_TU_STRING(x) USER_TU_STRING2(x)

namespace USER_TU {

namespace {
int failures = 0;
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "user TU %s: %s\n", USER_TU_STRING(USER_TU), what);
    ++failures;
  }
}

template <class F>
bool throws_bad_alloc(F&& f) {
  try {
    f();
  } catch (const std::bad_alloc&) {
    return true;
  }
  return false;
}

struct Node {
  std::string name;
  std::uint64_t id;
  Node(const char* n, std::uint64_t i) : name(n), id(i) {}
};
}  // namespace

int run() {
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  varena::Options o;
  o.reserve = std::size_t{1} << 24;
  varena::Arena arena(o);

  check(throws_bad_alloc([&] { arena.push(kMax); }), "push(SIZE_MAX)");
  check(throws_bad_alloc([&] { arena.push(kMax - 15); }), "push(SIZE_MAX - 15)");
  check(throws_bad_alloc([&] { arena.push(kMax, 4096); }), "push(SIZE_MAX, 4096)");
  check(throws_bad_alloc([&] { arena.push_uninit(kMax / 2 + 1); }), "push_uninit(SIZE_MAX / 2 + 1)");
  check(throws_bad_alloc([&] { arena.push_array<std::uint64_t>(kMax); }), "push_array<uint64_t>(SIZE_MAX)");
  check(throws_bad_alloc([&] { arena.push_array<std::string>(kMax / 8); }), "push_array<std::string>(huge)");
  check(throws_bad_alloc([&] { arena.push_array_uninit<double>(kMax / 4); }), "push_array_uninit<double>(huge)");
  check(arena.try_push(kMax) == nullptr, "try_push(SIZE_MAX)");
  check(arena.try_push_uninit(kMax, 16) == nullptr, "try_push_uninit(SIZE_MAX)");
  check(arena.position() == 0, "failed pushes changed nothing");

  void* block = arena.push(100);
  check(!arena.extend(block, 100, kMax), "extend to SIZE_MAX");
  check(!arena.extend(block, kMax, 200), "extend from SIZE_MAX");
  check(arena.extend(block, 100, 300), "extend");
  arena.pop(kMax);
  check(arena.position() == 0, "pop(SIZE_MAX)");
  arena.push(32);
  arena.restore(0);
  arena.reset();
  arena.trim();

  {
    varena::Scope scope(arena);
    Node* n = arena.make<Node>("a name longer than the small-string buffer", 1);
    check(n->id == 1, "make");
    char buffer[64];
    std::memset(buffer, 'x', sizeof buffer);
    check(arena.push_string(std::string_view(buffer, sizeof buffer)).size() == 64, "push_string");
  }
  {
    varena::Cursor cursor(arena);
    check(throws_bad_alloc([&] { cursor.push(kMax); }), "Cursor::push(SIZE_MAX)");
    for (int i = 0; i < 1000; ++i) *static_cast<std::uint64_t*>(cursor.push_uninit(8, 8)) = 7;
    check(cursor.push(64) != nullptr, "Cursor::push");
  }
  {
    varena::Scratch scratch(arena);
    check(throws_bad_alloc([&] { scratch->push(kMax); }), "Scratch push(SIZE_MAX)");
    check(&scratch.arena() != &arena, "Scratch conflict");
  }
  {
    varena::Pool<Node> pool(arena);
    Node* n = pool.make("pooled", 2);
    pool.destroy(n);
  }
  {
    varena::Vector<int> v;
    for (int i = 0; i < 10000; ++i) v.push_back(i);
    v.resize(10);
    v.shrink_to_fit();
    check(v.size() == 10 && v.back() == 9, "Vector");
  }
  {
    varena::MemoryResource resource(arena);
    std::pmr::vector<int> v(&resource);
    v.assign(1000, 3);
    std::vector<int, varena::Allocator<int>> w{varena::Allocator<int>(arena)};
    w.assign(1000, 4);
    check(v[999] == 3 && w[999] == 4, "adapters");
  }
  varena::Options extreme;
  extreme.reserve = std::size_t{1} << 22;
  extreme.commit_step = kMax;
  extreme.min_align = kMax;
  extreme.retain = kMax;
  varena::Arena odd(extreme);
  check(odd.push(100) != nullptr && odd.min_align() == 4096, "extreme options");
  return failures;
}

}  // namespace USER_TU
