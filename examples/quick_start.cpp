// The README's quick start, as a program.
#include <varena/varena.hpp>

#include <cstdio>
#include <string>

int main() {
  varena::Arena arena;                            // reserves address space, commits nothing yet
  int* counts = arena.push_array<int>(1000);      // zeroed; never moves
  auto* name = arena.make<std::string>("frame");  // its destructor runs on restore below it
  {
    varena::Scope frame(arena);                   // remembers the position...
    auto* tmp = static_cast<char*>(arena.push_uninit(1 << 20));
    tmp[0] = 'x';
  }                                               // ...and restores it here
  {
    varena::Scratch scratch(arena);               // this thread's scratch arena, never `arena`
    double* temps = scratch->push_array<double>(4096);
    temps[0] = 1.0;
  }                                               // scratch memory taken back
  counts[999] = static_cast<int>(name->size());
  std::printf("position %zu bytes, committed %zu KiB of %zu GiB reserved\n", arena.position(),
              arena.committed() >> 10, arena.reserved() >> 30);
  return counts[999] == 5 ? 0 : 1;
}
