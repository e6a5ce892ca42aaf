// What the hardware and the sanitizers catch: the guard region after every
// reservation, and (built with AddressSanitizer) any use of memory past the
// position: after restore, reset, or the end of a Scope.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include "support.hpp"

using varena::Arena;

namespace {

class MemorySafety : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, test::death_test_style()); }
};

// Writes through a pointer the optimiser cannot see through.
void write(volatile char* p) { *p = 1; }

}  // namespace

TEST_F(MemorySafety, RunningOffTheEndOfTheReservationFaults) {
  SKIP_IF_FENCED();
  varena::Options o;
  o.reserve = varena::vm::info().granularity;
  Arena arena(o);
  char* all = static_cast<char*>(arena.push_uninit(arena.reserved(), 1));
  write(all + arena.reserved() - 1);  // the last byte is fine
  EXPECT_EQ(arena.committed(), arena.reserved());
  EXPECT_DEATH(write(all + arena.reserved()), "");  // the guard region: never committed
}

TEST_F(MemorySafety, MemoryPastTheCommitFaults) {
  Arena arena;
  char* p = static_cast<char*>(arena.push_uninit(1, 1));
  EXPECT_DEATH(write(p + arena.committed()), "");
}

#if VARENA_ASAN

TEST_F(MemorySafety, WriteAfterRestoreIsReported) {
  Arena arena;
  arena.push(32);
  const std::size_t mark = arena.position();
  char* p = static_cast<char*>(arena.push(64));
  arena.restore(mark);
  EXPECT_DEATH(write(p + 10), "use-after-poison");
}

TEST_F(MemorySafety, WriteAfterResetIsReported) {
  Arena arena;
  char* p = static_cast<char*>(arena.push(64));
  arena.reset();
  EXPECT_DEATH(write(p), "use-after-poison");
}

TEST_F(MemorySafety, WriteAfterScopeEndIsReported) {
  Arena arena;
  char* p = nullptr;
  {
    varena::Scope scope(arena);
    p = static_cast<char*>(arena.push(64));
    write(p);
  }
  EXPECT_DEATH(write(p + 63), "use-after-poison");
}

TEST_F(MemorySafety, WriteAfterScratchEndIsReported) {
  char* p = nullptr;
  {
    varena::Scratch scratch;
    p = static_cast<char*>(scratch->push(64));
  }
  EXPECT_DEATH(write(p), "use-after-poison");
}

TEST_F(MemorySafety, CommittedMemoryNotYetPushedIsPoisoned) {
  Arena arena;
  char* p = static_cast<char*>(arena.push(16));
  EXPECT_DEATH(write(p + 4096), "use-after-poison");
}

TEST_F(MemorySafety, PaddingBetweenBlocksIsPoisoned) {
  Arena arena;
  char* a = static_cast<char*>(arena.push(8, 1));
  arena.push(8, 64);
  EXPECT_DEATH(write(a + 16), "use-after-poison");
}

TEST_F(MemorySafety, PushedMemoryIsUsableAgain) {
  Arena arena;
  char* p = static_cast<char*>(arena.push(64));
  arena.reset();
  char* q = static_cast<char*>(arena.push(64));
  ASSERT_EQ(p, q);
  write(q + 63);
  EXPECT_TRUE(arena.extend(q, 64, 8192));
  write(q + 8191);
}

TEST_F(MemorySafety, ReleasedArenaLeavesNoPoisonBehind) {
  char* p = nullptr;
  {
    Arena arena;
    p = static_cast<char*>(arena.push(64));
    arena.reset();
  }
  // The range was unpoisoned before release: memory mapped there later (by
  // anyone) must not be reported. Map something and touch it.
  Arena next;
  char* q = static_cast<char*>(next.push(64));
  write(q);
  (void)p;
}

#else

TEST_F(MemorySafety, PoisoningNeedsAddressSanitizer) {
  GTEST_SKIP() << "built without AddressSanitizer: the test-asan preset runs these checks";
}

#endif
