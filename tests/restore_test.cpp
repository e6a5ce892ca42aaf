// Taking memory back: positions, restore/pop/reset/trim, what stays committed
// (retain and keep_recent), resident memory, statistics, Scope.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "support.hpp"

using varena::Arena;
using varena::Options;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

Options retaining(std::size_t retain, bool keep_recent = false) {
  Options o;
  o.retain = retain;
  o.keep_recent = keep_recent;
  return o;
}

}  // namespace

TEST(Position, RestorePopResetAreExact) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact());
  EXPECT_EQ(arena.position(), 0u);
  arena.push(10, 1);
  EXPECT_EQ(arena.position(), 10u);
  arena.push(1, 8);
  EXPECT_EQ(arena.position(), 17u);
  arena.pop(7);
  EXPECT_EQ(arena.position(), 10u);
  arena.restore(10);
  EXPECT_EQ(arena.position(), 10u);
  arena.restore(3);
  EXPECT_EQ(arena.position(), 3u);
  arena.pop(100);
  EXPECT_EQ(arena.position(), 0u);
  arena.push(5, 1);
  arena.reset();
  EXPECT_EQ(arena.position(), 0u);
}

TEST(Position, RestoredMemoryIsHandedOutAgain) {
  Arena arena;
  const std::size_t mark = arena.position();
  void* first = arena.push(256);
  arena.restore(mark);
  EXPECT_EQ(arena.push(256), first);
}

TEST(Committed, FirstCommitIsTheCommitStepAndGrowsInPages) {
  Arena arena;
  EXPECT_EQ(arena.committed(), 0u);
  arena.push(1);
  EXPECT_EQ(arena.committed(), varena::defaults::commit_step);
  std::size_t last = arena.committed();
  for (int i = 0; i < 200; ++i) {
    arena.push(std::size_t{37} * 1024, 1);
    ASSERT_EQ(arena.committed() % test::page(), 0u);
    ASSERT_GE(arena.committed(), arena.position());
    ASSERT_LE(arena.committed(), arena.reserved());
    ASSERT_GE(arena.committed(), last);
    last = arena.committed();
  }
}

TEST(Committed, CustomCommitStepIsRoundedUpToAPage) {
  Options o;
  o.commit_step = 256 * 1024;
  Arena big(o);
  big.push(1);
  EXPECT_EQ(big.committed(), 256u * 1024);

  o.commit_step = test::page() + 1;
  Arena odd(o);
  odd.push(1);
  EXPECT_EQ(odd.committed(), 2 * test::page());

  o.commit_step = 0;
  Arena zero(o);
  zero.push(1);
  EXPECT_EQ(zero.committed(), test::page());
}

TEST(Committed, RestoreKeepsAtMostRetainPastThePosition) {
  const std::size_t retain = 3 * kMiB + 123;
  Arena arena(retaining(retain));
  arena.push_uninit(64 * kMiB, 1);
  for (std::size_t pos : {std::size_t{40} * kMiB + 5, std::size_t{10} * kMiB, std::size_t{12345}, std::size_t{0}}) {
    arena.restore(pos);
    EXPECT_LE(arena.committed(), test::round_up(pos, test::page()) + retain) << pos;
    EXPECT_GE(arena.committed(), pos + retain - test::page()) << pos;
  }
}

TEST(Committed, RetainZeroResetDecommitsEverything) {
  Arena arena(retaining(0));
  arena.push(5 * kMiB);
  arena.reset();
  EXPECT_EQ(arena.committed(), 0u);
  arena.push(100, 1);
  arena.push_uninit(kMiB);
  arena.restore(100);
  EXPECT_EQ(arena.committed(), test::round_up(100, test::page()));
}

TEST(Committed, TrimDecommitsPastThePosition) {
  Arena arena(test::byte_exact());  // default retain: a restore keeps memory...
  arena.push(20 * kMiB);
  arena.restore(kMiB + 1);
  EXPECT_GT(arena.committed(), 2 * kMiB);
  arena.trim();  // ...which trim gives back
  EXPECT_EQ(arena.committed(), test::round_up(kMiB + 1, test::page()));
  EXPECT_EQ(arena.position(), kMiB + 1);
  arena.reset();
  arena.trim();
  EXPECT_EQ(arena.committed(), 0u);
}

TEST(Committed, LargeRetainMakesNoDecommit) {
  Arena arena(retaining(std::size_t{1} << 30));
  arena.push(30 * kMiB);
  const std::size_t committed = arena.committed();
  const auto before = arena.stats();
  arena.reset();
  EXPECT_EQ(arena.committed(), committed);
  EXPECT_EQ(arena.stats().decommits, before.decommits);
}

TEST(Committed, KeepRecentHoldsASteadyWorkingSetAndDropsASpike) {
  Options o;
  o.retain = kMiB;  // a working set well beyond retain
  Arena arena(o);
  auto frame = [&](std::size_t bytes) {
    arena.push_uninit(bytes, 1);
    arena.reset();
  };
  for (int i = 0; i < 3; ++i) frame(20 * kMiB);
  const auto settled = arena.stats();
  for (int i = 0; i < 20; ++i) frame(20 * kMiB);
  EXPECT_EQ(arena.stats().commits, settled.commits) << "a steady working set must not commit again";
  EXPECT_EQ(arena.stats().decommits, settled.decommits) << "nor decommit";

  frame(200 * kMiB);  // a spike...
  EXPECT_LE(arena.committed(), 21 * kMiB) << "...is given back at the end of its cycle";
  frame(20 * kMiB);
  const auto after_spike = arena.stats();
  for (int i = 0; i < 5; ++i) frame(20 * kMiB);
  EXPECT_EQ(arena.stats().commits, after_spike.commits);

  for (int i = 0; i < 3; ++i) frame(2 * kMiB);  // usage shrinks: the excess goes
  EXPECT_LE(arena.committed(), 3 * kMiB);
}

TEST(Committed, KeepRecentOffMakesRetainAnUpperBound) {
  Options o;
  o.retain = kMiB;
  o.keep_recent = false;
  Arena arena(o);
  for (int i = 0; i < 5; ++i) {
    arena.push_uninit(20 * kMiB, 1);
    arena.reset();
    EXPECT_LE(arena.committed(), kMiB);
  }
}

// The retain policy with nested scopes (README, "Retain"): an excursion above
// position p runs from one restore to p or below to the next; memory past
// p + retain stays committed only where both the last two excursions above p
// reached.

namespace {

struct Syscalls {
  std::size_t commits, decommits;
  explicit Syscalls(const Arena& a) : commits(a.stats().commits), decommits(a.stats().decommits) {}
  bool operator==(const Syscalls& o) const { return commits == o.commits && decommits == o.decommits; }
};

}  // namespace

TEST(RetainPolicy, ASpikeInANestedScopeGoesAtTheEndOfItsFrame) {
  Options o;
  o.retain = kMiB;
  Arena arena(o);
  arena.push_uninit(32 * kMiB, 1);
  {
    varena::Scope inner(arena);
    arena.push_uninit(32 * kMiB, 1);
  }
  arena.reset();  // the frame ends: nothing it used is kept past retain
  EXPECT_LE(arena.committed(), kMiB);
  // An idle arena holds nothing more.
  EXPECT_LE(test::resident_bytes() == 0 ? 0 : arena.committed(), kMiB);
}

TEST(RetainPolicy, ASteadyFrameWithNestedScopesMakesNoSyscalls) {
  Options o;
  o.retain = kMiB;  // every restore below leaves more than retain committed
  Arena arena(o);
  auto frame = [&] {
    arena.push_uninit(5 * kMiB, 1);
    {
      varena::Scope inner(arena);
      arena.push_uninit(6 * kMiB, 1);
      {
        varena::Scope innermost(arena);
        arena.push_uninit(3 * kMiB, 1);
      }
    }
    arena.push_uninit(kMiB, 1);
    arena.reset();
  };
  for (int i = 0; i < 3; ++i) frame();
  const Syscalls settled(arena);
  for (int i = 0; i < 50; ++i) frame();
  EXPECT_TRUE(Syscalls(arena) == settled) << "commits " << arena.stats().commits - settled.commits
                                          << ", decommits " << arena.stats().decommits - settled.decommits;
}

TEST(RetainPolicy, ALongAgoSpikeDoesNotKeepALaterOne) {
  Options o;
  o.retain = kMiB;
  Arena arena(o);
  auto frame = [&](std::size_t bytes) {
    arena.push_uninit(bytes, 1);
    arena.reset();
  };
  frame(64 * kMiB);
  for (int i = 0; i < 100; ++i) frame(kMiB / 2);
  frame(32 * kMiB);
  EXPECT_LE(arena.committed(), kMiB);
  // The same with a spike that left more than retain committed for a while.
  frame(64 * kMiB);
  frame(64 * kMiB);  // two alike: this one is kept, as a working set
  EXPECT_GE(arena.committed(), 64 * kMiB);
  for (int i = 0; i < 3; ++i) frame(kMiB / 2);
  EXPECT_LE(arena.committed(), kMiB);
  frame(32 * kMiB);
  EXPECT_LE(arena.committed(), kMiB);
}

TEST(RetainPolicy, ASteadyLoopAtARaisedLevelKeepsItsWorkingSet) {
  // A compiler-like arena: persistent data below, scratch work in scopes
  // above it, and no reset for a long time.
  Options o;
  o.retain = kMiB;
  Arena arena(o);
  arena.push_uninit(3 * kMiB, 1);
  auto step = [&](std::size_t bytes) {
    varena::Scope work(arena);
    arena.push_uninit(bytes, 1);
  };
  for (int i = 0; i < 3; ++i) step(10 * kMiB);
  const Syscalls settled(arena);
  for (int i = 0; i < 50; ++i) step(10 * kMiB);
  EXPECT_TRUE(Syscalls(arena) == settled);
  step(100 * kMiB);  // a spike in one step goes at the end of that step
  EXPECT_LE(arena.committed(), 14 * kMiB);
  arena.push_uninit(2 * kMiB, 1);  // the persistent part grows: a new level
  for (int i = 0; i < 3; ++i) step(10 * kMiB);
  const Syscalls moved(arena);
  for (int i = 0; i < 20; ++i) step(10 * kMiB);
  EXPECT_TRUE(Syscalls(arena) == moved);
}

TEST(RetainPolicy, DeepNestingStaysCorrectBeyondWhatItRemembers) {
  Options o;
  o.retain = 64 * 1024;
  Arena arena(o);
  std::vector<std::size_t> marks;
  for (int round = 0; round < 5; ++round) {
    for (int depth = 0; depth < 40; ++depth) {  // deeper than the marks kept
      marks.push_back(arena.position());
      arena.push_uninit(256 * 1024, 1);
    }
    while (!marks.empty()) {
      arena.restore(marks.back());
      marks.pop_back();
      ASSERT_LE(arena.committed(), arena.reserved());
      ASSERT_GE(arena.committed(), arena.position());
    }
  }
  EXPECT_LE(arena.committed(), 64 * 1024 * 2 + 40 * 256 * 1024);
}

TEST(RetainPolicy, TrimForgetsTheHistory) {
  Options o;
  o.retain = kMiB;
  Arena arena(o);
  for (int i = 0; i < 3; ++i) {
    arena.push_uninit(20 * kMiB, 1);
    arena.reset();
  }
  EXPECT_GE(arena.committed(), 20 * kMiB);
  arena.trim();
  EXPECT_EQ(arena.committed(), 0u);
  arena.push_uninit(20 * kMiB, 1);
  arena.reset();  // one frame since the trim: nothing recent to keep
  EXPECT_LE(arena.committed(), kMiB);
}

TEST(Committed, DefaultFrameLoopMakesNoSyscallsAfterTheFirstFrames) {
  SKIP_IF_FENCED();
  Arena arena;
  for (std::size_t working_set : {std::size_t{1} * kMiB, 16 * kMiB, 64 * kMiB}) {
    for (int i = 0; i < 3; ++i) {
      arena.push_uninit(working_set, 1);
      arena.reset();
    }
    const auto settled = arena.stats();
    for (int i = 0; i < 10; ++i) {
      for (std::size_t done = 0; done < working_set; done += 64 * 1024) arena.push_uninit(64 * 1024, 1);
      arena.reset();
    }
    EXPECT_EQ(arena.stats().commits, settled.commits) << working_set;
    EXPECT_EQ(arena.stats().decommits, settled.decommits) << working_set;
  }
}

TEST(Committed, GeometricGrowthMakesFewCommits) {
  Arena arena;
  const std::size_t step = 64 * 1024;
  for (std::size_t done = 0; done < 256 * kMiB; done += step) {
    arena.push_uninit(step, 1);
    ASSERT_GE(arena.committed(), arena.position());
  }
  EXPECT_LT(arena.stats().commits, 64u);
  EXPECT_GE(arena.stats().commits, 5u);
}

TEST(Stats, CountOnlyRealOsCalls) {
  Arena arena(retaining(8 * kMiB));
  EXPECT_EQ(arena.stats().commits, 0u);
  EXPECT_EQ(arena.stats().decommits, 0u);
  arena.push(100);
  EXPECT_EQ(arena.stats().commits, 1u);
  arena.push(100);  // within committed memory
  EXPECT_EQ(arena.stats().commits, 1u);
  arena.reset();  // within retain
  EXPECT_EQ(arena.stats().decommits, 0u);
  arena.push(32 * kMiB);
  const std::size_t commits = arena.stats().commits;
  EXPECT_GT(commits, 1u);
  arena.reset();  // past retain
  EXPECT_EQ(arena.stats().decommits, 1u);
  arena.trim();
  EXPECT_EQ(arena.stats().decommits, 2u);
  arena.trim();  // nothing left to decommit
  EXPECT_EQ(arena.stats().decommits, 2u);
  EXPECT_EQ(arena.stats().commits, commits);
}

TEST(Peak, HighestPositionSurvivesRestoreResetAndTrim) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact(retaining(0)));
  EXPECT_EQ(arena.peak(), 0u);
  arena.push(1000, 1);
  EXPECT_EQ(arena.peak(), 1000u);
  arena.restore(10);
  EXPECT_EQ(arena.peak(), 1000u);
  arena.push(100, 1);
  EXPECT_EQ(arena.peak(), 1000u);
  arena.push(5 * kMiB, 1);
  arena.reset();
  arena.trim();
  EXPECT_EQ(arena.peak(), 5 * kMiB + 110);
  arena.push(1, 1);
  EXPECT_EQ(arena.peak(), 5 * kMiB + 110);
}

TEST(Resident, ResetWithoutRetainGivesMemoryBackToTheOs) {
  if (!test::memory_readings_available()) GTEST_SKIP() << "no resident-memory reading on this OS";
  const std::size_t size = 64 * kMiB;
  Arena arena(retaining(0));
  const std::size_t before = test::resident_bytes();
  auto* p = static_cast<char*>(arena.push_uninit(size, 1));
  for (std::size_t i = 0; i < size; i += test::page()) p[i] = 1;
  const std::size_t touched = test::resident_bytes();
  EXPECT_GE(touched, before + size * 3 / 4);
  arena.reset();
  const std::size_t after = test::resident_bytes();
  EXPECT_LE(after, touched - size * 3 / 4);
}

TEST(Resident, RetainedMemoryStaysResident) {
  if (!test::memory_readings_available()) GTEST_SKIP() << "no resident-memory reading on this OS";
  const std::size_t size = 32 * kMiB;
  Arena arena(retaining(std::size_t{1} << 30));
  auto* p = static_cast<char*>(arena.push_uninit(size, 1));
  for (std::size_t i = 0; i < size; i += test::page()) p[i] = 1;
  const std::size_t touched = test::resident_bytes();
  arena.reset();
  EXPECT_GE(test::resident_bytes() + size / 4, touched);
  arena.trim();
  EXPECT_LE(test::resident_bytes(), touched - size * 3 / 4);
}

TEST(ScopeTest, RestoresOnExitAndNests) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact());
  auto* kept = static_cast<unsigned char*>(arena.push(64));
  std::memset(kept, 0x42, 64);
  const std::size_t outer_start = arena.position();
  {
    varena::Scope outer(arena);
    EXPECT_EQ(&outer.arena(), &arena);
    EXPECT_EQ(outer.operator->(), &arena);
    EXPECT_EQ(&*outer, &arena);
    outer->push(1000);
    const std::size_t inner_start = arena.position();
    {
      varena::Scope inner(arena);
      (*inner).push(5000, 1);
      EXPECT_EQ(arena.position(), inner_start + 5000);
    }
    EXPECT_EQ(arena.position(), inner_start);
  }
  EXPECT_EQ(arena.position(), outer_start);
  EXPECT_TRUE(test::all_bytes(kept, 64, 0x42));
}

TEST(ScopeTest, RunsDestructorsOfObjectsMadeInside) {
  int destroyed = 0;
  struct Counter {
    int* n;
    explicit Counter(int* count) : n(count) {}
    ~Counter() { ++*n; }
  };
  Arena arena;
  arena.make<Counter>(&destroyed);
  {
    varena::Scope scope(arena);
    scope->make<Counter>(&destroyed);
    scope->make<Counter>(&destroyed);
  }
  EXPECT_EQ(destroyed, 2);
  arena.reset();
  EXPECT_EQ(destroyed, 3);
}

TEST(Frames, ThousandFramesOfRandomSizesKeepContentsAndBoundedCommit) {
  Options o;
  o.retain = 4 * kMiB;
  Arena arena(o);
  std::mt19937 random(12345);
  std::size_t most_committed = 0;
  for (int frame = 0; frame < 1000; ++frame) {
    std::vector<std::pair<unsigned char*, std::size_t>> blocks;
    const int count = 1 + static_cast<int>(random() % 40);
    for (int i = 0; i < count; ++i) {
      const std::size_t bytes = random() % 20000;
      auto* p = static_cast<unsigned char*>(arena.push(bytes, std::size_t{1} << (random() % 8)));
      ASSERT_TRUE(test::all_bytes(p, bytes, 0));
      std::memset(p, (frame + i) & 0xFF, bytes);
      blocks.emplace_back(p, bytes);
    }
    for (int i = 0; i < count; ++i)
      ASSERT_TRUE(test::all_bytes(blocks[static_cast<std::size_t>(i)].first, blocks[static_cast<std::size_t>(i)].second,
                                  static_cast<unsigned char>((frame + i) & 0xFF)));
    most_committed = std::max(most_committed, arena.committed());
    arena.reset();
  }
  EXPECT_LE(most_committed, 8 * kMiB);
}

TEST(RetainPolicy, AFrameThatGoesHigherAfterAnInnerScopeMakesNoSyscalls) {
  // The frame's previous round reached 11 MiB: the inner scope's end, while
  // the frame is still under way, keeps that; the frame's reset decides.
  Options o;
  o.reserve = 192 * kMiB;  // fits 32-bit address spaces too
  o.retain = 4 * kMiB;
  Arena arena(o);
  auto frame = [&] {
    arena.push_uninit(kMiB, 1);
    {
      varena::Scope inner(arena);
      arena.push_uninit(2 * kMiB, 1);
    }
    arena.push_uninit(10 * kMiB, 1);
    arena.reset();
  };
  for (int i = 0; i < 3; ++i) frame();
  const Syscalls settled(arena);
  for (int i = 0; i < 20; ++i) frame();
  EXPECT_TRUE(Syscalls(arena) == settled) << "commits " << arena.stats().commits - settled.commits
                                          << ", decommits " << arena.stats().decommits - settled.decommits;
  // A spike in an inner scope still goes at the end of the frame.
  arena.push_uninit(kMiB, 1);
  {
    varena::Scope inner(arena);
    arena.push_uninit(150 * kMiB, 1);
  }
  arena.reset();
  EXPECT_LE(arena.committed(), 14 * kMiB);
}
