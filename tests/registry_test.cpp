// Named arenas and the registry of live arenas: names in messages,
// for_each_arena and write_report, moves, and churn from many threads.
#include <varena/registry.hpp>
#include <varena/scratch.hpp>
#include <varena/vector.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using varena::Arena;
using varena::ArenaInfo;

namespace {

varena::Options named(const char* name) {
  varena::Options o;
  o.name = name;
  o.reserve = std::size_t{1} << 24;
  return o;
}

// The registry's view of the arena whose base is `base` (found: false if absent).
struct Found {
  bool found = false;
  ArenaInfo info{};
  std::string name;
};
Found find(const void* base) {
  Found f;
  varena::for_each_arena([&](const ArenaInfo& i) {
    if (i.base != base) return;
    f.found = true;
    f.info = i;
    f.name = i.name;
  });
  return f;
}

const void* base_of(const Arena& a) { return varena::info(a).base; }

std::size_t live_arenas() {
  std::size_t n = 0;
  varena::for_each_arena([&](const ArenaInfo&) { ++n; });
  return n;
}

}  // namespace

TEST(Names, CopiedAndCut) {
  Arena unnamed(named(nullptr));
  EXPECT_STREQ(unnamed.name(), "");
  Arena arena(named("frame"));
  EXPECT_STREQ(arena.name(), "frame");
  std::string long_name(100, 'x');
  Arena cut(named(long_name.c_str()));
  EXPECT_EQ(std::string(cut.name()), long_name.substr(0, 31));
  long_name[0] = 'y';  // copied, not referenced
  EXPECT_EQ(cut.name()[0], 'x');
}

TEST(Names, InOutOfMemoryMessages) {
  SKIP_IF_FENCED();
  varena::Options o = named("requests");
  o.commit_limit = 64 << 10;
  Arena arena(o);
  EXPECT_NE(test::failure_of(arena, 1 << 20).find("varena: arena \"requests\": cannot push"), std::string::npos)
      << test::failure_of(arena, 1 << 20);
  EXPECT_NE(test::failure_of(arena, 1 << 20).find("budget"), std::string::npos);
  EXPECT_NE(test::failure_of(arena, SIZE_MAX / 2).find("arena \"requests\""), std::string::npos);
  Arena unnamed(named(nullptr));
  EXPECT_EQ(test::failure_of(unnamed, SIZE_MAX / 2).rfind("varena: cannot push", 0), 0u);
}

TEST(Names, InReservationFailures) {
  varena::Options o = named("huge");
  o.reserve = test::more_than_address_space();
  try {
    Arena arena(o);
    FAIL() << "a reservation beyond the address space succeeded";
  } catch (const varena::OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("varena: arena \"huge\": cannot reserve"), std::string::npos) << e.what();
  }
}

#if VARENA_CHECKS
TEST(NamesDeathTest, InContractViolations) {
  GTEST_FLAG_SET(death_test_style, test::death_test_style());
  Arena arena(named("parser"));
  arena.push(64);
  EXPECT_DEATH(arena.restore(1 << 20), "varena: arena \"parser\": restore to position 1048576, past");
  EXPECT_DEATH(arena.push(8, 3), "varena: arena \"parser\": alignment 3 is not a power of two");
  EXPECT_DEATH(
      {
        varena::Scope outer(arena);
        auto* inner = new varena::Scope(arena);
        (void)inner;
        outer.~Scope();
      },
      "arena \"parser\": scopes ended out of order");
}

TEST(NamesDeathTest, ScratchArenasAreNamedByThread) {
  GTEST_FLAG_SET(death_test_style, test::death_test_style());
  varena::Scratch scratch;
  const std::string name = scratch->name();
  EXPECT_EQ(name.rfind("scratch 0 of thread ", 0), 0u) << name;
  EXPECT_DEATH(scratch->restore(SIZE_MAX / 4), "arena \"scratch 0 of thread .*\": restore to position");
}
#endif

TEST(Registry, SeesLiveArenasAndForgetsClosedOnes) {
  Found before;
  const void* base;
  {
    Arena arena(named("listed"));
    base = base_of(arena);
    arena.push(1000);
    const Found f = find(base);
    ASSERT_TRUE(f.found);
    EXPECT_EQ(f.name, "listed");
    EXPECT_EQ(f.info.position, arena.position());
    EXPECT_EQ(f.info.committed, arena.committed());
    EXPECT_EQ(f.info.reserved, arena.reserved());
    EXPECT_EQ(f.info.peak, arena.peak());
    EXPECT_EQ(f.info.commits, arena.stats().commits);
    EXPECT_EQ(f.info.decommits, arena.stats().decommits);
    const ArenaInfo exact = varena::info(arena);
    EXPECT_EQ(exact.base, base);
    EXPECT_EQ(exact.position, arena.position());
    EXPECT_STREQ(exact.name, "listed");
  }
  EXPECT_FALSE(find(base).found);
}

TEST(Registry, PeakAndPositionFollowTheArena) {
  SKIP_IF_FENCED();
  Arena arena(named("peaks"));
  const void* base = base_of(arena);
  arena.push(3000);
  arena.reset();
  arena.push(100);
  const Found f = find(base);
  ASSERT_TRUE(f.found);
  EXPECT_GE(f.info.peak, 3000u);
  EXPECT_EQ(f.info.position, arena.position());
}

TEST(Registry, MovesKeepOneEntryAtTheNewOwner) {
  const std::size_t live = live_arenas();
  Arena a(named("moving"));
  const void* base = base_of(a);
  EXPECT_EQ(live_arenas(), live + 1);
  Arena b(std::move(a));
  EXPECT_EQ(live_arenas(), live + 1);
  EXPECT_EQ(find(base).name, "moving");
  EXPECT_STREQ(b.name(), "moving");
  Arena c(named("target"));
  const void* c_base = base_of(c);
  c = std::move(b);  // c's own arena ends; b's moves in
  EXPECT_EQ(live_arenas(), live + 1);
  EXPECT_FALSE(find(c_base).found);
  EXPECT_TRUE(find(base).found);
  std::vector<Arena> many;
  for (int i = 0; i < 20; ++i) many.emplace_back(named("grown"));  // the vector moves them as it grows
  EXPECT_EQ(live_arenas(), live + 21);
  many.erase(many.begin() + 5);
  EXPECT_EQ(live_arenas(), live + 20);
  many.clear();
  EXPECT_EQ(live_arenas(), live + 1);
}

TEST(Registry, EmptyArenasAreNotListed) {
  const std::size_t live = live_arenas();
  varena::Options o = named("refused");
  o.reserve = test::more_than_address_space();
  Arena refused(o, std::nothrow);
  EXPECT_EQ(refused.reserved(), 0u);
  EXPECT_EQ(live_arenas(), live);
  Arena moved_from(named("source"));
  Arena target(std::move(moved_from));
  EXPECT_EQ(live_arenas(), live + 1);
}

TEST(Registry, ArenasOverABufferAndInsideContainersAreListed) {
  alignas(16) static char buffer[4096];
  varena::Options o;
  o.name = "buffer";
  Arena arena(buffer, sizeof buffer, o);
  arena.push(100);
  const Found f = find(buffer);
  ASSERT_TRUE(f.found);
  EXPECT_EQ(f.name, "buffer");
  EXPECT_EQ(f.info.committed, sizeof buffer);
  varena::Options vo = named("vector");
  varena::Vector<int> v(vo);
  v.push_back(1);
  EXPECT_TRUE(find(v.data()).found);
}

TEST(Registry, WriteReportListsEachArenaAndATotal) {
  Arena a(named("report-one")), b(named("report-two"));
  a.push(5000);
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(varena::write_report(f));
  std::rewind(f);
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f)) text += buf;
  std::fclose(f);
  EXPECT_NE(text.find("report-one"), std::string::npos) << text;
  EXPECT_NE(text.find("report-two"), std::string::npos) << text;
  EXPECT_NE(text.find("total ("), std::string::npos) << text;
  EXPECT_NE(text.find("position"), std::string::npos) << text;
}

TEST(Registry, WriteReportSaysWhenWritingFails) {
#if defined(__linux__)
  std::FILE* full = std::fopen("/dev/full", "w");
  if (full == nullptr) GTEST_SKIP() << "no /dev/full";
  Arena a(named("unwritten"));
  EXPECT_FALSE(varena::write_report(full));
  std::fclose(full);
#else
  GTEST_SKIP() << "needs /dev/full";
#endif
}

TEST(RegistryDeathTest, CallbackThatCreatesAnArenaIsAViolation) {
  GTEST_FLAG_SET(death_test_style, test::death_test_style());
  Arena a(named("present"));
  EXPECT_DEATH(varena::for_each_arena([](const ArenaInfo&) { Arena inner; }),
               "an arena was created inside a for_each_arena callback");
  EXPECT_DEATH(varena::for_each_arena([&](const ArenaInfo&) { Arena moved(std::move(a)); }),
               "an arena was moved inside a for_each_arena callback");
}

// Threads create, push into and destroy arenas (some moved, some scratch)
// while another walks the registry and prints reports until they are done:
// run under TSan in CI.
TEST(Registry, ChurnFromManyThreads) {
  std::atomic<int> running{3};
  std::atomic<std::size_t> seen{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([t, &running] {
      for (int round = 0; round < 300; ++round) {
        Arena a(named("churn"));
        a.push(static_cast<std::size_t>(100 + round * 37 + t));
        Arena b(std::move(a));
        b.push(64 << 10);
        varena::Scratch scratch;
        scratch->push(128);
        b.reset();
      }
      running.fetch_sub(1);
    });
  std::FILE* sink = std::tmpfile();
  for (int i = 0; running.load() > 0 || i < 200; ++i) {
    varena::for_each_arena([&](const ArenaInfo& info) {
      if (std::strlen(info.name) < 32 && info.position <= info.reserved) seen.fetch_add(1);
    });
    if (sink != nullptr && i % 20 == 0) varena::write_report(sink);
  }
  if (sink != nullptr) std::fclose(sink);
  for (auto& t : threads) t.join();
  std::size_t churned = 0, scratch_of_workers = 0;
  varena::for_each_arena([&](const ArenaInfo& info) {
    churned += std::strcmp(info.name, "churn") == 0;
    scratch_of_workers += std::strncmp(info.name, "scratch", 7) == 0;
  });
  EXPECT_EQ(churned, 0u) << "every churned arena unlinked";
  EXPECT_LE(scratch_of_workers, varena::defaults::scratch_arenas) << "the workers' scratch arenas went with them";
  (void)seen;
}
