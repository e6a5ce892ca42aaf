// Contract violations: with VARENA_CHECKS (debug builds) each aborts with a
// message naming the mistake; without, the arena is left unchanged.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include "support.hpp"

#include <string>
#include <utility>

using varena::Arena;

namespace {

class Contract : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, test::death_test_style()); }
};

std::size_t misaligned(int i) {
  const std::size_t bad[] = {3, 0, 48, 6, 4097};
  return bad[i];
}

}  // namespace

#if VARENA_CHECKS

TEST_F(Contract, AlignmentNotAPowerOfTwoAborts) {
  Arena arena;
  EXPECT_DEATH(arena.push(8, misaligned(0)), "alignment 3 is not a power of two");
  EXPECT_DEATH(arena.push(8, misaligned(1)), "alignment 0 is not a power of two");
  EXPECT_DEATH(arena.push_uninit(8, misaligned(2)), "alignment 48 is not a power of two");
  EXPECT_DEATH(arena.try_push(8, misaligned(3)), "alignment 6 is not a power of two");
  EXPECT_DEATH(arena.try_push(8, misaligned(4)), "alignment 4097 is not a power of two");
}

TEST_F(Contract, RestorePastThePositionAborts) {
  Arena arena;
  arena.push(100, 1);
  const std::string at = std::to_string(arena.position());
  EXPECT_DEATH(arena.restore(arena.position() + 1),
               "restore to position " + std::to_string(arena.position() + 1) + ", past the current position " + at);
  EXPECT_DEATH(arena.restore(SIZE_MAX), "past the current position " + at);
}

TEST_F(Contract, PushIntoAMovedFromArenaAborts) {
  Arena arena;
  Arena other(std::move(arena));
  EXPECT_DEATH(arena.push(8), "push of 8 bytes into an empty arena");
  EXPECT_DEATH(arena.try_push(8), "empty arena");
}

TEST_F(Contract, ScratchConflictingWithEveryScratchArenaAborts) {
  varena::Scratch first;
  varena::Scratch second(first.arena());
  ASSERT_NE(&first.arena(), &second.arena());
  EXPECT_DEATH(varena::Scratch({&first.arena(), &second.arena()}),
               "conflicts with every one of this thread's 2 scratch arenas");
}

TEST_F(Contract, PushOfNothingIntoAMovedFromArenaAborts) {
  Arena arena;
  Arena other(std::move(arena));
  EXPECT_DEATH(arena.push_uninit(0), "empty arena");
}

TEST_F(Contract, ScopesEndedOutOfOrderAbort) {
  Arena arena;
  EXPECT_DEATH(
      {
        auto* outer = new varena::Scope(arena);
        auto* inner = new varena::Scope(arena);
        delete outer;  // the inner scope is still open
        delete inner;
      },
      "scopes ended out of order: the scope opened as number 1 on this arena ends while number 2");
}

TEST_F(Contract, StaleScratchAborts) {
  EXPECT_DEATH(
      {
        varena::Scratch holder;
        const std::size_t holder_start = holder->position();
        holder->push(128);
        varena::Scratch scratch;  // the same arena, starting past the holder's block
        scratch->push(64);
        holder->restore(holder_start + 1);  // someone restores below the scratch's start...
        scratch->push(8);                   // ...and the scratch is used again
      },
      "stale scope");
}

TEST_F(Contract, StaleScopeEndAborts) {
  Arena arena;
  arena.push(100);
  const std::size_t start = arena.position();
  EXPECT_DEATH(
      {
        varena::Scope scope(arena);
        arena.restore(48);
      },
      "stale scope: a Scope or Scratch that began at position " + std::to_string(start) +
          " is used after its arena was restored below that, to 48");
}

TEST_F(Contract, AnArenaUsedWhileACursorIsLiveAborts) {
  Arena arena;
  EXPECT_DEATH(
      {
        varena::Cursor cursor(arena);
        cursor.push(8);
        arena.push(8);  // the cursor's position would overwrite this push's
      },
      "an arena was used directly while a Cursor on it was live");
  {
    varena::Cursor cursor(arena);  // the right way: the cursor ends first
    cursor.push(8);
  }
  arena.push(8);
}

TEST_F(Contract, ViolationMessagesSayItIsAViolation) {
  Arena arena;
  EXPECT_DEATH(arena.push(1, misaligned(0)), "contract violation");
}

#else  // release builds: the arena stays as it was

TEST_F(Contract, BadAlignmentFailsWithoutChangingTheArena) {
  Arena arena;
  arena.push(10, 1);
  const std::size_t before = arena.position();
  for (int i = 0; i < 5; ++i) {
    try {
      arena.push(8, misaligned(i));
      ADD_FAILURE() << "no exception for alignment " << misaligned(i);
    } catch (const varena::OutOfMemory& e) {
      EXPECT_NE(std::string(e.what()).find("alignment " + std::to_string(misaligned(i)) + " is not a power of two"),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(arena.try_push(8, misaligned(i)), nullptr);
    EXPECT_EQ(arena.position(), before);
  }
}

TEST_F(Contract, RestorePastThePositionIsIgnored) {
  Arena arena;
  arena.push(100, 1);
  const std::size_t before = arena.position();
  arena.restore(before + 1);
  arena.restore(SIZE_MAX);
  EXPECT_EQ(arena.position(), before);
  {
    varena::Scope stale(arena);
    arena.reset();
  }  // a stale scope's end is a restore past the position: ignored too
  EXPECT_EQ(arena.position(), 0u);
}

TEST_F(Contract, PushIntoAMovedFromArenaFails) {
  Arena arena;
  Arena other(std::move(arena));
  EXPECT_THROW(arena.push(8), varena::OutOfMemory);
  EXPECT_EQ(arena.try_push(8), nullptr);
  // Zero bytes too: the documented error, never a null pointer as success.
  EXPECT_THROW(arena.push(0), varena::OutOfMemory);
  EXPECT_THROW(arena.push_uninit(0), varena::OutOfMemory);
  EXPECT_EQ(arena.try_push(0), nullptr);
  EXPECT_THROW(arena.push_array<int>(0), varena::OutOfMemory);
  EXPECT_EQ(arena.position(), 0u);
}

TEST_F(Contract, ScratchNeverHandsOutAConflict) {
  varena::Scratch first;
  varena::Scratch second(first.arena());
  varena::Scratch third({&first.arena(), &second.arena()});
  EXPECT_NE(&third.arena(), &first.arena());
  EXPECT_NE(&third.arena(), &second.arena());
}

#endif
