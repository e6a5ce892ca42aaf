// Debug fences and push counts: build with -DVARENA_FENCES=ON (the
// test-fences preset does) and every block is followed by a fence that
// restore, reset and destruction check. A write past the end of a block then
// stops the program when the arena takes the block back, naming it:
//   varena: fence overwritten after the block at position 64 (100 bytes): a write ran past its end
// This program stays within bounds and prints what the counts say.
#include <varena/varena.hpp>

#include <cstdio>
#include <cstring>

int main() {
  varena::Arena arena;
  char* name = static_cast<char*>(arena.push(100, 1));
  std::strcpy(name, "in bounds");  // name[100] = '!' here would be reported at reset()
  arena.push_array<double>(10);
  arena.push(7, 64);
  const varena::Arena::Stats s = arena.stats();
#if VARENA_FENCES
  std::printf("fences on: %zu pushes asked %zu bytes, %zu lost to alignment, %zu bytes of fences\n", s.pushes,
              s.bytes_requested, s.alignment_padding, s.pushes * varena::Arena::fence_bytes);
  arena.reset();  // checks every fence
  return s.pushes == 3 && s.bytes_requested == 100 + 80 + 7 ? 0 : 1;
#else
  std::printf("fences off (build with -DVARENA_FENCES=ON): counts stay %zu, blocks are packed: position %zu\n",
              s.pushes, arena.position());
  return s.pushes == 0 ? 0 : 1;
#endif
}
