// Uses every name of docs/CONTRACT.md through the installed headers and library.
#include <varena/varena.hpp>

#include <cstdio>
#include <memory_resource>
#include <string>
#include <vector>

namespace {
int failures = 0;
void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}
struct Counted {
  int* destroyed;
  explicit Counted(int* d) : destroyed(d) {}
  ~Counted() { ++*destroyed; }
};
}  // namespace

int main() {
  const varena::vm::Info& info = varena::vm::info();
  expect(info.page_size != 0 && info.granularity != 0, "vm::info");
  void* r = varena::vm::reserve(info.granularity * 4);
  expect(r != nullptr && varena::vm::commit(r, info.page_size), "vm::reserve/commit");
  varena::vm::decommit(r, info.page_size);
  varena::vm::release(r, info.granularity * 4);

  varena::Options options;
  options.reserve = std::size_t{256} << 20;
  varena::Arena arena(options);
  int destroyed = 0;
  {
    varena::Scope scope(arena);
    auto* bytes = static_cast<unsigned char*>(scope->push(64, 64));
    expect(bytes[63] == 0, "push zero-fills");
    expect(arena.push_uninit(8) != nullptr && arena.try_push(8) != nullptr, "push_uninit/try_push");
    int* ints = arena.push_array<int>(16);
    expect(ints[15] == 0 && arena.push_array_uninit<double>(4) != nullptr, "push_array");
    scope.arena().make<Counted>(&destroyed);
    expect(arena.push_string("hello") == "hello", "push_string");
    void* last = arena.push(16);
    expect(arena.extend(last, 16, 4096), "extend");
    expect(arena.owns(last) && (*scope).position() > 0, "owns/position");
  }
  expect(destroyed == 1 && arena.position() == 0, "Scope restores and runs destructors");
  arena.push(100);
  const std::size_t pushed = arena.position();
  arena.pop(48);  // a multiple of the minimum alignment (16): exact
  expect(arena.position() == pushed - 48, "pop");
  arena.restore(10);
  arena.reset();
  arena.trim();
  expect(arena.committed() <= arena.reserved() && arena.peak() >= 100, "committed/reserved/peak");

  varena::Arena moved(std::move(arena));
  expect(arena.reserved() == 0 && moved.reserved() != 0, "move");

  {
    varena::Scratch scratch;
    varena::Scratch other(scratch.arena());
    varena::Scratch both({&arena, &scratch.arena()});
    expect(&both.arena() == &other.arena(), "Scratch conflict list");
    expect(&other.arena() != &scratch.arena(), "Scratch conflicts");
  }

  varena::MemoryResource resource(moved);
  std::pmr::vector<std::pmr::string> words(&resource);
  words.emplace_back("a string long enough to leave the small buffer");
  std::vector<int, varena::Allocator<int>> numbers{varena::Allocator<int>(moved)};
  for (int i = 0; i < 1000; ++i) numbers.push_back(i);
  expect(moved.owns(words.data()) && moved.owns(numbers.data()), "pmr and Allocator");

  varena::FailureHandler previous = varena::set_failure_handler(nullptr);
  varena::set_failure_handler(previous);
  try {
    moved.push(SIZE_MAX);
    expect(false, "OutOfMemory thrown");
  } catch (const varena::OutOfMemory& e) {
    expect(std::string(e.what()).find("cannot push") != std::string::npos, "OutOfMemory message");
  }
  std::printf("consumer: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
