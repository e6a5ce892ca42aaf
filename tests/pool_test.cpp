// Pool<T>: O(1) slots with a free list, freed slots reused first, and slots
// released with the arena's position without ever being handed out twice.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using varena::Arena;
using varena::Pool;

namespace {

struct Node {
  int value;
  std::string name;
  Node(int v, std::string n) : value(v), name(std::move(n)) {}
};

struct Throws {
  explicit Throws(bool fail) {
    if (fail) throw std::runtime_error("no");
  }
};

}  // namespace

TEST(PoolTest, MakesDestroysAndReusesFreedSlotsFirst) {
  Arena arena;
  Pool<Node> pool(arena);
  Node* a = pool.make(1, "one");
  Node* b = pool.make(2, "two");
  EXPECT_EQ(a->value + b->value, 3);
  EXPECT_EQ(b->name, "two");
  EXPECT_TRUE(arena.owns(a) && arena.owns(b));
  EXPECT_TRUE(test::aligned(a, alignof(Node)) && test::aligned(b, alignof(Node)));
  EXPECT_EQ(pool.free_slots(), 0u);
  pool.destroy(a);
  EXPECT_EQ(pool.free_slots(), 1u);
  Node* c = pool.make(3, "three");
  EXPECT_EQ(c, a);  // the freed slot first
  EXPECT_EQ(pool.free_slots(), 0u);
  pool.destroy(b);
  pool.destroy(c);
  EXPECT_EQ(pool.make(4, "four"), c);  // last freed, first reused
}

TEST(PoolTest, SlotsHoldAtLeastAPointerAndKeepAlignment) {
  Arena arena;
  Pool<char> bytes(arena);
  EXPECT_GE(Pool<char>::slot_size(), sizeof(void*));
  struct alignas(64) Line {
    char c[64];
  };
  Pool<Line> lines(arena);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(test::aligned(lines.allocate(), 64));
  EXPECT_NE(bytes.allocate(), bytes.allocate());
}

TEST(PoolTest, ManySlotsStayDistinctAndIntact) {
  Arena arena;
  Pool<std::uint64_t> pool(arena);
  std::vector<std::uint64_t*> live;
  std::mt19937 random(3);
  for (int step = 0; step < 100000; ++step) {
    if (!live.empty() && random() % 3 == 0) {
      const std::size_t i = random() % live.size();
      ASSERT_EQ(*live[i], reinterpret_cast<std::uintptr_t>(live[i]));
      pool.destroy(live[i]);
      live[i] = live.back();
      live.pop_back();
    } else {
      std::uint64_t* p = pool.make();
      *p = reinterpret_cast<std::uintptr_t>(p);
      live.push_back(p);
    }
  }
  std::set<std::uint64_t*> distinct(live.begin(), live.end());
  EXPECT_EQ(distinct.size(), live.size());
  for (auto* p : live) EXPECT_EQ(*p, reinterpret_cast<std::uintptr_t>(p));
}

TEST(PoolTest, ThrowingConstructorFreesTheSlot) {
  Arena arena;
  Pool<Throws> pool(arena);
  EXPECT_THROW(pool.make(true), std::runtime_error);
  EXPECT_EQ(pool.free_slots(), 1u);
  EXPECT_NO_THROW(pool.make(false));
  EXPECT_EQ(pool.free_slots(), 0u);
}

TEST(PoolTest, ReleasedWithTheArenaAndNeverHandedOutTwice) {
  Arena arena;
  Pool<std::uint64_t> pool(arena);
  const std::size_t mark = arena.position();
  std::vector<std::uint64_t*> first;
  for (int i = 0; i < 100; ++i) first.push_back(pool.make(std::uint64_t{1}));
  for (int i = 0; i < 50; ++i) pool.destroy(first[static_cast<std::size_t>(i)]);
  EXPECT_EQ(pool.free_slots(), 50u);
  arena.restore(mark);  // takes back every slot
  EXPECT_EQ(pool.free_slots(), 0u);
  // The arena hands the memory to someone else...
  auto* other = static_cast<unsigned char*>(arena.push(64 * 1024));
  std::memset(other, 0xAB, 64 * 1024);
  // ...and the pool carves fresh slots instead of reusing the released ones.
  for (int i = 0; i < 200; ++i) {
    std::uint64_t* p = pool.make(std::uint64_t{2});
    EXPECT_FALSE(reinterpret_cast<unsigned char*>(p) >= other &&
                 reinterpret_cast<unsigned char*>(p) < other + 64 * 1024);
  }
  EXPECT_TRUE(test::all_bytes(other, 64 * 1024, 0xAB));
}

TEST(PoolTest, PartialReleaseKeepsOlderChunks) {
  Arena arena;
  Pool<std::uint64_t> pool(arena);
  std::vector<std::uint64_t*> old;
  for (int i = 0; i < 16; ++i) old.push_back(pool.make(std::uint64_t{7}));  // the first chunk, full
  const std::size_t mark = arena.position();
  std::uint64_t* later = pool.make(std::uint64_t{8});  // a second chunk
  pool.destroy(old[3]);
  pool.destroy(later);
  EXPECT_EQ(pool.free_slots(), 2u);
  arena.restore(mark);  // only the second chunk goes
  EXPECT_EQ(pool.free_slots(), 1u);
  EXPECT_EQ(pool.make(std::uint64_t{9}), old[3]);
}

TEST(PoolTest, PoolDestroyedBeforeTheArena) {
  Arena arena;
  {
    Pool<int> pool(arena);
    for (int i = 0; i < 1000; ++i) pool.make(i);
  }
  arena.reset();  // the chunks' watches must not reach the destroyed pool
  EXPECT_EQ(arena.position(), 0u);
}

TEST(PoolTest, ArenaFullIsACleanOutOfMemory) {
  varena::Options o;
  o.reserve = varena::vm::info().granularity;
  Arena arena(o);
  Pool<std::uint64_t> pool(arena);
  bool failed = false;
  for (int i = 0; i < 100000 && !failed; ++i) {
    try {
      pool.make(std::uint64_t{1});
    } catch (const varena::OutOfMemory&) {
      failed = true;
    }
  }
  EXPECT_TRUE(failed);
}

// A restore into the middle of a chunk while some of its slots are live: the
// pool forgets the chunk, and those slots, freed later, must not come back,
// because the arena hands their memory out again.
TEST(PoolTest, SlotsFreedAfterTheArenaTookTheirChunkAreNeverReused) {
  SKIP_IF_FENCED();
  Arena arena;
  Pool<long> pool(arena);
  long* a = pool.make(1);
  pool.make(2);
  arena.restore(2 * sizeof(long));  // inside the chunk: a's memory is still the arena's and in use
  pool.destroy(a);
  arena.reset();
  long* block = arena.push_array<long>(4);
  long* fresh = pool.make(42);
  EXPECT_FALSE(fresh >= block && fresh < block + 4) << "the pool handed out memory the arena also handed out";
  EXPECT_EQ(block[0], 0);
  EXPECT_EQ(*fresh, 42);
}

TEST(PoolTest, RandomRestoresNeverMakeThePoolAndTheArenaShareMemory) {
  std::mt19937 rng(7);
  Arena arena;
  Pool<std::uint64_t> pool(arena);
  std::vector<std::uint64_t*> live;
  std::vector<std::pair<unsigned char*, std::size_t>> blocks;  // live arena blocks, filled with 0xB7
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 10;
    if (op < 4) {
      live.push_back(pool.make(static_cast<std::uint64_t>(step)));
    } else if (op < 6 && !live.empty()) {
      const std::size_t i = rng() % live.size();
      pool.destroy(live[i]);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (op < 8) {
      const std::size_t bytes = 1 + rng() % 200;
      auto* p = static_cast<unsigned char*>(arena.push(bytes));
      std::memset(p, 0xB7, bytes);
      blocks.emplace_back(p, bytes);
    } else if (op == 8) {
      const std::size_t to = rng() % (arena.position() + 1);
      arena.restore(to);
      char* end = static_cast<char*>(arena.push_uninit(0, 1));
      // What the arena took back is gone for both.
      auto dead = [&](const void* p) { return static_cast<const char*>(p) >= end; };
      live.erase(std::remove_if(live.begin(), live.end(), dead), live.end());
      blocks.erase(std::remove_if(blocks.begin(), blocks.end(), [&](auto& b) { return dead(b.first); }),
                   blocks.end());
      for (auto& b : blocks)  // a block the restore cut into keeps its head only
        if (reinterpret_cast<char*>(b.first) + b.second > end)
          b.second = static_cast<std::size_t>(end - reinterpret_cast<char*>(b.first));
    }
    if (step % 97 == 0) {
      for (std::size_t i = 0; i < live.size(); ++i)
        for (const auto& b : blocks)
          ASSERT_FALSE(reinterpret_cast<unsigned char*>(live[i]) + sizeof(std::uint64_t) > b.first &&
                       reinterpret_cast<unsigned char*>(live[i]) < b.first + b.second)
              << "a pool slot overlaps an arena block at step " << step;
      for (const auto& b : blocks) ASSERT_TRUE(test::all_bytes(b.first, b.second, 0xB7)) << step;
    }
  }
}
