// Debug fences and push counts (VARENA_FENCES, the test-fences preset): an
// overrun is reported, naming the block, when the arena takes it back.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <cstring>
#include <string>

#include "support.hpp"

using varena::Arena;

namespace {

class Fences : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, test::death_test_style()); }
};

[[maybe_unused]] void overrun(void* block, std::size_t size, std::size_t by) { std::memset(static_cast<char*>(block) + size, 0x41, by); }

}  // namespace

#if VARENA_FENCES

TEST_F(Fences, OverrunReportedOnResetNamingTheBlock) {
  // Each overrun happens inside the death test: the parent's arena stays sound.
  EXPECT_DEATH(
      {
        Arena arena;
        arena.push(10, 1);
        void* block = arena.push(100, 16);
        overrun(block, 100, 1);
        arena.reset();
      },
      "fence overwritten after the block at position [0-9]+ \\(100 bytes\\)");
}

TEST_F(Fences, OverrunReportedOnRestoreAndOnDestruction) {
  EXPECT_DEATH(
      {
        Arena arena;
        const std::size_t mark = arena.position();
        void* block = arena.push(33, 1);
        overrun(block, 33, 3);
        arena.restore(mark);
      },
      "\\(33 bytes\\)");
  EXPECT_DEATH(
      {
        Arena arena;
        void* block = arena.push(7, 1);
        overrun(block, 7, 1);
      },  // the arena's destructor checks
      "\\(7 bytes\\): a write ran past its end");
}

TEST_F(Fences, ALargeOverrunIsStillCaught) {
  EXPECT_DEATH(
      {
        Arena arena;
        void* block = arena.push(64);
        overrun(block, 64, 200);
        arena.reset();
      },
      "fence overwritten after the block");
}

TEST_F(Fences, InBoundsWritesAndLiveBlocksAreFine) {
  Arena arena;
  void* a = arena.push(100, 1);
  std::memset(a, 1, 100);
  const std::size_t mark = arena.position();
  void* b = arena.push(50, 8);
  std::memset(b, 2, 50);
  arena.restore(mark);  // b's fence is checked: intact
  overrun(a, 100, 0);
  arena.reset();
  SUCCEED();
}

TEST_F(Fences, ExtendMovesTheFence) {
  Arena arena;
  void* block = arena.push(16);
  ASSERT_TRUE(arena.extend(block, 16, 4096));
  std::memset(block, 3, 4096);  // the old fence is now block memory
  EXPECT_TRUE(test::all_bytes(static_cast<char*>(block) + 16, 4096 - 16, 3));
  ASSERT_TRUE(arena.extend(block, 4096, 100));
  EXPECT_FALSE(arena.extend(block, 4096, 200));  // the size it has now is 100
  EXPECT_DEATH(
      {
        overrun(block, 100, 1);
        arena.reset();
      },
      "\\(100 bytes\\)");
}

TEST_F(Fences, CountsPushesBytesAndPadding) {
  Arena arena;
  arena.push(3, 1);
  arena.push(5, 64);
  arena.push_uninit(100, 1);
  const Arena::Stats s = arena.stats();
  EXPECT_EQ(s.pushes, 3u);
  EXPECT_EQ(s.bytes_requested, 108u);
  EXPECT_GT(s.alignment_padding, 0u);  // the 64-byte alignment after a fence
  EXPECT_LT(s.alignment_padding, 64u);
}

#else

TEST_F(Fences, OffMeansNoCountsAndNoRoom) {
  Arena arena(test::byte_exact());
  arena.push(3, 1);
  EXPECT_EQ(arena.stats().pushes, 0u);
  EXPECT_EQ(arena.stats().bytes_requested, 0u);
  EXPECT_EQ(arena.position(), 3u);  // nothing after the block
  EXPECT_EQ(Arena::fence_bytes, 0u);
}

#endif
