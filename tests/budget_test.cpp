// A commit budget: committed() never exceeds it; a push past it fails cleanly
// though the reservation has room; lowering it gives back what it can.
#include <gtest/gtest.h>
#include <varena/varena.h>
#include <varena/varena.hpp>

#include "support.hpp"

#include <cstring>
#include <string>

using varena::Arena;
using varena::Options;
using varena::OutOfMemory;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

Options budget(std::size_t bytes) {
  Options o;
  o.reserve = 64 * kMiB;
  o.commit_limit = bytes;
  return o;
}

}  // namespace

TEST(CommitBudget, APushPastTheBudgetFailsCleanlyAndSaysWhy) {
  Arena arena(budget(kMiB));
  std::memset(arena.push(kMiB / 2), 1, kMiB / 2);
  EXPECT_LE(arena.committed(), kMiB);
  const std::size_t at = arena.position(), committed = arena.committed();
  const std::string what = test::failure_of(arena, kMiB);
  EXPECT_NE(what.find("budget"), std::string::npos) << what;
  EXPECT_NE(what.find(std::to_string(kMiB)), std::string::npos) << what;
  EXPECT_EQ(arena.try_push(kMiB), nullptr);
  EXPECT_EQ(arena.position(), at);
  EXPECT_EQ(arena.committed(), committed);
  // What fits the budget still works, up to the byte.
  while (arena.try_push(4096) != nullptr) {
  }
  EXPECT_LE(arena.committed(), kMiB);
  EXPECT_GT(arena.position(), kMiB - 4096 - 64);
}

TEST(CommitBudget, CommitStepsAreCappedByTheBudget) {
  Options o = budget(3 * test::page());
  o.commit_step = std::size_t{1} << 20;  // a step far larger than the budget
  Arena arena(o);
  arena.push(100);
  EXPECT_LE(arena.committed(), 3 * test::page());
  arena.push(2 * test::page());
  EXPECT_EQ(arena.committed(), 3 * test::page());
  EXPECT_EQ(arena.try_push(test::page()), nullptr);
}

TEST(CommitBudget, LoweringItGivesBackWhatIsPastThePositionOnly) {
  Arena arena;
  auto* kept = static_cast<unsigned char*>(arena.push(2 * kMiB));
  std::memset(kept, 0x3C, 2 * kMiB);
  const std::size_t mark = arena.position();
  arena.push(8 * kMiB);
  arena.restore(mark);  // retain keeps the 8 MiB committed
  ASSERT_GT(arena.committed(), 4 * kMiB);
  arena.set_commit_limit(4 * kMiB);
  EXPECT_EQ(arena.commit_limit(), 4 * kMiB);
  EXPECT_LE(arena.committed(), 4 * kMiB);
  EXPECT_TRUE(test::all_bytes(kept, 2 * kMiB, 0x3C));  // memory in use is never touched
  arena.set_commit_limit(kMiB);                       // below the position: keeps what is in use
  EXPECT_GE(arena.committed(), 2 * kMiB);
  EXPECT_TRUE(test::all_bytes(kept, 2 * kMiB, 0x3C));
  EXPECT_EQ(arena.try_push(kMiB), nullptr);  // more would need a commit past the budget
  arena.set_commit_limit(0);  // no budget
  EXPECT_EQ(arena.commit_limit(), SIZE_MAX);
  EXPECT_NE(arena.try_push(16 * kMiB), nullptr);
}

TEST(CommitBudget, ProtectModeAndConcurrentArenasKeepItToo) {
  Options o = budget(4 * test::page());
  o.protect = true;
  Arena arena(o);
  EXPECT_NE(arena.try_push(3 * test::page()), nullptr);
  EXPECT_EQ(arena.try_push(2 * test::page()), nullptr);
  EXPECT_LE(arena.committed(), 4 * test::page());

  varena::ConcurrentArena shared(budget(kMiB));
  std::size_t pushed = 0;
  while (shared.try_push(1000) != nullptr) pushed += 1000;
  EXPECT_LE(shared.committed(), kMiB);
  EXPECT_GT(pushed, kMiB / 2);
}

TEST(CommitBudget, TheCApi) {
  varena_options o;
  varena_options_default(&o);
  EXPECT_EQ(o.commit_limit, 0u);
  o.commit_limit = kMiB;
  o.reserve = 64 * kMiB;
  varena_arena* arena = nullptr;
  ASSERT_EQ(varena_create(&o, &arena), VARENA_OK);
  void* p = nullptr;
  EXPECT_EQ(varena_push(arena, 2 * kMiB, 16, &p), VARENA_OUT_OF_MEMORY);
  EXPECT_EQ(varena_push(arena, kMiB / 2, 16, &p), VARENA_OK);
  varena_set_commit_limit(arena, 0);
  EXPECT_EQ(varena_push(arena, 2 * kMiB, 16, &p), VARENA_OK);
  varena_destroy(arena);
}
