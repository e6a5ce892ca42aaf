// ConcurrentArena: many threads pushing into one reservation. The stress
// tests are what the test-tsan preset runs under ThreadSanitizer.
#include <gtest/gtest.h>
#include <varena/concurrent.hpp>

#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using varena::ConcurrentArena;
using varena::Options;
using varena::OutOfMemory;

namespace {

constexpr std::size_t kKiB = std::size_t{1} << 10;
constexpr std::size_t kMiB = std::size_t{1} << 20;

Options small(std::size_t reserve = 64 * kMiB) {
  Options o;
  o.reserve = reserve;
  return o;
}

// A block a thread pushed, stamped with who pushed it and when.
struct Stamped {
  unsigned char* p;
  std::size_t size;
  std::uint32_t thread, sequence;
};

// The first and last 256 bytes of a block (all of a small one) carry its stamp.
bool stamped_byte(const Stamped& b, std::size_t i) { return i < 256 || b.size - i <= 256; }
unsigned char stamp_of(const Stamped& b, std::size_t i) {
  return static_cast<unsigned char>(b.thread * 131 + b.sequence * 7 + i);
}
void stamp(const Stamped& b) {
  for (std::size_t i = 0; i < b.size; i = stamped_byte(b, i + 1) ? i + 1 : b.size - 256) b.p[i] = stamp_of(b, i);
}
bool stamp_intact(const Stamped& b) {
  for (std::size_t i = 0; i < b.size; i = stamped_byte(b, i + 1) ? i + 1 : b.size - 256)
    if (b.p[i] != stamp_of(b, i)) return false;
  return true;
}

// Every block handed out once: sorted by address, none overlaps the next
// (an empty block may share its address with the next one).
void expect_disjoint(std::vector<Stamped> blocks) {
  blocks.erase(std::remove_if(blocks.begin(), blocks.end(), [](const Stamped& b) { return b.size == 0; }), blocks.end());
  std::sort(blocks.begin(), blocks.end(), [](const Stamped& a, const Stamped& b) { return a.p < b.p; });
  for (std::size_t i = 1; i < blocks.size(); ++i)
    ASSERT_LE(blocks[i - 1].p + blocks[i - 1].size, blocks[i].p)
        << "blocks of threads " << blocks[i - 1].thread << "/" << blocks[i - 1].sequence << " (" << blocks[i - 1].size << " B) and " << blocks[i].thread << "/" << blocks[i].sequence << " (" << blocks[i].size << " B) overlap";
}

struct Counted {
  static std::atomic<int> alive;
  int value;
  explicit Counted(int v) : value(v) { alive.fetch_add(1); }
  ~Counted() { alive.fetch_sub(1); }
};
std::atomic<int> Counted::alive{0};

struct Fragile {  // the fourth one built throws
  static int built, destroyed;
  Fragile() {
    if (built == 3) throw std::runtime_error("fourth");
    ++built;
  }
  ~Fragile() { ++destroyed; }
};
int Fragile::built = 0, Fragile::destroyed = 0;

}  // namespace

TEST(ConcurrentArena, PushesAreZeroedAlignedAndDistinct) {
  ConcurrentArena arena(small());
  std::vector<Stamped> blocks;
  for (std::uint32_t i = 0; i < 2000; ++i) {
    const std::size_t size = 1 + (i * 37) % 700;
    const std::size_t align = std::size_t{1} << (i % 13);  // 1 .. 4096
    auto* p = static_cast<unsigned char*>(arena.push(size, align));
    ASSERT_TRUE(test::aligned(p, align)) << align;
    ASSERT_TRUE(test::all_bytes(p, size, 0));
    blocks.push_back({p, size, 0, i});
    stamp(blocks.back());
  }
  for (const Stamped& b : blocks) ASSERT_TRUE(stamp_intact(b));
  expect_disjoint(blocks);
  EXPECT_LE(arena.committed(), arena.reserved());
  EXPECT_GE(arena.stats().slabs, 1u);
}

TEST(ConcurrentArena, ReusedMemoryIsZeroedAgainAfterReset) {
  ConcurrentArena arena(small());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) {
      auto* p = static_cast<unsigned char*>(arena.push(100));
      ASSERT_TRUE(test::all_bytes(p, 100, 0)) << "round " << round;
      std::memset(p, 0xAB, 100);
    }
    auto* big = static_cast<unsigned char*>(arena.push(512 * kKiB));  // a block of its own
    ASSERT_TRUE(test::all_bytes(big, 512 * kKiB, 0)) << "round " << round;
    std::memset(big, 0xCD, 512 * kKiB);
    arena.reset();
  }
}

TEST(ConcurrentArena, DestructorsRunOnceAtResetAndDestruction) {
  Counted::alive = 0;
  {
    ConcurrentArena arena(small());
    for (int i = 0; i < 100; ++i) EXPECT_EQ(arena.make<Counted>(i)->value, i);
    EXPECT_EQ(Counted::alive, 100);
    arena.reset();
    EXPECT_EQ(Counted::alive, 0);
    arena.make<Counted>(1);
    arena.push_array<std::string>(3)[2] = std::string(100, 'x');  // a heap string: leak-checked by ASan
  }
  EXPECT_EQ(Counted::alive, 0);
}

TEST(ConcurrentArena, DestructorsRunNewestRegistrationFirst) {
  static std::vector<int> order;
  struct Logged {
    int id;
    explicit Logged(int i) : id(i) {}
    ~Logged() { order.push_back(id); }
  };
  struct Outer {
    Logged* inner;
    int id;
    Outer(ConcurrentArena& a, int i) : inner(a.make<Logged>(i * 10)), id(i) {}
    ~Outer() { order.push_back(id); }
  };
  order.clear();
  ConcurrentArena arena(small());
  arena.make<Logged>(1);
  arena.make<Outer>(arena, 2);  // its inner object registers first, so it is destroyed after
  arena.make<Logged>(3);
  arena.reset();
  EXPECT_EQ(order, (std::vector<int>{3, 2, 20, 1}));
}

TEST(ConcurrentArena, AThrowingConstructorDestroysWhatWasBuilt) {
  Fragile::built = Fragile::destroyed = 0;
  ConcurrentArena arena(small());
  EXPECT_THROW(arena.push_array<Fragile>(10), std::runtime_error);
  EXPECT_EQ(Fragile::destroyed, 3);
  arena.reset();
  EXPECT_EQ(Fragile::destroyed, 3);  // nothing registered for the failed array
}

TEST(ConcurrentArena, AFullReservationFailsCleanlyAndSmallerPushesStillFit) {
  ConcurrentArena arena(small(2 * kMiB));
  EXPECT_THROW(arena.push(3 * kMiB), OutOfMemory);
  EXPECT_EQ(arena.try_push(3 * kMiB), nullptr);
  EXPECT_EQ(arena.try_push(SIZE_MAX), nullptr);
  EXPECT_THROW(arena.push_array<int>(SIZE_MAX / 2), OutOfMemory);
  // Fill it with small pushes until it refuses, then check nothing broke.
  std::size_t pushed = 0;
  while (arena.try_push(1000) != nullptr) pushed += 1000;
  EXPECT_GT(pushed, kMiB);
  EXPECT_LE(pushed, 2 * kMiB);
  EXPECT_THROW(arena.push(1000), OutOfMemory);
  arena.reset();
  EXPECT_NE(arena.push(1000), nullptr);
}

TEST(ConcurrentArena, OutOfMemoryNamesTheRequest) {
  ConcurrentArena arena(small(kMiB));
  try {
    arena.push(5 * kMiB);
    FAIL() << "no exception";
  } catch (const OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(5 * kMiB)), std::string::npos) << e.what();
  }
}

TEST(ConcurrentArena, AThreadPushingIntoManyArenasKeepsEachSlabApart) {
  std::vector<ConcurrentArena> arenas;
  for (int i = 0; i < 11; ++i) arenas.emplace_back(small(64 * kMiB));  // more than a thread's slab cache
  std::vector<Stamped> blocks;
  for (std::uint32_t i = 0; i < 7000; ++i) {
    ConcurrentArena& a = arenas[(i * 5) % arenas.size()];
    blocks.push_back({static_cast<unsigned char*>(a.push(48)), 48, i % 11, i});
    stamp(blocks.back());
  }
  for (const Stamped& b : blocks) ASSERT_TRUE(stamp_intact(b));
  expect_disjoint(blocks);
  for (const ConcurrentArena& a : arenas) EXPECT_LE(a.stats().slab_waste, a.stats().slab_bytes);
}

TEST(ConcurrentArena, MovedArenaKeepsItsMemoryAndTheSourceIsEmpty) {
  Counted::alive = 0;
  ConcurrentArena source(small());
  auto* p = static_cast<unsigned char*>(source.push(64));
  std::memset(p, 0x5A, 64);
  source.make<Counted>(7);
  ConcurrentArena target(std::move(source));
  EXPECT_EQ(source.reserved(), 0u);
  EXPECT_TRUE(test::all_bytes(p, 64, 0x5A));
  auto* q = static_cast<unsigned char*>(target.push(64));  // the thread's old slab is not reused
  EXPECT_TRUE(test::all_bytes(q, 64, 0));
  EXPECT_TRUE(q >= p + 64 || q + 64 <= p);
  ConcurrentArena other(small());
  other.make<Counted>(8);
  other = std::move(target);  // runs other's destructor, takes target's
  EXPECT_EQ(Counted::alive, 1);
  other.reset();
  EXPECT_EQ(Counted::alive, 0);
}

TEST(ConcurrentArena, TrimGivesBackWhatIsPastTheSlabs) {
  ConcurrentArena arena(small());
  arena.push(4 * kMiB);
  arena.reset();
  const std::size_t kept = arena.committed();
  arena.trim();
  EXPECT_LE(arena.committed(), kept);
  EXPECT_EQ(arena.committed(), 0u);
  EXPECT_TRUE(test::all_bytes(arena.push(4 * kMiB), 4 * kMiB, 0));
}

// Threads push blocks of varied sizes and alignments, each stamped with
// thread and sequence; after they join, every stamp is intact and no two
// blocks overlap; the owner resets; many rounds.
TEST(ConcurrentArenaStress, ThreadsNeverShareABlock) {
  const unsigned threads = std::max(4u, std::thread::hardware_concurrency());
  const int rounds = test::under_qemu() ? 3 : 10;
  ConcurrentArena arena(small(256 * kMiB));
  Counted::alive = 0;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::vector<Stamped>> per_thread(threads);
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        std::mt19937 random(round * 1000 + t);
        for (std::uint32_t i = 0; i < 3000; ++i) {
          const std::size_t size = 1 + random() % (random() % 16 == 0 ? 80000 : 300);
          const std::size_t align = std::size_t{1} << (random() % 8);
          auto* p = static_cast<unsigned char*>(i % 3 ? arena.push(size, align) : arena.push_uninit(size, align));
          if (i % 3 && !test::all_bytes(p, size, 0)) throw std::logic_error("a push was not zeroed");
          if (i % 50 == 0) arena.make<Counted>(static_cast<int>(i));
          per_thread[t].push_back({p, size, t, i});
          stamp(per_thread[t].back());
        }
      });
    for (std::thread& w : workers) w.join();
    std::vector<Stamped> all;
    for (const auto& blocks : per_thread) all.insert(all.end(), blocks.begin(), blocks.end());
    for (const Stamped& b : all) ASSERT_TRUE(stamp_intact(b)) << "round " << round << " thread " << b.thread;
    expect_disjoint(all);
    EXPECT_EQ(Counted::alive, static_cast<int>(threads) * 60);
    arena.reset();
    EXPECT_EQ(Counted::alive, 0);
  }
}

// Random operations from several threads, with a seed per thread: pushes of
// every kind, makes, arrays, failing requests; then the owner checks.
TEST(ConcurrentArenaStress, RandomOperationsKeepEveryPromise) {
  for (std::uint32_t seed = 1; seed <= (test::under_qemu() ? 2u : 8u); ++seed) {
    ConcurrentArena arena(small(std::size_t{32} << (seed % 3 + 20)));  // 32, 64 or 128 MiB
    Counted::alive = 0;
    std::atomic<int> made{0};
    std::vector<std::vector<Stamped>> per_thread(3);
    std::vector<std::thread> workers;
    for (std::uint32_t t = 0; t < 3; ++t)
      workers.emplace_back([&, t] {
        std::mt19937_64 random(seed * 7919 + t);
        for (std::uint32_t i = 0; i < 4000; ++i) {
          const std::size_t pick = random() % 100;
          if (pick < 60) {
            const std::size_t size = random() % 512;
            const std::size_t align = std::size_t{1} << (random() % 6);
            auto* p = static_cast<unsigned char*>(arena.try_push(size, align));
            if (p == nullptr) continue;  // full: allowed, nothing else changes
            if (!test::aligned(p, align) || !test::all_bytes(p, size, 0)) throw std::logic_error("bad push");
            per_thread[t].push_back({p, size, t, i});
            stamp(per_thread[t].back());
          } else if (pick < 70) {
            try {
              arena.make<Counted>(static_cast<int>(i));
              made.fetch_add(1);
            } catch (const OutOfMemory&) {
            }
          } else if (pick < 75) {
            const std::size_t size = random() % (4 * kMiB);
            if (auto* p = static_cast<unsigned char*>(arena.try_push_uninit(size, 64))) {
              per_thread[t].push_back({p, size, t, i});
              stamp(per_thread[t].back());
            }
          } else if (pick < 80) {
            if (arena.try_push(SIZE_MAX - random() % 100, 16) != nullptr) throw std::logic_error("impossible push");
          } else {
            std::size_t n = random() % 40;
            try {
              auto* a = arena.push_array<std::uint64_t>(n);
              for (std::size_t k = 0; k < n; ++k)
                if (a[k] != 0) throw std::logic_error("array not value-initialised");
              per_thread[t].push_back({reinterpret_cast<unsigned char*>(a), n * 8, t, i});
              stamp(per_thread[t].back());
            } catch (const OutOfMemory&) {
            }
          }
        }
      });
    for (std::thread& w : workers) w.join();
    std::vector<Stamped> all;
    for (const auto& blocks : per_thread) all.insert(all.end(), blocks.begin(), blocks.end());
    for (const Stamped& b : all) ASSERT_TRUE(stamp_intact(b)) << "seed " << seed;
    expect_disjoint(all);
    EXPECT_EQ(Counted::alive, made.load());
    EXPECT_LE(arena.committed(), arena.reserved());
    const varena::ConcurrentArenaStats s = arena.stats();
    EXPECT_LE(s.slab_waste, s.slab_bytes);
    arena.reset();
    EXPECT_EQ(Counted::alive, 0);
  }
}

// A frame loop: threads push, the owner resets; the working set stays
// committed, so after the first frames no OS call is made.
TEST(ConcurrentArena, FrameLoopMakesNoSyscallsAfterItsFirstFrames) {
  ConcurrentArena arena(small(256 * kMiB));
  std::size_t commits_after_warmup = 0;
  for (int frame = 0; frame < 8; ++frame) {
    std::thread a([&] {
      for (int i = 0; i < 20000; ++i) arena.push_uninit(32);
    });
    std::thread b([&] {
      for (int i = 0; i < 20000; ++i) arena.push_uninit(32);
    });
    a.join();
    b.join();
    arena.reset();
    if (frame == 2) commits_after_warmup = arena.stats().commits + arena.stats().decommits;
  }
  EXPECT_EQ(arena.stats().commits + arena.stats().decommits, commits_after_warmup);
}

#if VARENA_CHECKS
TEST(ConcurrentArenaContract, ResetWhileAMakeIsInFlightAborts) {
  GTEST_FLAG_SET(death_test_style, test::death_test_style());
  struct ResetsItsArena {
    explicit ResetsItsArena(ConcurrentArena& a) { a.reset(); }
  };
  ConcurrentArena arena(small());
  EXPECT_DEATH(arena.make<ResetsItsArena>(arena), "resetting a ConcurrentArena while 1 push/make");
}
#endif

// After a reset each thread is given back the memory its slabs covered (hot
// in its own core's cache), never another thread's, zeroed as always.
TEST(ConcurrentArenaAffinity, AThreadGetsItsOwnMemoryBackAfterReset) {
  if (VARENA_ASAN) GTEST_SKIP() << "writes memory before the reset, compares addresses after";
  ConcurrentArena arena(small());
  auto* mine = static_cast<unsigned char*>(arena.push(100));
  std::memset(mine, 0xAB, 100);
  unsigned char* other_before = nullptr;
  std::thread([&] { other_before = static_cast<unsigned char*>(arena.push(100)); }).join();
  ASSERT_NE(other_before, mine);
  arena.reset();
  // A new thread: the memory set aside for the two threads above is not its.
  unsigned char* newcomer = nullptr;
  std::thread([&] { newcomer = static_cast<unsigned char*>(arena.push(100)); }).join();
  EXPECT_NE(newcomer, mine);
  EXPECT_NE(newcomer, other_before);
  auto* again = static_cast<unsigned char*>(arena.push(100));
  EXPECT_EQ(again, mine);
  EXPECT_TRUE(test::all_bytes(again, 100, 0));  // handed out before: zeroed again
}

TEST(ConcurrentArenaAffinity, MemoryNoThreadTakesAgainIsGivenUpAtTheNextReset) {
  ConcurrentArena arena(small());
  char* first = nullptr;
  std::thread([&] {
    first = static_cast<char*>(arena.push(100));
    for (int i = 0; i < 1000; ++i) arena.push(1000);  // several slabs
  }).join();
  arena.reset();  // that thread's slabs are set aside for it...
  char* during = nullptr;
  std::thread([&] { during = static_cast<char*>(arena.push(100)); }).join();
  EXPECT_NE(during, first);
  arena.reset();  // ...and it never came back: everything below is free again
  arena.reset();
  char* after = nullptr;
  std::thread([&] { after = static_cast<char*>(arena.push(100)); }).join();
  EXPECT_EQ(after, first);
}

TEST(ConcurrentArenaAffinity, SetAsideMemoryStaysBoundedWhenThreadsChange) {
  SKIP_IF_FENCED();
  ConcurrentArena arena(small(256 * kMiB));
  char* base = nullptr;
  std::size_t highest = 0;
  for (int round = 0; round < 50; ++round) {
    // A different thread every round, each pushing 2 MiB: none comes back
    // for the memory set aside for it.
    std::thread([&] {
      for (int i = 0; i < 2048; ++i) {
        char* p = static_cast<char*>(arena.push_uninit(1000));
        if (base == nullptr) base = p;
        highest = std::max(highest, static_cast<std::size_t>(p - base));
      }
    }).join();
    arena.reset();
  }
  // At most the two generations a reset may hold, plus what rounding adds.
  EXPECT_LE(highest, 3 * 2 * kMiB + 512 * kKiB);
}
