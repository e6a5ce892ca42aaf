// Protect mode: with Options::protect, a pointer kept past a restore, reset,
// the end of a Scope or of a Scratch faults at once, in any build. Each fault
// is a death test (a child process); the same accesses without protect do not
// fault; the page that holds the position stays usable.
#include <gtest/gtest.h>
#include <varena/varena.h>
#include <varena/varena.hpp>

#include "support.hpp"

#include <cstring>

using varena::Arena;
using varena::Options;

namespace {

Options protecting(bool on = true) {
  Options o;
  o.reserve = std::size_t{64} << 20;
  o.protect = on;
  return o;
}

// Reads and writes through a pointer the compiler cannot reason away.
void write_through(void* p) {
  volatile char* v = static_cast<char*>(p);
  *v = 1;
}
char read_through(const void* p) { return *static_cast<const volatile char*>(p); }

class Protect : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, test::death_test_style()); }
};

}  // namespace

TEST_F(Protect, AWriteOrReadPastARestoreFaults) {
  Arena arena(protecting());
  arena.push(100);
  const std::size_t mark = arena.position();
  char* stale = static_cast<char*>(arena.push(3 * test::page()));
  char* beyond = stale + 2 * test::page();
  write_through(beyond);
  arena.restore(mark);
  EXPECT_DEATH(write_through(beyond), "");
  EXPECT_DEATH((void)read_through(beyond), "");
}

TEST_F(Protect, AStalePointerPastResetFaults) {
  Arena arena(protecting());
  char* stale = static_cast<char*>(arena.push(2 * test::page())) + test::page();
  arena.reset();
  EXPECT_DEATH(write_through(stale), "");
}

TEST_F(Protect, AStalePointerPastTheEndOfAScopeFaults) {
  Arena arena(protecting());
  char* stale;
  {
    varena::Scope scope(arena);
    stale = static_cast<char*>(arena.push(4 * test::page())) + 3 * test::page();
    write_through(stale);
  }
  EXPECT_DEATH((void)read_through(stale), "");
  EXPECT_DEATH(write_through(stale), "");
}

TEST_F(Protect, AStalePointerPastTheEndOfAScratchFaults) {
  // Read when this thread reserves its scratch arenas: each test runs in a
  // process of its own, so this one's are reserved here.
  varena::set_scratch_protect(true);
  varena::Scratch outer;
  varena::set_scratch_protect(false);
  char* stale;
  {
    varena::Scratch inner;
    stale = static_cast<char*>(inner->push(2 * test::page())) + test::page();
    write_through(stale);
  }
  EXPECT_DEATH(write_through(stale), "");
}

TEST_F(Protect, WithoutProtectTheSameAccessesDoNotFault) {
  if (VARENA_ASAN) GTEST_SKIP() << "AddressSanitizer reports these accesses itself (memory_safety_test)";
  Arena arena(protecting(false));
  char* stale = static_cast<char*>(arena.push(3 * test::page())) + 2 * test::page();
  arena.reset();
  write_through(stale);  // still committed (retain): a silent bug protect would catch
  EXPECT_EQ(read_through(stale), 1);
  {
    varena::Scope scope(arena);
    stale = static_cast<char*>(arena.push(3 * test::page())) + 2 * test::page();
  }
  write_through(stale);
}

TEST_F(Protect, ThePageHoldingThePositionStaysUsable) {
  Arena arena(protecting());
  auto* kept = static_cast<unsigned char*>(arena.push(100));
  std::memset(kept, 0x5A, 100);
  const std::size_t mark = arena.position();
  arena.push(5 * test::page());
  arena.restore(mark);
  EXPECT_TRUE(test::all_bytes(kept, 100, 0x5A));
  // The rest of the position's page is still accessible, and pushes reopen
  // the pages past it, zero-filled.
  auto* again = static_cast<unsigned char*>(arena.push(test::page() - 200));
  std::memset(again, 0x11, test::page() - 200);
  auto* next = static_cast<unsigned char*>(arena.push(3 * test::page()));
  EXPECT_TRUE(test::all_bytes(next, 3 * test::page(), 0));
  std::memset(next, 0x22, 3 * test::page());
  EXPECT_TRUE(test::all_bytes(kept, 100, 0x5A));
}

TEST_F(Protect, ProtectedMemoryStaysCommittedAsTheRetainPolicySays) {
  Options o = protecting();
  Arena arena(o);
  for (int frame = 0; frame < 5; ++frame) {
    std::memset(arena.push(std::size_t{1} << 20), frame, std::size_t{1} << 20);
    arena.reset();
    EXPECT_GE(arena.committed(), std::size_t{1} << 20);  // protected, not decommitted: retain keeps it
  }
  auto* p = static_cast<unsigned char*>(arena.push(std::size_t{1} << 20));
  EXPECT_TRUE(test::all_bytes(p, std::size_t{1} << 20, 0));  // reopened and zero-filled
  arena.trim();
}

TEST_F(Protect, CursorAndExtendReopenPagesToo) {
  Arena arena(protecting());
  arena.push(2 * test::page());
  arena.reset();
  {
    varena::Cursor c(arena);
    for (int i = 0; i < 1000; ++i) std::memset(c.push_uninit(64), 1, 64);
  }
  void* block = arena.push(16);
  ASSERT_TRUE(arena.extend(block, 16, 3 * test::page()));
  EXPECT_TRUE(test::all_bytes(static_cast<char*>(block) + 16, 3 * test::page() - 16, 0));
}

TEST_F(Protect, TheCApiTakesTheOption) {
  varena_options o;
  varena_options_default(&o);
  EXPECT_EQ(o.protect, 0);
  o.protect = 1;
  o.reserve = std::size_t{64} << 20;
  varena_arena* arena = nullptr;
  ASSERT_EQ(varena_create(&o, &arena), VARENA_OK);
  void* p = nullptr;
  ASSERT_EQ(varena_push(arena, 2 * test::page(), 16, &p), VARENA_OK);
  char* stale = static_cast<char*>(p) + test::page();
  varena_reset(arena);
  EXPECT_DEATH(write_through(stale), "");
  varena_destroy(arena);
}
